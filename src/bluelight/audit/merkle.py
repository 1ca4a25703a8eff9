"""Merkle trees as RFC 9162 (Certificate Transparency v2) §2.1 defines them.

The audit log is an append-only list of entries. Its Merkle tree head (MTH) commits to every
entry; an inclusion proof shows that one entry is in a tree of a given size, and a consistency
proof shows that a later tree only added entries to an earlier one. Anyone holding a root can
check both kinds of proof without trusting the server that made them.

Hashes are SHA-256. Leaves are hashed with a 0x00 prefix and inner nodes with 0x01, so a leaf
can never be passed off as an inner node (second-preimage resistance). Leaf indices are 0-based
and tree sizes count leaves.

Everything here is pure: no I/O, no clock, no database. Functions that build trees or proofs
take the leaf hashes in log order as any ``Sequence[bytes]`` and read each one exactly once per
subtree they hash.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from itertools import islice

__all__ = [
    "EMPTY_ROOT",
    "HASH_SIZE",
    "MerkleError",
    "consistency_proof",
    "inclusion_proof",
    "leaf_hash",
    "node_hash",
    "root_from_leaf_hashes",
    "subtree_root",
    "verify_consistency",
    "verify_inclusion",
]

HASH_SIZE = 32
EMPTY_ROOT: bytes = hashlib.sha256(b"").digest()

_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"
_sha256 = hashlib.sha256


class MerkleError(ValueError):
    """An argument or a proof that does not describe a valid statement about a Merkle tree."""


def leaf_hash(entry: bytes) -> bytes:
    """Hash one log entry as a leaf: SHA-256(0x00 ‖ entry).

    Args:
        entry: The entry's canonical bytes.

    Returns:
        The 32-byte leaf hash.
    """
    return _sha256(_LEAF_PREFIX + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """Hash two child hashes into their parent: SHA-256(0x01 ‖ left ‖ right).

    Args:
        left: The left child's hash.
        right: The right child's hash.

    Returns:
        The 32-byte parent hash.
    """
    return _sha256(_NODE_PREFIX + left + right).digest()


def root_from_leaf_hashes(leaf_hashes: Sequence[bytes]) -> bytes:
    """The Merkle tree head (MTH) of a tree whose leaves are already hashed.

    Runs in O(n) time and O(log n) extra memory, so it can walk a log of millions of entries.

    Args:
        leaf_hashes: The leaf hashes in log order.

    Returns:
        The 32-byte root; ``EMPTY_ROOT`` for no leaves.
    """
    return _range_root(leaf_hashes, 0, len(leaf_hashes))


def subtree_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """The MTH of the leaves ``leaf_hashes[start:end]``, without copying them.

    Args:
        leaf_hashes: The leaf hashes in log order.
        start: Index of the first leaf in the subtree.
        end: Index one past the last leaf in the subtree.

    Returns:
        The 32-byte root of that range; ``EMPTY_ROOT`` when it is empty.

    Raises:
        MerkleError: When ``0 <= start <= end <= len(leaf_hashes)`` does not hold.
    """
    if not 0 <= start <= end <= len(leaf_hashes):
        raise MerkleError(f"range [{start}, {end}) is outside a tree of {len(leaf_hashes)} leaves")
    return _range_root(leaf_hashes, start, end)


def inclusion_proof(index: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The audit path PATH(index, D[n]) of RFC 9162 §2.1.3.1, with n = ``len(leaf_hashes)``.

    Each sibling subtree is hashed once, so the whole proof costs O(n) hashing and O(log n)
    extra memory.

    Args:
        index: The 0-based index of the leaf to prove.
        leaf_hashes: Every leaf hash of the tree, in log order.

    Returns:
        The sibling hashes from the leaf's level up to the root's children.

    Raises:
        MerkleError: When ``index`` is not a leaf of the tree.
    """
    size = len(leaf_hashes)
    if not 0 <= index < size:
        raise MerkleError(f"leaf index {index} is outside a tree of {size} leaves")
    path: list[bytes] = []
    start, end = 0, size
    # Descend from the root, collecting the sibling of each subtree holding the leaf; the RFC's
    # recursion appends on the way back up, hence the reversal.
    while end - start > 1:
        mid = start + _split(end - start)
        if index < mid:
            path.append(_range_root(leaf_hashes, mid, end))
            end = mid
        else:
            path.append(_range_root(leaf_hashes, start, mid))
            start = mid
    path.reverse()
    return path


