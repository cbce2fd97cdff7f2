"""Elements as feedparser sees them: namespaces and prefixes, the names it dispatches on,
attributes, and the text it stores (its quirks included)."""

import re
from contextlib import suppress

from lxml import etree

from aggregator.ingest.feedparser_compat import (
    CP1252,
    HTML_TYPES,
    KEYMAP,
    NAMESPACES,
    urljoin,
)
from aggregator.ingest.xmlencoding import Refused

ATOM = "http://www.w3.org/2005/Atom"
RSS1 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
XML = "http://www.w3.org/XML/1998/namespace"
XML_LANG = f"{{{XML}}}lang"
# feedparser's prefix for each namespace URI it knows ("" for the feed formats' own).
PREFIXES = {uri.lower(): prefix.lower() for uri, prefix in NAMESPACES.items()}
KNOWN_PREFIXES = set(PREFIXES.values()) - {""}
# Keys the adapter reads, or that feedparser's dict maps onto other keys: an unknown
# element stored under one of these names would change what the adapter sees.
RESERVED = {
    "link", "links", "title", "title_detail", "content", "summary", "summary_detail", "id",
    "published", "published_parsed", "updated", "updated_parsed", "author", "author_detail",
    "authors", "tags", "category", "enclosures", "license", "language", "guidislink",
    *KEYMAP,
}  # fmt: skip
TEXT_TYPES = {"text/plain", *HTML_TYPES}  # content feedparser also keeps as the summary
PLAIN_OR_HTML = {"text/plain", "text/html"}  # what the fast reader takes in text constructs
TITLES = {"title", "dc_title"}
PUBLISHED = {"published", "pubdate", "issued", "dcterms_issued"}
UPDATED = {"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"}
AUTHORS = {"author", "dc_creator", "dc_author"}
CATEGORIES = {"category", "dc_subject", "media_category"}
# The parts of a channel's image and text input that keep feedparser in that context.
GROUP_PARTS = {
    "image": {"title", "link", "url", "width", "height", "description"},
    "textinput": {"title", "link", "name", "description"},
}
RDF_LIST = {"rdf_seq", "rdf_bag", "rdf_alt", "rdf_li"}
PERSON_PARTS = {"name": "name", "email": "email", "uri": "href", "url": "href", "homepage": "href"}
# Elements feedparser handles whose results the adapter never reads (when they hold no markup).
INERT_IN_FEED = {
    "description", "dc_description", "subtitle", "tagline", "rights", "copyright", "dc_rights",
    "generator", "cloud", "webmaster", "dc_publisher", "admin_generatoragent",
    "admin_errorreportsto", "info", "created", "dcterms_created", "expirationdate",
}  # fmt: skip
INERT_IN_ENTRY = {
    "rights", "copyright", "dc_rights", "subtitle", "tagline", "language", "dc_language",
    "dc_contributor", "created", "dcterms_created", "expirationdate", "dc_publisher",
    "webmaster", "generator", "info",
}  # fmt: skip
# Media RSS that feedparser files under media_* keys (or "href", "credit", "license"), which
# the adapter never reads; media:title, media:description and media:keywords are not among them.
INERT_MEDIA = {
    "media_thumbnail", "media_credit", "media_rating", "media_restriction", "media_license",
    "media_player",
}  # fmt: skip
# The Media RSS elements feedparser lets enclose others, and what they may enclose here.
MEDIA_GROUPS = {
    "media_content": INERT_MEDIA,
    "media_group": INERT_MEDIA | {"media_content"},
}
# The C1 controls feedparser maps to the windows-1252 characters they stand for.
CP1252_MAPPED = tuple(chr(code) for code in CP1252)
BEYOND_LATIN_1 = re.compile("[^\x00-\xff]")
NAMED_REFERENCE = re.compile("&([A-Za-z0-9_]+);")


def check_namespaces(body: bytes, root: etree._Element) -> None:
    """All declarations on the root, each prefix meaning for feedparser what it says."""
    declared = root.nsmap
    if body.count(b"xmlns") != len(declared):
        raise Refused("namespaces declared below the root")
    known_prefixes = {p for p, uri in declared.items() if uri.lower() in PREFIXES}
    unknown_uris: set[str] = set()
    for prefix, uri in declared.items():
        canonical = PREFIXES.get(uri.lower())
        if "backend.userland.com/rss" in uri.lower():
            raise Refused("a userland namespace")
        if canonical is None:
            if prefix is None or uri in unknown_uris:
                raise Refused("an unknown default or doubly bound namespace")
            if prefix.lower() in KNOWN_PREFIXES | {p.lower() for p in known_prefixes if p}:
                raise Refused("an unknown namespace under a known prefix")
            unknown_uris.add(uri)
        elif prefix is not None and prefix in KNOWN_PREFIXES and prefix != canonical:
            raise Refused("a known prefix bound to another namespace")


def element_name(element: etree._Element) -> str:
    """The element's name as feedparser dispatches on it (its prefix, lower case)."""
    tag = element.tag
    if not isinstance(tag, str):
        raise Refused("an entity reference or other node")
    if tag[0] != "{":
        return tag.lower()
    uri, local = tag[1:].split("}", 1)
    prefix = PREFIXES.get(uri.lower())
    if prefix is None:
        prefix = element.prefix.lower()
    return f"{prefix}_{local.lower()}" if prefix else local.lower()


def attributes_of(element: etree._Element, rdf: bool = False) -> dict[str, str]:
    """Attributes as feedparser's handlers see them: names and rel/type values lower case."""
    found: dict[str, str] = {}
    for key, value in element.items():
        if key[0] == "{":
            if key == XML_LANG:
                continue
            uri, local = key[1:].split("}", 1)
            if not (rdf and uri == RDF and local in ("about", "resource")):
                raise Refused("a namespaced attribute")
            found[f"rdf:{local}"] = value
            key = local
        key = key.lower()
        if key in found or key in ("lang", "base", "xml:lang", "xml:base"):
            raise Refused("an attribute feedparser reads twice or as xml:base/xml:lang")
        found[key] = value.lower() if key in ("rel", "type") else value
    return found


def text_of(element: etree._Element) -> str:
    """The element's character data; markup inside it is feedparser's to interpret."""
    if len(element):
        raise Refused("markup inside a text element")
    return element.text or ""


def joined(uri: str) -> str:
    """feedparser's join of ``uri`` to an empty base: only "scheme:///x" changes."""
    return urljoin("", uri) if ":///" in uri else uri


def cooked(text: str, uri: bool = False) -> str:
    """What feedparser stores for an element's text (its ``pop``, sanitizer off)."""
    text = text.strip()
    if uri:
        text = joined(text)
    if text.isascii():
        return text
    if not BEYOND_LATIN_1.search(text):
        with suppress(UnicodeDecodeError):
            # UTF-8 read as Latin-1 somewhere upstream is read again as UTF-8.
            text = text.encode("iso-8859-1").decode("utf-8")
    # Substring tests: a regex class scan costs five times more on Hangul text.
    return text.translate(CP1252) if any(c in text for c in CP1252_MAPPED) else text
