"""OPML subscription lists: read other readers' exports (listparser), write OPML 2.0.

Folders (outlines holding outlines) are kept both ways as a source's category, a path
such as "Korea/Wire services", and so is each feed's ``htmlUrl`` (the site's page).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree

from lxml import etree

from aggregator.errors import InputError

FOLDER_SEPARATOR = "/"


@dataclass(frozen=True)
class Subscription:
    """One feed in a subscription list."""

    url: str
    title: str | None = None
    html_url: str | None = None
    category: str | None = None


def read_opml(data: bytes, subject: str) -> list[Subscription]:
    """The feeds an OPML document lists, folders included; InputError when none can be read."""
    import listparser  # loaded to read a list only: regenerating writes one (feeds.opml)

    parsed = listparser.parse(data)
    if not parsed.feeds and parsed.bozo:
        raise InputError(subject, f"not an OPML subscription list: {parsed.bozo_exception}")
    pages = _html_urls(data)
    subscriptions = []
    for feed in parsed.feeds:
        url = feed.get("url", "")
        if url.startswith(("http://", "https://")):
            folders = feed.get("categories") or []
            category = FOLDER_SEPARATOR.join(folders[0]) if folders and folders[0] else None
            subscriptions.append(
                Subscription(url, feed.get("title") or None, pages.get(url), category)
            )
    return subscriptions


def _html_urls(data: bytes) -> dict[str, str]:
    """xmlUrl -> htmlUrl of every outline (listparser does not keep htmlUrl)."""
    try:
        root = etree.fromstring(data, etree.XMLParser(recover=True, resolve_entities=False))
    except etree.XMLSyntaxError:
        return {}
    if root is None:
        return {}
    return {
        outline.get("xmlUrl", "").strip(): outline.get("htmlUrl", "").strip()
        for outline in root.iter("outline")
        if outline.get("xmlUrl") and outline.get("htmlUrl")
    }


def render_opml(title: str, subscriptions: Sequence[Subscription], created: datetime) -> bytes:
    """An OPML 2.0 document listing ``subscriptions`` as rss outlines, inside their folders."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = ElementTree.SubElement(root, "body")
    folders: dict[tuple[str, ...], ElementTree.Element] = {(): body}
    for subscription in subscriptions:
        path: tuple[str, ...] = ()
        for name in (subscription.category or "").split(FOLDER_SEPARATOR):
            if not name:
                continue
            if path + (name,) not in folders:
                folders[path + (name,)] = ElementTree.SubElement(
                    folders[path], "outline", {"text": name, "title": name}
                )
            path += (name,)
        attributes = {"type": "rss", "text": subscription.title or subscription.url}
        attributes["title"] = attributes["text"]
        attributes["xmlUrl"] = subscription.url
        if subscription.html_url:
            attributes["htmlUrl"] = subscription.html_url
        ElementTree.SubElement(folders[path], "outline", attributes)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
