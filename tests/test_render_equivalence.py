"""atom_entry formats each entry's bytes; lxml serializing publish's entry element is the oracle.

Every Unicode character goes through every field of an entry, then thousands of
generated entries mix the characters that need escaping with empty and missing
fields, reports, enclosures and categories. Wherever lxml writes bytes the
formatted entry must be those bytes; wherever lxml refuses a character,
format_entry must leave the entry to lxml, which then raises what it always did.
"""

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest

from aggregator import atom_entry, publish
from aggregator.types import Enclosure, Report, StoredItem

IDENTITY = publish.FeedIdentity('http://127.0.0.1:8080/a&b"<c>/', "aggregator.localhost,2026", "N")
TITLES = {"talks": "Talks & <more>", "alliance": "", "quote": "Say \"hi\"\tor\n'bye'\r"}
NOW = datetime(2025, 7, 20, 9, 30, tzinfo=UTC)
SEOUL = timezone(timedelta(hours=9))


def stored(n: int, text: str = "x", **changes: object) -> StoredItem:
    """An item with ``text`` in every string it has, and every optional part present."""
    values: dict[str, object] = {
        "id": n,
        "entry_id": f"tag:{text}:{n}",
        "source_key": f"seed:{text}",
        "source_title": f"source {text}",
        "source_link": f"https://example.org/{text}",
        "source_feed_id": f"urn:{text}",
        "source_updated": NOW - timedelta(days=1),
        "key": text,
        "title": f"title {text}",
        "content_html": f"<p>{text}</p>",
        "published": NOW - timedelta(hours=1),
        "updated": NOW,
        "author": f"author {text}",
        "site_name": None,
        "link": f"https://example.org/a?{text}",
        "language": text,
        "topics": ("talks", "alliance", "quote", "unknown"),
        "also_reported_by": (Report(f"wire {text}", f"https://wire/{text}", "tag:x:1"),),
        "enclosures": (Enclosure(f"https://example.org/{text}.mp3", text, 1234),),
    }
    values.update(changes)
    return StoredItem(**values)  # type: ignore[arg-type]


def lxml_entry(item: StoredItem, entries: publish.Entries) -> bytes | Exception:
    """What publish wrote before atom_entry: its entry element serialized by lxml, or the error."""
    try:
        return publish._entry_xml(publish._entry_element(item, entries))  # noqa: SLF001
    except (ValueError, UnicodeError) as error:
        return error


def formatted(item: StoredItem, entries: publish.Entries) -> bytes | None:
    return atom_entry.format_entry(
        item,
        publish._content(item),  # noqa: SLF001
        entries._category_lines,  # noqa: SLF001
        entries.source_id(item),
    )


def published_entry(item: StoredItem, entries: publish.Entries) -> bytes | Exception:
    """What publish writes now (Entries.entry: formatted, or left to lxml), or the error."""
    try:
        return entries.entry(item).xml
    except (ValueError, UnicodeError) as error:
        return error


def assert_same(item: StoredItem) -> bool:
    """The formatted entry is lxml's bytes, or lxml refuses it and Entries gives lxml's error.

    True when the entry was formatted, False when it was left to lxml.
    """
    entries = publish.Entries(IDENTITY, TITLES, lambda ids: [])
    expected = lxml_entry(item, entries)
    mine = formatted(item, entries)
    published = published_entry(item, entries)
    if isinstance(expected, bytes):
        assert mine == expected, item
        assert published == expected
        return True
    assert mine is None, item
    assert isinstance(published, Exception), item
    assert (type(published), str(published)) == (type(expected), str(expected))
    return False


def chunks(size: int) -> Iterator[str]:
    for start in range(0, 0x110000, size):
        yield "".join(map(chr, range(start, start + size)))


