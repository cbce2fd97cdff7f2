"""A deterministic news corpus with known answers, for dedup tests and benchmarks.

Stories about the peninsula are written from word lists (English with some
Hangul), then published by several feeds: exact repeats, syndicated copies
with edits (new headline, trimmed or reordered paragraphs, added boilerplate,
a few words changed), and different stories on the same subject, which must
stay apart. ``Entry.story`` is the truth.
"""

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

SUBJECTS = [
    "the unification ministry", "South Korea's defense ministry", "the presidential office",
    "North Korea's foreign ministry", "the Joint Chiefs of Staff", "US Forces Korea",
    "the National Assembly", "the Democratic Party", "the People Power Party", "Seoul",
    "Pyongyang", "Washington", "the Constitutional Court", "prosecutors", "통일부", "국방부",
    "대통령실", "국회", "the Korea Coast Guard", "the National Intelligence Service",
]  # fmt: skip
VERBS = [
    "said", "warned", "announced", "denied", "confirmed", "proposed", "rejected", "criticized",
    "welcomed", "demanded", "reported", "urged", "signaled", "planned", "reviewed", "questioned",
]  # fmt: skip
OBJECTS = [
    "talks on the border", "a military hotline", "joint drills", "the cost-sharing deal",
    "a special counsel bill", "missile launches", "balloon launches", "loudspeaker broadcasts",
    "extended deterrence", "the budget vote", "separated families", "the liaison office",
    "a defector's testimony", "sanctions", "the impeachment trial", "trilateral cooperation",
    "남북 대화", "한미 연합훈련", "방위비 분담금", "특검법", "탈북민 지원", "확장억제",
]  # fmt: skip
DETAILS = [
    "on Monday", "on Tuesday", "late Wednesday", "early Thursday", "on Friday", "over the weekend",
    "in a statement", "at a briefing", "according to officials", "citing unnamed sources",
    "for the first time in months", "despite objections", "amid rising tensions", "in Seoul",
    "near the demilitarized zone", "after a closed-door meeting", "in a televised address",
]  # fmt: skip
FILLER = [
    "officials",
    "analysts",
    "lawmakers",
    "residents",
    "experts",
    "diplomats",
    "soldiers",
    "negotiators",
    "observers",
    "critics",
    "supporters",
    "reporters",
    "ministers",
    "envoys",
    "commanders",
    "citizens",
    "voters",
    "activists",
    "border",
    "island",
    "coast",
    "capital",
    "province",
    "city",
    "village",
    "factory",
    "port",
    "base",
    "airfield",
    "harbor",
    "plan",
    "proposal",
    "report",
    "statement",
    "warning",
    "offer",
    "response",
    "decision",
    "measure",
    "step",
    "move",
    "weeks",
    "months",
    "days",
    "years",
    "hours",
    "recent",
    "previous",
    "next",
    "former",
    "current",
    "latest",
    "earlier",
    "security",
    "economic",
    "political",
    "military",
    "diplomatic",
    "humanitarian",
    "legal",
    "regional",
    "national",
    "다수",
    "관계자",
    "전문가",
    "주민",
    "정부",
    "군",
    "당국",
    "협상",
    "회의",
    "발표",
    "보도",
    "계획",
    "조치",
    "대응",
    "결정",
    "경고",
    "제안",
]
WIRES = [
    "Peninsula Wire",
    "Seoul Daily",
    "Han River Times",
    "Korea Desk",
    "DMZ Monitor",
    "East Sea Post",
]
BOILERPLATE = [
    "This article was distributed by {wire}. All rights reserved.",
    "Reporting by the {wire} news desk; editing by staff.",
    "Follow {wire} for more news from the Korean Peninsula.",
]


@dataclass(frozen=True)
class Entry:
    """One feed entry and the story it truly tells."""

    feed: int
    guid: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    story: int


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(SUBJECTS), rng.choice(VERBS), rng.choice(OBJECTS), rng.choice(DETAILS)]
    words += rng.sample(FILLER, rng.randint(5, 9))
    words.insert(rng.randint(2, len(words)), str(rng.randint(2, 2025)))
    return " ".join(words).capitalize() + "."


