"""Bluelight: the connected platform for frontline policing and its blue-light partners."""

__version__ = "0.1.0"
