"""Repairs of what real feeds damage upstream, applied once to every input as it is read.

Every source kind (seed files, RSS/Atom by either reader, JSON Feed) hands its
``SourceData`` through ``repair_source`` before anything is stored or analysed,
so a defect is mended once, at ingest, and never reaches a subscriber (issue #19):

- entities escaped twice (``&amp;lt;`` shows "&lt;" as text) or that lost their
  ampersand (``quot;``, ``hellip;``): decoded only for known entity names, and an
  ampersand only restored before names that end no word, so the result is certain;
- a scheme and host written twice (``http://a.kr`` then ``http://a.kr/x``): the
  second, whole URL is kept; a link that is still no absolute http(s) URI is not
  published as a link (the entry stays);
- characters XML cannot hold: dropped, the entry kept, the count reported; so are
  U+FFFD (a character the upstream's own decoding lost: what it stood for cannot
  be known) and C1 control codes (0x80-0x9F: text decoded with the wrong charset),
  which no reader shows and the W3C Feed Validator warns of;
- inputs past the limits (``InputLimits``): a title cut at a word, a text cut at a
  paragraph end with a marker, each with a warning naming the input and the entry.

Mojibake is not repaired: ftfy's encoding fix changed no field of the 36,242 items
of ../shared/realworld, at 235 us an item (tests/benchmarks/RESULTS.md, "ftfy"),
while our readers already decode by declared and sniffed charsets.
"""

import html
import re
from collections.abc import Callable
from dataclasses import replace
from html.entities import html5
from urllib.parse import urlsplit

from aggregator.text import holds_not_in_xml, xml_safe, xml_safe_fields_counted
from aggregator.types import Enclosure, InputLimits, ItemData, SourceData

# Entity names that end no word: found without their ampersand they are certainly an
# entity that lost it ("quot;…quot;"), whatever comes before. "lt", "gt" and "amp" end
# English words ("fault;"), so they count only where no Latin letter comes before (after
# Hangul, a digit, a space: "4gt;"). Names such as "times" or "bull" are words: left.
_WORDLESS = (
    "quot|apos|hellip|nbsp|middot|lsquo|rsquo|ldquo|rdquo|sbquo|bdquo|laquo|raquo|ndash|mdash"
    "|uarr|darr|rarr|larr|harr"
)
_LOST_AMPERSAND = re.compile(rf"(?<![&#])(?:{_WORDLESS});|(?<![&#A-Za-z])(?:lt|gt|amp);")
# Where any of these can end; most texts have none, and looking for it is ten times
# cheaper than looking for ``_LOST_AMPERSAND`` (bench_repair).
_NAME_END = re.compile(r"[A-Za-z0-9];")
# A reference to an entity (or a character number) where text was expected.
_REFERENCE = r"(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
_ESCAPED_IN_TEXT = re.compile("&" + _REFERENCE)
_ESCAPED_IN_MARKUP = re.compile("&amp;" + _REFERENCE)
_TAG = re.compile(r"(<[^>]*>)")
_DOUBLED_ORIGIN = re.compile(r"^https?://[^/?#\s]+?(?=https?:/?/)", re.IGNORECASE)
_SCHEME_SLASHES = re.compile(r"^(https?):/?/", re.IGNORECASE)
# RFC 3986 characters of a URI: unreserved, reserved, and the "%" of an escape.
_URI_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+")
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_HOST = re.compile(rf"{_LABEL}(?:\.{_LABEL})*\.?")
_PARAGRAPH_END = re.compile(r"</(?:p|div|li|h[1-6]|blockquote|tr|table|ul|ol)\s*>", re.IGNORECASE)
CUT_MARKER = "<p>[…]</p>"
_LOST_UPSTREAM = re.compile("[\x80-\x9f\ufffd]")


def _character(reference: str) -> str | None:
    """What ``&reference;`` stands for, or None when it is no known entity or character."""
    if reference.startswith("#") or f"{reference};" in html5:
        written = f"&{reference};"
        decoded = html.unescape(written)
        # A number may name a character XML cannot hold (&#3;): it goes, as xml_safe drops it.
        return None if decoded == written else xml_safe(decoded)
    return None


def _decoded(found: re.Match[str]) -> str:
    character = _character(found[1])
    return found[0] if character is None else character


def _restored(found: re.Match[str]) -> str:
    return _character(found[0][:-1]) or found[0]


def repair_text(text: str) -> str:
    """Plain text (a title, an author, a category) with its entities decoded.

    Any entity reference in plain text is an escaping error upstream; one escaped
    twice over ("&amp;lt;") is decoded twice. Then names that lost their ampersand.
    """
    if _NAME_END.search(text) is None:
        return text
    decoded = _ESCAPED_IN_TEXT.sub(_decoded, _ESCAPED_IN_TEXT.sub(_decoded, text))
    return _LOST_AMPERSAND.sub(_restored, decoded)


def repair_html(markup: str) -> str:
    """Clean HTML whose text (not its tags) showed entities: escaped twice, or without ``&``.

    ``&amp;lt;`` in markup is text showing "&lt;": it becomes ``&lt;``, showing "<".
    """
    if _NAME_END.search(markup) is None:
        return markup
    parts = _TAG.split(markup)
    for index in range(0, len(parts), 2):  # even parts are text, odd ones tags
        if ";" in parts[index]:
            text = _ESCAPED_IN_MARKUP.sub(_reescaped(_decoded), parts[index])
            parts[index] = _LOST_AMPERSAND.sub(_reescaped(_restored), text)
    return "".join(parts)


