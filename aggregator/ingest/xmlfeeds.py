"""A fast reader for plain RSS 2.0, RSS 1.0 and Atom 1.0 documents, with lxml.

Why: feedparser walks every element through Python SAX callbacks, which made
parsing most of the cost of ingesting a feed; libxml2 builds the same tree
tens of times faster. The feedparser adapter in ``feeds`` stays the
reference: this module answers, for the documents it accepts, the very
``feed`` and ``entries`` values feedparser 6 (sanitizer and URI resolver off)
would give for the keys the adapter reads, so the adapter cannot tell which
reader ran. It reproduces feedparser's quirks that reach those keys (text
stripped, "mojibake" repaired, C1 controls mapped as windows-1252, titles
guessed to be HTML, an id standing in for a missing link, the first of
content or summary kept) and uses feedparser's own helpers for dates, URL
joins, HTML guessing and author e-mail splitting.

It refuses (``read`` answers None and the caller uses feedparser) whatever it
does not handle with certainty:

* documents feedparser would not decode as UTF-8 (or ASCII, for ASCII bytes),
  or would decode only after asking chardet, Content-Location or
  Content-Language headers (feedparser uses them as base
  URI and language), any DOCTYPE (entity declarations are the existing path's
  business: it strips them), XML that libxml2 finds malformed;
* other formats: RSS 0.9x, Atom 0.3, CDF, a root in an unexpected namespace;
* namespace declarations anywhere but on the root, prefixes feedparser would
  map differently from their URI, elements of unknown namespaces in the
  default namespace;
* xml:base or any base/lang attribute feedparser would also read, namespaced
  attributes other than xml:lang (and rdf:about/rdf:resource in RSS 1.0);
* an element feedparser gives meaning to that is not listed below in its
  place, markup (child elements) inside text, Atom xhtml, base64 or
  out-of-line (src) content, a second title, summary, content, id, date or
  author in one entry, images and sources in entries, Media RSS titles,
  descriptions and keywords, iTunes and the like.

The parser resolves no entities, loads no DTD and touches no network, so
neither "billion laughs" nor external entities can reach it.
"""

import codecs
import functools
import re
from collections.abc import Mapping
from contextlib import suppress
from typing import Any

from feedparser.api import StrictFeedParser
from feedparser.datetimes import _parse_date
from feedparser.encodings import lazy_chardet_encoding
from feedparser.mixin import _cp1252, _FeedParserMixin
from feedparser.urls import _urljoin
from feedparser.util import FeedParserDict
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
RSS1 = "http://purl.org/rss/1.0/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_XML = "http://www.w3.org/XML/1998/namespace"
_XML_LANG = f"{{{_XML}}}lang"

# feedparser's prefix for each namespace URI it knows ("" for the feed formats' own).
_PREFIXES = {uri.lower(): prefix.lower() for uri, prefix in _FeedParserMixin.namespaces.items()}
_KNOWN_PREFIXES = set(_PREFIXES.values()) - {""}
# Element names feedparser gives a handler to; any other element is stored under its own name.
_HANDLED = {
    name.removeprefix("_start_").removeprefix("_end_")
    for name in dir(StrictFeedParser)
    if name.startswith(("_start_", "_end_"))
}
# Keys the adapter reads, or that feedparser's dict maps onto other keys: an unknown
# element stored under one of these names would change what the adapter sees.
_RESERVED = {
    "link", "links", "title", "title_detail", "content", "summary", "summary_detail", "id",
    "published", "published_parsed", "updated", "updated_parsed", "author", "author_detail",
    "authors", "tags", "category", "enclosures", "license", "language", "guidislink",
    *FeedParserDict.keymap,
}  # fmt: skip
_HTML_TYPES = _FeedParserMixin.html_types
_TEXT_TYPES = {"text/plain", *_HTML_TYPES}  # content feedparser also keeps as the summary
_PLAIN_OR_HTML = {"text/plain", "text/html"}  # what the fast reader takes in text constructs

