"""Labelled sets that point into saved feed files, resolved into the items ingestion would make.

Real outlets' feeds (``../shared/realworld``) must not be copied into the
repository (issue 17), so their labels name an entry instead of holding its text,
one JSON object per line::

    {"file": "knews-rss/2022-07-23/hani-politics.xml", "guid": "...", "link": "...",
     "lang": "ko", "topics": ["inter-korean"], "borderline": false, "split": "tune",
     "note": "why"}

``file`` is relative to the folder of saved feeds. The file is read with the
project's own feed parser (``parse_feed``) and the entry's text taken as ingestion
hands it to the classifier (the title, and the sanitized content as plain text), so
a label measures what the feeds would publish, not what a different parser sees.

A line without ``file`` is an example written out in full (``evaluation.Example``).
A label that names no readable file or no entry in it is reported and skipped; the
others are still measured.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from aggregator.errors import InputError
from aggregator.evaluation import Example, example_from_json, label_fields
from aggregator.ingest.feeds import parse_feed
from aggregator.ingest.fields import guess_language
from aggregator.text import html_to_text
from aggregator.types import ItemData, LabelSplit

# Dates play no part in a label; the zone only has to be a valid one for the parser.
_ZONE = ZoneInfo("Asia/Seoul")
SPLITS = tuple(LabelSplit)


@dataclass(frozen=True)
class LabelledSet:
    """The examples a labels file gives, and the lines that could not be used (each naming
    the labels file, its line and what is wrong)."""

    examples: tuple[Example, ...]
    problems: tuple[str, ...]


def default_feeds_folder(labels: Path) -> Path | None:
    """The saved feeds beside the checkout the labels file is in: the first ``shared/realworld``
    found going up from it (the repository's ``../shared/realworld``)."""
    for folder in labels.resolve().parents:
        candidate = folder / "shared" / "realworld"
        if candidate.is_dir():
            return candidate
    return None


class _Feeds:
    """Saved feed files parsed once each, with their entries found by guid or by link."""

    def __init__(self, root: Path | None) -> None:
        self.root = root
        self._entries: dict[str, dict[str, ItemData]] = {}

    def entry(self, file: str, guid: str | None, link: str | None) -> ItemData:
        entries = self._entries.get(file)
        if entries is None:
            entries = self._entries[file] = self._read(file)
        for key in (guid, link):
            if key and key in entries:
                return entries[key]
        wanted = f"guid {guid!r}" if guid else f"link {link!r}"
        raise ValueError(f"no entry with {wanted} in {file}")

    def _read(self, file: str) -> dict[str, ItemData]:
        if self.root is None:
            raise ValueError(f"{file}: no folder of saved feeds (shared/realworld) found")
        path = self.root / file
        try:
            data = parse_feed(path.read_bytes(), source_key=file, zone=_ZONE)
        except OSError as error:
            raise ValueError(f"{path}: cannot read: {error.strerror}") from None
        except InputError as error:
            raise ValueError(f"{path}: {error.reason}") from None
        entries: dict[str, ItemData] = {}
        for item in data.items:  # by guid first; a link only where no guid took it
            entries.setdefault(item.key, item)
        for item in data.items:
            if item.link:
                entries.setdefault(item.link, item)
        return entries


def _optional_text(raw: dict[str, object], key: str) -> str | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key!r} must be a string or null")
    return value or None


def _reference(raw: dict[str, object], feeds: _Feeds) -> Example:
    file = raw["file"]
    if not isinstance(file, str) or not file.strip():
        raise ValueError("'file' must be a path relative to the folder of saved feeds")
    guid, link = _optional_text(raw, "guid"), _optional_text(raw, "link")
    if not guid and not link:
        raise ValueError("a label needs a 'guid' or a 'link' to find its entry")
    split = raw.get("split")
    if split is not None and split not in SPLITS:
        raise ValueError(f"'split' must be one of {', '.join(SPLITS)}")
    topics, borderline = label_fields(raw)
    item = feeds.entry(file, guid, link)
    body = html_to_text(item.content_html)
    language = _optional_text(raw, "lang") or item.language or guess_language(item.title + body)
    return Example(
        id=f"{file}#{guid or link}",
        title=item.title,
        body=body,
        topics=topics,
        note=_optional_text(raw, "note") or "",
        language=language,
        borderline=borderline,
        split=split,
    )


def load_labelled(
    path: Path, feeds_folder: Path | None = None, split: str | None = None
) -> LabelledSet:
    """Every usable line of a labels file as an Example; the others as problems.

    ``feeds_folder`` is where ``file`` references are resolved (by default the
    ``shared/realworld`` found going up from the labels file). With ``split``, only the
    labels of that split are read into items: the others' texts are never looked at.
    OSError when the labels file itself cannot be read.
    """
    feeds = _Feeds(feeds_folder or default_feeds_folder(path))
    examples: list[Example] = []
    problems: list[str] = []
    seen: dict[str, int] = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            if not isinstance(raw, dict):
                raise ValueError("must be a JSON object")
            if split is not None and raw.get("split") != split:
                continue
            example = _reference(raw, feeds) if "file" in raw else example_from_json(raw)
        except (json.JSONDecodeError, ValueError) as error:
            problems.append(f"{path}:{number}: not a usable label: {error}")
            continue
        if example.id in seen:
            first = seen[example.id]
            problems.append(f"{path}:{number}: {example.id} already labelled on line {first}")
            continue
        seen[example.id] = number
        examples.append(example)
    return LabelledSet(tuple(examples), tuple(problems))
