"""RFC 9162 Merkle trees: the transparency-dev vectors, RFC 6962 known answers, and properties."""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bluelight.audit.merkle import (
    EMPTY_ROOT,
    MerkleError,
    consistency_proof,
    inclusion_proof,
    leaf_hash,
    node_hash,
    root_from_leaf_hashes,
    subtree_root,
    verify_consistency,
    verify_inclusion,
)


def _standards() -> Path:
    """The shared standards folder: BLUELIGHT_STANDARDS_DIR, else ``../shared/standards`` beside
    the checkout, else the workplace's copy. A checkout elsewhere (CI clones to a temporary
    folder) still finds the vectors; none found fails the count test below, loudly."""
    candidates = [
        os.environ.get("BLUELIGHT_STANDARDS_DIR", ""),
        str(Path(__file__).resolve().parents[3] / "shared" / "standards"),
        "/work/shared/standards",
    ]
    for candidate in candidates:
        if candidate and (Path(candidate) / "merkle-vectors").is_dir():
            return Path(candidate)
    return Path(candidates[1])


VECTORS = _standards() / "merkle-vectors"
INCLUSION_VECTORS = sorted((VECTORS / "inclusion").rglob("*.json"))
CONSISTENCY_VECTORS = sorted((VECTORS / "consistency").rglob("*.json"))

# The reference log of RFC 6962's test suite, which the transparency-dev vectors also use.
REFERENCE_ENTRIES = [
    b"",
    bytes.fromhex("00"),
    bytes.fromhex("10"),
    bytes.fromhex("2021"),
    bytes.fromhex("3031"),
    bytes.fromhex("40414243"),
    bytes.fromhex("5051525354555657"),
    bytes.fromhex("606162636465666768696a6b6c6d6e6f"),
]
REFERENCE_LEAVES = [leaf_hash(entry) for entry in REFERENCE_ENTRIES]

# Roots of the first n reference entries. All but size 4 appear as roots in the vectors
# (e.g. consistency/3 for sizes 2 and 5, consistency/4 for 6 and 7, inclusion/1 for 8); size 4
# is from the RFC 6962 reference implementation's tests.
REFERENCE_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


# --- A deliberately naive reference, written straight from RFC 9162 §2.1 ----------------------


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def _k(n: int) -> int:
    k = 1
    while k * 2 < n:
        k *= 2
    return k


def reference_mth(entries: list[bytes]) -> bytes:
    n = len(entries)
    if n == 0:
        return _sha256(b"")
    if n == 1:
        return _sha256(b"\x00" + entries[0])
    k = _k(n)
    return _sha256(b"\x01" + reference_mth(entries[:k]) + reference_mth(entries[k:]))


def reference_path(m: int, entries: list[bytes]) -> list[bytes]:
    n = len(entries)
    if n == 1:
        return []
    k = _k(n)
    if m < k:
        return [*reference_path(m, entries[:k]), reference_mth(entries[k:])]
    return [*reference_path(m - k, entries[k:]), reference_mth(entries[:k])]


def reference_subproof(m: int, entries: list[bytes], complete: bool) -> list[bytes]:
    n = len(entries)
    if m == n:
        return [] if complete else [reference_mth(entries)]
    k = _k(n)
    if m <= k:
        return [*reference_subproof(m, entries[:k], complete), reference_mth(entries[k:])]
    return [*reference_subproof(m - k, entries[k:], False), reference_mth(entries[:k])]


# --- The transparency-dev vectors --------------------------------------------------------------


def _vector_id(path: Path) -> str:
    return path.relative_to(VECTORS).as_posix()


def _load(path: Path) -> dict[str, Any]:
    case: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return case


def _b64(value: str | None) -> bytes:
    return base64.b64decode(value) if value else b""


def _proof(value: list[str] | None) -> list[bytes]:
    return [_b64(node) for node in value or []]


def test_every_vector_file_is_found() -> None:
    # A moved folder must fail here, not pass by running no cases at all.
    assert len(INCLUSION_VECTORS) + len(CONSISTENCY_VECTORS) == 196
    assert len(INCLUSION_VECTORS) == 98
    assert len(CONSISTENCY_VECTORS) == 98


