"""atom_entry formats each entry's bytes; lxml serializing the same <entry> element is the oracle.

Every Unicode character goes through every field of an entry, then thousands of
generated entries mix the characters that need escaping with empty and missing
fields, reports, enclosures and categories. Wherever lxml writes bytes the
formatted entry must be those bytes; where lxml refuses a character (no XML
document can hold it), the entry must be lxml's bytes for the item without it.
"""

import html
import random
import re
from collections.abc import Iterator
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, datetime, timedelta, timezone

import pytest
from lxml import etree

from aggregator import publish
from aggregator.types import Enclosure, Report, StoredItem
from tests.support.feeds import add_links_source_and_language
from tests.support.project import NOT_IN_XML

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


def lxml_entry(
    item: StoredItem,
    entries: publish.Entries,
    identity: publish.FeedIdentity = IDENTITY,
    titles: dict[str, str] = TITLES,
) -> bytes:
    """The <entry> element publish built before atom_entry, pretty-printed by lxml as a child
    of <feed> (libxml2 indents by depth alone, so these are its bytes in a whole document)."""
    entry = etree.Element("entry")
    etree.SubElement(entry, "id").text = item.entry_id
    title = etree.SubElement(entry, "title")
    if re.search(r"&#?\w", item.title):  # what a validator takes for a reference: HTML
        title.set("type", "html")
        title.text = html.escape(item.title, quote=False)
    else:
        title.text = item.title
    etree.SubElement(entry, "updated").text = item.updated.isoformat()
    if item.author:
        etree.SubElement(etree.SubElement(entry, "author"), "name").text = item.author
    content = etree.SubElement(entry, "content")
    content.text = publish.entry_content(item) or None
    content.set("type", "html")
    for topic in item.topics:
        if topic in titles:
            label = {"label": titles[topic]} if titles[topic] else {}
            scheme = identity.category_scheme
            etree.SubElement(entry, "category", {"term": topic, "scheme": scheme} | label)
    etree.SubElement(entry, "published").text = item.published.isoformat()
    add_links_source_and_language(entry, item, entries.source_id(item), identity)
    holder = etree.Element("feed")
    holder.append(entry)
    document = etree.tostring(holder, pretty_print=True, encoding="UTF-8")
    return document[len(b"<feed>\n") : -len(b"</feed>\n")]


def without_unwritable(value):  # noqa: ANN001, ANN201 (an item, report or enclosure)
    changes = {}
    for part in fields(value):
        held = getattr(value, part.name)
        if isinstance(held, str):
            changes[part.name] = NOT_IN_XML.sub(lambda m: "\n" if m[0] in "\v\f" else "", held)
        elif isinstance(held, tuple) and held and is_dataclass(held[0]):
            changes[part.name] = tuple(map(without_unwritable, held))
    return replace(value, **changes)


def assert_same(item: StoredItem) -> bool:
    """The published entry is lxml's bytes, for the item as it is if lxml can write it, else
    for the item without what it cannot; True when lxml could write the item as it is."""
    entries = publish.Entries(IDENTITY, TITLES, lambda ids: [])
    try:
        expected, writable = lxml_entry(item, entries), True
    except (ValueError, UnicodeError):
        expected, writable = lxml_entry(without_unwritable(item), entries), False
    assert entries.entry(item).xml == expected, item
    return writable


def chunks(size: int) -> Iterator[str]:
    for start in range(0, 0x110000, size):
        yield "".join(map(chr, range(start, start + size)))


def test_every_character_in_every_field_is_written_as_lxml_writes_it() -> None:
    refused = []
    for n, chunk in enumerate(chunks(2048)):
        if not assert_same(stored(n, chunk)):
            # Which characters lxml refuses, one by one: each must be left out alone.
            refused += [c for c in chunk if not assert_same(stored(n, c))]
    forbidden = [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0xD800, 0xE000)]
    assert list(map(ord, refused)) == [*forbidden, 0xFFFE, 0xFFFF]


def test_categories_of_awkward_topics_and_labels_are_written_as_lxml_writes_them() -> None:
    titles = {"a\"&<>\t\n\r'b": "x", "plain": "l\"&<>\t\n\r'😀", "none": ""}
    identity = publish.FeedIdentity("http://h/\t\"'&<>/", "a,2026", "N")
    entries = publish.Entries(identity, titles, lambda ids: [])
    item = stored(1, topics=("plain", "a\"&<>\t\n\r'b", "none", "missing", "plain"))
    assert entries.entry(item).xml == lxml_entry(item, entries, identity, titles)


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
    # Both kinds were exercised: mostly writable items, a few with characters left out.
    assert outcomes.count(False) > 10 and outcomes.count(True) > 1000
