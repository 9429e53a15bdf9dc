"""Locations, rooms and equipment of the clinic (issue 20): where in-person sessions are held."""
