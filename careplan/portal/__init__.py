"""What patients do for themselves: confirm many appointments at once, move one to a good alternative."""
