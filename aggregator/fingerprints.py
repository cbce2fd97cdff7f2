"""The fingerprints items are indexed by: identity hashes and MinHash signatures.

Pure functions of an item's text and ids, shared by ``dedup`` (which decides with them)
and the store (which indexes by them), so neither imports the other.
"""

import hashlib
import re
import struct
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from operator import eq
from typing import NamedTuple

from xxhash import xxh3_64_intdigest

# --- Near-duplicate fingerprints -------------------------------------------------------------

SIGNATURE_SLOTS = 32
BAND_ROWS = 2
MIN_SHINGLES = 40  # shorter texts (title-only, teasers) never merge on similarity alone
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Scripts written without spaces between words: Hangul syllables (spaced loosely), Han
# ideographs and kana. Words holding any of them are shingled as character runs.
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")
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
# Shingles are hashed with xxh3_64 (issue #22: native, a fifth of blake2b's time per
# shingle, bench_signature; revision 0013). A value's slot is its low bits: its value
# modulo SIGNATURE_SLOTS, a power of two.
assert SIGNATURE_SLOTS & (SIGNATURE_SLOTS - 1) == 0
_SLOT_BITS = SIGNATURE_SLOTS - 1


def _words(text: str) -> tuple[list[bytes], str]:
    """The text's Latin words, UTF-8 encoded and in order, and its spaceless words run together.

    Words are the runs of letters and digits of the NFKC-normalized, case-folded
    text; a word that holds Hangul, Han or kana is spaceless (Korean, Chinese,
    Japanese). Folding maps each character on its own and never to or from an ASCII
    separator, so the text is cut at ASCII
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
            if _SPACELESS.search(word):
                korean.append(word)
            else:
                latin.append(word.encode())
    return latin, "".join(korean)


def shingles(text: str) -> set[bytes]:
    """Overlapping 3-word shingles of normalized text (NFKC, case-folded, punctuation dropped).

    Korean is written with varying spacing (한미 동맹 / 한미동맹), and Chinese and Japanese
    with none, so their runs are shingled as spacing-free character 4-grams instead.
    Shingles are UTF-8 encoded, as they are hashed.
    """
    latin, hangul = _words(text)
    found = set(map(b" ".join, zip(latin, latin[1:], latin[2:], strict=False)))
    found.update([hangul[i : i + 4].encode() for i in range(len(hangul) - 3)])
    return found


def signature(text: str) -> tuple[int, ...] | None:
    """A one-permutation MinHash of the text's shingles, or None when the text is too short.

    Each shingle is hashed once (xxh3_64); slot ``h % SLOTS`` keeps the smallest hash that
    falls in it. The share of equal slots estimates the Jaccard similarity of
    the two shingle sets, and survives small edits, trims and added boilerplate.
    """
    pieces = shingles(text)
    if len(pieces) < MIN_SHINGLES:
        return None
    slots = [_EMPTY] * SIGNATURE_SLOTS
    for value in map(xxh3_64_intdigest, pieces):
        slot = value & _SLOT_BITS
        if value < slots[slot]:
            slots[slot] = value
    return tuple(slots)


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


# Texts shorter than this (normalized title and body, in characters) get no text key:
# a one-word title ("속보", "Weather") is the same text in unrelated items.
MIN_TEXT_KEY_CHARS = 12


def text_key(title: str, body: str) -> int | None:
    """A band key that items share exactly when their normalized title and body are equal.

    Short items (title only, one sentence) have no signature, yet one outlet's article
    under several section URLs, or a syndicated flash, is the same text word for word:
    this key finds those copies through the band index whatever their length. Case,
    width (NFKC), blanks and punctuation do not count. The leading tag keeps it apart
    from the signature's band keys.
    """
    return _words_key(b"text\x1f", f"{title}\n{body}", MIN_TEXT_KEY_CHARS)


def _words_key(tag: bytes, text: str, min_chars: int) -> int | None:
    """A band key of a text's words (case, width, blanks and punctuation aside), kept apart
    from other kinds of keys by ``tag``; None when they hold fewer than ``min_chars``."""
    latin, spaceless = _words(text)
    joined = b" ".join(latin)
    if len(joined) + len(spaceless) < min_chars:
        return None
    digest = hashlib.blake2b(tag + joined + b"\n" + spaceless.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


# Labels of a version rather than words of a headline: Yonhap's flash / short / full
# (快讯 / 简讯 / 详讯), breaking, exclusive, and roundups ((종합), (2보)).
_VERSION_MARKERS = re.compile(
    r"^\s*(?:快讯|简讯|详讯|速报|速報)\s*[:：]"
    r"|[\[(<【〈]\s*(?:속보|단독|종합\s*\d*\s*보?|\d+\s*보|快讯|简讯|详讯)\s*[\])>】〉]"
)
# Headlines shorter than this (in characters, markers aside) get no title key.
MIN_TITLE_KEY_CHARS = 10
_DIGITS = re.compile(r"\d+")
_NOT_LETTERS = re.compile(r"[\W\d_]+")
# A number in Chinese numerals before a counter (连续四天, 第五次): days, times, people...
_HAN_COUNTS = re.compile(r"[一二两三四五六七八九十百千万]+(?=[天日次个名人年月周轮届期号度])")


# A leading label of a headline's column or section ("[사설]", "[5분 칼럼]", "【视频】"): one
# outlet's editorial republished as an audio column differs only in it.
_LABEL = re.compile(r"^\s*(?:\[[^\]]{1,15}\]|【[^】]{1,15}】|〈[^〉]{1,15}〉)\s*")


def bare_title(title: str) -> str:
    """A headline without its version labels (flash, breaking, roundup) and leading label,
    unless the label is most of its words ("[오늘의 날씨] 2022년 7월 25일")."""
    unmarked = _VERSION_MARKERS.sub(" ", title)
    bare = _LABEL.sub("", unmarked, count=1)
    return bare if len(_NOT_LETTERS.sub("", bare)) >= MIN_TITLE_KEY_CHARS else unmarked


def title_key(title: str) -> int | None:
    """A band key that items share when their headlines are the same words, version labels
    (flash, breaking, roundup) aside: a syndicated copy whose description the outlet cut
    or prefixed with its byline, and a flash and the full version that replaces it, have
    the same headline when their texts are far apart."""
    return _words_key(b"title\x1f", bare_title(title), MIN_TITLE_KEY_CHARS)


def is_version(title: str) -> bool:
    """Whether a headline is labelled as a version: flash, short, full, breaking, roundup."""
    return _VERSION_MARKERS.search(title) is not None


@lru_cache(maxsize=8192)
def title_numbers(title: str) -> frozenset[str]:
    """The numbers a headline states (NFKC: circled ① is 1): numbered parts of a series,
    template notices and different polls' figures differ in them."""
    unmarked = unicodedata.normalize("NFKC", _VERSION_MARKERS.sub(" ", title))
    return frozenset(_DIGITS.findall(unmarked) + _HAN_COUNTS.findall(unmarked))


