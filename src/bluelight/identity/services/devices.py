"""Registered devices: revoking one ends its sessions and tells it to wipe its data."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import update

from bluelight.audit import Action
from bluelight.changes import SessionsEnded, publish
from bluelight.db import Database
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.models import AccessSession, Device
from bluelight.identity.queries import agency_code, device_read
from bluelight.identity.schemas import DeviceRead
from bluelight.identity.services.accounts import audit_act
from bluelight.kernel import utcnow


def revoke_device(db: Database, device_id: uuid.UUID, *, reason: str, actor: Any) -> DeviceRead:
    """Revoke a device: its sessions end and its next request is told to wipe its data.

    Raises:
        IdentityError: DEVICE_NOT_FOUND.
    """
    now = utcnow()
    with db.write() as session:
        device = session.get(Device, device_id, with_for_update=True)
        if device is None or (
            actor.user_id != "system" and agency_code(session, device.agency_id) != actor.agency
        ):
            raise IdentityError(
                IdentityErrorCode.DEVICE_NOT_FOUND, f"no device with id {device_id}"
            )
        if device.revoked_at is None:
            device.revoked_at = now
            device.revoked_by = actor.username
            device.revocation_reason = reason
            session.execute(
                update(AccessSession)
                .where(AccessSession.device_id == device.id, AccessSession.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason="device-revoked")
            )
            publish(session, SessionsEnded(reason="device-revoked", device_id=device.id))
            audit_act(
                session,
                actor,
                Action.ADMINISTRATION,
                "identity:device:revoked",
                subject_type="device",
                subject_ids=[str(device.id)],
                why=None,
                detail={"reason": reason},
            )
        return device_read(session, device)
