"""Conversions between plain-text paragraphs and the clean HTML we store and publish."""

import html
import re
import unicodedata
from dataclasses import fields, is_dataclass, replace
from typing import Any, TypeVar

T = TypeVar("T")

_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote|tr)\s*>|<br\s*/?>", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")
# What folding would change; most paragraphs hold none of it, and looking for these is
# much cheaper than a substitution scanning every character.
_ODD_BLANKS = ("  ", "\t", "\r", "\f", "\v", "\u00a0")
# Characters no XML 1.0 document can hold, not even as a reference: C0 controls but tab,
# newline and carriage return; lone surrogates; U+FFFE and U+FFFF.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _fold_blanks(text: str) -> str:
    """Runs of blanks as one space each."""
    if any(blank in text for blank in _ODD_BLANKS):
        return _SPACE.sub(" ", text)
    return text


def xml_safe(text: str) -> str:
    """``text`` without the characters no XML document can hold (see ``_NOT_IN_XML``).

    A feed or a seed may carry them (a loosely parsed ``&#2;``, a stray byte in a
    text file), and one of them stored in an item would make every feed that
    shows it impossible to write. A vertical tab or form feed ends a line, so the
    words on either side stay apart; the others are dropped.
    """
    return _xml_safe_counted(text)[0]


def _xml_safe_counted(text: str) -> tuple[str, int]:
    """``xml_safe(text)`` (``text`` itself when nothing is dropped) and how many it changed."""
    return _NOT_IN_XML.subn(lambda found: "\n" if found[0] in "\v\f" else "", text)


def holds_not_in_xml(text: str) -> bool:
    """Whether ``text`` holds a character ``xml_safe`` would drop or replace."""
    return _NOT_IN_XML.search(text) is not None


def xml_safe_fields(value: T) -> T:
    """A frozen dataclass (an item, a source, an enclosure) with ``xml_safe`` applied to every
    string it holds, in tuples and nested dataclasses too; ``value`` itself when none changes."""
    return xml_safe_fields_counted(value)[0]


def xml_safe_fields_counted(value: T) -> tuple[T, int]:
    """``xml_safe_fields(value)`` and how many characters it dropped or replaced, which ingest
    reports (an entry keeps its place; the reader is told what was lost)."""
    changes = {}
    dropped = 0
    for part in fields(value):  # type: ignore[arg-type]
        held = getattr(value, part.name)
        safe, count = _xml_safe_value(held)
        if safe is not held:
            changes[part.name] = safe
            dropped += count
    return (replace(value, **changes) if changes else value), dropped  # type: ignore[type-var]


def _xml_safe_value(held: Any) -> tuple[Any, int]:  # noqa: ANN401 (any field's value)
    if isinstance(held, str):
        return _xml_safe_counted(held)  # one pass: ``held`` itself when nothing was dropped
    if isinstance(held, tuple):
        counted = [_xml_safe_value(part) for part in held]
        if all(a is b for (a, _), b in zip(counted, held, strict=True)):
            return held, 0
        return tuple(part for part, _ in counted), sum(count for _, count in counted)
    if is_dataclass(held):
        return xml_safe_fields_counted(held)
    return held, 0


def paragraphs_to_html(paragraphs: tuple[str, ...] | list[str]) -> str:
    """Render plain-text paragraphs as escaped ``<p>`` elements, one per line."""
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, blocks on own lines."""
    with_breaks = _BLOCK_END.sub("\n", markup)
    text = html.unescape(_TAG.sub(" ", with_breaks))
    lines = (_fold_blanks(line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalize(text: str) -> str:
    """NFKC-normalise and fold whitespace: the form text is compared and matched in."""
    return _fold_blanks(unicodedata.normalize("NFKC", text)).strip()
