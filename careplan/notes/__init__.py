"""The care team's shared clinical notes (SOAP), amended but never deleted."""
