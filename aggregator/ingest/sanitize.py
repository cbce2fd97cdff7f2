"""HTML from sources, made safe to publish: nh3 (the ammonia sanitizer) with an allow-list.

Whatever a source sends, no script, style, iframe, object, form, event handler
or javascript:/data: URL reaches a published feed. Relative links and images
are made absolute against the entry's URL, so they work in any reader.
``content_to_html`` turns whatever an input gives (HTML or plain text) into the
clean paragraph HTML items carry.
"""

import re
from contextvars import ContextVar
from urllib.parse import urljoin

import nh3

from aggregator.text import paragraphs_to_html

_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "dl", "dt",
    "em", "figcaption", "figure", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "ins", "li",
    "ol", "p", "pre", "q", "s", "small", "strong", "sub", "sup", "table", "tbody", "td",
    "tfoot", "th", "thead", "tr", "u", "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "blockquote": {"cite"},
    "q": {"cite"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan", "scope"},
}
# Elements removed with everything inside them, not just unwrapped.
_DROP_WITH_CONTENT = {
    "script",
    "style",
    "iframe",
    "object",
    "embed",
    "form",
    "noscript",
    "svg",
    "math",
    "template",
    "button",
    "select",
    "textarea",
    "head",
    "title",
}
_URL_ATTRIBUTES = {"href", "src", "cite"}
_BLOCK_TAG = re.compile(r"<(?:p|ul|ol|li|blockquote|h[2-6]|pre|table|figure|dl|hr)\b", re.I)
_BLANK_LINES = re.compile(r"\n\s*\n")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n|(?:<br\s*/?>\s*){2,}", re.I)


# The base URL of the markup being cleaned. The cleaner is built once (building one
# per call cost more than the cleaning itself), so the base
# each call resolves against reaches its attribute filter through a ContextVar,
# which keeps concurrent calls in other threads from seeing each other's base.
_BASE_URL: ContextVar[str | None] = ContextVar("base_url", default=None)


def _resolve_url(element: str, attribute: str, value: str) -> str | None:
    """nh3's attribute filter: URL attributes made absolute against the current base URL."""
    base_url = _BASE_URL.get()
    if attribute in _URL_ATTRIBUTES and base_url:
        return urljoin(base_url, value.strip())
    return value


_CLEANER = nh3.Cleaner(
    tags=_TAGS,
    clean_content_tags=_DROP_WITH_CONTENT,
    attributes=_ATTRIBUTES,
    attribute_filter=_resolve_url,
    url_schemes={"http", "https", "mailto"},
    link_rel="noopener noreferrer nofollow",
    strip_comments=True,
)


def sanitize_html(markup: str, base_url: str | None = None) -> str:
    """Clean ``markup`` to the allow-list; resolve relative URLs against ``base_url``."""
    token = _BASE_URL.set(base_url)
    try:
        return _CLEANER.clean(markup).strip()
    finally:
        _BASE_URL.reset(token)


def content_to_html(value: str, media_type: str, base_url: str | None = None) -> str:
    """Any content a source gives (HTML, XHTML or plain text) as clean paragraph HTML."""
    if "html" not in media_type:
        return text_to_html(value)
    clean = sanitize_html(value, base_url)
    return clean if _BLOCK_TAG.search(clean) else _inline_to_paragraphs(clean)


def text_to_html(text: str) -> str:
    """Plain text as escaped paragraphs, split at blank lines, whitespace folded."""
    blocks = (" ".join(block.split()) for block in _BLANK_LINES.split(text))
    return paragraphs_to_html([block for block in blocks if block])


def _inline_to_paragraphs(clean: str) -> str:
    """Clean markup with no block element (many RSS descriptions) as paragraphs like the rest.

    Split at blank lines or double <br>; each piece goes through the sanitizer
    again so that an inline element cut in two is closed on both sides.
    """
    blocks = (" ".join(block.split()) for block in _PARAGRAPH_BREAK.split(clean))
    return "\n".join(sanitize_html(f"<p>{block}</p>") for block in blocks if block)
