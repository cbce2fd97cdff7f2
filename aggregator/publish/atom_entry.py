"""An Atom entry's bytes by string formatting, exactly as lxml would serialize its element.

Building each entry as an lxml tree and pretty-printing it was most of a first
regeneration's rendering (issue #7); formatting it costs less than half as much
(bench_regenerate --entries-only; tests/benchmarks/RESULTS.md). The entry's shape is
fixed: in feedgen's element order id, title, updated, author, content, category,
published; then what feedgen cannot write: links with all their attributes
(feedgen 1.0.0 drops rel, type, title and length from entry links, so "related"
and "enclosure" links would come out as plain alternates), a complete
atom:source (id, title, updated, link; RFC 4287 §4.2.11: feedgen's own has only
title and link, which the W3C validator rejects) and xml:lang when the language
is known. Text is escaped as libxml2 escapes it when it writes UTF-8:

- text: ``&``, ``<``, ``>`` and carriage return (``&#13;``); quotes, tabs and
  newlines as they are;
- attribute values: also ``"`` (``&quot;``), tab (``&#9;``) and newline
  (``&#10;``), so a parser gives the value back unnormalized; ``'`` as it is;
- every other character as its UTF-8 bytes, non-BMP ones included.

Characters no XML document can hold (C0 controls but tab, newline and carriage
return; surrogates; U+FFFE and U+FFFF) are dropped with ``text.xml_safe``: ingest
keeps them out of the store, but a store filled by an older version may hold
them, and one of them must not make every feed that shows the item unwritable.
tests/test_render_equivalence.py checks all of this character by character
against lxml serializing the same element, so a libxml2 that escapes
differently is noticed there.
"""

import html
import logging
import re
from collections.abc import Mapping
from datetime import datetime

from aggregator.text import xml_safe, xml_safe_fields
from aggregator.types import StoredItem

log = logging.getLogger("aggregator.publish")