_TITLES = {"title", "dc_title"}
_PUBLISHED = {"published", "pubdate", "issued", "dcterms_issued"}
_UPDATED = {"updated", "modified", "lastbuilddate", "dc_date", "dcterms_modified"}
_AUTHORS = {"author", "dc_creator", "dc_author"}
_CATEGORIES = {"category", "dc_subject", "media_category"}
# The parts of a channel's image and text input that keep feedparser in that context.
_GROUP_PARTS = {
    "image": {"title", "link", "url", "width", "height", "description"},
    "textinput": {"title", "link", "name", "description"},
}
_RDF_LIST = {"rdf_seq", "rdf_bag", "rdf_alt", "rdf_li"}
_PERSON_PARTS = {"name": "name", "email": "email", "uri": "href", "url": "href", "homepage": "href"}
# Elements feedparser handles whose results the adapter never reads (when they hold no markup).
_INERT_IN_FEED = {
    "description", "dc_description", "subtitle", "tagline", "rights", "copyright", "dc_rights",
    "generator", "cloud", "webmaster", "dc_publisher", "admin_generatoragent",
    "admin_errorreportsto", "info", "created", "dcterms_created", "expirationdate",
}  # fmt: skip
_INERT_IN_ENTRY = {
    "rights", "copyright", "dc_rights", "subtitle", "tagline", "language", "dc_language",
    "dc_contributor", "created", "dcterms_created", "expirationdate", "dc_publisher",
    "webmaster", "generator", "info",
}  # fmt: skip
# Media RSS that feedparser files under media_* keys (or "href", "credit", "license"), which
# the adapter never reads; media:title, media:description and media:keywords are not among them.
_INERT_MEDIA = {
    "media_thumbnail", "media_credit", "media_rating", "media_restriction", "media_license",
    "media_player",
}  # fmt: skip
# The Media RSS elements feedparser lets enclose others, and what they may enclose here.
_MEDIA_GROUPS = {
    "media_content": _INERT_MEDIA,
    "media_group": _INERT_MEDIA | {"media_content"},
}