def consistency_proof(old_size: int, leaf_hashes: Sequence[bytes]) -> list[bytes]:
    """The consistency proof PROOF(m, D[n]) of RFC 9162 §2.1.4.1, for m = ``old_size``.

    n is ``len(leaf_hashes)``. Like ``inclusion_proof``, this costs O(n) hashing and O(log n)
    extra memory.

    Args:
        old_size: The size of the earlier tree, ``0 < old_size <= n``.
        leaf_hashes: Every leaf hash of the later tree, in log order.

    Returns:
        The proof's node hashes; empty when ``old_size == n``.

    Raises:
        MerkleError: When ``old_size`` is 0 (nothing can be proved about the empty tree, and
            verifiers refuse such proofs) or larger than the tree.
    """
    size = len(leaf_hashes)
    if not 0 < old_size <= size:
        raise MerkleError(f"no consistency proof from size {old_size} to size {size}")
    proof: list[bytes] = []
    start, end, remaining = 0, size, old_size
    # True while the subtree in hand is a prefix of the old tree, whose root the verifier has.
    old_root_known = True
    while end - start != remaining:
        mid = start + _split(end - start)
        if remaining <= mid - start:
            proof.append(_range_root(leaf_hashes, mid, end))
            end = mid
        else:
            proof.append(_range_root(leaf_hashes, start, mid))
            remaining -= mid - start
            start = mid
            old_root_known = False
    if not old_root_known:
        proof.append(_range_root(leaf_hashes, start, end))
    proof.reverse()
    return proof


def verify_inclusion(
    index: int, tree_size: int, leaf: bytes, proof: Sequence[bytes], root: bytes
) -> None:
    """Check an inclusion proof as RFC 9162 §2.1.3.2 says.

    Args:
        index: The 0-based index of the leaf.
        tree_size: The number of leaves in the tree ``root`` is the head of.
        leaf: The leaf hash (not the entry itself).
        proof: The audit path, lowest level first.
        root: The tree head the proof should lead to.

    Raises:
        MerkleError: When the index is not in the tree, a hash has the wrong length, the proof
            is too long or too short for the index and size, or it leads to another root.
    """
    if not 0 <= index < tree_size:
        raise MerkleError(f"leaf index {index} is outside a tree of {tree_size} leaves")
    _check_hash_size("leaf hash", leaf)
    for node in proof:
        _check_hash_size("proof hash", node)
    fn, sn = index, tree_size - 1
    r = leaf
    for p in proof:
        if sn == 0:
            raise MerkleError("the proof is longer than the path from this leaf to the root")
        if fn & 1 or fn == sn:
            r = _sha256(_NODE_PREFIX + p + r).digest()
            # On the right border the path skips levels where the leaf's subtree has no sibling.
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            r = _sha256(_NODE_PREFIX + r + p).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MerkleError("the proof is shorter than the path from this leaf to the root")
    if r != root:
        raise MerkleError("the proof does not lead to the given root")


