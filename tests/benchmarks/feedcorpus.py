"""A deterministic web of feeds for benchmarks: N feeds x M entries, served over HTTP on 127.0.0.1.

Feeds are RSS 2.0 or Atom (one in three), each entry a news story of about
2.7 KB with an HTML summary, written from the word lists of ``tests.corpus``
(English with Hangul mixed in) plus some unrelated news (markets, sports,
weather). Across feeds about 10% of entries are edited syndicated copies of a
story another feed published (near-duplicates) and about 5% are verbatim
copies (exact duplicates); ``Corpus.story_of`` is the truth, keyed by link.

``serve`` puts the corpus on ``tests.feedserver.FeedServer`` with a strong
ETag and a Last-Modified date per feed, answering 304 to a matching
If-None-Match or If-Modified-Since (RFC 9110 §13.1), as a well-behaved
publisher does.
"""

import hashlib
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from html import escape

from tests import corpus
from tests.feedserver import FeedServer, Reply, Request

START = datetime(2025, 6, 1, tzinfo=UTC)
ENTRY_BYTES = 2700  # the target size of one entry as it appears in the document
EXACT_SHARE = 0.05
NEAR_SHARE = 0.10
UNRELATED_SHARE = 0.2

# Stories no peninsula topic should claim, so classification has negatives to reject.
UNRELATED_SUBJECTS = [
    "The Bank of Korea", "Samsung Electronics", "The weather agency", "The KBO league",
    "Hyundai Motor", "The Seoul Metropolitan Government", "A local film festival", "한국은행",
    "The national football team", "Busan port authorities", "A Gangnam bakery", "기상청",
]  # fmt: skip
UNRELATED_PHRASES = [
    "raised its growth forecast", "reported record chip exports", "forecast heavy rain",
    "opened the baseball season", "cut the base rate by a quarter point", "unveiled a new van",
    "extended subway hours", "sold out its opening night", "won the East Asian Cup", "물가 상승률",
    "announced new container routes", "celebrated its fortieth anniversary", "장마 예보",
]  # fmt: skip
UNRELATED_WORDS = [
    "investors", "fans", "commuters", "shoppers", "season", "quarter", "prices", "rainfall",
    "stadium", "tickets", "exports", "semiconductors", "festival", "menu", "traffic", "harbor",
    "typhoon", "소비자", "관중", "수출", "날씨", "주가",
]  # fmt: skip
AUTHORS = ["Kim Min-ji", "Lee Jun-ho", "Park Soo-yeon", "Choi Dong-hyun", "Jung Ha-eun", "김정훈"]


@dataclass(frozen=True)
class Entry:
    """One entry as a feed lists it; ``story`` is the story it truly tells."""

    link: str
    title: str
    paragraphs: tuple[str, ...]
    published: datetime
    author: str
    category: str
    story: int


@dataclass(frozen=True)
class Feed:
    """One feed document: where it is served, its format, its entries and its bytes."""

    path: str
    kind: str  # "rss" or "atom"
    title: str
    entries: tuple[Entry, ...]
    body: bytes
    etag: str
    last_modified: str

    @property
    def content_type(self) -> str:
        kind = "atom" if self.kind == "atom" else "rss"
        return f"application/{kind}+xml; charset=utf-8"


@dataclass(frozen=True)
class Corpus:
    feeds: tuple[Feed, ...]

    @property
    def entries(self) -> int:
        return sum(len(f.entries) for f in self.feeds)

    @property
    def stories(self) -> int:
        return len({e.story for f in self.feeds for e in f.entries})

    @property
    def story_of(self) -> dict[str, int]:
        return {e.link: e.story for f in self.feeds for e in f.entries}

    def copies(self) -> dict[str, tuple[str, str]]:
        """Entries repeating a story another feed told first: link -> (kind, first link).

        ``kind`` is "exact" for a verbatim copy, "near" for an edited one.
        """
        first: dict[int, Entry] = {}
        found = {}
        for feed in self.feeds:
            for entry in feed.entries:
                original = first.setdefault(entry.story, entry)
                if original is not entry:
                    same = (original.title, original.paragraphs) == (entry.title, entry.paragraphs)
                    found[entry.link] = ("exact" if same else "near", original.link)
        return found


def _unrelated_sentence(rng: random.Random) -> str:
    words = [rng.choice(UNRELATED_SUBJECTS), rng.choice(UNRELATED_PHRASES)]
    words += rng.sample(UNRELATED_WORDS, rng.randint(6, 10)) + [str(rng.randint(2, 2025))]
    return " ".join(words).capitalize() + "."


def _paragraphs(
    rng: random.Random, sentence: Callable[[random.Random], str], budget: int
) -> tuple[str, ...]:
    """Sentences grouped into paragraphs until the escaped HTML reaches ``budget`` bytes."""
    paragraphs: list[str] = []
    size = 0
    while size < budget:
        paragraph = " ".join(sentence(rng) for _ in range(rng.randint(2, 3)))
        paragraphs.append(paragraph)
        size += len(escape(f"<p>{escape(paragraph)}</p>").encode())
    return tuple(paragraphs)


def _story(rng: random.Random, budget: int) -> tuple[str, tuple[str, ...]]:
    if rng.random() < UNRELATED_SHARE:
        title = f"{rng.choice(UNRELATED_SUBJECTS)} {rng.choice(UNRELATED_PHRASES)}"
        return title, _paragraphs(rng, _unrelated_sentence, budget)
    title, _ = corpus._story(rng)  # noqa: SLF001 (the shared generator)
    return title, _paragraphs(rng, corpus._sentence, budget)  # noqa: SLF001