_XML_DECLARATION = re.compile(rb"<\?xml(?P<attributes>[^>]*)\?>")
_VERSION_1_0 = re.compile(rb"""\sversion\s*=\s*["']1\.0["']""")
# What feedparser takes for the declared encoding: a first-line processing instruction's.
_FIRST_LINE_ENCODING = re.compile(rb"""^<\?.*encoding=['"](.*?)['"].*\?>""")
# What may come before the root element, DOCTYPE aside: white space, PIs, comments.
_PROLOG_PART = re.compile(rb"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
# The C1 controls feedparser maps to the windows-1252 characters they stand for.
_CP1252_MAPPED = tuple(chr(code) for code in _cp1252)
_BEYOND_LATIN_1 = re.compile("[^\x00-\xff]")
_NAMED_REFERENCE = re.compile("&([A-Za-z0-9_]+);")
_XML_TYPES = ("application/xml", "application/xml-dtd", "application/xml-external-parsed-entity")
_TEXT_XML_TYPES = ("text/xml", "text/xml-external-parsed-entity")


# feed, entries, and feedparser's complaint about the document (its "bozo" message) if any.
Parsed = tuple[dict[str, Any], list[dict[str, Any]], str | None]
# Byte order marks and first bytes from which feedparser infers UTF-16, UTF-32 or EBCDIC.
_OTHER_MARKS = (b"\xfe\xff", b"\xff\xfe", b"\x4c\x6f\xa7\x94")
# Where feedparser would ask chardet to guess (when chardet is installed).
_CHARDET = object()


class _Refused(Exception):
    """The document needs feedparser: something here is not handled with certainty."""


def read(data: bytes, response_headers: Mapping[str, str]) -> Parsed | None:
    """``(feed, entries, problem)`` as feedparser would give them, or None if it must read it.

    ``problem`` is feedparser's bozo message for a document it reads whole
    but complains of (a media type that is not XML, a charset it overrode).
    ``response_headers`` have lower-case names.
    """
    try:
        return _read(data, response_headers)
    except _Refused:
        return None


def _read(data: bytes, response_headers: Mapping[str, str]) -> Parsed:
    body = data.removeprefix(b"\xef\xbb\xbf")
    problem = _encoding_problem(body, response_headers, bom=len(body) < len(data))
    declaration = _XML_DECLARATION.match(body)
    if declaration and not _VERSION_1_0.search(declaration["attributes"]):
        raise _Refused("not XML 1.0")
    if not _root_follows_prolog(body):
        raise _Refused("a DOCTYPE or other declaration")
    parser = etree.XMLParser(
        encoding="utf-8",
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(body, parser)
    except etree.XMLSyntaxError:
        raise _Refused("not well-formed") from None
    if root.getroottree().docinfo.internalDTD is not None:  # defence in depth: see the scan
        raise _Refused("a DOCTYPE")
    _check_namespaces(body, root)
    reader = _Reader(scoped_languages=b"xml:lang" in body)
    if root.tag == "rss":
        reader.rss(root)
    elif root.tag == f"{{{ATOM}}}feed":
        reader.atom(root)
    elif root.tag == f"{{{RDF}}}RDF":
        reader.rdf(root)
    else:
        raise _Refused("not RSS 2.0, RSS 1.0 or Atom 1.0")
    return reader.feed, reader.entries, problem


def _root_follows_prolog(body: bytes) -> bool:
    """Whether the root element follows a prolog of only white space, PIs and comments."""
    position = 0
    while part := _PROLOG_PART.match(body, position):
        position = part.end()
    return body[position : position + 1] == b"<" and body[position + 1 : position + 2] != b"!"


def _encoding_problem(body: bytes, headers: Mapping[str, str], bom: bool) -> str | None:
    """feedparser's complaint about the encoding or media type (its bozo message), if any.

    Refuses unless feedparser would end up decoding ``body`` as UTF-8, or as
    ASCII when it is all ASCII: its RFC 3023 rules pick an encoding from the
    HTTP charset, the media type and the XML declaration, then try others in
    turn, complaining when the first choice fails or the media type is not XML.
    """
    if "content-location" in headers or "content-language" in headers:
        raise _Refused("a base URI or language from HTTP")
    if body.startswith(_OTHER_MARKS) or b"\x00" in body[:4]:
        raise _Refused("a UTF-16, UTF-32 or EBCDIC mark")
    found = _FIRST_LINE_ENCODING.match(body)
    try:
        declared = found.group(1).decode("utf-8").lower() if found else ""
    except UnicodeDecodeError:  # feedparser raises on this
        raise _Refused("an encoding name that is not UTF-8") from None
    if bom and any(mark in declared for mark in ("16", "32", "ucs", "unicode")):
        raise _Refused("a UTF-16 or UTF-32 declaration after a UTF-8 byte order mark")
    media_type, charset = _content_type(headers.get("content-type") or "")
    xml = True
    if media_type in _XML_TYPES or (
        media_type.startswith("application/") and media_type.endswith("+xml")
    ):
        chosen = charset or declared or "utf-8"
    elif media_type in _TEXT_XML_TYPES or (
        media_type.startswith("text/") and media_type.endswith("+xml")
    ):
        chosen = charset or "us-ascii"
    elif media_type.startswith("text/"):
        chosen, xml = charset or "us-ascii", False
    elif headers and "content-type" not in headers:
        chosen, xml = declared or "iso-8859-1", False
    else:
        chosen, xml = declared or "utf-8", False
    problem = None
    if headers and not xml:
        problem = (
            f"{headers['content-type']} is not an XML media type"
            if "content-type" in headers
            else "no Content-type specified"
        )
    tried = []
    for candidate in (chosen, declared, "utf-8" if bom else "", _CHARDET, "utf-8"):
        if candidate is _CHARDET:
            if lazy_chardet_encoding is not None:
                raise _Refused("an encoding chardet would guess")
            continue
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        if _decodes_as_itself(body, candidate):
            break
    else:
        raise _Refused("not UTF-8")
    if candidate != chosen:
        problem = f"document declared as {chosen}, but parsed as {candidate}"
    return problem


def _decodes_as_itself(body: bytes, encoding: str) -> bool:
    """Whether feedparser's decoding with ``encoding`` succeeds, giving the UTF-8 reading.

    Refuses when it would succeed with another reading (windows-1252, say).
    """
    try:
        codec = codecs.lookup(encoding).name
    except LookupError:
        return False
    if codec == "ascii" or (codec != "utf-8" and body.isascii()):
        if not body.isascii():
            return False
        if not _reads_ascii_as_ascii(codec):
            raise _Refused(f"ASCII read as {encoding}")
        return True
    if codec == "utf-8":
        # Taken as valid without decoding it (that cost 4% of reading a feed): libxml2, told
        # the document is UTF-8, refuses it if it is not, and any document that is not UTF-8
        # is refused whichever candidate feedparser would have tried next.
        return True
    try:
        body.decode(codec)
    except UnicodeDecodeError:
        return False
    raise _Refused(f"read as {encoding}")


@functools.cache
def _reads_ascii_as_ascii(codec: str) -> bool:
    """Whether ``codec`` decodes every ASCII byte to the same character (UTF-7 does not)."""
    ascii_bytes = bytes(range(128))
    try:
        return ascii_bytes.decode(codec) == ascii_bytes.decode("ascii")
    except UnicodeDecodeError:
        return False


def _content_type(value: str) -> tuple[str, str]:
    """Media type and charset, read the way feedparser reads a Content-Type header."""
    media_type, *parameters = value.split(";")
    charset = ""
    for parameter in parameters:
        name, _, argument = parameter.partition("=")
        if name.strip().lower() == "charset":
            charset = argument.strip().strip("\"'")
    return media_type.strip(), charset


def _check_namespaces(body: bytes, root: etree._Element) -> None:
    """All declarations on the root, each prefix meaning for feedparser what it says."""
    declared = root.nsmap
    if body.count(b"xmlns") != len(declared):
        raise _Refused("namespaces declared below the root")
    known_prefixes = {p for p, uri in declared.items() if uri.lower() in _PREFIXES}
    unknown_uris: set[str] = set()
    for prefix, uri in declared.items():
        canonical = _PREFIXES.get(uri.lower())
        if "backend.userland.com/rss" in uri.lower():
            raise _Refused("a userland namespace")
        if canonical is None:
            if prefix is None or uri in unknown_uris:
                raise _Refused("an unknown default or doubly bound namespace")
            if prefix.lower() in _KNOWN_PREFIXES | {p.lower() for p in known_prefixes if p}:
                raise _Refused("an unknown namespace under a known prefix")
            unknown_uris.add(uri)
        elif prefix is not None and prefix in _KNOWN_PREFIXES and prefix != canonical:
            raise _Refused("a known prefix bound to another namespace")


def _name(element: etree._Element) -> str:
    """The element's name as feedparser dispatches on it (its prefix, lower case)."""
    tag = element.tag
    if not isinstance(tag, str):
        raise _Refused("an entity reference or other node")
    if tag[0] != "{":
        return tag.lower()
    uri, local = tag[1:].split("}", 1)
    prefix = _PREFIXES.get(uri.lower())
    if prefix is None:
        prefix = element.prefix.lower()
    return f"{prefix}_{local.lower()}" if prefix else local.lower()


def _attributes(element: etree._Element, rdf: bool = False) -> dict[str, str]:
    """Attributes as feedparser's handlers see them: names and rel/type values lower case."""
    found: dict[str, str] = {}
    for key, value in element.items():
        if key[0] == "{":
            if key == _XML_LANG:
                continue
            uri, local = key[1:].split("}", 1)
            if not (rdf and uri == RDF and local in ("about", "resource")):
                raise _Refused("a namespaced attribute")
            found[f"rdf:{local}"] = value
            key = local
        key = key.lower()
        if key in found or key in ("lang", "base", "xml:lang", "xml:base"):
            raise _Refused("an attribute feedparser reads twice or as xml:base/xml:lang")
        found[key] = value.lower() if key in ("rel", "type") else value
    return found


def _text(element: etree._Element) -> str:
    """The element's character data; markup inside it is feedparser's to interpret."""
    if len(element):
        raise _Refused("markup inside a text element")
    return element.text or ""


def _joined(uri: str) -> str:
    """feedparser's join of ``uri`` to an empty base: only "scheme:///x" changes."""
    return _urljoin("", uri) if ":///" in uri else uri


def _cooked(text: str, uri: bool = False) -> str:
    """What feedparser stores for an element's text (its ``pop``, sanitizer off)."""
    text = text.strip()
    if uri:
        text = _joined(text)
    if text.isascii():
        return text
    if not _BEYOND_LATIN_1.search(text):
        with suppress(UnicodeDecodeError):
            # UTF-8 read as Latin-1 somewhere upstream is read again as UTF-8.
            text = text.encode("iso-8859-1").decode("utf-8")
    # Substring tests: a regex class scan costs five times more on Hangul text.
    return text.translate(_cp1252) if any(c in text for c in _CP1252_MAPPED) else text


class _AuthorContext:
    """Lets feedparser's own author splitting run on one of our dicts."""

    def __init__(self, context: dict[str, Any]) -> None:
        self.context = context

    def _get_context(self) -> dict[str, Any]:
        return self.context


class _Reader:
    """One document's ``feed`` and ``entries``, built the way feedparser's handlers build them."""

    def __init__(self, scoped_languages: bool) -> None:
        self.scoped_languages = scoped_languages  # whether the document has xml:lang at all
        self.feed: dict[str, Any] = {}
        self.entries: list[dict[str, Any]] = []
        self.atom_version = False
        self.names: dict[object, str] = {}  # tag -> feedparser's name for it, in this document
        self.dates: dict[str, Any] = {}  # Atom repeats a date as published and updated

    def _language(self, element: etree._Element, inherited: str | None) -> str | None:
        """The xml:lang in scope ("" means none), as feedparser tracks it."""
        if not self.scoped_languages:
            return inherited
        lang = element.get(_XML_LANG)
        if lang is None:
            return inherited
        return lang or None

    def _name(self, element: etree._Element) -> str:
        tag = element.tag
        name = self.names.get(tag)
        if name is None:
            name = self.names[tag] = _name(element)
        return name

    def rss(self, root: etree._Element) -> None:
        if root.nsmap.get(None) is not None:
            raise _Refused("RSS in a namespace")
        _attributes(root)
        if not root.get("version", "").startswith("2."):
            raise _Refused("RSS other than 2.x")
        lang = self._language(root, None)
        if lang:
            self.feed["language"] = lang.replace("_", "-")
        channels = list(root)
        if len(channels) != 1 or self._name(channels[0]) != "channel":
            raise _Refused("RSS without exactly one channel")
        self._no_attributes(channels[0])  # feedparser reads lastmod and href on a channel
        self.channel(channels[0], lang)

    def atom(self, root: etree._Element) -> None:
        if root.nsmap.get(None) != ATOM or {RSS1, "http://my.netscape.com/rdf/simple/0.9/"} & set(
            root.nsmap.values()
        ):
            raise _Refused("Atom not in the default namespace, or with RSS 1.0")
        self.atom_version = True
        _attributes(root)
        lang = self._language(root, None)
        if lang:
            self.feed["language"] = lang.replace("_", "-")
        self.channel(root, lang)

    def rdf(self, root: etree._Element) -> None:
        if root.nsmap.get(None) != RSS1 or ATOM in root.nsmap.values():
            raise _Refused("RDF that is not plain RSS 1.0")
        _attributes(root, rdf=True)
        lang = self._language(root, None)  # feedparser takes no feed language from rdf:RDF
        seen_channel = False
        for child in root:
            name = self._name(child)
            if name == "channel" and not seen_channel:
                seen_channel = True
                if set(_attributes(child, rdf=True)) - {"rdf:about", "about"}:
                    raise _Refused("attributes on the channel")
                self.channel(child, self._language(child, lang), rdf=True)
            elif name == "item":
                self.entry(child, self._language(child, lang), rdf=True)
            elif name in ("image", "textinput") and seen_channel:
                # Before the channel, an image's title would hide the channel's from feedparser.
                self._inert_group(child, _GROUP_PARTS[name], rdf=True)
            else:
                raise _Refused(f"RSS 1.0 {name} outside the channel")

    def channel(self, channel: etree._Element, lang: str | None, rdf: bool = False) -> None:
        """The feed-level elements of an RSS channel or an Atom feed, and its entries."""
        feed = self.feed
        seen: set[str] = set()
        for child in channel:
            name = self._name(child)
            child_lang = self._language(child, lang)
            if name in ("item", "entry") and not rdf:
                self.entry(child, child_lang)
            elif name in _TITLES:
                self._once(seen, "title")
                feed["title"], feed["title_detail"] = self._content(child, child_lang, "text/plain")
            elif name == "link":
                self._link(feed, child, in_entry=False)
            elif name in ("id", "guid"):
                self._once(seen, "id")
                self._guid(feed, child)
            elif name in _UPDATED or name in _PUBLISHED:
                key = "updated" if name in _UPDATED else "published"
                self._once(seen, key)
                self._date(feed, key, child)
            elif name in ("language", "dc_language"):
                self._once(seen, "language")
                self._no_attributes(child)
                feed["language"] = _cooked(_text(child))
            elif name in _AUTHORS or name in ("managingeditor", "contributor"):
                if len(child):
                    self._person(child)
                else:
                    self._no_attributes(child)
            elif name in _CATEGORIES:
                self._category({}, child)
            elif name in _GROUP_PARTS:
                self._inert_group(child, _GROUP_PARTS[name], rdf=rdf)
            elif name == "items" and rdf:
                self._no_attributes(child)
                for part in child.iterdescendants():
                    if self._name(part) not in _RDF_LIST:
                        raise _Refused(f"{self._name(part)} in RSS 1.0 items")
                    _attributes(part, rdf=True)
            elif name in _INERT_IN_FEED or name in _INERT_MEDIA:
                _attributes(child)
                _text(child)
            elif name in _MEDIA_GROUPS:
                self._media_group(child, name)
            else:
                self._unknown(feed, child, name, rdf)

    def entry(self, item: etree._Element, lang: str | None, rdf: bool = False) -> None:
        entry: dict[str, Any] = {}
        attributes = _attributes(item, rdf=rdf)
        if set(attributes) - {"rdf:about", "about"}:
            raise _Refused("attributes on an entry")
        if attributes.get("rdf:about"):
            entry["id"] = attributes["rdf:about"]
        seen: set[str] = set()
        has_content = False
        names = self.names
        for child in item:
            name = names.get(child.tag) or self._name(child)
            child_lang = self._language(child, lang) if self.scoped_languages else lang
            if name in _TITLES:
                self._once(seen, "title")
                entry["title"], entry["title_detail"] = self._content(
                    child, child_lang, "text/plain"
                )
            elif name == "link":
                self._link(entry, child, in_entry=True)
            elif name == "enclosure":
                self._enclosure(entry, child)
            elif name in ("id", "guid"):
                self._once(seen, "id")
                self._guid(entry, child)
            elif name in ("description", "dc_description", "summary"):
                self._once(seen, "summary")
                if "summary" in entry and not has_content:
                    raise _Refused("a second summary, which feedparser takes for content")
                default = "text/plain" if name == "summary" else "text/html"
                entry["summary"], entry["summary_detail"] = self._content(
                    child, child_lang, default
                )
            elif name in ("content_encoded", "content"):
                self._once(seen, "content")
                has_content = True
                default = "text/html" if name == "content_encoded" else "text/plain"
                value, detail = self._content(child, child_lang, default)
                entry.setdefault("content", []).append(detail)
                if detail["type"] in _TEXT_TYPES:
                    entry.setdefault("summary", value)
            elif name in _UPDATED or name in _PUBLISHED:
                key = "updated" if name in _UPDATED else "published"
                self._once(seen, key)
                self._date(entry, key, child)
            elif name in _AUTHORS:
                self._once(seen, "author")
                self._author(entry, child)
            elif name == "contributor":
                self._person(child)
            elif name in _CATEGORIES:
                self._category(entry, child)
            elif name in _INERT_IN_ENTRY or name in _INERT_MEDIA:
                _attributes(child)
                _text(child)
            elif name in _MEDIA_GROUPS:
                self._media_group(child, name)
            else:
                self._unknown(entry, child, name, rdf)
        if "links" in entry:  # what feedparser's dict derives from the links on demand
            entry["enclosures"] = [
                {key: value for key, value in link.items() if key != "rel"}
                for link in entry["links"]
                if link["rel"] == "enclosure"
            ]
        self.entries.append(entry)

    @staticmethod
    def _once(seen: set[str], key: str) -> None:
        if key in seen:
            raise _Refused(f"a second {key}")
        seen.add(key)

    @staticmethod
    def _no_attributes(element: etree._Element) -> None:
        if _attributes(element):
            raise _Refused(f"attributes on {element.tag}")

    def _content(
        self, element: etree._Element, lang: str | None, default_type: str
    ) -> tuple[str, dict[str, Any]]:
        """A text construct's value and detail (type, language, base, value)."""
        attributes = _attributes(element)
        if attributes and attributes.keys() - {"type"}:
            raise _Refused("src, mode or other attributes on text")
        media_type = _FeedParserMixin.map_content_type(attributes.get("type", default_type))
        if media_type not in _PLAIN_OR_HTML:
            raise _Refused(f"content of type {media_type}")
        raw = _text(element).strip()
        if (
            not self.atom_version
            and media_type == "text/plain"
            and ("</" in raw or "&" in raw)  # looks_like_html needs a close tag or an entity
            and _FeedParserMixin.looks_like_html(raw)
        ):
            media_type = "text/html"
        value = _cooked(raw)
        language = lang.replace("_", "-") if lang else lang
        detail = {"type": media_type, "language": language, "base": "", "value": value}
        return value, detail

    def _link(self, context: dict[str, Any], element: etree._Element, in_entry: bool) -> None:
        attributes = _attributes(element)
        attributes.setdefault("rel", "alternate")
        self_link = attributes["rel"] == "self"
        attributes.setdefault("type", "application/atom+xml" if self_link else "text/html")
        attributes = _FeedParserMixin._enforce_href(attributes)  # noqa: SLF001 (its own rule)
        if "href" in attributes:
            _text(element)
            attributes["href"] = _joined(attributes["href"])
        link = dict(attributes)
        context.setdefault("links", []).append(link)
        if "href" in attributes:
            if (
                attributes["rel"] == "alternate"
                and _FeedParserMixin.map_content_type(attributes["type"]) in _HTML_TYPES
            ):
                context["link"] = attributes["href"]
            return
        value = _cooked(_text(element), uri=True)
        if in_entry:
            value = value.replace("&amp;", "&")
        if "&" in value:
            value = _NAMED_REFERENCE.sub(r"&\g<1>", value)
        context["link"] = value
        if value:
            link["href"] = value

    def _enclosure(self, entry: dict[str, Any], element: etree._Element) -> None:
        _text(element)
        attributes = _FeedParserMixin._enforce_href(_attributes(element))  # noqa: SLF001
        attributes["rel"] = "enclosure"
        entry.setdefault("links", []).append(attributes)

    def _guid(self, context: dict[str, Any], element: etree._Element) -> None:
        attributes = _attributes(element)
        if set(attributes) - {"ispermalink"}:
            raise _Refused("attributes on an id")
        is_link = attributes.get("ispermalink", "true") == "true"
        value = _cooked(_text(element), uri=is_link)
        context["id"] = value
        context.setdefault("guidislink", is_link and "link" not in context)
        if is_link:
            context.setdefault("link", value)

    def _date(self, context: dict[str, Any], key: str, element: etree._Element) -> None:
        self._no_attributes(element)
        value = _cooked(_text(element))
        context[key] = value
        if value not in self.dates:
            self.dates[value] = _parse_date(value)
        context[f"{key}_parsed"] = self.dates[value]

    def _author(self, entry: dict[str, Any], element: etree._Element) -> None:
        """The author (text, or Atom person parts) and feedparser's split of it."""
        self._no_attributes(element)
        entry["authors"] = [{}]
        if len(element):
            parts = self._person(element)
            if parts:
                entry["author_detail"] = dict(parts)
            entry["authors"][-1].update(parts)
            entry["author"] = ""
        else:
            author = entry["author"] = _cooked(_text(element))
            if "@" not in author:  # feedparser's split looks for an e-mail address only
                if author:
                    entry["author_detail"] = {"name": author}
                return
        _FeedParserMixin._sync_author_detail(_AuthorContext(entry))  # noqa: SLF001

    def _person(self, element: etree._Element) -> dict[str, str]:
        """An Atom person's parts by feedparser's names; markup or unknown parts are refused."""
        self._no_attributes(element)
        if (element.text or "").strip():
            raise _Refused("text beside person parts")
        parts = {}
        for part in element:
            key = _PERSON_PARTS.get(self._name(part))
            if key is None or key in parts or (part.tail or "").strip():
                raise _Refused("an unexpected person part")
            self._no_attributes(part)
            text = _text(part)
            parts[key] = _cooked(text, uri=True) if key == "href" else text.strip()
        return parts

    def _category(self, context: dict[str, Any], element: etree._Element) -> None:
        attributes = _attributes(element)
        if set(attributes) - {"term", "scheme", "domain", "label"}:
            raise _Refused("attributes on a category")
        tags = context.setdefault("tags", [])
        if attributes.get("term"):
            tags.append({"term": attributes["term"]})
        value = _cooked(_text(element))
        if value:
            tags.append({"term": value})

    def _inert_group(self, element: etree._Element, parts: set[str], rdf: bool = False) -> None:
        """<image> or <textInput> of a channel: feedparser keeps them apart from the feed's keys."""
        _attributes(element, rdf=rdf)
        for part in element:
            if self._name(part) not in parts:
                raise _Refused(f"{self._name(part)} in {element.tag}")
            _attributes(part)
            _text(part)

    def _media_group(self, element: etree._Element, name: str) -> None:
        """media:content or media:group: inert, provided what they enclose is inert too."""
        _attributes(element)
        for part in element:
            part_name = self._name(part)
            if part_name not in _MEDIA_GROUPS[name]:
                raise _Refused(f"{part_name} in {name}")
            if part_name in _MEDIA_GROUPS:
                self._media_group(part, part_name)
            else:
                _attributes(part)
                _text(part)

    def _unknown(
        self, context: dict[str, Any], element: etree._Element, name: str, rdf: bool
    ) -> None:
        """An element feedparser has no handler for: stored under its name, which must be free."""
        if name in _HANDLED or name in _RESERVED:
            raise _Refused(f"element {name}")
        attributes = _attributes(element, rdf=rdf)
        if attributes:
            context[name] = attributes
            for part in element:
                self._unknown({}, part, self._name(part), rdf)
            return
        context[name] = _cooked(_text(element), uri=name in _FeedParserMixin.can_be_relative_uri)