@pytest.mark.parametrize("path", INCLUSION_VECTORS, ids=_vector_id)
def test_inclusion_vector_verifies_or_is_refused(path: Path) -> None:
    case = _load(path)

    def verify() -> None:
        verify_inclusion(
            case["leafIdx"],
            case["treeSize"],
            _b64(case["leafHash"]),
            _proof(case["proof"]),
            _b64(case["root"]),
        )

    if case["wantErr"]:
        with pytest.raises(MerkleError):
            verify()
    else:
        verify()


@pytest.mark.parametrize("path", CONSISTENCY_VECTORS, ids=_vector_id)
def test_consistency_vector_verifies_or_is_refused(path: Path) -> None:
    case = _load(path)

    def verify() -> None:
        verify_consistency(
            case["size1"],
            case["size2"],
            _b64(case["root1"]),
            _b64(case["root2"]),
            _proof(case["proof"]),
        )

    if case["wantErr"]:
        with pytest.raises(MerkleError):
            verify()
    else:
        verify()


# The numbered folders' happy paths are proofs over the reference log, so the proofs this
# module makes must be the very same bytes.
HAPPY_INCLUSION = [p for p in INCLUSION_VECTORS if p.parent.name.isdigit() and "happy" in p.name]
HAPPY_CONSISTENCY = [
    p for p in CONSISTENCY_VECTORS if p.parent.name.isdigit() and "happy" in p.name
]


def test_the_happy_paths_are_found() -> None:
    assert len(HAPPY_INCLUSION) == 5
    assert len(HAPPY_CONSISTENCY) == 5


@pytest.mark.parametrize("path", HAPPY_INCLUSION, ids=_vector_id)
def test_made_inclusion_proof_is_the_vectors_proof(path: Path) -> None:
    case = _load(path)
    leaves = REFERENCE_LEAVES[: case["treeSize"]]

    assert leaves[case["leafIdx"]] == _b64(case["leafHash"])
    assert root_from_leaf_hashes(leaves) == _b64(case["root"])
    assert inclusion_proof(case["leafIdx"], leaves) == _proof(case["proof"])


@pytest.mark.parametrize("path", HAPPY_CONSISTENCY, ids=_vector_id)
def test_made_consistency_proof_is_the_vectors_proof(path: Path) -> None:
    case = _load(path)
    leaves = REFERENCE_LEAVES[: case["size2"]]

    assert root_from_leaf_hashes(leaves[: case["size1"]]) == _b64(case["root1"])
    assert root_from_leaf_hashes(leaves) == _b64(case["root2"])
    assert consistency_proof(case["size1"], leaves) == _proof(case["proof"])


# --- Known answers -----------------------------------------------------------------------------


def test_hashes_are_domain_separated_sha256() -> None:
    assert EMPTY_ROOT.hex() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert leaf_hash(b"") == _sha256(b"\x00")
    assert node_hash(b"L" * 32, b"R" * 32) == _sha256(b"\x01" + b"L" * 32 + b"R" * 32)
    assert root_from_leaf_hashes([]) == EMPTY_ROOT


@pytest.mark.parametrize("size", sorted(REFERENCE_ROOTS))
def test_reference_log_has_the_rfc_6962_roots(size: int) -> None:
    assert root_from_leaf_hashes(REFERENCE_LEAVES[:size]).hex() == REFERENCE_ROOTS[size]


def test_root_matches_the_rfc_definition_for_every_size_to_70() -> None:
    entries = [i.to_bytes(2, "big") for i in range(71)]
    leaves = [leaf_hash(entry) for entry in entries]

    for size in range(71):
        assert root_from_leaf_hashes(leaves[:size]) == reference_mth(entries[:size]), size


def test_proofs_match_the_rfc_definition_for_every_pair_of_sizes_to_40() -> None:
    entries = [i.to_bytes(2, "big") for i in range(40)]
    leaves = [leaf_hash(entry) for entry in entries]

    for n in range(1, 41):
        root = root_from_leaf_hashes(leaves[:n])
        for m in range(n):
            path = inclusion_proof(m, leaves[:n])
            assert path == reference_path(m, entries[:n]), (m, n)
            verify_inclusion(m, n, leaves[m], path, root)
        for m in range(1, n + 1):
            proof = consistency_proof(m, leaves[:n])
            assert proof == reference_subproof(m, entries[:n], True), (m, n)
            verify_consistency(m, n, root_from_leaf_hashes(leaves[:m]), root, proof)


