"""One document's ``feed`` and ``entries``, built the way feedparser's handlers build them."""

from typing import Any

from lxml import etree

from aggregator.ingest.feedparser_compat import (
    CAN_BE_RELATIVE_URI,
    HANDLED,
    HTML_TYPES,
    enforce_href,
    looks_like_html,
    map_content_type,
    parse_date,
    sync_author_detail,
)
from aggregator.ingest.xmlencoding import Refused
from aggregator.ingest.xmlnames import (
    ATOM,
    AUTHORS,
    CATEGORIES,
    GROUP_PARTS,
    INERT_IN_ENTRY,
    INERT_IN_FEED,
    INERT_MEDIA,
    MEDIA_GROUPS,
    NAMED_REFERENCE,
    PERSON_PARTS,
    PLAIN_OR_HTML,
    PUBLISHED,
    RDF_LIST,
    RESERVED,
    RSS1,
    TEXT_TYPES,
    TITLES,
    UPDATED,
    XML_LANG,
    attributes_of,
    cooked,
    element_name,
    joined,
    text_of,
)


class Reader:
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
        lang = element.get(XML_LANG)
        if lang is None:
            return inherited
        return lang or None

    def _name(self, element: etree._Element) -> str:
        tag = element.tag
        name = self.names.get(tag)
        if name is None:
            name = self.names[tag] = element_name(element)
        return name

    def rss(self, root: etree._Element) -> None:
        if root.nsmap.get(None) is not None:
            raise Refused("RSS in a namespace")
        attributes_of(root)
        if not root.get("version", "").startswith("2."):
            raise Refused("RSS other than 2.x")
        lang = self._language(root, None)
        if lang:
            self.feed["language"] = lang.replace("_", "-")
        channels = list(root)
        if len(channels) != 1 or self._name(channels[0]) != "channel":
            raise Refused("RSS without exactly one channel")
        self._no_attributes(channels[0])  # feedparser reads lastmod and href on a channel
        self.channel(channels[0], lang)

    def atom(self, root: etree._Element) -> None:
        if root.nsmap.get(None) != ATOM or {RSS1, "http://my.netscape.com/rdf/simple/0.9/"} & set(
            root.nsmap.values()
        ):
            raise Refused("Atom not in the default namespace, or with RSS 1.0")
        self.atom_version = True
        attributes_of(root)
        lang = self._language(root, None)
        if lang:
            self.feed["language"] = lang.replace("_", "-")
        self.channel(root, lang)

    def rdf(self, root: etree._Element) -> None:
        if root.nsmap.get(None) != RSS1 or ATOM in root.nsmap.values():
            raise Refused("RDF that is not plain RSS 1.0")
        attributes_of(root, rdf=True)
        lang = self._language(root, None)  # feedparser takes no feed language from rdf:RDF
        seen_channel = False
        for child in root:
            name = self._name(child)
            if name == "channel" and not seen_channel:
                seen_channel = True
                if set(attributes_of(child, rdf=True)) - {"rdf:about", "about"}:
                    raise Refused("attributes on the channel")
                self.channel(child, self._language(child, lang), rdf=True)
            elif name == "item":
                self.entry(child, self._language(child, lang), rdf=True)
            elif name in ("image", "textinput") and seen_channel:
                # Before the channel, an image's title would hide the channel's from feedparser.
                self._inert_group(child, GROUP_PARTS[name], rdf=True)
            else:
                raise Refused(f"RSS 1.0 {name} outside the channel")

    def channel(self, channel: etree._Element, lang: str | None, rdf: bool = False) -> None:
        """The feed-level elements of an RSS channel or an Atom feed, and its entries."""
        feed = self.feed
        seen: set[str] = set()
        for child in channel:
            name = self._name(child)
            child_lang = self._language(child, lang)
            if name in ("item", "entry") and not rdf:
                self.entry(child, child_lang)
            elif name in TITLES:
                self._once(seen, "title")
                feed["title"], feed["title_detail"] = self._content(child, child_lang, "text/plain")
            elif name == "link":
                self._link(feed, child, in_entry=False)
            elif name in ("id", "guid"):
                self._once(seen, "id")
                self._guid(feed, child)
            elif name in UPDATED or name in PUBLISHED:
                key = "updated" if name in UPDATED else "published"
                self._once(seen, key)
                self._date(feed, key, child)
            elif name in ("language", "dc_language"):
                self._once(seen, "language")
                self._no_attributes(child)
                feed["language"] = cooked(text_of(child))
            elif name in AUTHORS or name in ("managingeditor", "contributor"):
                if len(child):
                    self._person(child)
                else:
                    self._no_attributes(child)
            elif name in CATEGORIES:
                self._category({}, child)
            elif name in GROUP_PARTS:
                self._inert_group(child, GROUP_PARTS[name], rdf=rdf)
            elif name == "items" and rdf:
                self._no_attributes(child)
                for part in child.iterdescendants():
                    if self._name(part) not in RDF_LIST:
                        raise Refused(f"{self._name(part)} in RSS 1.0 items")
                    attributes_of(part, rdf=True)
            elif name in INERT_IN_FEED or name in INERT_MEDIA:
                attributes_of(child)
                text_of(child)
            elif name in MEDIA_GROUPS:
                self._media_group(child, name)
            else:
                self._unknown(feed, child, name, rdf)

    def entry(self, item: etree._Element, lang: str | None, rdf: bool = False) -> None:
        entry: dict[str, Any] = {}
        attributes = attributes_of(item, rdf=rdf)
        if set(attributes) - {"rdf:about", "about"}:
            raise Refused("attributes on an entry")
        if attributes.get("rdf:about"):
            entry["id"] = attributes["rdf:about"]
        seen: set[str] = set()
        has_content = False
        names = self.names
        for child in item:
            name = names.get(child.tag) or self._name(child)
            child_lang = self._language(child, lang) if self.scoped_languages else lang
            if name in TITLES:
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
                    raise Refused("a second summary, which feedparser takes for content")
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
                if detail["type"] in TEXT_TYPES:
                    entry.setdefault("summary", value)
            elif name in UPDATED or name in PUBLISHED:
                key = "updated" if name in UPDATED else "published"
                self._once(seen, key)
                self._date(entry, key, child)
            elif name in AUTHORS:
                self._once(seen, "author")
                self._author(entry, child)
            elif name == "contributor":
                self._person(child)
            elif name in CATEGORIES:
                self._category(entry, child)
            elif name in INERT_IN_ENTRY or name in INERT_MEDIA:
                attributes_of(child)
                text_of(child)
            elif name in MEDIA_GROUPS:
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
            raise Refused(f"a second {key}")
        seen.add(key)

    @staticmethod
    def _no_attributes(element: etree._Element) -> None:
        if attributes_of(element):
            raise Refused(f"attributes on {element.tag}")

    def _content(
        self, element: etree._Element, lang: str | None, default_type: str
    ) -> tuple[str, dict[str, Any]]:
        """A text construct's value and detail (type, language, base, value)."""
        attributes = attributes_of(element)
        if attributes and attributes.keys() - {"type"}:
            raise Refused("src, mode or other attributes on text")
        media_type = map_content_type(attributes.get("type", default_type))
        if media_type not in PLAIN_OR_HTML:
            raise Refused(f"content of type {media_type}")
        raw = text_of(element).strip()
        if (
            not self.atom_version
            and media_type == "text/plain"
            and ("</" in raw or "&" in raw)  # looks_like_html needs a close tag or an entity
            and looks_like_html(raw)
        ):
            media_type = "text/html"
        value = cooked(raw)
        language = lang.replace("_", "-") if lang else lang
        detail = {"type": media_type, "language": language, "base": "", "value": value}
        return value, detail

    def _link(self, context: dict[str, Any], element: etree._Element, in_entry: bool) -> None:
        attributes = attributes_of(element)
        attributes.setdefault("rel", "alternate")
        self_link = attributes["rel"] == "self"
        attributes.setdefault("type", "application/atom+xml" if self_link else "text/html")
        attributes = enforce_href(attributes)
        if "href" in attributes:
            text_of(element)
            attributes["href"] = joined(attributes["href"])
        link = dict(attributes)
        context.setdefault("links", []).append(link)
        if "href" in attributes:
            if (
                attributes["rel"] == "alternate"
                and map_content_type(attributes["type"]) in HTML_TYPES
            ):
                context["link"] = attributes["href"]
            return
        value = cooked(text_of(element), uri=True)
        if in_entry:
            value = value.replace("&amp;", "&")
        if "&" in value:
            value = NAMED_REFERENCE.sub(r"&\g<1>", value)
        context["link"] = value
        if value:
            link["href"] = value

    def _enclosure(self, entry: dict[str, Any], element: etree._Element) -> None:
        text_of(element)
        attributes = enforce_href(attributes_of(element))
        attributes["rel"] = "enclosure"
        entry.setdefault("links", []).append(attributes)

    def _guid(self, context: dict[str, Any], element: etree._Element) -> None:
        attributes = attributes_of(element)
        if set(attributes) - {"ispermalink"}:
            raise Refused("attributes on an id")
        is_link = attributes.get("ispermalink", "true") == "true"
        value = cooked(text_of(element), uri=is_link)
        context["id"] = value
        context.setdefault("guidislink", is_link and "link" not in context)
        if is_link:
            context.setdefault("link", value)

    def _date(self, context: dict[str, Any], key: str, element: etree._Element) -> None:
        self._no_attributes(element)
        value = cooked(text_of(element))
        context[key] = value
        if value not in self.dates:
            self.dates[value] = parse_date(value)
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
            author = entry["author"] = cooked(text_of(element))
            if "@" not in author:  # feedparser's split looks for an e-mail address only
                if author:
                    entry["author_detail"] = {"name": author}
                return
        sync_author_detail(entry)

    def _person(self, element: etree._Element) -> dict[str, str]:
        """An Atom person's parts by feedparser's names; markup or unknown parts are refused."""
        self._no_attributes(element)
        if (element.text or "").strip():
            raise Refused("text beside person parts")
        parts = {}
        for part in element:
            key = PERSON_PARTS.get(self._name(part))
            if key is None or key in parts or (part.tail or "").strip():
                raise Refused("an unexpected person part")
            self._no_attributes(part)
            text = text_of(part)
            parts[key] = cooked(text, uri=True) if key == "href" else text.strip()
        return parts

    def _category(self, context: dict[str, Any], element: etree._Element) -> None:
        attributes = attributes_of(element)
        if set(attributes) - {"term", "scheme", "domain", "label"}:
            raise Refused("attributes on a category")
        tags = context.setdefault("tags", [])
        if attributes.get("term"):
            tags.append({"term": attributes["term"]})
        value = cooked(text_of(element))
        if value:
            tags.append({"term": value})

    def _inert_group(self, element: etree._Element, parts: set[str], rdf: bool = False) -> None:
        """<image> or <textInput> of a channel: feedparser keeps them apart from the feed's keys."""
        attributes_of(element, rdf=rdf)
        for part in element:
            if self._name(part) not in parts:
                raise Refused(f"{self._name(part)} in {element.tag}")
            attributes_of(part)
            text_of(part)

    def _media_group(self, element: etree._Element, name: str) -> None:
        """media:content or media:group: inert, provided what they enclose is inert too."""
        attributes_of(element)
        for part in element:
            part_name = self._name(part)
            if part_name not in MEDIA_GROUPS[name]:
                raise Refused(f"{part_name} in {name}")
            if part_name in MEDIA_GROUPS:
                self._media_group(part, part_name)
            else:
                attributes_of(part)
                text_of(part)

    def _unknown(
        self, context: dict[str, Any], element: etree._Element, name: str, rdf: bool
    ) -> None:
        """An element feedparser has no handler for: stored under its name, which must be free."""
        if name in HANDLED or name in RESERVED:
            raise Refused(f"element {name}")
        attributes = attributes_of(element, rdf=rdf)
        if attributes:
            context[name] = attributes
            for part in element:
                self._unknown({}, part, self._name(part), rdf)
            return
        context[name] = cooked(text_of(element), uri=name in CAN_BE_RELATIVE_URI)
