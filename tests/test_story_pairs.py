"""Precision and recall of "same story" on real outlets' pairs, labelled by hand.

The pairs (tests/data/stories/real/pairs.jsonl) name two items each by file and link
in ../shared/realworld, read in place: knews-rss (21 Korean outlets) and Yonhap's
Chinese service. Each is labelled same story or not, with its kind (a copy: section
URLs, syndicated, flash / full, identical short items; a different write-up of the
event; or not one story: follow-up, analysis, reaction, series part, template,
same subject, a daily digest holding the story among others). A third is held out:
these figures are held on the held-out pairs, and the decision is never tuned on them.
"""

import html
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from zoneinfo import ZoneInfo

import pytest

from aggregator import dedup
from aggregator.ingest.feeds import parse_feed
from aggregator.ingest.repair import repair_link
from aggregator.types import ItemData
from tests.support.project import DATA, REPO

REALWORLD = REPO.parent / "shared" / "realworld"
PAIRS = DATA / "stories" / "real" / "pairs.jsonl"
COPIES = frozenset({"section-url", "syndicated", "flash-full", "identical-short"})
THRESHOLD = 0.5  # dedup.similarity's default


@dataclass(frozen=True)
class Judged:
    kind: str
    same: bool
    split: str
    decided: bool


@cache
def _items(file: str) -> dict[str, ItemData]:
    data = parse_feed(
        (REALWORLD / file).read_bytes(),
        source_key=f"seed:{file}",
        kind="seed",
        zone=ZoneInfo("Asia/Seoul"),
        now=datetime(2030, 1, 1, tzinfo=UTC),
    )
    return {item.link or "": item for item in data.items}


def _item(side: dict[str, str]) -> ItemData | None:
    """The item a label names. A label quotes the link as the file writes it, at times
    with its ampersands escaped; ingest mends a doubled scheme and host (#19)."""
    items = _items(side["file"])
    for link in (side["link"], html.unescape(side["link"])):
        if (found := items.get(repair_link(link) or "")) is not None:
            return found
    return None


def _judged(unresolved: list[dict[str, object]]) -> Iterator[Judged]:
    """Each pair with the decision taken on it; a pair whose link is not among its file's
    items goes to ``unresolved``."""
    for line in PAIRS.read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        first, second = (_item(pair[side]) for side in ("a", "b"))
        if first is None or second is None:
            unresolved.append(pair)
            continue
        decided = dedup.same_story(first, second, THRESHOLD)
        yield Judged(pair["kind"], pair["same"], pair["split"], decided)


def _ratio(hits: int, total: int) -> float:
    return hits / total if total else 1.0


def figures(judged: list[Judged], split: str) -> dict[str, float]:
    mine = [j for j in judged if j.split == split]
    merged = [j for j in mine if j.decided]
    copies = [j for j in mine if j.same and j.kind in COPIES]
    write_ups = [j for j in mine if j.same and j.kind == "write-up"]
    return {
        "pairs": len(mine),
        "merges": len(merged),
        "precision": _ratio(sum(j.same for j in merged), len(merged)),
        "copies recall": _ratio(sum(j.decided for j in copies), len(copies)),
        "write-up recall": _ratio(sum(j.decided for j in write_ups), len(write_ups)),
        **{
            f"{kind} {'merged' if same else 'wrongly merged'}": _ratio(
                sum(j.decided for j in mine if j.kind == kind), len(of_kind)
            )
            for kind, same in sorted({(j.kind, j.same) for j in mine})
            if (of_kind := [j for j in mine if j.kind == kind])
        },
    }


def test_same_story_on_held_out_real_pairs() -> None:
    if not REALWORLD.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{REALWORLD} is missing (CI must measure the real pairs)")
        pytest.skip(f"{REALWORLD} is not here")
    unresolved: list[dict[str, object]] = []
    judged = list(_judged(unresolved))
    tune, held_out = figures(judged, "tune"), figures(judged, "heldout")
    print(f"tune: {tune}\nheld out: {held_out}\nunresolved pairs: {len(unresolved)}")
    assert unresolved == []
    assert held_out["pairs"] >= 200 and held_out["merges"] >= 50
    # Precision first: a wrong merge hides news.
    assert held_out["precision"] >= 0.98
    # Floors at what this version reaches (issue #18 wants 0.95 and 0.75). Copies: 0.952
    # of the 825 pairs' held-out third (0.878 before a full version stating its flash's
    # first sentence joined it, 0.928 before a flash without text stated its headline; the
    # tune misses left: a flash a later flash corrects, an updated toll, a quoted remark's
    # headline). Write-ups 0.782 (0.713 before other outlets' headlines ending on one word
    # joined, writeups.ended_as_one; 0.678 before headlines ending alike,
    # containment.ended_alike; 0.701 when other outlets' items a day apart joined at 40% of
    # the text, with next-day follow-ups). Precision was 0.980 then (0.986 before).
    assert held_out["copies recall"] >= 0.95
    assert held_out["write-up recall"] >= 0.78
