"""Seed files -> SourceData: news pages scraped to text, or saved RSS/Atom documents.

Text seeds are parsed by rules about the page formats the project meets:

- *WordPress news theme* (e.g. Monthly True Tone): an account line, the title,
  "• Update Time : <weekday, Month D, YYYY>", "• N Time View", the title again,
  an optional byline, paragraphs, then share/comment/footer chrome with
  "© All rights reserved © <year> <site name>".
- *Newspaper export* (e.g. Korea JoongAng Daily): "date YYYY-MM-DD <title>" on
  the first line, "Published: D Mon. YYYY, HH:MM" (maybe an "Updated: ..."
  line), one paragraph per line, and sometimes a closing "BY NAME [e-mail]".
- Anything else falls back to a generic heuristic: the first substantial line
  is the title and the first date near the top is the publication date (none
  found: None, and the pipeline uses the time it first saw the item).

Site chrome never reaches an item: chrome lines are recognised by shape
(``_CHROME``), and the body ends at the first footer line (``_FOOTER``),
English or Korean ("ⓒ 평화일보 무단전재 및 재배포 금지").

Text is UTF-8 (with or without BOM), UTF-16 with a BOM, or Korean CP949/EUC-KR.
"""

import os
import re
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator.clock import as_utc
from aggregator.errors import InputError
from aggregator.ingest.dates import find_datetime
from aggregator.ingest.feeds import looks_like_feed, parse_feed
from aggregator.ingest.fields import guess_language, looks_korean
from aggregator.ingest.repair import repair_source
from aggregator.text import paragraphs_to_html, xml_safe
from aggregator.types import (
    DEFAULT_LIMITS,
    InputLimits,
    ItemData,
    SourceData,
    SourceInfo,
    SourceKind,
)

