"""Pure identity decisions: permanent entry ids, content fingerprints, new/edited/unchanged.

Nothing here touches storage or the clock: the pipeline hands in what the
input said, what the store already knows and ``now``, and gets back what to
write (or nothing).
"""

import hashlib
import re
import struct
import unicodedata
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from operator import eq
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aggregator.text import html_to_text, normalize
from aggregator.types import ItemData


@dataclass(frozen=True)
class KnownItem:
    """What the store knows of an item, enough to decide whether it changed."""

    id: int
    entry_id: str
    content_hash: str
    published: datetime
    updated: datetime


@dataclass(frozen=True)
class ItemWrite:
    """What to write for one item: an insert (``id`` None) or an in-place update."""

    id: int | None
    entry_id: str
    item: ItemData
    published: datetime
    updated: datetime
    content_hash: str


def entry_id(authority: str, source_key: str, item_key: str) -> str:
    """A permanent tag: URI (RFC 4151) for an item: opaque, not a path or a row number."""
    digest = hashlib.sha256(f"{source_key}\n{item_key}".encode()).hexdigest()[:32]
    return f"tag:{authority}:entry:{digest}"


def content_hash(item: ItemData, body: str | None = None) -> str:
    """Fingerprint of what we publish, blind to whitespace and markup-only changes.

    ``body`` is ``body_text(item.content_html)`` when the caller already has it.
    """
    parts = (
        normalize(item.title),
        body_text(item.content_html) if body is None else body,
        item.author or "",
        item.site_name or "",
        item.link or "",
        item.published.isoformat() if item.published else "",
        item.language or "",
    )
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def body_text(content_html: str) -> str:
    """An item's body as its content hash reads it: plain text, normalized."""
    return normalize(html_to_text(content_html))


def _plausible(claimed: datetime | None, now: datetime) -> datetime | None:
    """A claimed date, but never later than ``now``, the moment the item is seen (issue #19:
    an entry dated ahead would top every feed until that time came)."""
    return None if claimed is None else min(claimed, now)


def decide(
    item: ItemData,
    known: KnownItem | None,
    *,
    authority: str,
    source_key: str,
    now: datetime,
    body: str | None = None,
) -> ItemWrite | None:
    """New item, edited item (same id, later ``updated``), or None when nothing changed.

    ``body``: the item's ``body_text``, when it was worked out already.
    """
    fingerprint = content_hash(item, body)
    if known is not None and known.content_hash == fingerprint:
        return None
    claimed_published = _plausible(item.published, now)
    claimed_updated = _plausible(item.updated, now)
    if known is None:
        published = claimed_published or claimed_updated or now
        updated = max(claimed_updated or published, published)
        return ItemWrite(
            None, entry_id(authority, source_key, item.key), item, published, updated, fingerprint
        )
    published = claimed_published or known.published
    # An edit must move ``updated`` forward, or readers would never notice it.
    updated = claimed_updated if claimed_updated and claimed_updated > known.updated else now
    if updated <= known.updated:
        updated = known.updated + timedelta(seconds=1)
    return ItemWrite(
        known.id, known.entry_id, item, published, max(updated, published), fingerprint
    )


# --- Canonical links -------------------------------------------------------------------------

