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
from datetime import datetime
from html import escape
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from lxml import etree
from lxml import html as lxml_html

from aggregator.identity import FeedIdentity, FeedSpec, story_path
from aggregator.ingest.sanitize import sanitize_html
from aggregator.opml import Subscription, render_opml
from aggregator.publish.feed import ATOM_NS, EMPTY_FEED_UPDATED
from aggregator.text import html_to_text
from aggregator.types import StoredItem

SUMMARY_CHARACTERS = 320
_STYLE = """
body{font:16px/1.5 system-ui,-apple-system,"Segoe UI","Noto Sans KR",sans-serif;margin:0 auto;
max-width:44rem;padding:1rem;color:#1b1b1b;background:#fff}
h1{font-size:1.6rem;margin:.5rem 0}h2{font-size:1.15rem;margin:1.2rem 0 .2rem}
a{color:#0b57d0}.meta{color:#555;font-size:.9rem}ul{padding:0;list-style:none}
li{border-top:1px solid #ddd;padding:.6rem 0}.subscribe{font-weight:600}
h2,p{overflow-wrap:anywhere}
@media (prefers-color-scheme:dark){body{color:#e8e8e8;background:#121212}a{color:#8ab4f8}
.meta{color:#aaa}li{border-color:#333}}
""".strip()


@dataclass(frozen=True)
class FeedPage:
    """One feed as the pages show it: its spec, newest entries, and the number of its newest
    archive page (the next-older stories), if any."""

    spec: FeedSpec
    entries: Sequence[StoredItem]
    older: int | None = None


def local_time(moment: datetime, zone: ZoneInfo) -> str:
    """A date as the config's readers live it, with the zone said: "2025-06-05 09:00 KST"."""
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


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


def render_index(
    pages: Sequence[FeedPage], identity: FeedIdentity, title: str, zone: ZoneInfo
) -> bytes:
    """The front page: every feed with its description, size, last update and subscribe link."""
    rows = []
    for page in pages:
        updated = max((e.updated for e in page.entries), default=EMPTY_FEED_UPDATED)
        when = local_time(updated, zone) if page.entries else "no entries yet"
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


def summary(item: StoredItem) -> str:
    """The item's first paragraph as text, cut at a word near SUMMARY_CHARACTERS."""
    text = html_to_text(item.content_html).split("\n")[0] if item.content_html else ""
    return (
        text
        if len(text) <= SUMMARY_CHARACTERS
        else text[:SUMMARY_CHARACTERS].rsplit(" ", 1)[0] + "…"
    )


def _also_reported(item: StoredItem) -> str:
    """The other sources of the story, each linked to its own version when it has a web link."""
    if not item.also_reported_by:
        return ""
    names = []
    for report in item.also_reported_by:
        name = escape(report.source_title)
        names.append(
            f'<a href="{escape(report.link)}">{name}</a>' if _is_web(report.link) else name
        )
    return f'<p class="meta">Also reported by {", ".join(names)}</p>\n'


def render_topic(page: FeedPage, identity: FeedIdentity, site_title: str, zone: ZoneInfo) -> bytes:
    """One feed as a readable page: its latest items with source, local date, summary, link and
    the other sources of each story; a link to the next-older stories (its archive pages)."""
    rows = []
    for item in page.entries:
        title = escape(item.title)
        if item.link:
            heading = f'<a href="{escape(item.link)}">{title}</a>' if _is_web(item.link) else title
        else:
            heading = f'<a href="{escape(story_path(item.entry_id))}">{title}</a>'
        source = escape(item.site_name or item.source_title)
        # Mark Korean (or any known) language so browsers pick fonts and screen readers voices.
        lang = f' lang="{escape(item.language)}"' if item.language else ""
        rows.append(
            f"<li{lang}><h2>{heading}</h2>\n"
            f'<p class="meta">{source} · <time datetime="{item.published.isoformat()}">'
            f"{local_time(item.published, zone)}</time></p>\n"
            f"<p>{escape(summary(item))}</p>\n{_also_reported(item)}</li>\n"
        )
    feed_url = escape(identity.feed_url(page.spec.key))
    older = (
        f'<p><a rel="prev" href="{escape(archive_page_path(page.spec.key, page.older))}">'
        "Older stories</a></p>\n"
        if page.older
        else ""
    )
    body = (
        f'<p class="meta"><a href="index.html">{escape(site_title)}</a></p>\n'
        f"<h1>{escape(page.spec.title)}</h1>\n<p>{escape(page.spec.subtitle)}</p>\n"
        f'<p><a class="subscribe" href="{feed_url}">Subscribe to this feed (Atom)</a></p>\n'
        f"<ul>\n{''.join(rows) or '<li>No entries yet.</li>'}</ul>\n{older}"
    )
    return _document(page.spec.title, _autodiscovery([page], identity), body)


def _reported_in(content: str) -> list[str]:
    """The "Also reported by:" list publish appends to an entry's content, as page HTML."""
    if "Also reported by:" not in content:
        return []
    fragment = lxml_html.fragment_fromstring(content, create_parent="div")
    for paragraph in fragment.iter("p"):
        listed = paragraph.getnext()
        if paragraph.text_content().strip() == "Also reported by:" and listed is not None:
            names = []
            for entry in listed.iter("li"):
                link = entry.find("a")
                href = link.get("href") if link is not None else None
                name = escape(entry.text_content().strip())
                names.append(f'<a href="{escape(href)}">{name}</a>' if _is_web(href) else name)
            return names
    return []


