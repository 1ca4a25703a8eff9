"""``bluelight serve`` serves TLS when given a certificate and its key, and tells browsers to
stay on it (HSTS) only when a request came over TLS; a half or broken TLS setting is refused
with a clear message before the server starts."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import ssl
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import ValidationError
from sqlalchemy import Engine
from typer.testing import CliRunner

from bluelight.cli import app as cli
from bluelight.settings import Settings, get_settings
from servers import STARTUP_SECONDS, serving


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and localhost, signed by its own key; (cert, key) files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_file.chmod(0o600)
    return cert_file, key_file


def _health(client: httpx.Client, base: str) -> httpx.Response:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            return client.get(f"{base}/api/v1/health")
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_the_server_serves_tls_and_asks_browsers_to_stay_on_it(
    migrated: tuple[Engine, str], tmp_path: Path
) -> None:
    # Given a self-signed certificate and the server started with it
    cert, key = self_signed(tmp_path)
    _, url = migrated
    with serving(url, tmp_path, cert=cert, key=key) as server:
        base = server.base
        # When health is asked over HTTPS, trusting that certificate alone
        trust = ssl.create_default_context(cafile=str(cert))
        with httpx.Client(verify=trust, timeout=10) as client:
            response = _health(client, base)

        # Then it answers, over TLS, with HSTS and the other security headers
        assert response.status_code == 200, response.text
        assert response.url.scheme == "https"
        assert response.headers["strict-transport-security"] == "max-age=31536000"
        assert response.headers["x-content-type-options"] == "nosniff"

        # and plain HTTP to the same port gets nothing
        with httpx.Client(timeout=5) as plain, pytest.raises(httpx.TransportError):
            plain.get(base.replace("https://", "http://") + "/api/v1/health")


def test_plain_http_serving_sends_no_hsts(migrated: tuple[Engine, str], tmp_path: Path) -> None:
    # Given the server started without a certificate
    _, url = migrated
    with serving(url, tmp_path) as server:
        base = server.base
        # When health is asked over plain HTTP
        with httpx.Client(timeout=10) as client:
            response = _health(client, base)

        # Then it answers without HSTS (a browser must not pin a site it reached in clear)
        assert response.status_code == 200, response.text
        assert "strict-transport-security" not in response.headers
        assert response.headers["x-content-type-options"] == "nosniff"


def test_a_certificate_without_its_key_is_refused(tmp_path: Path) -> None:
    cert, _ = self_signed(tmp_path)
    with pytest.raises(
        ValidationError, match="BLUELIGHT_TLS_CERT and BLUELIGHT_TLS_KEY go together"
    ):
        Settings(data_dir=tmp_path, tls_cert=cert)
    with pytest.raises(ValidationError, match="go together"):
        Settings(data_dir=tmp_path, tls_key=tmp_path / "key.pem")


def test_a_missing_or_unreadable_tls_file_is_refused(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    with pytest.raises(
        ValidationError, match=r"BLUELIGHT_TLS_KEY=.*nope\.pem: there is no such file"
    ):
        Settings(data_dir=tmp_path, tls_cert=cert, tls_key=tmp_path / "nope.pem")
    with pytest.raises(ValidationError, match=r"BLUELIGHT_TLS_CERT=.*: there is no such file"):
        Settings(data_dir=tmp_path, tls_cert=tmp_path, tls_key=key)
    if os.geteuid() != 0:  # root reads any file
        key.chmod(0)
        with pytest.raises(ValidationError, match=r"BLUELIGHT_TLS_KEY=.*may not read it"):
            Settings(data_dir=tmp_path, tls_cert=cert, tls_key=key)


def test_tls_files_make_the_address_https(tmp_path: Path) -> None:
    cert, key = self_signed(tmp_path)
    assert Settings(data_dir=tmp_path, tls_cert=cert, tls_key=key).url.startswith("https://")
    assert Settings(data_dir=tmp_path, tls_cert="", tls_key="").url.startswith("http://")


def test_serve_says_what_is_wrong_with_tls_and_does_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a certificate set without its key
    cert, _ = self_signed(tmp_path)
    monkeypatch.setenv("BLUELIGHT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("BLUELIGHT_TLS_CERT", str(cert))
    monkeypatch.delenv("BLUELIGHT_TLS_KEY", raising=False)
    get_settings.cache_clear()
    try:
        # When the server is started
        result = CliRunner().invoke(cli, ["serve"])
    finally:
        get_settings.cache_clear()

    # Then it says so in a sentence, not a traceback, and exits
    assert result.exit_code == 2
    assert "BLUELIGHT_TLS_CERT and BLUELIGHT_TLS_KEY go together" in result.output
    assert "Traceback" not in result.output
