"""Identity: who acts, and what each route needs them to be allowed."""

from bluelight.identity.rules import ALL_PERMISSIONS, Actor, Permission, system_actor

__all__ = ["ALL_PERMISSIONS", "Actor", "Permission", "system_actor"]
