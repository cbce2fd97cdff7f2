"""OPML subscription lists: read other readers' exports (listparser), write OPML 2.0."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree

import listparser

from aggregator.errors import InputError


@dataclass(frozen=True)
class Subscription:
    """One feed in a subscription list."""

    url: str
    title: str | None = None
    html_url: str | None = None


def read_opml(data: bytes, subject: str) -> list[Subscription]:
    """The feeds an OPML document lists, folders included; InputError when none can be read."""
    parsed = listparser.parse(data)
    if not parsed.feeds and parsed.bozo:
        raise InputError(subject, f"not an OPML subscription list: {parsed.bozo_exception}")
    subscriptions = []
    for feed in parsed.feeds:
        url = feed.get("url", "")
        if url.startswith(("http://", "https://")):
            subscriptions.append(Subscription(url, feed.get("title") or None))
    return subscriptions


def render_opml(title: str, subscriptions: Sequence[Subscription], created: datetime) -> bytes:
    """An OPML 2.0 document listing ``subscriptions`` as rss outlines."""
    root = ElementTree.Element("opml", version="2.0")
    head = ElementTree.SubElement(root, "head")
    ElementTree.SubElement(head, "title").text = title
    ElementTree.SubElement(head, "dateCreated").text = format_datetime(created, usegmt=True)
    body = ElementTree.SubElement(root, "body")
    for subscription in subscriptions:
        attributes = {"type": "rss", "text": subscription.title or subscription.url}
        attributes["title"] = attributes["text"]
        attributes["xmlUrl"] = subscription.url
        if subscription.html_url:
            attributes["htmlUrl"] = subscription.html_url
        ElementTree.SubElement(body, "outline", attributes)
    ElementTree.indent(root)
    return ElementTree.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
