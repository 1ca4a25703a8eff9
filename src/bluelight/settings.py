"""One typed settings object, read once from ``BLUELIGHT_*`` environment variables."""

from __future__ import annotations

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    """Where the server runs: development relaxes nothing that protects data, only secrets."""

    DEVELOPMENT = "development"
    TEST = "test"
    PRODUCTION = "production"


class Settings(BaseSettings):
    """Bluelight's configuration. Every field reads ``BLUELIGHT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="BLUELIGHT_", extra="ignore")

    env: Environment = Environment.DEVELOPMENT
    data_dir: Path = Path("var")
    database_url: str = ""
    password_hash_cost: Literal["standard", "fast"] = "standard"  # noqa: S105  (a cost, not a secret)
    idle_timeout_minutes: int = Field(default=30, ge=1, le=24 * 60)
    session_lifetime_hours: int = Field(default=12, ge=1, le=24 * 30)
    lockout_threshold: int = Field(default=5, ge=1, le=100)
    lockout_window_minutes: int = Field(default=15, ge=1, le=24 * 60)
    lockout_minutes: int = Field(default=15, ge=1, le=7 * 24 * 60)
    audit_sign_interval_seconds: int = Field(default=300, ge=0, le=86_400)
    force_code: str = Field(default="DEMO", pattern=r"^[A-Z0-9]{2,10}$")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1, le=64)
    max_body_bytes: int = Field(default=1_048_576, ge=1024, le=64 * 1_048_576)
    sql_echo: bool = False
    sqlite_synchronous: Literal["OFF", "NORMAL", "FULL", "EXTRA"] = "FULL"
    # TLS served by Bluelight itself: a PEM certificate (chain) and its PEM private key.
    tls_cert: Path | None = None
    tls_key: Path | None = None

    @field_validator("tls_cert", "tls_key", mode="before")
    @classmethod
    def _unset_if_empty(cls, value: object) -> object:
        return None if value == "" else value

    def _check_tls(self) -> None:
        if (self.tls_cert is None) != (self.tls_key is None):
            msg = (
                "BLUELIGHT_TLS_CERT and BLUELIGHT_TLS_KEY go together: set both to serve TLS, "
                "or neither to serve plain HTTP (behind a proxy that terminates TLS)"
            )
            raise ValueError(msg)
        for name, path in (
            ("BLUELIGHT_TLS_CERT", self.tls_cert),
            ("BLUELIGHT_TLS_KEY", self.tls_key),
        ):
            if path is None:
                continue
            if not path.is_file():
                msg = f"{name}={path}: there is no such file"
                raise ValueError(msg)
            if not os.access(path, os.R_OK):
                msg = f"{name}={path}: the server's user may not read it"
                raise ValueError(msg)

    @model_validator(mode="after")
    def _defaults(self) -> Settings:
        self._check_tls()
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'bluelight.db').as_posix()}"
        if self.env is Environment.PRODUCTION and self.password_hash_cost != "standard":  # noqa: S105  (same)
            msg = "BLUELIGHT_PASSWORD_HASH_COST=fast is for tests; production hashes in full"
            raise ValueError(msg)
        return self

    @property
    def tls(self) -> bool:
        """Whether the server itself serves TLS (HTTPS)."""
        return self.tls_cert is not None

    @property
    def is_production(self) -> bool:
        return self.env is Environment.PRODUCTION

    @property
    def every_interface(self) -> bool:
        """Whether ``host`` is a wildcard: the server listens on every interface."""
        return self.host in {"0.0.0.0", "::", ""}  # noqa: S104  (a question, not a binding)

    @property
    def url(self) -> str:
        """Where a browser on this machine reaches the server: ``host`` and ``port``, an IPv6
        address in brackets, and a wildcard host through the loopback of its family."""
        host = {"0.0.0.0": "127.0.0.1", "": "127.0.0.1", "::": "::1"}.get(self.host, self.host)  # noqa: S104  (same)
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}/"

    @property
    def keys_dir(self) -> Path:
        """Where the audit signing key and the secret-sealing key live (mode 0600)."""
        return self.data_dir / "keys"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment the first time they are needed."""
    return Settings()
