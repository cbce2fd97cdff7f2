"""What feedparser would decode a document's bytes as: the fast reader takes only UTF-8
(or ASCII), decided by feedparser's own rules (RFC 3023, then its fallbacks)."""

import codecs
import functools
import re
from collections.abc import Mapping

import feedparser

from aggregator.ingest.feedparser_compat import (
    CHARDET,
)
from aggregator.ingest.fields import looks_korean

# What feedparser takes for the declared encoding: a first-line processing instruction's.
_FIRST_LINE_ENCODING = re.compile(rb"""^<\?.*encoding=['"](.*?)['"].*\?>""")
_XML_TYPES = ("application/xml", "application/xml-dtd", "application/xml-external-parsed-entity")
_TEXT_XML_TYPES = ("text/xml", "text/xml-external-parsed-entity")
# Byte order marks and first bytes from which feedparser infers UTF-16, UTF-32 or EBCDIC.
_OTHER_MARKS = (b"\xfe\xff", b"\xff\xfe", b"\x4c\x6f\xa7\x94")
# Where feedparser would ask chardet to guess (when chardet is installed).
_CHARDET = object()


class Refused(Exception):
    """The document needs feedparser: something here is not handled with certainty."""


def encoding_problem(body: bytes, headers: Mapping[str, str], bom: bool) -> str | None:
    """feedparser's complaint about the encoding or media type (its bozo message), if any.

    Refuses unless feedparser would end up decoding ``body`` as UTF-8, or as
    ASCII when it is all ASCII: its RFC 3023 rules pick an encoding from the
    HTTP charset, the media type and the XML declaration, then try others in
    turn, complaining when the first choice fails or the media type is not XML.
    """
    if "content-location" in headers or "content-language" in headers:
        raise Refused("a base URI or language from HTTP")
    if body.startswith(_OTHER_MARKS) or b"\x00" in body[:4]:
        raise Refused("a UTF-16, UTF-32 or EBCDIC mark")
    found = _FIRST_LINE_ENCODING.match(body)
    try:
        declared = found.group(1).decode("utf-8").lower() if found else ""
    except UnicodeDecodeError:  # feedparser raises on this
        raise Refused("an encoding name that is not UTF-8") from None
    if bom and any(mark in declared for mark in ("16", "32", "ucs", "unicode")):
        raise Refused("a UTF-16 or UTF-32 declaration after a UTF-8 byte order mark")
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
            if CHARDET is not None:
                raise Refused("an encoding chardet would guess")
            continue
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        if _decodes_as_itself(body, candidate):
            break
    else:
        raise Refused("not UTF-8")
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
            raise Refused(f"ASCII read as {encoding}")
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
    raise Refused(f"read as {encoding}")


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


_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
_XML_DECLARED_ENCODING = re.compile(r"^(\s*<\?xml[^>]*?)\s+encoding\s*=\s*[\"'][^\"']*[\"']")


def utf8_if_utf16(data: bytes) -> bytes:
    """UTF-16 (with a BOM) re-encoded as UTF-8, so the byte-level DOCTYPE check sees it."""
    if not data.startswith(_UTF16_BOMS):
        return data
    text = data.decode("utf-16", "replace")
    return _XML_DECLARED_ENCODING.sub(r"\1", text, count=1).encode("utf-8")


def undeclared_korean(data: bytes, parsed: feedparser.FeedParserDict) -> bool:
    """feedparser fell back to a Western charset for bytes that read as Korean in CP949."""
    if not isinstance(parsed.get("bozo_exception"), feedparser.CharacterEncodingOverride):
        return False
    if parsed.get("encoding", "").lower() not in {"windows-1252", "iso-8859-1", "iso-8859-2"}:
        return False
    try:
        return looks_korean(data.decode("cp949"))
    except UnicodeDecodeError:
        return False
