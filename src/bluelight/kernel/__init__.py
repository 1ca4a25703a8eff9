"""The few building blocks every feature shares: errors, time, identifiers, paging."""

from bluelight.kernel.clock import utcnow
from bluelight.kernel.errors import BluelightError, Problem
from bluelight.kernel.ids import new_id

__all__ = ["BluelightError", "Problem", "new_id", "utcnow"]
