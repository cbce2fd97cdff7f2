"""Dates as news pages write them, found in free text and made timezone-aware.

A time written without a zone is taken in the configured zone (news pages
from Seoul rarely say "KST"); a date without a time is midnight there.
"""

import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

MONTHS = {
    name: number
    for number, names in enumerate(
        [
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
# The lookahead only admits a month's first letter: without it, trying two dozen names at
# every position made this pattern half of what reading a date string cost (same matches).
_MONTH = (
    f"(?=[{''.join(sorted({name[0] for name in MONTHS}))}])"
    r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
)
_TIME = (
    r"(?:[,\s]+(?:at\s+)?(?P<hour>\d{1,2}):(?P<minute>\d{2})(?::\d{2})?\s*(?P<ampm>[ap]\.?m\.?)?)?"
)
_ZONE = r"(?:\s*(?P<zone>Z|[+-]\d{2}:?\d{2}|KST|UTC|GMT))?"

# Most specific first: ISO with time, then written-out forms, then bare dates.
_PATTERNS = [
    re.compile(
        r"(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
        r"(?::\d{2}(?:\.\d+)?)?" + _ZONE
    ),
    re.compile(
        r"(?P<year>\d{4})년\s*(?P<mon>\d{1,2})월\s*(?P<day>\d{1,2})일"
        r"(?:\s*(?P<kampm>오전|오후)?\s*(?P<hour>\d{1,2})[:시]\s*(?P<minute>\d{2})?)?"
    ),
    re.compile(
        _MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})" + _TIME + _ZONE,
        re.IGNORECASE,
    ),
    re.compile(
        r"(?P<day>\d{1,2})\s+" + _MONTH + r",?\s+(?P<year>\d{4})" + _TIME + _ZONE, re.IGNORECASE
    ),
    re.compile(r"(?P<year>\d{4})[-./](?P<mon>\d{1,2})[-./](?P<day>\d{1,2})\.?" + _TIME + _ZONE),
]


def find_datetime(text: str, zone: ZoneInfo) -> datetime | None:
    """The first date (and time, if written) in ``text``, aware; None if there is none."""
    best: tuple[int, datetime] | None = None
    for pattern in _PATTERNS:
        match = pattern.search(text)
        if match is None or (best is not None and match.start() >= best[0]):
            continue
        parsed = _build(match.groupdict(), zone)
        if parsed is not None:
            best = (match.start(), parsed)
            if best[0] == 0:
                break  # no later pattern can start earlier
    return None if best is None else best[1]


def _build(fields: dict[str, str | None], zone: ZoneInfo) -> datetime | None:
    # casefold: the case-blind month pattern also matches "ſeptember" (long s), as "september".
    month_name = fields.get("month")
    month = MONTHS.get(month_name.casefold(), 0) if month_name else int(fields["mon"] or 0)
    try:
        day = date(int(fields["year"] or 0), month, int(fields["day"] or 0))
    except ValueError:
        return None
    hour = int(fields.get("hour") or 0)
    minute = int(fields.get("minute") or 0)
    ampm = (fields.get("ampm") or "").lower().replace(".", "")
    if ampm == "pm" or fields.get("kampm") == "오후":
        hour = hour % 12 + 12
    elif ampm == "am" or fields.get("kampm") == "오전":
        hour %= 12
    if hour > 23 or minute > 59:
        return None
    # The written-out patterns ignore case, so "gmt" and "kst" reach here too, and so does
    # "\u212aST" (Kelvin sign); casefold maps it to the "k" that upper() cannot.
    written_zone = (fields.get("zone") or "").casefold().upper()
    if written_zone in ("", "KST"):
        tz = zone if not written_zone else ZoneInfo("Asia/Seoul")
        return datetime.combine(day, time(hour, minute), tz)
    if written_zone in ("Z", "UTC", "GMT"):
        return datetime.combine(day, time(hour, minute), ZoneInfo("UTC"))
    # A fixed offset built directly: datetime.strptime("%z") was half of this function's cost.
    offset = written_zone.replace(":", "")
    hours, minutes = int(offset[1:3]), int(offset[3:5])
    if hours > 23 or minutes > 59:
        return None  # no zone has it
    sign = -1 if offset[0] == "-" else 1
    return datetime.combine(
        day, time(hour, minute), timezone(sign * timedelta(hours=hours, minutes=minutes))
    )
