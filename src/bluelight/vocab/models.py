"""Force mappings: a force's legacy codes and the national code each one means."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bluelight.db import Base


class ForceCodeMapping(Base):
    """One local code of one force's legacy list, mapped to a national code."""

    __tablename__ = "force_code_mappings"
    __table_args__ = (UniqueConstraint("force_code", "list_name", "local_code"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    force_code: Mapped[str] = mapped_column(String(10))
    list_name: Mapped[str] = mapped_column(String(40))
    local_code: Mapped[str] = mapped_column(String(40))
    local_label: Mapped[str] = mapped_column(String(200))
    national_code: Mapped[str] = mapped_column(String(40))
    loaded_at: Mapped[datetime]
    loaded_by: Mapped[str] = mapped_column(String(80))