def verify_consistency(
    old_size: int, new_size: int, old_root: bytes, new_root: bytes, proof: Sequence[bytes]
) -> None:
    """Check that the tree of ``new_size`` leaves extends the tree of ``old_size`` leaves.

    Follows RFC 9162 §2.1.4.2 for ``0 < old_size < new_size``. Equal sizes need an empty proof
    and equal roots. Size 0 has only one valid root, ``EMPTY_ROOT``, and a proof from size 0 to
    a larger tree is refused: every tree extends the empty one, so such a "proof" would tell the
    caller nothing, and accepting it would let a caller believe it had checked something.

    Args:
        old_size: The size of the earlier tree.
        new_size: The size of the later tree.
        old_root: The earlier tree's head.
        new_root: The later tree's head.
        proof: The consistency proof from the earlier tree to the later one.

    Raises:
        MerkleError: When the sizes are out of order, the proof has the wrong shape, or it does
            not lead to both roots.
    """
    if not 0 <= old_size <= new_size:
        raise MerkleError(f"no consistency proof from size {old_size} to size {new_size}")
    if old_size == new_size:
        if proof:
            raise MerkleError("a tree is consistent with itself only by an empty proof")
        if old_root != new_root:
            raise MerkleError("two trees of the same size have different roots")
        if old_size == 0 and old_root != EMPTY_ROOT:
            raise MerkleError("the empty tree's root is the hash of the empty string")
        return
    if old_size == 0:
        raise MerkleError("a consistency proof from the empty tree proves nothing")
    if not proof:
        raise MerkleError("the consistency proof is empty")
    fr, sr = _roots_from_consistency_proof(old_size, new_size, old_root, proof)
    if fr != old_root:
        raise MerkleError("the consistency proof does not lead to the old root")
    if sr != new_root:
        raise MerkleError("the consistency proof does not lead to the new root")


def _roots_from_consistency_proof(
    old_size: int, new_size: int, old_root: bytes, proof: Sequence[bytes]
) -> tuple[bytes, bytes]:
    """The old and new roots a proof leads to, by RFC 9162 §2.1.4.2 (0 < old_size < new_size)."""
    for node in proof:
        _check_hash_size("proof hash", node)
    # When the old tree is a complete subtree of the new one the proof leaves out its root,
    # which the verifier already holds; the RFC prepends it.
    complete = old_size & (old_size - 1) == 0
    fr = sr = old_root if complete else proof[0]
    rest = islice(proof, 0 if complete else 1, None)
    fn, sn = old_size - 1, new_size - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    for c in rest:
        if sn == 0:
            raise MerkleError("the consistency proof is longer than the trees' sizes allow")
        if fn & 1 or fn == sn:
            fr = _sha256(_NODE_PREFIX + c + fr).digest()
            sr = _sha256(_NODE_PREFIX + c + sr).digest()
            while fn and not fn & 1:
                fn >>= 1
                sn >>= 1
        else:
            sr = _sha256(_NODE_PREFIX + sr + c).digest()
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise MerkleError("the consistency proof is shorter than the trees' sizes need")
    return fr, sr


def _check_hash_size(what: str, value: bytes) -> None:
    if len(value) != HASH_SIZE:
        raise MerkleError(f"{what} is {len(value)} bytes, not {HASH_SIZE}")


def _split(size: int) -> int:
    """The largest power of two smaller than ``size`` (which is at least 2): RFC 9162's k."""
    return 1 << ((size - 1).bit_length() - 1)


def _range_root(leaf_hashes: Sequence[bytes], start: int, end: int) -> bytes:
    """MTH(leaf_hashes[start:end]) with a stack of complete subtree roots.

    The RFC splits at the largest power of two, so a tree of n leaves is the complete subtrees
    of n's binary digits, largest on the left, joined from the right. Building those subtrees
    left to right needs one stack entry per level.
    """
    count = end - start
    if count == 0:
        return EMPTY_ROOT
    if count == 1:
        return leaf_hashes[start]
    sha256 = _sha256
    prefix = _NODE_PREFIX
    stack: list[bytes] = []
    push = stack.append
    pop = stack.pop
    # Leaves are taken in pairs so the stack only sees subtrees of two or more; this is the hot
    # loop for million-leaf logs, so it avoids slicing and function calls beyond hashing.
    for pairs, i in enumerate(range(start, end - 1, 2), start=1):
        node = sha256(prefix + leaf_hashes[i] + leaf_hashes[i + 1]).digest()
        # Each trailing zero bit of the pair count is a complete subtree now ready to close.
        merges = pairs
        while not merges & 1:
            node = sha256(prefix + pop() + node).digest()
            merges >>= 1
        push(node)
    if count & 1:
        push(leaf_hashes[end - 1])
    node = pop()
    while stack:
        node = sha256(prefix + pop() + node).digest()
    return node