def _html(paragraphs: tuple[str, ...]) -> str:
    return "".join(f"<p>{escape(p)}</p>" for p in paragraphs)


def _rss(index: int, title: str, entries: list[Entry]) -> bytes:
    items = "".join(
        f"<item><title>{escape(e.title)}</title><link>{e.link}</link>"
        f'<guid isPermaLink="true">{e.link}</guid>'
        f"<pubDate>{format_datetime(e.published, usegmt=True)}</pubDate>"
        f"<dc:creator>{escape(e.author)}</dc:creator><category>{escape(e.category)}</category>"
        f"<description>{escape(_html(e.paragraphs))}</description></item>\n"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>'
        f"<title>{escape(title)}</title><link>https://wire{index}.example/</link>"
        f"<description>News from {escape(title)}</description><language>en</language>"
        f"<lastBuildDate>{format_datetime(entries[0].published, usegmt=True)}</lastBuildDate>\n"
        f"{items}</channel></rss>\n"
    ).encode()


def _atom(index: int, title: str, entries: list[Entry]) -> bytes:
    items = "".join(
        f"<entry><id>{e.link}</id><title>{escape(e.title)}</title>"
        f'<link rel="alternate" type="text/html" href="{e.link}"/>'
        f"<published>{e.published.isoformat()}</published>"
        f"<updated>{e.published.isoformat()}</updated>"
        f"<author><name>{escape(e.author)}</name></author>"
        f'<category term="{escape(e.category)}"/>'
        f'<summary type="html">{escape(_html(e.paragraphs))}</summary></entry>\n'
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">'
        f"<id>https://wire{index}.example/</id><title>{escape(title)}</title>"
        f"<updated>{entries[0].published.isoformat()}</updated>"
        f'<link rel="alternate" href="https://wire{index}.example/"/>\n'
        f"{items}</feed>\n"
    ).encode()


def generate(feeds: int, entries: int, seed: int = 7) -> Corpus:
    """``feeds`` feeds of ``entries`` entries each; the same arguments give the same bytes."""
    rng = random.Random(f"{seed}:{feeds}:{entries}")
    # The body budget leaves room for the entry's markup, title, link and dates.
    budget = ENTRY_BYTES - 520
    originals: list[tuple[int, Entry]] = []  # (feed, entry) of every first telling so far
    documents = []
    story = 0
    for index in range(feeds):
        wire = f"{corpus.WIRES[index % len(corpus.WIRES)]} {index}"
        mine: list[Entry] = []
        told: list[Entry] = []  # this feed's first tellings; copies come only from other feeds
        carried: set[int] = set()
        for number in range(entries):
            roll = rng.random()
            author, category = rng.choice(AUTHORS), rng.choice(["politics", "nk", "world", "biz"])
            link = f"https://wire{index}.example/{2025}/{number:05d}"
            origin = rng.choice(originals)[1] if originals else None
            # A wire carries a story once: two copies in one feed could not both join it.
            if origin and origin.story not in carried and roll < EXACT_SHARE + NEAR_SHARE:
                carried.add(origin.story)
                title, paragraphs = origin.title, origin.paragraphs
                if roll >= EXACT_SHARE:
                    title, paragraphs = corpus._edit(rng, title, paragraphs, wire)  # noqa: SLF001
                when = origin.published + timedelta(minutes=rng.randint(3, 90))
                mine.append(Entry(link, title, paragraphs, when, author, category, origin.story))
                continue
            title, paragraphs = _story(rng, budget)
            when = START + timedelta(minutes=7 * story + rng.randint(0, 6))
            told.append(Entry(link, title, paragraphs, when, author, category, story))
            mine.append(told[-1])
            story += 1
        originals.extend((index, e) for e in told)
        mine.sort(key=lambda e: (e.published, e.link), reverse=True)
        kind = "atom" if index % 3 == 2 else "rss"
        body = (_atom if kind == "atom" else _rss)(index, wire, mine)
        digest = hashlib.sha256(body).hexdigest()[:20]
        modified = format_datetime(mine[0].published, usegmt=True)
        documents.append(
            Feed(f"/feeds/{index}.xml", kind, wire, tuple(mine), body, f'"{digest}"', modified)
        )
    return Corpus(tuple(documents))


def _fresh(feed: Feed, request: Request) -> bool:
    """Whether the client's copy is current (If-None-Match wins over If-Modified-Since)."""
    tags = request.headers.get("if-none-match")
    if tags is not None:
        return feed.etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
    since = request.headers.get("if-modified-since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(since) >= parsedate_to_datetime(feed.last_modified)
    except (TypeError, ValueError):
        return False


def _route(feed: Feed):  # noqa: ANN202 (a FeedServer route)
    validators = {"ETag": feed.etag, "Last-Modified": feed.last_modified}
    full = Reply(200, feed.body, {"Content-Type": feed.content_type, **validators})
    not_modified = Reply(304, b"", validators)
    return lambda request: not_modified if _fresh(feed, request) else full


def serve(data: Corpus) -> FeedServer:
    """A started FeedServer with every feed of ``data`` at its path."""
    return serve_feeds(data.feeds)


def serve_feeds(feeds: Iterable[Feed]) -> FeedServer:
    """A started FeedServer with each of ``feeds`` at its path, answering 304 when fresh."""
    server = FeedServer()
    for feed in feeds:
        server.serve(feed.path, _route(feed))
    return server.start()