@dataclass(frozen=True)
class Story:
    """What a story's own page shows (a story with no web link of its own, as a seed)."""

    title: str
    source: str
    published: datetime
    content_html: str
    language: str | None

    @classmethod
    def of(cls, item: StoredItem) -> "Story":
        return cls(
            item.title,
            item.site_name or item.source_title,
            item.published,
            item.content_html,
            item.language,
        )

    @classmethod
    def of_entry(cls, entry: etree._Element) -> "Story":
        """The story as an archive page recorded it (an Atom entry)."""
        atom = f"{{{ATOM_NS}}}"
        return cls(
            entry.findtext(f"{atom}title") or "",
            entry.findtext(f"{atom}source/{atom}title") or "",
            datetime.fromisoformat(entry.findtext(f"{atom}published") or ""),
            entry.findtext(f"{atom}content") or "",
            entry.get("{http://www.w3.org/XML/1998/namespace}lang"),
        )


def render_story(story: Story, site_title: str, zone: ZoneInfo) -> bytes:
    """A story's own page: its title, source, local date and full text (sanitized again here,
    since the page is ours to keep safe whatever was stored)."""
    lang = f' lang="{escape(story.language)}"' if story.language else ""
    body = (
        f'<p class="meta"><a href="../index.html">{escape(site_title)}</a></p>\n'
        f"<article{lang}>\n<h1>{escape(story.title)}</h1>\n"
        f'<p class="meta">{escape(story.source)} · <time datetime="{story.published.isoformat()}">'
        f"{local_time(story.published, zone)}</time></p>\n"
        f"{sanitize_html(story.content_html)}\n</article>\n"
    )
    return _document(story.title, "", body)


def read_archive(document: bytes) -> etree._Element:
    """An archive page's Atom document, parsed once for its HTML copy and its story pages."""
    return etree.fromstring(document, etree.XMLParser(resolve_entities=False, no_network=True))


def linked_stories(root: etree._Element, prefix: str) -> list[tuple[str, Story]]:
    """The entries of an Atom document whose alternate link is a story page under ``prefix``."""
    atom = f"{{{ATOM_NS}}}"
    found = []
    for entry in root.iterfind(f"{atom}entry"):
        link = entry.find(f"{atom}link[@rel='alternate']")
        href = link.get("href", "") if link is not None else ""
        if href.startswith(prefix):
            found.append((href, Story.of_entry(entry)))
    return found


def archive_page_path(key: str, page: int) -> str:
    """The HTML copy of archive page ``page`` of a feed, beside its Atom page."""
    return f"archive/{key}/{page}.html"


def render_archive(
    root: etree._Element, spec: FeedSpec, number: int, site_title: str, zone: ZoneInfo
) -> bytes:
    """Archive page ``number`` of a feed as HTML, read from the Atom page as it was written
    (``read_archive``): its stories with source, local date, summary, the other sources;
    links to the next-older page and to the latest stories."""
    atom = f"{{{ATOM_NS}}}"
    rows = []
    for entry in reversed(root.findall(f"{atom}entry")):  # newest first, as the topic page
        title = escape(entry.findtext(f"{atom}title") or "")
        link = entry.find(f"{atom}link[@rel='alternate']")
        href = link.get("href") if link is not None else None
        heading = f'<a href="{escape(href)}">{title}</a>' if _is_web(href) else title
        published = datetime.fromisoformat(entry.findtext(f"{atom}published") or "")
        source = escape(entry.findtext(f"{atom}source/{atom}title") or "")
        text = html_to_text(entry.findtext(f"{atom}content") or "").split("\n")[0]
        summary = text if len(text) <= SUMMARY_CHARACTERS else text[:SUMMARY_CHARACTERS] + "…"
        others = _reported_in(entry.findtext(f"{atom}content") or "")
        also = f'<p class="meta">Also reported by {", ".join(others)}</p>\n' if others else ""
        lang = entry.get("{http://www.w3.org/XML/1998/namespace}lang")
        lang_attribute = f' lang="{escape(lang)}"' if lang else ""
        rows.append(
            f"<li{lang_attribute}><h2>{heading}</h2>\n"
            f'<p class="meta">{source} · <time datetime="{published.isoformat()}">'
            f"{local_time(published, zone)}</time></p>\n<p>{escape(summary)}</p>\n{also}</li>\n"
        )
    older = f'<a rel="prev" href="{number - 1}.html">Older stories</a> · ' if number > 1 else ""
    title = f"{spec.title}: archive page {number}"
    body = (
        f'<p class="meta"><a href="../../index.html">{escape(site_title)}</a></p>\n'
        f"<h1>{escape(title)}</h1>\n<ul>\n{''.join(rows)}</ul>\n"
        f'<p>{older}<a href="../../{escape(spec.key)}.html">Latest stories</a></p>\n'
    )
    return _document(title, "", body)


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