TRACKING_PARAMETERS = frozenset(
    {"fbclid", "gclid", "dclid", "msclkid", "mc_cid", "mc_eid", "igshid", "yclid", "_ga", "ref_src"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443}


def canonical_url(url: str, extra_tracking: frozenset[str] = frozenset()) -> str:
    """The form of a link two sources agree on.

    Scheme and host lower-cased, default ports and fragments dropped, tracking
    parameters removed (utm_*, fbclid, gclid, … and ``extra_tracking``), the
    remaining query parameters sorted.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return url.strip()
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        host = f"{host}:{port}"
    if parts.username:
        host = f"{parts.username}@{host}"
    dropped = TRACKING_PARAMETERS | extra_tracking
    query = sorted(
        (name, value)
        for name, value in parse_qsl(parts.query, keep_blank_values=True)
        if not name.lower().startswith("utm_") and name.lower() not in dropped
    )
    return urlunsplit((scheme, host, parts.path or "/", urlencode(query), ""))


# --- Near-duplicate fingerprints -------------------------------------------------------------

SIGNATURE_SLOTS = 32
BAND_ROWS = 2
MIN_SHINGLES = 40  # shorter texts (title-only, teasers) never merge on similarity alone
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Small ASCII letters, digits and Hangul syllables, at least one of them: a whole word as
# case-folding leaves it, and Korean (국방부는, 2024년, ncg는: most tokens of Korean text).
_PLAIN_KOREAN_WORD = re.compile(r"[0-9a-z]*[\uac00-\ud7a3][0-9a-z\uac00-\ud7a3]*")
_EMPTY = (1 << 64) - 1
# Every ASCII byte that is no letter or digit becomes a space and every capital its small
# letter: what case-folding and the word pattern do to ASCII, done by one C-level pass over
# the UTF-8 bytes. Bytes of other characters pass unchanged (the words they belong to are
# worked out from their characters).
_ASCII_WORD_BYTES = bytes(
    byte if byte >= 0x80 else ord(chr(byte).casefold()) if chr(byte).isalnum() else ord(" ")
    for byte in range(256)
)
# Copying a hash object made once is a third cheaper than calling the constructor with
# keyword arguments for every shingle.
_SHINGLE_HASH = hashlib.blake2b(digest_size=8)
_EMPTY_DIGEST = _EMPTY.to_bytes(8, "big")
_SLOTS = struct.Struct(f">{SIGNATURE_SLOTS}Q")
# A digest's slot is its value modulo SIGNATURE_SLOTS, read from its last byte alone.
assert 256 % SIGNATURE_SLOTS == 0


def _words(text: str) -> tuple[list[bytes], str]:
    """The text's Latin words, UTF-8 encoded and in order, and its Korean words run together.

    Words are the runs of letters and digits of the NFKC-normalized, case-folded
    text; a word that holds Hangul is Korean. Folding maps each character on its
    own and never to or from an ASCII separator, so the text is cut at ASCII
    separators as bytes first, and only tokens with other characters are decoded,
    and folded and cut again unless they are plainly one Korean word. (What
    ``text.normalize`` adds to NFKC, folding and stripping blanks, changes no word.)
    """
    ascii_folded = (
        unicodedata.normalize("NFKC", text)
        .encode("utf-8", "surrogatepass")  # a lone surrogate is no word character: cut later
        .translate(_ASCII_WORD_BYTES)
    )
    tokens = ascii_folded.split()
    if ascii_folded.isascii():
        return tokens, ""
    latin: list[bytes] = []
    korean: list[str] = []
    for token in tokens:
        if token.isascii():
            latin.append(token)
            continue
        decoded = token.decode("utf-8", "surrogatepass")
        if _PLAIN_KOREAN_WORD.fullmatch(decoded):
            korean.append(decoded)
            continue
        for word in _WORD.findall(decoded.casefold()):
            if _HANGUL.search(word):
                korean.append(word)
            else:
                latin.append(word.encode())
    return latin, "".join(korean)


def shingles(text: str) -> set[bytes]:
    """Overlapping 3-word shingles of normalized text (NFKC, case-folded, punctuation dropped).

    Korean is written with varying spacing (한미 동맹 / 한미동맹), so Hangul runs are
    shingled as spacing-free character 4-grams instead. Shingles are UTF-8 encoded,
    as they are hashed.
    """
    latin, hangul = _words(text)
    found = set(map(b" ".join, zip(latin, latin[1:], latin[2:], strict=False)))
    found.update([hangul[i : i + 4].encode() for i in range(len(hangul) - 3)])
    return found


def signature(text: str) -> tuple[int, ...] | None:
    """A one-permutation MinHash of the text's shingles, or None when the text is too short.

    Each shingle is hashed once; slot ``h % SLOTS`` keeps the smallest hash that
    falls in it. The share of equal slots estimates the Jaccard similarity of
    the two shingle sets, and survives small edits, trims and added boilerplate.
    """
    pieces = shingles(text)
    if len(pieces) < MIN_SHINGLES:
        return None
    # Big-endian digests compare as their values do, so they are kept as bytes and only
    # the winners are converted.
    slots = [_EMPTY_DIGEST] * SIGNATURE_SLOTS
    new_hash = _SHINGLE_HASH.copy
    for piece in pieces:
        shingle_hash = new_hash()
        shingle_hash.update(piece)
        digest = shingle_hash.digest()
        slot = digest[-1] % SIGNATURE_SLOTS
        if digest < slots[slot]:
            slots[slot] = digest
    return _SLOTS.unpack(b"".join(slots))


def band_keys(slots: tuple[int, ...]) -> list[int]:
    """Locality-sensitive band keys: texts alike enough share at least one, most likely.

    Each band hashes ``BAND_ROWS`` consecutive slots together with its own
    number, into one signed 63-bit integer the database indexes, so a lookup is
    a handful of index probes whatever the number of stored items.
    """
    keys = []
    for band in range(0, SIGNATURE_SLOTS, BAND_ROWS):
        rows = slots[band : band + BAND_ROWS]
        if _EMPTY in rows:
            continue
        payload = band.to_bytes(2, "big") + b"".join(r.to_bytes(8, "big") for r in rows)
        keys.append(int.from_bytes(hashlib.blake2b(payload, digest_size=8).digest(), "big") >> 1)
    return keys


def similarity(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal, non-empty slots)."""
    if len(a) == len(b) and _EMPTY not in a and _EMPTY not in b:  # usual; counted at C speed
        return sum(map(eq, a, b)) / len(a)
    used = [(x, y) for x, y in zip(a, b, strict=True) if x != _EMPTY or y != _EMPTY]
    return sum(x == y for x, y in used) / len(used) if used else 0.0


def pack(slots: tuple[int, ...]) -> bytes:
    """Slots as stored: unsigned 64-bit big-endian integers, one after another."""
    return struct.pack(f">{len(slots)}Q", *slots)


def unpack(data: bytes) -> tuple[int, ...]:
    return struct.unpack(f">{len(data) // 8}Q", data)


# --- Identity within a source, and stories across sources ------------------------------------

BROKEN_ID_SHARE = 0.1  # a fetch where this share of ids repeat on different stories
CHURNING_ID_SHARE = 0.5  # a fetch where this share of known links arrive under new ids


def is_global_id(key: str) -> bool:
    """Whether an id is meant to be unique across feeds (a URL, tag: or urn: URI)."""
    return "://" in key or key.startswith(("tag:", "urn:"))


def link_hash(link: str | None) -> str | None:
    return hashlib.sha256(link.encode()).hexdigest() if link else None


def global_key_hash(key: str) -> str | None:
    """The hash the store indexes a global id by (None for ids local to one feed)."""
    return hashlib.sha256(key.encode()).hexdigest() if key and is_global_id(key) else None


def with_canonical_link(item: ItemData, extra_tracking: frozenset[str]) -> ItemData:
    """The item with its link canonical; an id that was the link becomes the canonical link."""
    if not item.link:
        return item
    link = canonical_url(item.link, extra_tracking)
    key = link if item.key in (item.link, link) else item.key
    return replace(item, link=link, key=key)


def identity_key(item: ItemData) -> str:
    """The stronger key for a source whose ids cannot be trusted: its link, else its text."""
    if item.link:
        return item.link
    text = normalize(item.title) + "\n" + normalize(html_to_text(item.content_html))
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def trusted_ids(items: tuple[ItemData, ...], known_keys_by_link: dict[str, str]) -> bool:
    """Whether a fetch's own ids identify its entries (as FreshRSS checks each fetch).

    Not when too many ids repeat on entries with different links or titles (the
    same guid on different stories), nor when most already-known links arrive
    under ids the store has not seen (a new guid on every fetch).
    """
    if not items:
        return True
    seen: dict[str, tuple[str, str | None]] = {}
    repeated = 0
    for item in items:
        story = (normalize(item.title), item.link)
        if item.key in seen and seen[item.key] != story:
            repeated += 1
        seen.setdefault(item.key, story)
    if repeated >= 2 and repeated >= BROKEN_ID_SHARE * len(items):
        return False
    linked = [i for i in items if i.link and i.link in known_keys_by_link]
    churned = [i for i in linked if known_keys_by_link[i.link or ""] != i.key]
    return not (len(churned) >= 2 and len(churned) >= CHURNING_ID_SHARE * len(linked))


def identify(items: tuple[ItemData, ...], known_keys_by_link: dict[str, str]) -> list[ItemData]:
    """The fetch's items keyed by their ids, or by ``identity_key`` when the ids are broken.

    Repeats of one key keep the first entry, as feeds list newest first.
    """
    if not trusted_ids(items, known_keys_by_link):
        items = tuple(replace(item, key=identity_key(item)) for item in items)
    unique: dict[str, ItemData] = {}
    for item in items:
        unique.setdefault(item.key, item)
    return list(unique.values())


def full_slot_values(slots: tuple[int, ...]) -> frozenset[int] | None:
    """A signature's values as a set, when every one of its slots is filled (else None).

    A value's slot is the value modulo SIGNATURE_SLOTS, so two full signatures agree on
    a slot exactly when they share its value: the size of the sets' intersection is
    the count of equal slots, found a few times faster than comparing slot by slot.
    """
    if len(slots) != SIGNATURE_SLOTS or _EMPTY in slots:
        return None
    return frozenset(slots)


@dataclass(frozen=True)
class StoryCandidate:
    """A stored item from another source that might tell the same story."""

    item_id: int
    story_id: int
    signature: tuple[int, ...]
    values: frozenset[int] | None  # full_slot_values(signature)


def choose_story(
    slots: tuple[int, ...] | None, candidates: list[StoryCandidate], threshold: float
) -> int | None:
    """The story of the most similar candidate at or above ``threshold``, or None."""
    if slots is None:
        return None
    mine = full_slot_values(slots)
    best, best_score = None, threshold
    for candidate in candidates:
        if mine is not None and candidate.values is not None:
            score = len(mine & candidate.values) / SIGNATURE_SLOTS  # = similarity()
        else:
            score = similarity(slots, candidate.signature)
        if score >= best_score and (
            best is None or score > best_score or candidate.story_id < best
        ):
            best, best_score = candidate.story_id, score
    return best
