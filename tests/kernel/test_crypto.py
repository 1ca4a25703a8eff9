"""The kernel's cryptography: passwords, tokens, TOTP, recovery codes, signatures, sealing."""

from __future__ import annotations

import base64
import hashlib
import re
import stat
import statistics
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import argon2
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from bluelight.kernel.crypto import (
    TOKEN_MAX_LENGTH,
    KeyFileError,
    SealError,
    SecretBox,
    burn_password_check,
    hash_password,
    load_or_create_signing_key,
    mint_token,
    new_recovery_codes,
    new_totp_secret,
    normalise_recovery_code,
    password_needs_rehash,
    qr_svg,
    recovery_code_digest,
    token_digest,
    totp_code,
    totp_match,
    totp_uri,
    verify_password,
    verify_signature,
)

# RFC 6238 appendix B: the SHA-1 seed "12345678901234567890", in base32.
RFC_6238_SECRET = base64.b32encode(b"12345678901234567890").decode()
AT = datetime(2025, 3, 14, 9, 26, 45, tzinfo=UTC)
STEP = timedelta(seconds=30)


def _step(at: datetime) -> int:
    return int(at.timestamp()) // 30


# --- passwords ----------------------------------------------------------------------------


def test_a_password_verifies_against_its_hash_and_a_wrong_one_does_not() -> None:
    stored = hash_password("correct horse battery staple", cost="fast")

    assert verify_password(stored, "correct horse battery staple", cost="fast")
    assert not verify_password(stored, "correct horse battery stapler", cost="fast")
    assert not verify_password(stored, "", cost="fast")


def test_the_same_password_hashes_differently_each_time() -> None:
    first = hash_password("correct horse battery staple", cost="fast")
    second = hash_password("correct horse battery staple", cost="fast")

    assert first != second
    assert verify_password(second, "correct horse battery staple", cost="fast")


def test_the_standard_cost_is_argon2id_with_rfc_9106_low_memory_parameters() -> None:
    stored = hash_password("correct horse battery staple")

    assert stored.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert argon2.extract_parameters(stored) == argon2.profiles.RFC_9106_LOW_MEMORY
    assert verify_password(stored, "correct horse battery staple")


def test_the_fast_cost_is_a_cheap_argon2id() -> None:
    stored = hash_password("correct horse battery staple", cost="fast")

    assert stored.startswith("$argon2id$v=19$m=1024,t=1,p=1$")


def test_a_hash_verifies_by_its_own_parameters_whatever_the_cost_asked() -> None:
    stored = hash_password("correct horse battery staple", cost="fast")

    assert verify_password(stored, "correct horse battery staple", cost="standard")


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "not a hash",
        "$argon2id$v=19$m=1024,t=1,p=1$broken",
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$ÿÿÿÿ",
    ],
)
def test_a_malformed_or_foreign_hash_verifies_as_false(stored: str) -> None:
    assert not verify_password(stored, "correct horse battery staple", cost="fast")


def test_a_password_that_cannot_be_encoded_verifies_as_false() -> None:
    stored = hash_password("correct horse battery staple", cost="fast")

    assert not verify_password(stored, "\ud800 lone surrogate", cost="fast")
    burn_password_check("\ud800 lone surrogate", cost="fast")


def test_an_unknown_cost_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown password hash cost"):
        hash_password("correct horse battery staple", cost="cheap")
    with pytest.raises(ValueError, match="unknown password hash cost"):
        verify_password("$argon2id$", "correct horse battery staple", cost="cheap")


def test_a_hash_made_at_another_cost_needs_rehashing() -> None:
    fast = hash_password("correct horse battery staple", cost="fast")

    assert password_needs_rehash(fast, cost="standard")
    assert not password_needs_rehash(fast, cost="fast")
    assert password_needs_rehash("not a hash", cost="fast")


def _seconds(check: Callable[[], object]) -> float:
    started = time.perf_counter()
    check()
    return time.perf_counter() - started


def test_an_unknown_username_costs_as_much_time_as_a_wrong_password() -> None:
    # A security property, not a benchmark: if the dummy check were skipped or cheaper, the
    # response time would reveal which usernames exist. The two are measured in turn, so a
    # change in the machine's load falls on both alike.
    stored = hash_password("correct horse battery staple")
    burn_password_check("warm-up")  # the dummy hash is made on first use
    real: list[float] = []
    burnt: list[float] = []

    for _ in range(5):
        real.append(_seconds(lambda: verify_password(stored, "wrong password guess")))
        burnt.append(_seconds(lambda: burn_password_check("wrong password guess")))

    assert 0.5 < statistics.median(burnt) / statistics.median(real) < 2.0


