"""Agencies: a police force or one of its partners, registered by the platform."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError

from bluelight.audit import Action
from bluelight.db import Database
from bluelight.identity.errors import IdentityError, IdentityErrorCode
from bluelight.identity.models import Agency
from bluelight.identity.schemas import AgencyCreate, AgencyRead
from bluelight.identity.services.accounts import audit_act
from bluelight.kernel import new_id, utcnow


def create_agency(db: Database, data: AgencyCreate, *, actor: Any) -> AgencyRead:
    """Register an agency (a force or a partner).

    Raises:
        IdentityError: AGENCY_EXISTS.
    """
    agency = Agency(
        id=new_id(), code=data.code, name=data.name, type=str(data.type), created_at=utcnow()
    )
    try:
        with db.write() as session:
            session.add(agency)
            session.flush()
            audit_act(
                session,
                actor,
                Action.ADMINISTRATION,
                "identity:agency:created",
                subject_type="agency",
                subject_ids=[data.code],
                detail={"type": str(data.type), "name": data.name},
            )
    except IntegrityError as exc:
        raise IdentityError(
            IdentityErrorCode.AGENCY_EXISTS, f"an agency with code {data.code} exists"
        ) from exc
    return AgencyRead(id=agency.id, code=agency.code, name=agency.name, type=agency.type)
