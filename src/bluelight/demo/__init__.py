"""The synthetic demo force: a city's people, places, vehicles and events, made from a seed.

``load_force(db, SIZES["force"], seed)`` generates and loads a force and returns its
``LoadStats``; ``generate`` gives the same rows without a database, for tests and benchmarks.
"""

from bluelight.demo.generator import SIZES, SizeSpec, generate
from bluelight.demo.loader import DemoLoadError, LoadStats, load_force

__all__ = ["SIZES", "DemoLoadError", "LoadStats", "SizeSpec", "generate", "load_force"]
