"""Full text for title-only and summary-only entries, read from the article page (issue #21).

want:    when a source's entry is stored (new, or edited), ``PagePolicy.wants``
         decides from the source's mode and the entry's text whether its page
         is wanted; ``note_writes`` records that (pending).
fetch:   after the feeds of a run, ``fetch_pages`` reads the pending pages in
         parallel, through the run's HTTP client and its limits, obeying each
         site's robots.txt and a pause per host (ingest.politeness), and
         extracts each article (ingest.article).
judge:   ``judge`` (pure) says whether the page is used, failed for good, or
         tried again later (a host in trouble: 5xx, 429, timeouts; backing off).
store:   a used page's text gives the item its signature, band keys and topics
         (so it reaches its topics and joins its story), and the title, author
         and date its entry lacked. The entry's own text stays what is published
         unless ``publish.full_text`` (see ``with_page_texts``). A failure keeps
         the entry as it was and is counted on the source.

Extraction, analysis and story matching are imported when a page is read: every run
asks for pages, and most find none due (issue #22, ``tests/test_cli_startup.py``).
"""

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

from aggregator.clock import as_utc
from aggregator.config import Settings
from aggregator.ingest.http import FetchResult, fetch, run_per_host
from aggregator.ingest.politeness import HostPacer, RobotsRules, RobotsVerdict, host_of
from aggregator.ingest.schedule import backoff, retry_after
from aggregator.store import Storage, article_pages
from aggregator.store.article_pages import FAILED, PENDING, USED, PageRead, PendingPage, WantedPage
from aggregator.store.engine import Transaction
from aggregator.store.reads import ItemText
from aggregator.text import html_to_text, normalize, paragraphs_to_html
from aggregator.types import ItemData, ItemWrite, StoredItem

if TYPE_CHECKING:  # imported when a page is read or an item written
    import httpx

    from aggregator.analysis import ItemAnalysis
    from aggregator.classify import Topic
    from aggregator.ingest.article import Article
    from aggregator.store.writes import StoreTransaction

log = logging.getLogger("aggregator.fulltext")
WithText = TypeVar("WithText", StoredItem, ItemText)

HTML_ACCEPT = "text/html, application/xhtml+xml;q=0.9, */*;q=0.1"
# Pages read per run at most: a first ingest of many title-only sources spreads its pages
# over the next runs instead of holding the first one for hours of per-host pauses.
MAX_PAGES_PER_RUN = 500
# A page whose host was in trouble is tried this many times in all, backing off between.
MAX_ATTEMPTS = 3
# Less article text than this is no article (a login form, an error page, a teaser).
MIN_ARTICLE_CHARS = 120
# Where a site sends a reader it wants to sign in first.
_LOGIN_WORDS = ("login", "signin", "sign-in", "sign_in", "auth", "account", "member", "subscribe")


@dataclass(frozen=True)
class PagePolicy:
    """When a source's entries want their article page: its mode and the "auto" threshold."""

    mode: str  # "never", "auto" or "always"
    below: int

    def wants(self, item: ItemData, body: str) -> bool:
        """``body``: the entry's text, normalized (``ItemAnalysis.body``)."""
        if self.mode == "never" or not item.link:
            return False
        return self.mode == "always" or len(body) < self.below


def note_writes(
    tx: "StoreTransaction",
    policy: PagePolicy,
    written: list[tuple[int, ItemWrite, "ItemAnalysis", bool]],
) -> None:
    """Record which written items (id, write, analysis, new) want their page; an edited entry
    that no longer does loses what was read for its earlier version."""
    wanted, stale = [], []
    for item_id, write, analysis, new in written:
        if policy.wants(write.item, analysis.body):
            dated = write.item.published is not None or write.item.updated is not None
            wanted.append(WantedPage(item_id, write.content_hash, dated))
        elif not new:
            stale.append(item_id)
    article_pages.want(tx, wanted)
    article_pages.forget(tx, stale)


@dataclass(frozen=True)
class PageFetched:
    """A page read in a worker thread: the robots verdict, the response, the article."""

    verdict: RobotsVerdict
    result: FetchResult | None = None
    article: "Article | None" = None
    deferred: bool = False  # its host was in trouble earlier in this run: not asked


