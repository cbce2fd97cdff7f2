"""Conversions between plain-text paragraphs and the clean HTML we store and publish."""

import html
import re
import unicodedata

_TAG = re.compile(r"<[^>]+>")
_BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote|tr)\s*>|<br\s*/?>", re.IGNORECASE)
_SPACE = re.compile(r"[ \t\r\f\v\u00a0]+")


def paragraphs_to_html(paragraphs: tuple[str, ...] | list[str]) -> str:
    """Render plain-text paragraphs as escaped ``<p>`` elements, one per line."""
    return "\n".join(f"<p>{html.escape(p, quote=False)}</p>" for p in paragraphs)


def html_to_text(markup: str) -> str:
    """Plain text of an HTML fragment: tags dropped, entities decoded, blocks on own lines."""
    with_breaks = _BLOCK_END.sub("\n", markup)
    text = html.unescape(_TAG.sub(" ", with_breaks))
    lines = (_SPACE.sub(" ", line).strip() for line in text.split("\n"))
    return "\n".join(line for line in lines if line)


def normalize(text: str) -> str:
    """NFKC-normalise and fold whitespace: the form text is compared and matched in."""
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()
