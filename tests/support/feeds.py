"""Feed documents and entries the tests build."""

from lxml import etree

from aggregator.types import StoredItem

WIRE_TEXT = " ".join(
    f"Paragraph {n}: the unification ministry said on Monday that it had proposed working-level "
    f"talks with North Korea on reopening the liaison office at the border village of Panmunjom, "
    f"while officials in Seoul weighed the response from Pyongyang number {n}."
    for n in range(6)
)


def wire_feed(site: str, title: str, extra: str = "") -> bytes:
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{site}</title>"
        f"<link>https://{site}.example/</link><item><title>{title}</title>"
        f"<link>https://{site}.example/story?utm_source=rss</link>"
        f"<pubDate>Mon, 09 Jun 2025 0{len(extra) % 9}:00:00 +0000</pubDate>"
        f"<description>&lt;p&gt;{WIRE_TEXT}{extra}&lt;/p&gt;</description></item></channel></rss>"
    ).encode()


def add_links_source_and_language(entry: etree._Element, item: StoredItem, source_id: str) -> None:
    """An entry's links with all their attributes, its complete atom:source and its xml:lang."""
    links = [{"href": item.link, "rel": "alternate", "type": "text/html"}] if item.link else []
    links += [
        {"href": r.link, "rel": "related", "title": r.source_title}
        for r in item.also_reported_by
        if r.link
    ]
    for enclosure in item.enclosures:
        links.append({"href": enclosure.url, "rel": "enclosure"})
        if enclosure.type is not None:
            links[-1]["type"] = enclosure.type
        if enclosure.length is not None:
            links[-1]["length"] = str(enclosure.length)
    for attributes in links:
        etree.SubElement(entry, "link", attributes)
    source = etree.SubElement(entry, "source")
    etree.SubElement(source, "id").text = source_id
    etree.SubElement(source, "title").text = item.site_name or item.source_title
    etree.SubElement(source, "updated").text = (item.source_updated or item.updated).isoformat()
    if item.source_link:
        etree.SubElement(source, "link", rel="alternate", href=item.source_link)
    if item.language:
        entry.set("{http://www.w3.org/XML/1998/namespace}lang", item.language)


def laughs(prolog_padding: str = "") -> str:
    levels = "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 11)
    ).replace("&l0;", "lol")
    return (
        f'<?xml version="1.0"?>{prolog_padding}<!DOCTYPE x [{levels}]>'
        "<rss version='2.0'><channel><title>&l10;</title><item><title>&l10;</title>"
        "<link>https://x.example/2</link></item></channel></rss>"
    )


def web_rss(*titles: str, extra: str = "", encoding: str = "utf-8", site: str = "news") -> bytes:
    """An RSS feed of one item per title, as a news site on 127.0.0.1 would serve it."""
    items = "".join(
        f"<item><title>{t}</title><link>https://{site}.example/{i}</link>"
        f"<guid>https://{site}.example/{i}</guid>"
        f"<pubDate>Mon, 09 Jun 2025 0{i % 10}:00:00 +0000</pubDate>"
        f"<description>&lt;p&gt;{t}: the unification ministry said talks "
        f"with North Korea could resume.&lt;/p&gt;</description></item>"
        for i, t in enumerate(titles)
    )
    document = (
        f'<?xml version="1.0" encoding="{encoding}"?><rss version="2.0"><channel>'
        f"<title>Peninsula Wire</title><link>https://news.example/</link>{extra}{items}"
        "</channel></rss>"
    )
    return document.encode(encoding)
