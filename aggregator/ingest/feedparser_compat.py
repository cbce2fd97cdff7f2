"""Everything the fast reader (``xmlfeeds``) takes from feedparser's internals, in one place.

The fast reader must give exactly what feedparser gives, so it uses feedparser's own
tables and helpers, several of them private. Private names can change in any release:
pyproject.toml pins the feedparser release the differential tests (tests/test_xmlfeeds.py)
compare against, and ``TESTED_VERSION`` says which one this module was checked with;
a new release means running those tests and updating both.
"""

from typing import Any

import feedparser
from feedparser.api import StrictFeedParser
from feedparser.datetimes import _parse_date
from feedparser.encodings import lazy_chardet_encoding
from feedparser.mixin import _cp1252, _FeedParserMixin
from feedparser.urls import _urljoin
from feedparser.util import FeedParserDict

TESTED_VERSION = "6.0.14"
INSTALLED_VERSION = feedparser.__version__

# Namespace URI -> feedparser's prefix for it ("" for the feed formats' own).
NAMESPACES: dict[str, str] = _FeedParserMixin.namespaces
HTML_TYPES: list[str] = _FeedParserMixin.html_types
CAN_BE_RELATIVE_URI: list[str] = _FeedParserMixin.can_be_relative_uri
# Element names feedparser gives a handler to; any other element is stored under its own name.
HANDLED = {
    name.removeprefix("_start_").removeprefix("_end_")
    for name in dir(StrictFeedParser)
    if name.startswith(("_start_", "_end_"))
}
# Keys feedparser's dict maps onto other keys.
KEYMAP: dict[str, Any] = FeedParserDict.keymap
# The C1 controls feedparser maps to the windows-1252 characters they stand for.
CP1252: dict[int, str] = _cp1252
# Whether feedparser would ask chardet to guess an encoding (None: chardet is not installed).
CHARDET = lazy_chardet_encoding

map_content_type = _FeedParserMixin.map_content_type
looks_like_html = _FeedParserMixin.looks_like_html
parse_date = _parse_date
urljoin = _urljoin


def enforce_href(attributes: dict[str, str]) -> dict[str, str]:
    """feedparser's rule for a link's href (url and uri stand in for it)."""
    return _FeedParserMixin._enforce_href(attributes)  # noqa: SLF001


class _AuthorContext:
    """Lets feedparser's own author splitting run on one of our dicts."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def _get_context(self) -> dict[str, Any]:
        return self.context


def sync_author_detail(entry: dict[str, Any]) -> None:
    """feedparser's split of an entry's author into name and e-mail, in place."""
    _FeedParserMixin._sync_author_detail(_AuthorContext(entry))  # noqa: SLF001