# A wire's dateline or a copier's byline before the first sentence: "[서울=뉴시스] 이지율
# 기자 = ", "韩联社首尔6月2日电 ". Copies differ in it and agree after it.
_BYLINE = re.compile(
    r"^\s*(?:\[[^\]]{1,40}\]\s*(?:[^=\n]{1,20}=\s*)?|[^\s]{0,30}?电\s+|\([^)]{1,30}\)\s*)"
)
_SENTENCE_END = re.compile(r"(?<=[。！？])|(?<=[.!?])(?![\d.])")
# First sentences shorter than this (in characters) get no lead key.
MIN_LEAD_KEY_CHARS = 25


def first_sentence(body: str) -> str:
    """A text's first sentence, byline or dateline aside."""
    return _SENTENCE_END.split(_BYLINE.sub("", body, count=1), maxsplit=1)[0]


def lead_key(body: str) -> int | None:
    """A band key that items share when their first sentence is the same words, byline or
    dateline aside: a wire's short and full versions, and copies whose outlets cut the
    description at different lengths, open with the same sentence."""
    return _words_key(b"lead\x1f", first_sentence(body), MIN_LEAD_KEY_CHARS)


# A notice an outlet puts in every item: Yonhap's 【版权归韩联社所有…】 (its flashes' whole
# text), "[저작권자 ©… 무단 전재 및 재배포 금지]". Copies differ in it, not in their story.
_BOILERPLATE = re.compile(
    r"[【\[<〈(][^】\]>〉)\n]{0,60}(?:版权|저작권|무단\s*전재|copyright)[^】\]>〉)\n]{0,60}[】\]>〉)]",
    re.IGNORECASE,
)


def clean_body(body: str) -> str:
    """An item's text without the outlet's copyright notice, as its story keys read it."""
    return _BOILERPLATE.sub(" ", body)


@lru_cache(maxsize=512)  # a set of a 2 kB text's shingles holds about 30 kB
def body_shingles(body: str) -> frozenset[bytes]:
    """The shingles of an item's text, notice aside: what containment is measured on."""
    return frozenset(shingles(clean_body(body)))


@lru_cache(maxsize=8192)
def title_grams(title: str) -> frozenset[str]:
    """A headline's words (labels aside) and the character pairs of its spaceless runs: one
    headline's grams are nearly all in the other's when one is the other cut or extended."""
    return text_grams(bare_title(title))


