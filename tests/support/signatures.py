"""The near-duplicate signature as revision 0012 stored it: shingles hashed with blake2b.

Kept for the tests of issue #22's change to xxh3: the differential test compares the
stories the two tell apart, and the migration test writes a store as today's code did.
"""

import hashlib

from aggregator import fingerprints

_EMPTY = (1 << 64) - 1


def blake2b_signature(text: str) -> tuple[int, ...] | None:
    """One-permutation MinHash of the text's shingles, each hashed with an 8-byte blake2b."""
    pieces = fingerprints.shingles(text)
    if len(pieces) < fingerprints.MIN_SHINGLES:
        return None
    slots = [_EMPTY] * fingerprints.SIGNATURE_SLOTS
    for piece in pieces:
        value = int.from_bytes(hashlib.blake2b(piece, digest_size=8).digest(), "big")
        slot = value % fingerprints.SIGNATURE_SLOTS
        if value < slots[slot]:
            slots[slot] = value
    return tuple(slots)
