"""Fixtures of the sync tests: one app for the session (see ``factories``)."""

from factories import app, client

__all__ = ["app", "client"]