def _reescaped(decode: Callable[[re.Match[str]], str]) -> Callable[[re.Match[str]], str]:
    """``decode`` for markup: the character it gives, escaped again where markup needs it."""

    def replaced(found: re.Match[str]) -> str:
        character = decode(found)
        return found[0] if character == found[0] else html.escape(character, quote=False)

    return replaced


def repair_link(url: str | None) -> str | None:
    """The link with a doubled scheme and host mended; None when it is no absolute http(s) URI."""
    if url is None:
        return None
    url = url.strip()
    doubled = _DOUBLED_ORIGIN.match(url)
    if doubled is not None:
        url = _SCHEME_SLASHES.sub(r"\1://", url[doubled.end() :], count=1)
    return url if is_absolute_http_uri(url) else None


def is_absolute_http_uri(url: str) -> bool:
    """An absolute http(s) URI (RFC 3986) with a host name or address, and a valid port."""
    if not _URI_CHARACTERS.fullmatch(url):
        return False
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 (a port that is no number raises ValueError)
    except ValueError:
        return False
    if parts.scheme.lower() not in ("http", "https"):
        return False
    return bool(_HOST.fullmatch(host)) or (":" in host and "[" in parts.netloc)


def cut_text(markup: str, limit: int) -> str:
    """``markup`` cut after the last paragraph ending within ``limit`` characters, then a marker.

    A first paragraph longer than the limit is cut at a word, as plain text.
    """
    head = markup[:limit]
    ends = list(_PARAGRAPH_END.finditer(head))
    if ends:
        return head[: ends[-1].end()] + "\n" + CUT_MARKER
    words = re.sub(r"<[^>]*>?", " ", head.rsplit(" ", 1)[0] if " " in head else head)
    return f"<p>{html.escape(' '.join(words.split()), quote=False)} …</p>\n{CUT_MARKER}"


def cut_title(title: str, limit: int) -> str:
    """``title`` within ``limit`` characters, cut at a word with an ellipsis."""
    if len(title) <= limit:
        return title
    head = title[: limit - 1]
    return (head.rsplit(" ", 1)[0] if " " in head[1:] else head) + "…"


def _repaired_enclosures(enclosures: tuple[Enclosure, ...]) -> tuple[Enclosure, ...]:
    kept = []
    for enclosure in enclosures:
        url = repair_link(enclosure.url)
        if url is not None:
            kept.append(enclosure if url == enclosure.url else replace(enclosure, url=url))
    return tuple(kept)


def _texts(data: SourceData) -> str:
    """Every string ``data`` holds, joined, to look for characters XML cannot hold at once."""
    source = data.source
    parts = [source.key, source.title, source.link or "", source.feed_id or "", *data.warnings]
    for item in data.items:
        parts += (item.key, item.title, item.content_html, item.author or "", item.link or "")
        parts += (item.site_name or "", item.language or "", *item.categories)
        parts += (f"{e.url}{e.type}" for e in item.enclosures)
    return "".join(parts)


def repair_source(data: SourceData, limits: InputLimits) -> SourceData:
    """``data`` with every item repaired and cut to ``limits``, and warnings saying what changed."""
    subject = data.source.key
    # Walking every field of every item costs more than one scan of their texts together.
    dropped = 0
    texts = _texts(data)
    if holds_not_in_xml(texts):
        data, dropped = xml_safe_fields_counted(data)
    lost = 0
    look = _LOST_UPSTREAM.search(texts) is not None

    def kept(text: str) -> str:
        """``text`` without U+FFFD and C1 controls, counted."""
        nonlocal lost
        if not look:
            return text
        text, count = _LOST_UPSTREAM.subn("", text)
        lost += count
        return text

    warnings = list(data.warnings)
    items: list[ItemData] = []
    mended = withheld = 0
    for item in data.items:
        link = repair_link(item.link)
        mended += link is not None and link != item.link
        withheld += item.link is not None and link is None
        title = repair_text(kept(item.title))
        content = repair_html(kept(item.content_html))
        if len(title) > limits.entry_title:
            warnings.append(
                f"{subject}: entry {item.key}: title of {len(title)} characters cut to "
                f"{limits.entry_title} (limits.entry_title)"
            )
            title = cut_title(title, limits.entry_title)
        if len(content) > limits.entry_text:
            warnings.append(
                f"{subject}: entry {item.key}: text of {len(content)} characters cut at a "
                f"paragraph end within {limits.entry_text} (limits.entry_text)"
            )
            content = cut_text(content, limits.entry_text)
        items.append(
            replace(
                item,
                title=title,
                content_html=content,
                link=link,
                author=repair_text(kept(item.author)) if item.author else None,
                site_name=repair_text(kept(item.site_name)) if item.site_name else None,
                categories=tuple(repair_text(kept(c)) for c in item.categories),
                enclosures=_repaired_enclosures(item.enclosures),
            )
        )
    source = replace(
        data.source, title=repair_text(kept(data.source.title)), link=repair_link(data.source.link)
    )
    if dropped:
        warnings.append(f"{subject}: {dropped} characters XML cannot hold dropped, entries kept")
    if lost:
        warnings.append(
            f"{subject}: {lost} characters lost upstream (U+FFFD) or C1 control codes dropped"
        )
    if mended:
        warnings.append(f"{subject}: {mended} links with a doubled scheme and host mended")
    if withheld:
        warnings.append(f"{subject}: {withheld} links that are no absolute http(s) URI left out")
    return replace(data, source=source, items=tuple(items), warnings=tuple(warnings))
