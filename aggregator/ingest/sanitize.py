"""HTML from sources, made safe to publish: nh3 (the ammonia sanitizer) with an allow-list.

Whatever a source sends, no script, style, iframe, object, form, event handler
or javascript:/data: URL reaches a published feed. Relative links and images
are made absolute against the entry's URL, so they work in any reader.
"""

from urllib.parse import urljoin

import nh3

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


def sanitize_html(markup: str, base_url: str | None = None) -> str:
    """Clean ``markup`` to the allow-list; resolve relative URLs against ``base_url``."""

    def absolute(element: str, attribute: str, value: str) -> str | None:
        if attribute in _URL_ATTRIBUTES and base_url:
            return urljoin(base_url, value.strip())
        return value

    return nh3.clean(
        markup,
        tags=_TAGS,
        clean_content_tags=_DROP_WITH_CONTENT,
        attributes=_ATTRIBUTES,
        attribute_filter=absolute,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()