def test_subtree_root_is_the_root_of_that_range() -> None:
    leaves = [leaf_hash(i.to_bytes(2, "big")) for i in range(37)]

    for start in range(38):
        for end in range(start, 38):
            assert subtree_root(leaves, start, end) == root_from_leaf_hashes(leaves[start:end])


@pytest.mark.parametrize(("start", "end"), [(-1, 2), (3, 2), (0, 9), (9, 9)])
def test_subtree_root_refuses_a_range_outside_the_tree(start: int, end: int) -> None:
    with pytest.raises(MerkleError):
        subtree_root(REFERENCE_LEAVES, start, end)


@pytest.mark.parametrize("index", [-1, 8, 2**64 - 1])
def test_no_inclusion_proof_for_a_leaf_outside_the_tree(index: int) -> None:
    with pytest.raises(MerkleError):
        inclusion_proof(index, REFERENCE_LEAVES)


@pytest.mark.parametrize("old_size", [-1, 0, 9])
def test_no_consistency_proof_from_the_empty_or_a_larger_tree(old_size: int) -> None:
    with pytest.raises(MerkleError):
        consistency_proof(old_size, REFERENCE_LEAVES)


def test_the_empty_tree_is_consistent_only_with_itself_under_its_own_root() -> None:
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])

    with pytest.raises(MerkleError):
        verify_consistency(0, 0, b"\x00" * 32, b"\x00" * 32, [])
    with pytest.raises(MerkleError):
        verify_consistency(0, 1, EMPTY_ROOT, REFERENCE_LEAVES[0], [])


def test_a_proof_with_a_short_hash_is_refused() -> None:
    leaves = REFERENCE_LEAVES
    root = root_from_leaf_hashes(leaves)
    path = inclusion_proof(3, leaves)
    proof = consistency_proof(3, leaves)

    with pytest.raises(MerkleError):
        verify_inclusion(3, 8, leaves[3], [*path[:-1], path[-1][:31]], root)
    with pytest.raises(MerkleError):
        verify_inclusion(3, 8, leaves[3][:31], path, root)
    with pytest.raises(MerkleError):
        verify_consistency(3, 8, root_from_leaf_hashes(leaves[:3]), root, [proof[0][:31]])


# --- Properties --------------------------------------------------------------------------------


# Hypothesis keeps lists short unless told otherwise, so sizes are drawn first to spread logs
# over the whole range, from empty to a few levels deep.
def entry_lists(max_size: int) -> st.SearchStrategy[list[bytes]]:
    """Logs of any entries, empty ones and repeats included."""
    return st.integers(0, max_size).flatmap(
        lambda size: st.lists(st.binary(max_size=12), min_size=size, max_size=size)
    )


def distinct_logs(min_size: int, max_size: int = 300) -> st.SearchStrategy[list[bytes]]:
    """Logs of distinct entries, so a proof for one leaf cannot be honestly valid for another."""
    return st.builds(
        lambda size, salt: [salt + i.to_bytes(2, "big") for i in range(size)],
        st.integers(min_size, max_size),
        st.binary(max_size=8),
    )


