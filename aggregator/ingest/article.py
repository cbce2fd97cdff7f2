"""An article page (bytes and response headers) -> its main text and what it says about itself.

Extraction is trafilatura's (chosen over readability-lxml by
``tests/benchmarks/bench_extraction.py``: it drops more chrome, and it reads the
title, byline and date that readability-lxml does not). What it keeps is then
passed through the seed parser's chrome rules (``seeds.is_chrome``,
``seeds.is_footer``): a heading, byline or breadcrumb that is no sentence, a
reporter's e-mail line, and anything from a copyright line on, are page
furniture on the Korean and English news sites we read, as in seed files.

Pure: no network, no clock, no store. The page is decoded as served: the HTTP
charset, else the page's own ``<meta charset>``, else UTF-8, else CP949 (a
superset of EUC-KR, which many Korean sites still serve).
"""

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aggregator.clock import as_utc
from aggregator.ingest.seeds import SENTENCE_END, is_chrome, is_footer
from aggregator.text import normalize

# Korean news sites label EUC-KR pages with names Python maps to stricter codecs.
_KOREAN_CHARSETS = {"euc-kr", "euc_kr", "euckr", "ks_c_5601-1987", "ksc5601", "cp949", "uhc"}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)
# schema.org's mark of a paywalled article (Google's structured data for subscription content).
_NOT_FREE = re.compile(r"""["']?isAccessibleForFree["']?\s*[:=]\s*["']?false""", re.I)
_BREADCRUMB = re.compile(r"^(?:[^>]{1,20}>\s*){1,6}[^>]{1,20}$")
# "By Daniel Park", "김민수 기자", "이서연 기자 입력": the name alone.
_BYLINE_NAME = re.compile(r"^(?:by\s+)?(?P<name>.+?)(?:\s+(?:기자|특파원|논설위원)\b.*)?$", re.I)
# Paragraphs at least this long are text even when they end without punctuation.
_LONG_LINE = 80


@dataclass(frozen=True)
class Article:
    """What an article page holds: its paragraphs, and title, author and date when it says.

    ``paywalled``: the page marks itself as not free (what it shows is a teaser).
    """

    paragraphs: tuple[str, ...]
    title: str | None = None
    author: str | None = None
    published: datetime | None = None
    paywalled: bool = False

    @property
    def text(self) -> str:
        return "\n\n".join(self.paragraphs)


def decode_page(body: bytes, headers: dict[str, str]) -> str:
    """The page's text, in the encoding it was served in (see the module docstring)."""
    declared = _HEADER_CHARSET.search(headers.get("content-type", ""))
    meta = _META_CHARSET.search(body[:4096])
    names = [
        m.group(1).decode("ascii") if isinstance(m.group(1), bytes) else m.group(1)
        for m in (declared, meta)
        if m is not None
    ]
    for name in [*names, "utf-8", "cp949"]:
        codec = "cp949" if name.lower() in _KOREAN_CHARSETS else name
        try:
            return body.decode(codec)
        except (LookupError, UnicodeDecodeError):
            continue
    return body.decode("utf-8", errors="replace")


def extract_article(body: bytes, headers: dict[str, str], url: str, zone: ZoneInfo) -> Article:
    """The main text of an article page, with site chrome gone; empty when there is none."""
    # Imported here, by the runs that read a page: its import (dateparser, htmldate,
    # justext, ...) takes about half a second, which every command would pay otherwise.
    import trafilatura

    page = decode_page(body, headers)
    found = trafilatura.bare_extraction(
        page,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_tables=False,
        favor_precision=True,
        date_extraction_params={"outputformat": "%Y-%m-%dT%H:%M:%S%z", "original_date": True},
    )
    if found is None:
        return Article(())
    title = (found.title or "").strip() or None
    return Article(
        _article_paragraphs(found.text or "", title),
        title,
        _author(found.author),
        _published(found.date, zone),
        paywalled=bool(_NOT_FREE.search(page)),
    )


def _article_paragraphs(text: str, title: str | None) -> tuple[str, ...]:
    """The lines of extracted text that are article paragraphs (module docstring)."""
    heading = normalize(title or "")
    kept = []
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if not line:
            continue
        if is_footer(line.strip("<>[]()")):
            break
        if is_chrome(line) or normalize(line) == heading or _BREADCRUMB.match(line):
            continue
        if len(line) < _LONG_LINE and not SENTENCE_END.search(line):
            continue  # a heading, subtitle, byline or label: no sentence
        kept.append(line)
    return tuple(kept)


def _author(found: str | None) -> str | None:
    if not found:
        return None
    match = _BYLINE_NAME.match(found.strip())
    return match.group("name").strip() if match else None


def _published(found: str | None, zone: ZoneInfo) -> datetime | None:
    if not found:
        return None
    try:
        when = datetime.fromisoformat(found)
    except ValueError:
        return None
    return as_utc(when if when.tzinfo else when.replace(tzinfo=zone))
