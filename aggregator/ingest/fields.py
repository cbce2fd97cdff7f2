"""What every reader does to an item's fields: guess its language, give an untitled entry a
title, keep its dates out of the future."""

import re
from datetime import UTC, datetime

from aggregator.clock import FUTURE_SKEW
from aggregator.text import html_to_text

_HANGUL = re.compile(r"[\uac00-\ud7a3\u1100-\u11ff\u3130-\u318f]")
_LATIN = re.compile(r"[A-Za-z]")
_LETTER = re.compile(r"[^\W\d_]")


def guess_language(text: str) -> str | None:
    """ "ko" when Hangul is a good share of the letters, "en" when Latin letters dominate."""
    letters = len(_LETTER.findall(text))
    if not letters:
        return None
    if len(_HANGUL.findall(text)) / letters > 0.3:
        return "ko"
    return "en" if len(_LATIN.findall(text)) / letters > 0.5 else None


def looks_korean(text: str) -> bool:
    """Most non-ASCII letters are common Hangul syllables: a right CP949 decoding.

    GBK or Shift_JIS bytes decoded as CP949 give Hanja and rare syllables
    outside the 2,350 of KS X 1001 (which EUC-KR encodes in two bytes);
    Korean prose uses those 2,350 almost exclusively.
    """
    letters = [ch for ch in text if ord(ch) > 127 and ch.isalpha()]
    common = sum(
        1 for ch in letters if _HANGUL.match(ch) and len(ch.encode("euc_kr", "ignore")) == 2
    )
    return bool(letters) and common / len(letters) > 0.8


def not_after(value: datetime | None, now: datetime) -> datetime | None:
    return now.astimezone(UTC) if value is not None and value > now + FUTURE_SKEW else value


def title_from(content_html: str, fallback: str) -> str:
    """A title for an entry without one (microblog posts): its first words, else its link."""
    first_line = html_to_text(content_html).split("\n", 1)[0]
    if len(first_line) > 100:
        cut = first_line[:100]
        first_line = (cut.rsplit(" ", 1)[0] if " " in cut else cut) + "…"
    return first_line or fallback