SEED_SOURCE_TITLE = "Seed files"

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BULLET = re.compile(r"^[\s•·\-*▪►]+")
# Lines that are page furniture wherever they appear.
_CHROME = re.compile(
    r"""^(?:
        \d+\.\s*\S+@\S+\s*:.*                          # "1. someone@mail.com : admin :"
      | (?:update|updated|post|posted)\s+time\s*:.*    # "Update Time : Wednesday, June 4, 2025"
      | [\d,.]+\s*(?:k\s*)?times?\s+views?             # "7 Time View", "1,234 Times Views"
      | (?:views?|조회수?)\s*:?\s*[\d,]+               # "Views: 120", "조회 1,234"
      | (?:please\s+)?share\s+(?:this|on)\b.*          # share prompts
      | (?:print|email|e-mail)\s+this\s+(?:post|article|page).*
      | your\s+email\s+address\s+will\s+not\s+be\s+published.*
      | required\s+fields\s+are\s+marked.*
      | (?:leave\s+a\s+(?:reply|comment)|post\s+a\s+comment|comments?)\s*:?
      | (?:tags?|categories|category)\s*:.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
# Lines after which nothing is article text any more.
_FOOTER = re.compile(
    r"""^(?:
        (?:please\s+)?share\s+this\s+post.*
      | leave\s+a\s+(?:reply|comment).*
      | more\s+news\s+of\s+this\s+category.*
      | related\s+(?:news|articles?|posts?)\s*:?
      | [©ⓒ].* | \(c\)\s*\d{4}.* | copyright\b.* | all\s+rights\s+reserved.*
      | 저작권자.* | 무단\s*전재.*                   # Korean: "copyright holder", "no reproduction"
      | site\s+(?:customized|designed|developed)\s+by.*
      | (?:powered|theme|designed)\s+by\b.*
    )$""",
    re.IGNORECASE | re.VERBOSE,
)
_COPYRIGHT = re.compile(
    r"[©ⓒ]|\(c\)|\bcopyright\b|\ball\s+rights\s+reserved\b|저작권자|무단\s*전재.*", re.I
)
_YEAR = re.compile(r"\b\d{4}\b")
_NEWSPAPER_FIRST_LINE = re.compile(r"^\s*date\s+(?P<date>\d{4}-\d{2}-\d{2})\s+(?P<title>\S.*)$")
_NEWSPAPER_STAMP = re.compile(r"^(?P<what>published|updated)\s*:\s*(?P<when>.+)$", re.IGNORECASE)
_CLOSING_BYLINE = re.compile(r"^\s*BY\s+(?P<name>[A-Z][A-Z .,'-]+?)\s*(?:\[[^\]]*\])?\s*$")
_WORDPRESS_DATE = re.compile(r"^\W*update\s+time\s*:\s*(?P<when>.+)$", re.IGNORECASE)
SENTENCE_END = re.compile(r"[.!?\"”’:;)]$")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_LETTER = re.compile(r"[^\W\d_]")


@dataclass(frozen=True)
class SeedBytes:
    """The bytes of a seed file read up to ``limits.seed_bytes``, and the file's whole size."""

    data: bytes
    size: int

    @property
    def cut(self) -> bool:
        return len(self.data) < self.size


def read_capped(path: Path, limit: int) -> SeedBytes:
    """At most ``limit`` bytes of a seed file, ending at a line end when it is cut.

    Only that much is read, so a huge file costs no more memory than the limit.
    """
    try:
        with path.open("rb") as file:
            size = os.fstat(file.fileno()).st_size
            data = file.read(limit)
    except OSError as error:
        raise InputError(str(path), f"cannot read: {error.strerror}") from None
    if len(data) < size and b"\n" in data:
        data = data[: data.rindex(b"\n") + 1]  # no character or line cut in two
    return SeedBytes(data, max(size, len(data)))


def read_seed(
    path: Path,
    zone: ZoneInfo,
    *,
    now: datetime | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    seed: SeedBytes | None = None,
) -> SourceData:
    """Parse one seed file (its bytes ``seed``, when read already); InputError naming the file
    when it cannot be used.

    ``zone`` is the zone of times written without one; ``now`` only matters
    for a saved feed, whose future dates it caps (see ``parse_feed``).
    A file over ``limits.seed_bytes`` is read up to it, with a warning.
    """
    seed = seed or read_capped(path, limits.seed_bytes)
    raw = seed.data
    source_key = f"seed:{path.name}"
    if not raw.strip():
        raise InputError(str(path), "empty file")
    warnings = (
        (f"{path}: {seed.size} bytes, over limits.seed_bytes: only the first {len(raw)} read",)
        if seed.cut
        else ()
    )
    if looks_like_feed(raw, path.suffix):
        data = parse_feed(raw, source_key=source_key, kind=SourceKind.SEED, zone=zone,
                          now=now, limits=limits)  # fmt: skip
        return replace(data, warnings=warnings + data.warnings)
    text = _decode(raw, path)
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    if not any(line.strip() for line in lines):
        raise InputError(str(path), "empty file (whitespace only)")
    article = _parse_newspaper(lines, zone) or _parse_wordpress(lines, zone)
    article = article or _parse_generic(lines, zone)
    if article is None or not article.get("title"):
        raise InputError(str(path), "no title found")
    paragraphs = [p for p in article["paragraphs"] if p]
    if not paragraphs:
        raise InputError(str(path), "no article text found")
    site = article.get("site")
    published = article.get("published")
    item = ItemData(
        key=path.name,
        title=article["title"],
        content_html=paragraphs_to_html(paragraphs),
        published=as_utc(published) if published else None,
        author=article.get("author"),
        site_name=site,
        language=guess_language(article["title"] + " " + " ".join(paragraphs)),
    )
    source = SourceInfo(key=source_key, kind=SourceKind.SEED, title=site or SEED_SOURCE_TITLE)
    return repair_source(SourceData(source, (item,), warnings), limits)


def _decode(raw: bytes, path: Path) -> str:
    """UTF-8 (BOM or not), UTF-16 with a BOM (Windows Notepad), else Korean CP949/EUC-KR."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return _reject_control_characters(raw.decode("utf-16"), path)
        except UnicodeDecodeError:
            raise InputError(str(path), "undecodable: broken UTF-16 text") from None
    if b"\x00" in raw:
        raise InputError(str(path), "binary file (contains NUL bytes), not a text seed")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = raw.decode("cp949")
        except UnicodeDecodeError:
            text = ""
        # CP949 decodes some Latin-1 byte pairs too; only Hangul shows it was Korean.
        if not looks_korean(text):
            raise InputError(
                str(path), "undecodable: neither UTF-8 nor EUC-KR/CP949 text"
            ) from None
    return _reject_control_characters(text, path)


def _reject_control_characters(text: str, path: Path) -> str:
    """The text, unless control characters say it is a binary file; a stray few are dropped."""
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\n\r\t\f")
    if controls > max(2, len(text) // 100):
        raise InputError(str(path), "binary file (control characters), not a text seed")
    return xml_safe(text)


def _clean(line: str) -> str:
    return _BULLET.sub("", line).strip()


def is_chrome(line: str) -> bool:
    cleaned = _clean(line)
    return bool(_CHROME.match(cleaned)) or (len(cleaned) < 80 and bool(_EMAIL.search(cleaned)))


def is_footer(line: str) -> bool:
    """A line after which nothing is article text any more (a copyright line, related links)."""
    return bool(_FOOTER.match(_clean(line)))


def _site_from_footer(lines: list[str]) -> str | None:
    """The site name a copyright line states ("© All rights reserved © 2026 Monthly True Tone")."""
    for line in reversed(lines):
        cleaned = _clean(line)
        if not _COPYRIGHT.search(cleaned):
            continue
        site = " ".join(_YEAR.sub(" ", _COPYRIGHT.sub(" ", cleaned)).split()).strip(" .,|-")
        if _LETTER.search(site):
            return site
    return None


def _body(lines: list[str]) -> list[str]:
    """Article paragraphs: blank-line separated blocks, or one per line when there are none.

    Stops at the first footer line; drops chrome lines anywhere.
    """
    kept: list[str] = []
    for line in lines:
        if is_footer(line):
            break
        if not is_chrome(line):
            kept.append(line.strip())
    while kept and not kept[0]:
        kept.pop(0)
    blocks: list[list[str]] = [[]]
    for line in kept:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = [block for block in blocks if block]
    # A page with no blank lines between paragraphs puts one paragraph on each line.
    if len(blocks) == 1 or all(len(block) == 1 for block in blocks):
        return [line for block in blocks for line in block]
    return [" ".join(block) for block in blocks if block]


def _is_byline(line: str) -> bool:
    """A short name-like line: "News Desk", "Staff Reporter", "By Kim Min-ji"."""
    words = line.split()
    return 0 < len(words) <= 6 and len(line) <= 60 and not SENTENCE_END.search(line)


def _parse_newspaper(lines: list[str], zone: ZoneInfo) -> dict | None:
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None
    head = _NEWSPAPER_FIRST_LINE.match(lines[first])
    if head is None:
        return None
    published = find_datetime(head.group("date"), zone)
    rest = lines[first + 1 :]
    # Header lines below the title: "Published: 26 May. 2025, 11:09", maybe "Updated: ...".
    while rest:
        stamp = _NEWSPAPER_STAMP.match(rest[0].strip())
        if rest[0].strip() and stamp is None:
            break
        if stamp is not None and stamp.group("what").lower() == "published":
            published = find_datetime(stamp.group("when"), zone) or published
        rest = rest[1:]
    author = None
    tail = [line for line in rest if line.strip()]
    if tail and (byline := _CLOSING_BYLINE.match(tail[-1])):
        # "BY KIM MIN-JI" -> "Kim Min-ji": Korean given names keep one capital.
        author = " ".join(w[0] + w[1:].lower() for w in byline.group("name").split())
        rest = rest[: len(rest) - rest[::-1].index(tail[-1]) - 1]
    return {
        "title": head.group("title").strip(),
        "published": published,
        "author": author,
        "site": _site_from_footer(rest),
        "paragraphs": _body(rest),
    }


def _parse_wordpress(lines: list[str], zone: ZoneInfo) -> dict | None:
    stamp = next((i for i, line in enumerate(lines) if _WORDPRESS_DATE.match(line.strip())), None)
    if stamp is None:
        return None
    before = [_clean(line) for line in lines[:stamp] if line.strip() and not is_chrome(line)]
    if not before:
        return None
    title = before[-1]
    published = find_datetime(_WORDPRESS_DATE.match(lines[stamp].strip()).group("when"), zone)
    rest = lines[stamp + 1 :]
    # Skip the view counter and the repeated title that the theme prints above the article.
    position = 0
    while position < len(rest) and (not rest[position].strip() or is_chrome(rest[position])):
        position += 1
    if position < len(rest) and _clean(rest[position]) == title:
        position += 1
    while position < len(rest) and not rest[position].strip():
        position += 1
    author = None
    if position < len(rest) and _is_byline(_clean(rest[position])):
        following = rest[position + 1 : position + 3]
        if not following or not following[0].strip() or len(rest[position + 1]) > 80:
            author = re.sub(r"(?i)^by\s+", "", _clean(rest[position]))
            position += 1
    return {
        "title": title,
        "published": published,
        "author": author,
        "site": _site_from_footer(lines),
        "paragraphs": _body(rest[position:]),
    }


def _parse_generic(lines: list[str], zone: ZoneInfo) -> dict | None:
    candidates = [
        (i, _clean(line))
        for i, line in enumerate(lines)
        if line.strip() and not is_chrome(line) and not is_footer(line)
    ]
    title_index = None
    for index, line in candidates:
        # A headline has a few words; a lone masthead ("Peninsula Wire") is not one.
        # Korean packs more into a word: "남북 정상회담 개최" is a headline of two.
        fewest_words = 2 if _HANGUL.search(line) else 3
        has_words = len(_LETTER.findall(line)) >= 4 and len(line.split()) >= fewest_words
        date_only = find_datetime(line, zone) is not None and len(line.split()) <= 8
        if has_words and not date_only:
            title_index = index
            break
    if title_index is None:
        return None
    title = _clean(lines[title_index])
    published = None
    rest = lines[title_index + 1 :]
    # A date line near the top (or a date inside the first lines) is the publication date.
    for offset, line in enumerate(rest[:8]):
        found = find_datetime(line, zone)
        if found is not None:
            published = found
            if len(line.split()) <= 10:
                rest = rest[:offset] + rest[offset + 1 :]
            break
    if published is None:
        published = find_datetime("\n".join(lines[:title_index]), zone)
    author = None
    body_lines = [line for line in rest if line.strip()]
    if body_lines and re.match(r"(?i)^\s*by\s+\S", body_lines[0]) and _is_byline(body_lines[0]):
        author = re.sub(r"(?i)^\s*by\s+", "", body_lines[0]).strip()
        rest = rest[rest.index(body_lines[0]) + 1 :]
    return {
        "title": title,
        "published": published,
        "author": author,
        "site": _site_from_footer(lines),
        "paragraphs": _body(rest),
    }
