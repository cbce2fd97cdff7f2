"""Versions and write-ups of one story decided on two items alone (``dedup.same_story``):
the rules of ``aggregator.containment`` at their thresholds, each with the neighbour that
must stay apart."""

import random
from datetime import UTC, datetime, timedelta

from aggregator import dedup
from aggregator.containment import REVISED_TEXT, WRITE_UP_TEXT, WRITE_UP_TITLE
from aggregator.fingerprints import body_shingles, containment, jaccard, title_grams
from aggregator.types import ItemData
from tests import corpus

AT = datetime(2025, 6, 9, 1, tzinfo=UTC)


def _sentences(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [corpus._sentence(rng) for _ in range(count)]  # noqa: SLF001


def _item(site: str, title: str, text: str, hours: float) -> ItemData:
    return ItemData(
        key=f"https://{site}.example/1",
        title=title,
        content_html=f"<p>{text}</p>",
        link=f"https://{site}.example/1",
        published=AT + timedelta(hours=hours),
    )


def _held(first: str, second: str) -> float:
    return containment(body_shingles(first), body_shingles(second))


def _same(first: ItemData, second: ItemData) -> bool:
    """The decision, which must not depend on which item came first."""
    forth, back = dedup.same_story(first, second, 0.5), dedup.same_story(second, first, 0.5)
    assert forth == back
    return forth


def test_a_version_with_its_figures_brought_up_to_date_is_the_same_story_within_hours() -> None:
    """A flash's more than 90 balloons and the full version's 600: the headlines' numbers
    differ, the text is the flash's with the figure updated and a sentence added. Headlines
    that differ in their numbers alone (an hourly count, a numbered part) stay apart."""
    shared = _sentences(1, 10)
    flash_text = " ".join(["North Korea sent 90 balloons overnight."] + shared)
    full_text = " ".join(["North Korea sent 600 balloons overnight."] + shared + _sentences(2, 2))
    assert _held(flash_text, full_text) >= REVISED_TEXT
    flash = _item("wire", "North Korea sends over 90 trash balloons south", flash_text, 0)
    full = _item("paper", "North Korea sends 600 trash balloons south", full_text, 1)
    assert _same(flash, full)
    later = _item("paper", "North Korea sends 600 trash balloons south", full_text, 13)
    assert not _same(flash, later)
    count = _item("wire", "North Korea sends 90 trash balloons south", flash_text, 0)
    assert not _same(count, full)


def test_the_next_count_of_a_developing_story_stays_apart() -> None:
    """The fourth and the fifth day of balloons: other numbers, and the second day's report
    holds under REVISED_TEXT of the first's text."""
    day_four = _sentences(3, 10)
    day_five = day_four[:6] + _sentences(4, 5)
    assert WRITE_UP_TEXT <= _held(" ".join(day_four), " ".join(day_five)) < REVISED_TEXT
    first = _item("wire", "Balloons cross the border for 4 days in a row", " ".join(day_four), 0)
    second = _item("paper", "Balloons cross the border for 5 days in a row", " ".join(day_five), 2)
    assert not _same(first, second)


def test_write_ups_sharing_a_quarter_of_the_headline_and_half_the_text_are_one_story() -> None:
    """Two outlets' own headlines for one announcement, their texts half alike; a headline
    sharing less, or a text sharing less, keeps them apart."""
    shared, own, other = _sentences(5, 8), _sentences(6, 4), _sentences(7, 8)
    mine = "Busan port authority opens new coffee street near the old ferry pier"
    theirs = "Coffee street to open at Busan ferry pier, city says"
    unlike = "City unveils a waterfront cafe district for tourists this summer"
    assert WRITE_UP_TITLE <= jaccard(title_grams(mine), title_grams(theirs)) < 0.3
    assert jaccard(title_grams(mine), title_grams(unlike)) < WRITE_UP_TITLE
    text, half = " ".join(own + shared), " ".join(other + shared)
    assert WRITE_UP_TEXT <= _held(text, half) < 0.9
    report = _item("paper", mine, text, 0)
    assert _same(report, _item("daily", theirs, half, 3))
    assert not _same(report, _item("daily", unlike, half, 3))
    little = " ".join(other + shared[:3] + _sentences(8, 4))
    assert _held(text, little) < WRITE_UP_TEXT
    assert not _same(report, _item("daily", theirs, little, 3))
