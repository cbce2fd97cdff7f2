"""Static HTML pages and an OPML list beside the feeds, so people who click a link can read.

Browsers no longer style feeds (XSLT support is going away), so the feeds
folder also holds ``index.html`` (every topic, with autodiscovery links),
one ``<topic>.html`` per feed with its latest items, and ``feeds.opml`` for a
one-click import into a reader. Like the feeds, they are a pure function of
the stored data: no "generated at" time, so unchanged data leaves them
untouched.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from urllib.parse import urlsplit

from aggregator.opml import Subscription, render_opml
from aggregator.publish.feed import EMPTY_FEED_UPDATED, FeedIdentity, FeedSpec
from aggregator.text import html_to_text
from aggregator.types import StoredItem

SUMMARY_CHARACTERS = 320
_STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans KR",sans-serif;margin:0 auto;
max-width:44rem;padding:1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.2rem 0 .2rem}
a{color:#0b57d0}.meta{color:#555;font-size:.9rem}ul{padding:0;list-style:none}
li{border-top:1px solid #ddd;padding:.6rem 0}.subscribe{font-weight:600}
@media (prefers-color-scheme:dark){body{color:#e8e8e8;background:#121212}a{color:#8ab4f8}
.meta{color:#aaa}li{border-color:#333}}
""".strip()


@dataclass(frozen=True)
class FeedPage:
    """One feed as the pages show it: its spec and newest entries."""

    spec: FeedSpec
    entries: Sequence[StoredItem]


def _document(title: str, head: str, body: str) -> bytes:
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(title)}</title>\n{head}<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}</body>\n</html>\n"
    ).encode()


def _autodiscovery(pages: Sequence[FeedPage], identity: FeedIdentity) -> str:
    return "".join(
        f'<link rel="alternate" type="application/atom+xml" title="{escape(p.spec.title)}" '
        f'href="{escape(identity.feed_url(p.spec.key))}">\n'
        for p in pages
    )


def render_index(pages: Sequence[FeedPage], identity: FeedIdentity, title: str) -> bytes:
    """The front page: every feed with its description, size, last update and subscribe link."""
    rows = []
    for page in pages:
        updated = max((e.updated for e in page.entries), default=EMPTY_FEED_UPDATED)
        when = updated.strftime("%Y-%m-%d %H:%M UTC") if page.entries else "no entries yet"
        rows.append(
            f'<li><h2><a href="{escape(page.spec.key)}.html">{escape(page.spec.title)}</a></h2>\n'
            f"<p>{escape(page.spec.subtitle)}</p>\n"
            f'<p class="meta">{len(page.entries)} entries · updated {when}</p>\n'
            f'<p><a class="subscribe" href="{escape(identity.feed_url(page.spec.key))}">'
            "Subscribe (Atom)</a></p></li>\n"
        )
    body = (
        f"<h1>{escape(title)}</h1>\n"
        "<p>Topic feeds for people who follow the Korean Peninsula. Paste a feed link into "
        'your feed reader, or import <a href="feeds.opml">all feeds as OPML</a>.</p>\n'
        f"<ul>\n{''.join(rows)}</ul>\n"
    )
    return _document(title, _autodiscovery(pages, identity), body)


def _is_web(link: str | None) -> bool:
    """Only http(s) links become hrefs: a source's "javascript:" link must not run on our pages."""
    return bool(link) and urlsplit(link).scheme.lower() in ("http", "https")


def _summary(item: StoredItem) -> str:
    text = html_to_text(item.content_html).split("\n")[0] if item.content_html else ""
    return (
        text
        if len(text) <= SUMMARY_CHARACTERS
        else text[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0] + "…"
    )


def render_topic(page: FeedPage, identity: FeedIdentity, site_title: str) -> bytes:
    """One feed as a readable page: its latest items with source, date, summary and link."""
    rows = []
    for item in page.entries:
        title = escape(item.title)
        heading = f'<a href="{escape(item.link)}">{title}</a>' if _is_web(item.link) else title
        source = escape(item.site_name or item.source_title)
        # Mark Korean (or any known) language so browsers pick fonts and screen readers voices.
        lang = f' lang="{escape(item.language)}"' if item.language else ""
        rows.append(
            f"<li{lang}><h2>{heading}</h2>\n"
            f'<p class="meta">{source} · <time datetime="{item.published.isoformat()}">'
            f"{item.published.strftime('%Y-%m-%d %H:%M UTC')}</time></p>\n"
            f"<p>{escape(_summary(item))}</p></li>\n"
        )
    feed_url = escape(identity.feed_url(page.spec.key))
    body = (
        f'<p class="meta"><a href="index.html">{escape(site_title)}</a></p>\n'
        f"<h1>{escape(page.spec.title)}</h1>\n<p>{escape(page.spec.subtitle)}</p>\n"
        f'<p><a class="subscribe" href="{feed_url}">Subscribe to this feed (Atom)</a></p>\n'
        f"<ul>\n{''.join(rows) or '<li>No entries yet.</li>'}</ul>\n"
    )
    return _document(page.spec.title, _autodiscovery([page], identity), body)


def render_feed_list(pages: Sequence[FeedPage], identity: FeedIdentity, title: str) -> bytes:
    """feeds.opml: every feed, for a one-click import. Its date is the newest entry's."""
    newest = max((e.updated for p in pages for e in p.entries), default=EMPTY_FEED_UPDATED)
    return render_opml(
        title,
        [
            Subscription(
                identity.feed_url(p.spec.key), p.spec.title, f"{identity.base_url}{p.spec.key}.html"
            )
            for p in pages
        ],
        newest,
    )