def _flip(data: bytes, bit: int) -> bytes:
    bit %= len(data) * 8
    flipped = bytearray(data)
    flipped[bit // 8] ^= 1 << (bit % 8)
    return bytes(flipped)


@settings(max_examples=40, deadline=None)
@given(entry_lists(300))
def test_root_of_any_log_matches_the_rfc_definition(entries: list[bytes]) -> None:
    assert root_from_leaf_hashes([leaf_hash(e) for e in entries]) == reference_mth(entries)


@settings(max_examples=15, deadline=None)
@given(entry_lists(100))
def test_root_after_every_append_matches_the_rfc_definition(entries: list[bytes]) -> None:
    leaves: list[bytes] = []

    for size, entry in enumerate(entries, start=1):
        leaves.append(leaf_hash(entry))
        assert root_from_leaf_hashes(leaves) == reference_mth(entries[:size])


@settings(max_examples=20, deadline=None)
@given(distinct_logs(1))
def test_every_inclusion_proof_verifies(entries: list[bytes]) -> None:
    leaves = [leaf_hash(e) for e in entries]
    root = root_from_leaf_hashes(leaves)

    for index, leaf in enumerate(leaves):
        verify_inclusion(index, len(leaves), leaf, inclusion_proof(index, leaves), root)


@settings(max_examples=20, deadline=None)
@given(distinct_logs(1))
def test_every_consistency_proof_verifies(entries: list[bytes]) -> None:
    leaves = [leaf_hash(e) for e in entries]
    new_root = root_from_leaf_hashes(leaves)

    for old_size in range(1, len(leaves) + 1):
        old_root = subtree_root(leaves, 0, old_size)
        proof = consistency_proof(old_size, leaves)
        verify_consistency(old_size, len(leaves), old_root, new_root, proof)


@settings(max_examples=150, deadline=None)
@given(distinct_logs(2), st.data())
def test_a_tampered_inclusion_proof_is_refused(entries: list[bytes], data: st.DataObject) -> None:
    leaves = [leaf_hash(e) for e in entries]
    size = len(leaves)
    root = root_from_leaf_hashes(leaves)
    index = data.draw(st.integers(0, size - 1), label="index")
    path = inclusion_proof(index, leaves)
    bit = data.draw(st.integers(0, 255), label="bit")
    other = (index + data.draw(st.integers(1, size - 1), label="offset")) % size
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")

    tampered: list[tuple[int, int, bytes, list[bytes], bytes]] = [
        (index, size, _flip(leaves[index], bit), path, root),
        (index, size, leaves[index], path, _flip(root, bit)),
        (other, size, leaves[index], path, root),
        (index, size, leaves[other], path, root),
        (index, size, leaves[index], [*path, extra], root),
        (index, size, leaves[index], [extra, *path], root),
    ]
    for position in range(len(path)):
        flipped = [*path]
        flipped[position] = _flip(flipped[position], bit)
        tampered.append((index, size, leaves[index], flipped, root))
    if path:
        tampered.append((index, size, leaves[index], path[:-1], root))
        tampered.append((index, size, leaves[index], path[1:], root))
    for case in tampered:
        with pytest.raises(MerkleError):
            verify_inclusion(*case)


@settings(max_examples=150, deadline=None)
@given(distinct_logs(2), st.data())
def test_a_tampered_consistency_proof_is_refused(entries: list[bytes], data: st.DataObject) -> None:
    leaves = [leaf_hash(e) for e in entries]
    new_size = len(leaves)
    old_size = data.draw(st.integers(1, new_size - 1), label="old_size")
    new_root = root_from_leaf_hashes(leaves)
    old_root = subtree_root(leaves, 0, old_size)
    proof = consistency_proof(old_size, leaves)
    bit = data.draw(st.integers(0, 255), label="bit")
    extra = data.draw(st.binary(min_size=32, max_size=32), label="extra")

    tampered: list[tuple[int, int, bytes, bytes, list[bytes]]] = [
        (old_size, new_size, _flip(old_root, bit), new_root, proof),
        (old_size, new_size, old_root, _flip(new_root, bit), proof),
        (old_size, new_size, new_root, old_root, proof),
        (old_size, new_size, old_root, new_root, [*proof, extra]),
        (old_size, new_size, old_root, new_root, [extra, *proof]),
        (old_size, new_size, old_root, new_root, proof[:-1]),
        (old_size, new_size, old_root, new_root, proof[1:]),
        (old_size + 1, new_size, old_root, new_root, proof),
        (old_size - 1, new_size, old_root, new_root, proof),
        (new_size, old_size, new_root, old_root, proof),
    ]
    for position in range(len(proof)):
        flipped = [*proof]
        flipped[position] = _flip(flipped[position], bit)
        tampered.append((old_size, new_size, old_root, new_root, flipped))
    for case in tampered:
        with pytest.raises(MerkleError):
            verify_consistency(*case)