def judge(
    page: PendingPage,
    fetched: PageFetched,
    now: datetime,
    settings: Settings,
    rng: random.Random,
) -> PageRead:
    """What a page read comes to: used, failed (with why), or pending again (with when)."""
    attempts = page.attempts + (0 if fetched.deferred else 1)

    def failed(reason: str, url: str | None = None) -> PageRead:
        return PageRead(
            page.item_id, page.entry_hash, FAILED, attempts, None, now, url, error=reason
        )

    def again(reason: str, headers: dict[str, str] | None = None) -> PageRead:
        if attempts >= MAX_ATTEMPTS:
            return failed(f"{reason} ({attempts} attempts)")
        when = backoff(now, max(attempts, 1), settings.fetch, rng)
        asked = retry_after((headers or {}).get("retry-after"), now)
        return PageRead(
            page.item_id,
            page.entry_hash,
            PENDING,
            attempts,
            max(when, asked or when),
            now,
            error=reason,
        )

    if fetched.deferred:
        return again("its host failed earlier in this run")
    if fetched.verdict.unreadable:
        return again(fetched.verdict.reason or "robots.txt could not be read")
    if not fetched.verdict.allowed:
        return failed(fetched.verdict.reason or "disallowed by robots.txt")
    result = fetched.result
    assert result is not None
    if result.outcome != "ok":
        reason = result.error or result.status_text
        if transient(result):
            return again(reason, result.headers)
        return failed(reason, result.url)
    if _is_login(page.link, result.url):
        return failed(f"redirected to a login page ({result.url})", result.url)
    if _is_home(page.link, result.url):
        return failed(f"redirected to the home page ({result.url})", result.url)
    article = fetched.article
    if article is None:
        media = result.headers.get("content-type", "no content type")
        return failed(f"not an HTML page ({media})", result.url)
    if article.paywalled:
        return failed("the page is paywalled (it shows a teaser)", result.url)
    feed_text = normalize(html_to_text(page.content_html))
    if len(article.text) < MIN_ARTICLE_CHARS or len(normalize(article.text)) <= len(feed_text):
        return failed("no article text on the page beyond the entry's", result.url)
    return PageRead(
        page.item_id,
        page.entry_hash,
        USED,
        attempts,
        None,
        now,
        result.url,
        article.text,
        article.title,
        article.author,
        article.published,
    )


def transient(result: FetchResult) -> bool:
    """A failure of the host rather than of the page: worth trying again later."""
    status = result.http_status
    if status is None:
        return "larger than" not in (result.error or "") and "redirect" not in (result.error or "")
    return status == 429 or status >= 500


def _is_login(asked: str, landed: str) -> bool:
    from aggregator import dedup

    if dedup.canonical_url(asked) == dedup.canonical_url(landed):
        return False
    path = landed.lower().split("://", 1)[-1].partition("/")[2]
    return any(word in path for word in _LOGIN_WORDS)


def _is_home(asked: str, landed: str) -> bool:
    """Sent to the site's front page: what many sites do for an article they took down."""
    return urlsplit(landed).path in ("", "/") and urlsplit(asked).path not in ("", "/")


@dataclass
class PageTally:
    """What one run's page reading did."""

    used: int = 0
    failed: int = 0
    retried: int = 0

    def counters(self) -> dict[str, int]:
        """Increments for the shared counters /metrics reports."""
        return {"pages:used": self.used, "pages:failed": self.failed, "pages:retried": self.retried}


@dataclass(frozen=True)
class PageRun:
    """What reading pages needs of a run: the store, settings, topic rules, jitter, a pacer."""

    storage: Storage
    settings: Settings
    # Called when a page is first analysed: a run with no page to read reads no rules.
    topics: Callable[[], tuple["Topic", ...]]
    rng: random.Random
    pacer: HostPacer


def fetch_pages(run: PageRun, client: "httpx.Client", now: datetime) -> PageTally:
    """Read the pending article pages and store what they come to (module docstring)."""
    tally = PageTally()
    until = now + run.settings.worker.lease
    wanted = article_pages.claim(run.storage, now, until, MAX_PAGES_PER_RUN)
    if not wanted:
        return tally
    settings = run.settings.fetch
    pacer = run.pacer
    robots = RobotsRules(client, settings, pacer)
    troubled: set[str] = set()
    zone = run.settings.timezone

    def read(page: PendingPage) -> PageFetched:
        host = host_of(page.link)
        if host in troubled:
            return PageFetched(RobotsVerdict(True), deferred=True)
        verdict = robots.verdict(page.link)
        if not verdict.allowed:
            return PageFetched(verdict)
        pacer.wait(host)
        result = fetch(client, page.link, settings, accept=HTML_ACCEPT)
        if result.outcome != "ok" or result.body is None:
            if transient(result):
                troubled.add(host)  # back off this host for the rest of the run
            return PageFetched(verdict, result)
        if "html" not in result.headers.get("content-type", "text/html").lower():
            return PageFetched(verdict, result)
        from aggregator.ingest.article import extract_article

        return PageFetched(
            verdict, result, extract_article(result.body, result.headers, result.url, zone)
        )

    for ready in run_per_host(
        wanted,
        lambda page: host_of(page.link),
        read,
        workers=settings.workers,
        per_host=settings.per_host,
    ):
        judged = [
            (page, judge(page, fetched, now, run.settings, run.rng)) for page, fetched in ready
        ]
        if any(outcome.state == USED for _, outcome in judged):
            with run.storage.transaction() as tx:
                _store_reads(run, tx, judged, now, tally)
        else:  # reads to record only: the item writes stay unloaded (issue #22)
            with run.storage.plain_transaction() as tx:
                _store_reads(run, tx, judged, now, tally)
    log.info(
        "article pages: %d used, %d failed, %d to try again",
        tally.used,
        tally.failed,
        tally.retried,
    )
    return tally