def test_every_character_in_every_field_is_written_as_lxml_writes_it() -> None:
    refused = []
    for n, chunk in enumerate(chunks(2048)):
        if not assert_same(stored(n, chunk)):
            # Which characters lxml refuses, one by one: each must be left to lxml alone.
            refused += [c for c in chunk if not assert_same(stored(n, c))]
    forbidden = [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0xD800, 0xE000)]
    assert list(map(ord, refused)) == [*forbidden, 0xFFFE, 0xFFFF]


def test_categories_of_awkward_topics_and_labels_are_written_as_lxml_writes_them() -> None:
    titles = {"a\"&<>\t\n\r'b": "x", "plain": "l\"&<>\t\n\r'😀", "none": ""}
    identity = publish.FeedIdentity("http://h/\t\"'&<>/", "a,2026", "N")
    entries = publish.Entries(identity, titles, lambda ids: [])
    item = stored(1, topics=("plain", "a\"&<>\t\n\r'b", "none", "missing", "plain"))
    assert entries.entry(item).xml == lxml_entry(item, entries)


# Pieces the generated fields are made of: what needs escaping, what must not be
# escaped, markup-like and non-BMP text, and (rarely) a character lxml refuses.
PIECES = ["&", "<", ">", '"', "'", "\t", "\n", "\r", "\r\n", "]]>", "&amp;", "<p>x</p>",
          " ", "남북 회담", "😀", "\U0010fffd", "\x7f", "\x85", "\u2028", "\ufeff", "é", "a",
          "word"]  # fmt: skip
REFUSED = ["\x00", "\x01", "\x0b", "\x1f", "\ufffe", "\ud800"]


def awkward(rng: random.Random, empty: bool = True) -> str:
    if empty and rng.random() < 0.1:
        return ""
    value = "".join(rng.choice(PIECES) for _ in range(rng.randrange(1, 8)))
    if rng.random() < 0.01:
        at = rng.randrange(len(value) + 1)
        value = value[:at] + rng.choice(REFUSED) + value[at:]
    return value


def maybe(rng: random.Random) -> str | None:
    return None if rng.random() < 0.3 else awkward(rng)


def generated(rng: random.Random, n: int) -> StoredItem:
    def when() -> datetime:
        return NOW - timedelta(seconds=rng.randrange(10**8), microseconds=rng.choice([0, 1, 5000]))

    updated = when()
    # The same instant as ``updated``, also in another zone (where its ISO string differs).
    same = [updated, updated.astimezone(SEOUL)]
    return StoredItem(
        id=n,
        entry_id=awkward(rng),
        source_key=f"seed:{n % 7}",  # never written; its atom:source id is a hash of it
        source_title=awkward(rng),
        source_link=maybe(rng),
        source_feed_id=maybe(rng),
        source_updated=rng.choice([None, None, when(), *same]),
        key=awkward(rng),
        title=awkward(rng),
        content_html=awkward(rng),
        published=rng.choice([when(), *same]),
        updated=updated,
        author=maybe(rng),
        site_name=maybe(rng),
        link=maybe(rng),
        language=rng.choice([None, "", "en", "ko", awkward(rng, empty=False)]),
        topics=tuple(rng.sample([*TITLES, "unknown"], rng.randrange(5))),
        also_reported_by=tuple(
            Report(awkward(rng), maybe(rng), f"tag:x:{i}") for i in range(rng.choice([0, 0, 1, 3]))
        ),
        enclosures=tuple(
            Enclosure(awkward(rng), maybe(rng), rng.choice([None, 0, 1234]))
            for _ in range(rng.choice([0, 0, 1, 2]))
        ),
    )


@pytest.mark.parametrize("seed", range(4))
def test_generated_entries_are_written_as_lxml_writes_them(seed: int) -> None:
    rng = random.Random(seed)
    outcomes = [assert_same(generated(rng, n)) for n in range(1500)]
    # Both paths were exercised: mostly formatted, a few refused characters left to lxml.
    assert outcomes.count(False) > 10 and outcomes.count(True) > 1000