# --- tokens -------------------------------------------------------------------------------


def test_a_token_carries_its_prefix_and_256_random_bits() -> None:
    token = mint_token("blt")

    prefix, _, body = token.partition("_")
    assert prefix == "blt"
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", body)
    assert len(base64.urlsafe_b64decode(body + "=")) == 32
    assert len(token) <= TOKEN_MAX_LENGTH


def test_tokens_do_not_repeat() -> None:
    tokens = {mint_token("blt") for _ in range(10_000)}

    assert len(tokens) == 10_000


def test_a_token_digest_is_the_sha256_of_the_token() -> None:
    token = mint_token("blc")

    assert token_digest(token) == token_digest(token) == hashlib.sha256(token.encode()).digest()
    assert len(token_digest(token)) == 32
    assert token_digest(token) != token_digest(mint_token("blc"))


# --- TOTP ---------------------------------------------------------------------------------


def test_a_totp_secret_is_160_random_bits_in_base32() -> None:
    secret = new_totp_secret()

    assert len(base64.b32decode(secret)) == 20
    assert secret != new_totp_secret()


@pytest.mark.parametrize(
    ("unix_time", "code"),
    [(59, "287082"), (1111111109, "081804"), (1234567890, "005924"), (2000000000, "279037")],
)
def test_totp_codes_match_the_rfc_6238_test_vectors(unix_time: int, code: str) -> None:
    at = datetime.fromtimestamp(unix_time, UTC)

    assert totp_code(RFC_6238_SECRET, at) == code
    assert totp_match(RFC_6238_SECRET, code, at, last_step=None) == unix_time // 30


@pytest.mark.parametrize("offset", [-1, 0, 1])
def test_a_code_is_accepted_within_one_step_of_now(offset: int) -> None:
    secret = new_totp_secret()
    code = totp_code(secret, AT + offset * STEP)

    assert totp_match(secret, code, AT, last_step=None) == _step(AT) + offset


@pytest.mark.parametrize("offset", [-3, -2, 2, 3])
def test_a_code_two_or_more_steps_away_is_refused(offset: int) -> None:
    # A fixed secret, whose codes around AT are known to differ, keeps the test deterministic.
    code = totp_code(RFC_6238_SECRET, AT + offset * STEP)
    assert code not in {totp_code(RFC_6238_SECRET, AT + k * STEP) for k in (-1, 0, 1)}

    assert totp_match(RFC_6238_SECRET, code, AT, last_step=None) is None


def test_the_window_sets_how_far_from_now_a_code_is_accepted() -> None:
    later = totp_code(RFC_6238_SECRET, AT + 2 * STEP)
    next_one = totp_code(RFC_6238_SECRET, AT + STEP)
    assert next_one != totp_code(RFC_6238_SECRET, AT)

    assert totp_match(RFC_6238_SECRET, later, AT, last_step=None, window=2) == _step(AT) + 2
    assert totp_match(RFC_6238_SECRET, next_one, AT, last_step=None, window=0) is None


def test_a_code_works_only_once() -> None:
    secret = new_totp_secret()
    code = totp_code(secret, AT)
    step = totp_match(secret, code, AT, last_step=None)
    assert step is not None

    assert totp_match(secret, code, AT + timedelta(seconds=5), last_step=step) is None


def test_an_older_code_cannot_be_replayed_after_a_newer_one() -> None:
    secret = new_totp_secret()
    newer = totp_match(secret, totp_code(secret, AT), AT, last_step=None)
    older = totp_code(secret, AT - STEP)

    assert totp_match(secret, older, AT, last_step=newer) is None
    assert totp_match(secret, totp_code(secret, AT + STEP), AT, last_step=newer) == _step(AT) + 1


def test_spaces_in_a_typed_code_are_ignored() -> None:
    secret = new_totp_secret()
    code = totp_code(secret, AT)

    assert totp_match(secret, f" {code[:3]} {code[3:]} ", AT, last_step=None) == _step(AT)


@pytest.mark.parametrize(
    "mangle",
    [
        lambda _code: "",
        lambda code: code[:5],
        lambda code: code + "0",
        lambda code: code[:5] + "x",
        lambda code: "+" + code[1:],
        lambda code: code.translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")),
        lambda code: "".join(chr(ord(c) + 0xFEE0) for c in code),
    ],
    ids=["empty", "short", "long", "letter", "sign", "arabic-indic", "full-width"],
)
def test_a_code_that_is_not_six_ascii_digits_is_refused(mangle: object) -> None:
    assert callable(mangle)
    secret = new_totp_secret()

    assert totp_match(secret, mangle(totp_code(secret, AT)), AT, last_step=None) is None