def _store_reads(
    run: PageRun,
    tx: Transaction,
    judged: list[tuple[PendingPage, PageRead]],
    now: datetime,
    tally: PageTally,
) -> None:
    """Record what the pages read came to, and use those to be used (in a StoreTransaction)."""
    recorded = article_pages.record(tx, [(read, page.source_id) for page, read in judged])
    for (page, outcome), kept in zip(judged, recorded, strict=True):
        if not kept:
            continue
        if outcome.state == USED:
            from aggregator.store.writes import StoreTransaction

            assert isinstance(tx, StoreTransaction)
            tally.used += 1
            _use_page(run, tx, page, outcome, now)
        elif outcome.state == FAILED:
            tally.failed += 1
            log.warning("article page %s not used: %s", page.link, outcome.error)
        else:
            tally.retried += 1


def _use_page(
    run: PageRun,
    tx: "StoreTransaction",
    page: PendingPage,
    read: PageRead,
    now: datetime,
) -> None:
    """Classify and match the item by its page text; fill the fields its entry lacked."""
    from aggregator import dedup
    from aggregator.analysis import analyze

    assert read.text is not None
    title = page.title if page.title.strip() else (read.title or "")
    item = ItemData(
        key=str(page.item_id),
        title=title,
        content_html=page_html(read.text),
        link=page.link,
        language=page.language,
    )
    analysis = analyze(item, run.topics())
    published = None
    if not page.feed_dated and read.published is not None:
        published = min(as_utc(read.published), now)
    article_pages.set_item_text_fields(
        tx,
        page.item_id,
        analysis.slots,
        title=title if title != page.title else None,
        author=read.author if not page.author else None,
        published=published,
    )
    when, threshold = published or page.published, run.settings.dedup.similarity
    tx.set_bands(page.item_id, analysis.bands, when)
    tx.set_topics(page.item_id, dict(analysis.topics))
    if not analysis.bands or not article_pages.alone_in_story(tx, page.item_id):
        return
    (found,) = tx.story_candidates(
        [analysis.bands],
        [when],
        dedup.STORY_WINDOW,
        [(analysis.text, analysis.title, analysis.lead)],
        [analysis.heads],
    )
    others = [candidate for candidate in found if candidate.item_id != page.item_id]
    stories = dedup.matching_stories(
        analysis.slots, title, when, others, threshold, analysis.body, page.link
    )
    tx.join_stories([(page.item_id, stories)])


def page_html(text: str) -> str:
    """The HTML of a used page's stored text (``Article.text``: paragraphs between blank lines)."""
    return paragraphs_to_html(text.split("\n\n"))


def classification_text(storage: Storage, item: StoredItem) -> tuple[str, bool]:
    """The HTML an item is classified by (its page's text when used), and whether it is that."""
    text = article_pages.used_texts(storage, [item.id]).get(item.id)
    if text is None:
        return item.content_html, False
    return page_html(text), True


def with_page_texts(storage: Storage, found: Sequence[WithText]) -> list[WithText]:
    """Stored items (or their texts) with their used page's text as their content: what
    classification reads, and what feeds publish with ``publish.full_text``."""
    texts = article_pages.used_texts(storage, [item.id for item in found])
    return [
        replace(item, content_html=page_html(texts[item.id])) if item.id in texts else item
        for item in found
    ]


def make_pacer(settings: Settings, sleep: Callable[[float], None]) -> HostPacer:
    """Requests to one host ``full_text.host_delay`` apart, paused by ``sleep``."""
    return HostPacer(settings.full_text.host_delay / timedelta(seconds=1), time.monotonic, sleep)
