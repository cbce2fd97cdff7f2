"""Dates as news pages write them, found in free text and made timezone-aware.

A time written without a zone is taken in the configured zone (news pages
from Seoul rarely say "KST"); a date without a time is midnight there.
"""

import re
from datetime import date, datetime, time
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
_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
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
    return None if best is None else best[1]


def _build(fields: dict[str, str | None], zone: ZoneInfo) -> datetime | None:
    month = MONTHS[fields["month"].lower()] if fields.get("month") else int(fields["mon"] or 0)
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
    written_zone = fields.get("zone")
    if written_zone in (None, "KST"):
        tz = zone if written_zone is None else ZoneInfo("Asia/Seoul")
        return datetime.combine(day, time(hour, minute), tz)
    if written_zone in ("Z", "UTC", "GMT"):
        return datetime.combine(day, time(hour, minute), ZoneInfo("UTC"))
    offset = written_zone.replace(":", "")
    return datetime.strptime(
        f"{day.isoformat()} {hour:02d}:{minute:02d} {offset}", "%Y-%m-%d %H:%M %z"
    )