def test_totp_refuses_a_naive_time() -> None:
    naive = AT.replace(tzinfo=None)

    with pytest.raises(ValueError, match="timezone-aware"):
        totp_code(RFC_6238_SECRET, naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        totp_match(RFC_6238_SECRET, "123456", naive, last_step=None)


def test_the_provisioning_uri_names_the_account_issuer_and_secret() -> None:
    secret = new_totp_secret()

    uri = totp_uri(secret, account="jo.bloggs", issuer="Bluelight")

    parts = urlsplit(uri)
    query = parse_qs(parts.query)
    assert (parts.scheme, parts.netloc) == ("otpauth", "totp")
    assert unquote(parts.path) == "/Bluelight:jo.bloggs"
    assert query["secret"] == [secret]
    assert query["issuer"] == ["Bluelight"]


def test_a_qr_code_is_well_formed_inline_svg_that_depends_on_its_data() -> None:
    uri = totp_uri(new_totp_secret(), account="jo.bloggs", issuer="Bluelight")

    svg = qr_svg(uri)

    assert svg.startswith("<svg")
    assert ET.fromstring(svg).tag.endswith("svg")  # noqa: S314  (our own output, not input)
    assert qr_svg(uri) == svg
    assert qr_svg(uri + "x") != svg


# --- recovery codes -----------------------------------------------------------------------


def test_recovery_codes_are_four_groups_of_four_base32_characters() -> None:
    codes = new_recovery_codes()

    assert len(codes) == 10
    assert len(set(codes)) == 10
    for code in codes:
        assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", code)
        assert len(base64.b32decode(code.replace("-", ""))) == 10  # 80 bits
    assert len(new_recovery_codes(3)) == 3


def test_a_recovery_code_is_recognised_however_it_is_typed() -> None:
    code = "ABCD-EFGH-OIB2-3456"

    assert normalise_recovery_code(code) == "ABCDEFGHOIB23456"
    assert normalise_recovery_code(" abcd efgh oib2 3456 ") == "ABCDEFGHOIB23456"
    assert normalise_recovery_code("abcdefgh0182-3456") == "ABCDEFGHOIB23456"
    assert recovery_code_digest("abcd efgh 0182 3456") == recovery_code_digest(code)
    assert recovery_code_digest(code) == hashlib.sha256(b"ABCDEFGHOIB23456").digest()


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ABCD-EFGH-IJKL",
        "ABCD-EFGH-IJKL-MNOP-Q",
        "ABCD-EFGH-IJKL-MNO9",
        "ABCD_EFGH_IJKL_MNOP",
        "A" * 16 + " " * 100,
    ],
)
def test_text_that_cannot_be_a_recovery_code_is_refused(text: str) -> None:
    assert normalise_recovery_code(text) is None
    with pytest.raises(ValueError, match="not a recovery code"):
        recovery_code_digest(text)


def test_different_recovery_codes_have_different_digests() -> None:
    first, second = new_recovery_codes(2)

    assert recovery_code_digest(first) != recovery_code_digest(second)


# --- signing ------------------------------------------------------------------------------


def test_a_signature_verifies_and_a_changed_message_or_signature_does_not(
    tmp_path: Path,
) -> None:
    key = load_or_create_signing_key(tmp_path / "signing.pem")
    message = b"tree head 42"

    signature = key.sign(message)

    assert verify_signature(key.public_bytes(), message, signature)
    assert not verify_signature(key.public_bytes(), b"tree head 43", signature)
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    assert not verify_signature(key.public_bytes(), message, tampered)
    other = load_or_create_signing_key(tmp_path / "other.pem")
    assert not verify_signature(other.public_bytes(), message, signature)


def test_malformed_keys_and_signatures_verify_as_false(tmp_path: Path) -> None:
    key = load_or_create_signing_key(tmp_path / "signing.pem")
    signature = key.sign(b"m")

    assert not verify_signature(key.public_bytes()[:31], b"m", signature)
    assert not verify_signature(key.public_bytes(), b"m", signature[:63])
    assert not verify_signature(key.public_bytes(), b"m", b"")


def test_a_signing_key_is_made_private_and_reloaded_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "nested" / "signing.pem"

    made = load_or_create_signing_key(path)
    loaded = load_or_create_signing_key(path)

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert loaded.public_bytes() == made.public_bytes()
    assert len(made.public_bytes()) == 32
    assert made.key_id == hashlib.sha256(made.public_bytes()).hexdigest()[:16]
    assert verify_signature(made.public_bytes(), b"m", loaded.sign(b"m"))
    assert [p.name for p in path.parent.iterdir()] == ["signing.pem"]  # no temporary left