def _story(rng: random.Random) -> tuple[str, tuple[str, ...]]:
    title = f"{rng.choice(SUBJECTS).capitalize()} {rng.choice(VERBS)} {rng.choice(OBJECTS)}"
    paragraphs = tuple(
        " ".join(_sentence(rng) for _ in range(rng.randint(2, 4))) for _ in range(rng.randint(4, 7))
    )
    return title, paragraphs


def _edit(
    rng: random.Random, title: str, paragraphs: tuple[str, ...], wire: str
) -> tuple[str, tuple[str, ...]]:
    """A syndicated copy: one to three light edits of the original."""
    body = list(paragraphs)
    for edit in rng.sample(
        ["headline", "trim", "reorder", "boilerplate", "words"], rng.randint(1, 3)
    ):
        if edit == "headline":
            title = f"{title.split(' ', 1)[1].capitalize()}, {rng.choice(SUBJECTS)} says"
        elif edit == "trim" and len(body) > 3:
            del body[-1]
        elif edit == "reorder":
            i, j = rng.sample(range(len(body)), 2)
            body[i], body[j] = body[j], body[i]
        elif edit == "boilerplate":
            body.append(rng.choice(BOILERPLATE).format(wire=wire))
        elif edit == "words":
            words = " ".join(body).split(" ")
            for _ in range(max(1, len(words) // 30)):
                words[rng.randrange(len(words))] = rng.choice(FILLER)
            per = max(1, len(words) // len(body))
            body = [" ".join(words[k : k + per]) for k in range(0, len(words), per)]
    return title, tuple(body)


def generate(stories: int, feeds: int = 6, seed: int = 2025) -> list[Entry]:
    """``stories`` stories, each published by one feed and copied, edited or not, by others.

    About 5% of stories reappear verbatim in another feed and about 10% as
    edited syndicated copies; the rest appear once.
    """
    rng = random.Random(seed)
    start = datetime(2025, 6, 1, tzinfo=UTC)
    entries: list[Entry] = []
    for number in range(stories):
        title, paragraphs = _story(rng)
        when = start + timedelta(minutes=17 * number)
        origin = rng.randrange(feeds)
        entries.append(
            Entry(origin, f"https://{origin}.example/{number}", title, paragraphs, when, number)
        )
        others = [f for f in range(feeds) if f != origin]
        roll = rng.random()
        copies = []
        if roll < 0.05:
            copies = [(f, title, paragraphs) for f in rng.sample(others, rng.randint(1, 2))]
        elif roll < 0.15:
            copies = [
                (f, *_edit(rng, title, paragraphs, WIRES[f % len(WIRES)]))
                for f in rng.sample(others, rng.randint(1, 3))
            ]
        for delay, (feed, copy_title, copy_body) in enumerate(copies, start=1):
            entries.append(
                Entry(feed, f"https://{feed}.example/copy/{number}", copy_title, copy_body,
                      when + timedelta(minutes=5 * delay), number)
            )  # fmt: skip
    return entries


def rss(feed: int, entries: list[Entry]) -> bytes:
    """The RSS 2.0 document of one feed, newest first."""
    mine = sorted((e for e in entries if e.feed == feed), key=lambda e: e.published, reverse=True)
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{e.guid}</link><guid>{e.guid}</guid>"
        f"<pubDate>{format_datetime(e.published, usegmt=True)}</pubDate>"
        f"<description>{escape(''.join(f'<p>{escape(p)}</p>' for p in e.paragraphs))}</description>"
        "</item>"
        for e in mine
    )
    return (
        f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{WIRES[feed % len(WIRES)]}</title><link>https://{feed}.example/</link>{items}"
        "</channel></rss>"
    ).encode()


def true_pairs(entries: list[Entry]) -> set[frozenset[str]]:
    """Every pair of entries that tell the same story."""
    by_story: dict[int, list[str]] = {}
    for entry in entries:
        by_story.setdefault(entry.story, []).append(entry.guid)
    return {
        frozenset((a, b))
        for guids in by_story.values()
        for i, a in enumerate(guids)
        for b in guids[i + 1 :]
    }
