"""find_datetime against its first version, which the faster one must match date for date.

``first_find_datetime`` is the code as it was before issue #7 (strptime for
numeric offsets, all five patterns searched, no lookahead before month names),
kept here as the oracle; seeded random strings mix the formats news pages write
with near misses, odd offsets and case-folding letters (Kelvin sign, long s).
Where the first version raised (an impossible offset, "gmt" in lower case, a
long s), the new one reads the date or finds none: tests below.
"""

import random
import re
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from aggregator.ingest import dates
from aggregator.ingest.dates import MONTHS, find_datetime

SEOUL = ZoneInfo("Asia/Seoul")

_FIRST_MONTH = r"(?P<month>" + "|".join(sorted(MONTHS, key=len, reverse=True)) + r")\.?"
_FIRST_PATTERNS = [
    re.compile(
        r"(?P<year>\d{4})-(?P<mon>\d{2})-(?P<day>\d{2})[T ](?P<hour>\d{2}):(?P<minute>\d{2})"
        r"(?::\d{2}(?:\.\d+)?)?" + dates._ZONE  # noqa: SLF001
    ),
    dates._PATTERNS[1],  # noqa: SLF001 (the Korean form, unchanged)
    re.compile(
        _FIRST_MONTH + r"\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<year>\d{4})"
        + dates._TIME + dates._ZONE,  # noqa: SLF001
        re.IGNORECASE,
    ),
    re.compile(
        r"(?P<day>\d{1,2})\s+" + _FIRST_MONTH + r",?\s+(?P<year>\d{4})"
        + dates._TIME + dates._ZONE,  # noqa: SLF001
        re.IGNORECASE,
    ),
    dates._PATTERNS[4],  # noqa: SLF001 (numeric dates, unchanged)
]  # fmt: skip


def first_build(fields: dict[str, str | None], zone: ZoneInfo) -> datetime | None:
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


def first_find_datetime(text: str, zone: ZoneInfo) -> datetime | None:
    best: tuple[int, datetime] | None = None
    for pattern in _FIRST_PATTERNS:
        match = pattern.search(text)
        if match is None or (best is not None and match.start() >= best[0]):
            continue
        parsed = first_build(match.groupdict(), zone)
        if parsed is not None:
            best = (match.start(), parsed)
    return None if best is None else best[1]


PIECES = [
    "2025-06-04T10:00:00+09:00", "2025-06-04 10:00", "2025-06-04T10:00:00.5Z", "2025-13-40T10:00",
    "2025년 6월 4일 오후 3시 20", "2025년 6월 4일", "June 4, 2025", "Jun. 4th 2025 at 3:05 p.m.",
    "4 June 2025, 10:00 KST", "Wed, 04 Jun 2025 10:00:00 GMT", "Wed, 04 Jun 2025 10:00:00 -0000",
    "04 Jun 2025 23:59 +05:30", "4 Sept 2025 10:00 -0330", "2025.06.04 10:00", "2025/6/4.",
    "31 Feb 2025", "Feb 30, 2025", "December 1st, 2024 12:00 am", "MAY 5 2025 13:00 pm",
    "posted", "on", "by staff", "at", " ", ", ", "-", "ſeptember", "\u212a", "NOVEMBER", "oct",
    "25:00", "10:61", "+0960", "+2400", "-2359", "+09:30", "Z", "UTC", "1999", "7", "12",
]  # fmt: skip


def random_text(rng: random.Random) -> str:
    return "".join(
        rng.choice(PIECES) + rng.choice(["", " ", ", "]) for _ in range(rng.randint(1, 6))
    )


def test_the_same_dates_as_the_first_version() -> None:
    rng = random.Random(11)
    compared = 0
    for _ in range(3000):
        text = random_text(rng)
        try:
            expected = first_find_datetime(text, SEOUL)
        except (ValueError, KeyError):
            continue  # the first version failed: see the tests below
        found = find_datetime(text, SEOUL)
        assert found == expected, text
        assert (found.utcoffset() if found else None) == (
            expected.utcoffset() if expected else None
        ), text
        compared += 1
    assert compared > 2000


@pytest.mark.parametrize(
    ("text", "hours", "minutes"),
    [
        ("Wed, 04 Jun 2025 10:00:00 +0930", 9, 30),
        ("04 Jun 2025 10:00 -05:30", -5, -30),
        ("2025-06-04T10:00:00-00:00", 0, 0),
    ],
)
def test_numeric_offsets_are_fixed_zones(text: str, hours: int, minutes: int) -> None:
    offset = timedelta(hours=hours, minutes=minutes)
    found = find_datetime(text, SEOUL)
    assert found == datetime(2025, 6, 4, 10, 0, tzinfo=timezone(offset))
    assert found is not None and found.tzinfo == timezone(offset)


@pytest.mark.parametrize("offset", ["+0960", "+2400", "-2500", "+99:99"])
def test_an_offset_no_zone_has_is_no_date_instead_of_an_error(offset: str) -> None:
    # The first version raised ValueError here (from strptime), failing the whole feed.
    assert find_datetime(f"Wed, 04 Jun 2025 10:00:00 {offset}", SEOUL) is None
    # The ISO reading fails, so the numeric-date pattern's reading of the same place wins.
    found = find_datetime(f"2025-06-04T10:00:00{offset} and 5 June 2025", SEOUL)
    assert found == datetime(2025, 6, 4, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Wed, 04 Jun 2025 10:00:00 gmt", datetime(2025, 6, 4, 10, tzinfo=ZoneInfo("UTC"))),
        ("4 june 2025 10:00 kst", datetime(2025, 6, 4, 10, tzinfo=SEOUL)),
        ("ſeptember 4, 2025", datetime(2025, 9, 4, tzinfo=SEOUL)),
        ("4 June 2025 10:00 \u212aST", datetime(2025, 6, 4, 10, tzinfo=SEOUL)),
        ("4 June 2025 10:00 z", datetime(2025, 6, 4, 10, tzinfo=ZoneInfo("UTC"))),
    ],
)
def test_what_the_case_blind_patterns_match_is_read(text: str, expected: datetime) -> None:
    # The first version raised ValueError (zones) or KeyError (the long s) here.
    found = find_datetime(text, SEOUL)
    assert found == expected and found is not None and found.tzinfo == expected.tzinfo