# The C0 controls no XML document can hold (see the module docstring), as UTF-8 bytes.
# Deleting them and comparing lengths is the cheapest way found to tell whether an entry
# holds one (a regular expression is several times slower: tests/benchmarks/RESULTS.md).
_FORBIDDEN_CONTROLS = bytes([*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def escape_text(value: str) -> str:
    """``value`` escaped as element text."""
    if "&" in value:
        value = value.replace("&", "&amp;")
    if "<" in value:
        value = value.replace("<", "&lt;")
    if ">" in value:
        value = value.replace(">", "&gt;")
    if "\r" in value:
        value = value.replace("\r", "&#13;")
    return value


def escape_attribute(value: str) -> str:
    """``value`` escaped as a double-quoted attribute value."""
    value = escape_text(value)
    if '"' in value:
        value = value.replace('"', "&quot;")
    if "\t" in value:
        value = value.replace("\t", "&#9;")
    if "\n" in value:
        value = value.replace("\n", "&#10;")
    return value


# What makes the W3C Feed Validator take a text title for undeclared HTML: an ampersand
# before a word ("S&P500" reads as a reference to an entity named P500).
_LOOKS_LIKE_REFERENCE = re.compile(r"&#?\w")


def title_element(title: str) -> str:
    """The <title>: plain text, or HTML (the same text escaped once more) where plain text
    would hold what a validator takes for an entity reference."""
    if _LOOKS_LIKE_REFERENCE.search(title) is None:
        return f"<title>{escape_text(title)}</title>"
    return f'<title type="html">{escape_text(html.escape(title, quote=False))}</title>'


def category_line(term: str, scheme: str, label: str | None) -> str:
    """A topic's <category> line in an entry: the same for every entry of that topic."""
    attributes = f'term="{escape_attribute(term)}" scheme="{escape_attribute(scheme)}"'
    if label:
        attributes += f' label="{escape_attribute(label)}"'
    return f"    <category {attributes}/>\n"


def format_entry(
    item: StoredItem,
    content: str,
    categories: Mapping[str, str],
    source_id: str,
    story_page: str | None = None,
) -> bytes:
    """The item's <entry>, indented as a child of <feed>, as lxml pretty-prints it there.

    ``content`` is the entry's HTML, ``categories`` the <category> lines of the
    known topics (``category_line``), ``source_id`` the atom:source id, ``story_page``
    our page of a story that has no link of its own (its alternate link).
    """
    xml = _formatted(item, content, categories, source_id, story_page)
    if xml is None:
        log.warning("entry %r holds characters no XML document can hold: left out", item.entry_id)
        writable = xml_safe_fields(item)
        xml = _formatted(writable, xml_safe(content), categories, xml_safe(source_id), story_page)
        assert xml is not None
    return xml


def _formatted(
    item: StoredItem,
    content: str,
    categories: Mapping[str, str],
    source_id: str,
    story_page: str | None = None,
) -> bytes | None:
    """``format_entry``'s bytes, or None when a string holds a character XML cannot hold."""
    updated = item.updated.isoformat()
    lang = f' xml:lang="{escape_attribute(item.language)}"' if item.language else ""
    parts = [
        f"  <entry{lang}>\n"
        f"    <id>{escape_text(item.entry_id)}</id>\n"
        f"    {title_element(item.title)}\n"
        f"    <updated>{updated}</updated>\n"
    ]
    if item.author:
        parts.append(
            f"    <author>\n      <name>{escape_text(item.author)}</name>\n    </author>\n"
        )
    parts.append(
        f'    <content type="html">{escape_text(content)}</content>\n'
        if content
        else '    <content type="html"/>\n'  # lxml writes an element without text this way
    )
    parts.extend(line for topic in item.topics if (line := categories.get(topic)) is not None)
    parts.append(
        f"    <published>{_isoformat(item.published, item.updated, updated)}</published>\n"
    )
    alternate = item.link or story_page
    if alternate:
        parts.append(
            f'    <link href="{escape_attribute(alternate)}" rel="alternate" type="text/html"/>\n'
        )
    for report in item.also_reported_by:
        if report.link:
            parts.append(
                f'    <link href="{escape_attribute(report.link)}" rel="related"'
                f' title="{escape_attribute(report.source_title)}"/>\n'
            )
    for enclosure in item.enclosures:
        type_ = f' type="{escape_attribute(enclosure.type)}"' if enclosure.type is not None else ""
        length = f' length="{enclosure.length}"' if enclosure.length is not None else ""
        parts.append(
            f'    <link href="{escape_attribute(enclosure.url)}" rel="enclosure"{type_}{length}/>\n'
        )
    source_link = (
        f'      <link rel="alternate" href="{escape_attribute(item.source_link)}"/>\n'
        if item.source_link
        else ""
    )
    parts.append(
        "    <source>\n"
        f"      <id>{escape_text(source_id)}</id>\n"
        f"      <title>{escape_text(item.site_name or item.source_title)}</title>\n"
        f"      <updated>{_isoformat(item.source_updated, item.updated, updated)}</updated>\n"
        f"{source_link}"
        "    </source>\n"
        "  </entry>\n"
    )
    formatted = "".join(parts)
    # A str holding only narrower characters answers "in" at once.
    if "\ufffe" in formatted or "\uffff" in formatted:
        return None
    try:
        xml = formatted.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return None
    return xml if len(xml.translate(None, _FORBIDDEN_CONTROLS)) == len(xml) else None


def _isoformat(moment: datetime | None, updated: datetime, formatted_updated: str) -> str:
    """``moment`` (None for ``updated``) as ISO 8601, reusing ``updated``'s when they are the same.

    Most items were never updated (published is updated) and seed sources have no
    updated of their own; formatting a datetime costs a tenth of an entry's time.
    With one tzinfo, equal datetimes have equal fields, hence equal ISO strings.
    """
    if moment is None or (moment == updated and moment.tzinfo is updated.tzinfo):
        return formatted_updated
    return moment.isoformat()