def test_an_existing_signing_key_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    pem = Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path.write_bytes(pem)

    load_or_create_signing_key(path)

    assert path.read_bytes() == pem


def test_workers_starting_together_all_get_the_same_signing_key(tmp_path: Path) -> None:
    path = tmp_path / "signing.pem"
    keys: list[bytes] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        keys.append(load_or_create_signing_key(path).public_bytes())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(keys) == 8
    assert len(set(keys)) == 1
    assert [p.name for p in tmp_path.iterdir()] == ["signing.pem"]


def _ec_key_pem() -> bytes:
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _encrypted_ed25519_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(b"passphrase"),
    )


@pytest.mark.parametrize(
    "content",
    [lambda: b"", lambda: b"not a key", _ec_key_pem, _encrypted_ed25519_pem],
    ids=["empty", "garbage", "ec-key", "encrypted"],
)
def test_a_file_that_is_not_an_ed25519_key_is_refused(tmp_path: Path, content: object) -> None:
    assert callable(content)
    path = tmp_path / "signing.pem"
    data = content()
    path.write_bytes(data)

    with pytest.raises(KeyFileError, match=r"signing\.pem"):
        load_or_create_signing_key(path)
    assert path.read_bytes() == data


# --- secrets at rest ----------------------------------------------------------------------


@given(plaintext=st.text(), context=st.text())
def test_a_sealed_secret_opens_to_what_was_sealed(plaintext: str, context: str) -> None:
    box = SecretBox(bytes(range(32)))

    sealed = box.seal(plaintext, context=context)

    assert sealed.isascii()
    assert sealed.startswith("v1.")
    assert box.open(sealed, context=context) == plaintext


def test_sealing_the_same_secret_twice_gives_different_values() -> None:
    box = SecretBox(bytes(32))

    assert box.seal("JBSWY3DPEHPK3PXP", context="totp:1") != box.seal(
        "JBSWY3DPEHPK3PXP", context="totp:1"
    )


def test_a_sealed_secret_does_not_open_in_another_context_or_box() -> None:
    box = SecretBox(bytes(32))
    sealed = box.seal("JBSWY3DPEHPK3PXP", context="totp:alice")

    with pytest.raises(SealError):
        box.open(sealed, context="totp:mallory")
    with pytest.raises(SealError):
        SecretBox(bytes([1]) * 32).open(sealed, context="totp:alice")


@pytest.mark.parametrize("position", [0, 11, 12, 20, -16, -1], ids=lambda p: f"byte {p}")
def test_a_tampered_sealed_secret_does_not_open(position: int) -> None:
    box = SecretBox(bytes(32))
    sealed = box.seal("JBSWY3DPEHPK3PXP", context="totp:1")
    raw = bytearray(base64.urlsafe_b64decode(sealed[3:] + "=="))
    raw[position] ^= 0x01
    tampered = "v1." + base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")

    with pytest.raises(SealError):
        box.open(tampered, context="totp:1")


@pytest.mark.parametrize(
    "sealed",
    ["", "v1.", "v1.!!!!", "v1.A", "v1." + "A" * 16, "v1.ÿÿÿÿ", "v1.AAAA AAAA", "JBSWY3DPEHPK3PXP"],
)
def test_malformed_sealed_values_are_refused(sealed: str) -> None:
    with pytest.raises(SealError):
        SecretBox(bytes(32)).open(sealed, context="totp:1")


def test_a_sealed_value_of_another_version_is_refused() -> None:
    box = SecretBox(bytes(32))
    sealed = box.seal("JBSWY3DPEHPK3PXP", context="totp:1")

    with pytest.raises(SealError):
        box.open("v2." + sealed[3:], context="totp:1")


def test_the_secret_key_is_made_private_reloaded_and_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "keys" / "secret.key"
    sealed = SecretBox.load_or_create(path).seal("JBSWY3DPEHPK3PXP", context="totp:1")
    key = path.read_bytes()

    reloaded = SecretBox.load_or_create(path)

    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.read_bytes() == key
    assert reloaded.open(sealed, context="totp:1") == "JBSWY3DPEHPK3PXP"
    assert key.hex() not in repr(reloaded)


@pytest.mark.parametrize("length", [0, 16, 31, 33, 64])
def test_a_secret_key_file_of_the_wrong_length_is_refused(tmp_path: Path, length: int) -> None:
    path = tmp_path / "secret.key"
    path.write_bytes(b"k" * length)

    with pytest.raises(KeyFileError, match=r"secret\.key"):
        SecretBox.load_or_create(path)
    assert path.read_bytes() == b"k" * length


def test_a_secret_box_needs_a_256_bit_key() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        SecretBox(bytes(16))