@lru_cache(maxsize=8192)
def text_grams(text: str) -> frozenset[str]:
    """A text's Latin words and the character pairs of its spaceless runs."""
    latin, spaceless = _words(text)
    grams = {word.decode() for word in latin}
    grams.update(spaceless[i : i + 2] for i in range(len(spaceless) - 1))
    return frozenset(grams)


def clear_caches() -> None:
    """Let go of the shingles and grams kept for one ingest's comparisons (tens
    of MB after a large one) before the regeneration needs memory (issue #22)."""
    body_shingles.cache_clear()
    title_grams.cache_clear()
    title_numbers.cache_clear()
    text_grams.cache_clear()


def spaceless_grams(grams: frozenset[str]) -> frozenset[str]:
    """The grams that are character pairs of Hangul, Han or kana (of a spaceless run)."""
    return frozenset(gram for gram in grams if _SPACELESS.search(gram))


def containment(first: frozenset, second: frozenset) -> float:  # type: ignore[type-arg]
    """The share of the smaller set found in the other (0 when either is empty)."""
    if not first or not second:
        return 0.0
    return len(first & second) / min(len(first), len(second))


SKETCH_SLOTS = 8
HEAD_CHARS = 200  # a text's beginning: what a copy cut at any length still shares
MIN_HEAD_SHINGLES = 20


def _sketch_keys(tag: bytes, pieces: Iterable[bytes]) -> list[int]:
    """One-row band keys of a small one-permutation MinHash of ``pieces``: sets much alike
    share most of them, and a set cut or extended a little still shares some."""
    slots: dict[int, bytes] = {}
    for piece in pieces:
        digest = hashlib.blake2b(tag + piece, digest_size=8).digest()
        slot = digest[-1] % SKETCH_SLOTS
        if slot not in slots or digest < slots[slot]:
            slots[slot] = digest
    return [
        int.from_bytes(hashlib.blake2b(tag + bytes([slot]) + low, digest_size=8).digest(), "big")
        >> 1
        for slot, low in sorted(slots.items())
    ]


def head_shingles(body: str) -> set[bytes]:
    """The shingles of a text's beginning (its first HEAD_CHARS), byline and notice aside."""
    return shingles(_BYLINE.sub("", clean_body(body), count=1)[:HEAD_CHARS])


def head_keys(body: str) -> list[int]:
    """The band keys of a text's beginning: a copy an outlet cut at another length opens
    as the other does, and shares some (none when short)."""
    head = head_shingles(body)
    return _sketch_keys(b"head\x1f", head) if len(head) >= MIN_HEAD_SHINGLES else []


def headline_keys(title: str) -> list[int]:
    """Band keys finding a headline cut or extended (a flash and its full version)."""
    return _sketch_keys(b"headline\x1f", (g.encode() for g in title_grams(title)))


class StoryKeys(NamedTuple):
    """What an item is indexed by for finding its story: its signature (None when short),
    its text, title and lead keys (None when too short), its text beginning's keys, and
    every band key of them (with its headline's)."""

    slots: tuple[int, ...] | None
    text: int | None
    title: int | None
    lead: int | None
    heads: tuple[int, ...]
    bands: tuple[int, ...]


def story_keys(title: str, body: str) -> StoryKeys:
    """An item's signature, text, title and lead keys, and every band key it is indexed by."""
    body = clean_body(body)
    slots = signature(f"{title}\n{body}")
    same_text, same_title, same_lead = text_key(title, body), title_key(title), lead_key(body)
    bands = band_keys(slots) if slots else []
    keys = [key for key in (same_text, same_title, same_lead) if key is not None]
    heads = head_keys(body)
    return StoryKeys(
        slots,
        same_text,
        same_title,
        same_lead,
        tuple(heads),
        tuple(bands + keys + headline_keys(title) + heads),
    )


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


def full_slot_values(slots: tuple[int, ...]) -> frozenset[int] | None:
    """A signature's values as a set, when every one of its slots is filled (else None).

    A value's slot is the value modulo SIGNATURE_SLOTS, so two full signatures agree on
    a slot exactly when they share its value: the size of the sets' intersection is
    the count of equal slots, found a few times faster than comparing slot by slot.
    """
    if len(slots) != SIGNATURE_SLOTS or _EMPTY in slots:
        return None
    return frozenset(slots)


# --- Identity hashes ---------------------------------------------------------------------


def is_global_id(key: str) -> bool:
    """Whether an id is meant to be unique across feeds (a URL, tag: or urn: URI)."""
    return "://" in key or key.startswith(("tag:", "urn:"))


def link_hash(link: str | None) -> str | None:
    return hashlib.sha256(link.encode()).hexdigest() if link else None


def global_key_hash(key: str) -> str | None:
    """The hash the store indexes a global id by (None for ids local to one feed)."""
    return hashlib.sha256(key.encode()).hexdigest() if key and is_global_id(key) else None
