"""Changes: the change log (each record's history, and the feed sync pulls from) and the
domain events published once a change is committed."""

from bluelight.changes.events import EventBus, RecordChanged, SessionsEnded, pending, publish
from bluelight.changes.models import ChangeLogEntry
from bluelight.changes.queries import MAX_FEED_PAGE, Change, FeedPage, Visibility, read_feed
from bluelight.changes.services import log_change

__all__ = [
    "MAX_FEED_PAGE",
    "Change",
    "ChangeLogEntry",
    "EventBus",
    "FeedPage",
    "RecordChanged",
    "SessionsEnded",
    "Visibility",
    "log_change",
    "pending",
    "publish",
    "read_feed",
]
