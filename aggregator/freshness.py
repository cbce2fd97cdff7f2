"""Whether the published files are current, so ``update`` skips a regeneration that would
render every feed only to find it unchanged (issue #22; the 304 round of ``bench_pipeline``).

A complete regeneration records in meta what its files were made from: the changes marker
its render covered (``store.changes``) and a digest of the rest, that is the settings, the
topic files (``app.rules_digest``, so an update that changed nothing reads no rules) and
aggregator's own code. The files are current while that record still matches and the
files every regeneration writes (each feed and its page, the index, the feed list) are in
the feeds folder. Anything else regenerates: no record (a store never regenerated, a
regeneration that failed or was killed midway), a write since, an edited config, rule or
module, a file deleted by hand. ``aggregator regenerate`` always renders.
"""

import dataclasses
import hashlib
import json
import os

from sqlalchemy import select

import aggregator
from aggregator.app import Aggregator, rules_digest
from aggregator.identity import ALL_FEED
from aggregator.store import changes
from aggregator.store.schema import meta

PUBLISHED = "published"


def _code_digest() -> str:
    """aggregator's modules by name, size and modification time, and its version: another
    release or an edited module may render differently. Walked with ``os.walk``, skipping
    the bytecode folders ``Path.rglob`` would list too: every run starts here (issue #22)."""
    package = os.path.dirname(aggregator.__file__)
    modules = []
    for folder, folders, names in os.walk(package):
        folders[:] = [name for name in folders if name != "__pycache__"]
        for name in filter(lambda name: name.endswith(".py"), names):
            path = os.path.join(folder, name)
            found = os.stat(path)
            modules.append(f"{os.path.relpath(path, package)} {found.st_size} {found.st_mtime_ns}")
    digest = hashlib.sha256(aggregator.__version__.encode())
    for line in sorted(modules):
        digest.update(f"{line}\n".encode())
    return digest.hexdigest()


# Read at import, as the process starts: a daemon goes on running the code it started
# with after a newer release is installed beside it, and must not record that one's.
_CODE = _code_digest()


def _plain(value: object) -> object:
    """What JSON cannot write itself: sets in a stable order, anything else by its repr."""
    if isinstance(value, set | frozenset):
        return sorted(value)
    return repr(value)


def made_from(app: Aggregator, rules: str) -> str:
    """A digest of what the files are made from besides the stored items, with the topic
    files' digest ``rules``.

    The sources list is left out: it changes the feeds only through what is then stored,
    which moves the marker (and it is the settings' largest part by far).
    """
    settings = dataclasses.asdict(dataclasses.replace(app.settings, sources=()))
    digest = hashlib.sha256(f"{_CODE} {rules}".encode())
    digest.update(json.dumps(settings, default=_plain, sort_keys=True).encode())
    return digest.hexdigest()


def covered(app: Aggregator) -> int:
    """The changes marker now, read before a regeneration reads what it publishes: every
    write it counts is one the regeneration sees."""
    with app.storage.engine.connect() as connection:
        return changes.stored(connection)


def record(app: Aggregator, marker: int) -> None:
    """Say that a complete regeneration published every change up to ``marker``; unless its
    topic rules were not read from the files (given by a test, or reloaded by the daemon),
    when what they were made from is not known."""
    if app.rules_read is None:
        return
    with app.storage.transaction() as tx:
        tx.set_meta(PUBLISHED, f"{marker} {made_from(app, app.rules_read)}")


def current(app: Aggregator) -> bool:
    """Whether the files the last complete regeneration wrote are what one would write now."""
    folder = app.settings.feeds_dir
    names = ["index.html", "feeds.opml"]
    names += [f"{key}.{kind}" for key in [ALL_FEED, *app.topic_ids()] for kind in ("xml", "html")]
    if not all((folder / name).is_file() for name in names):
        return False
    with app.storage.engine.connect() as connection:
        marker = changes.stored(connection)
        recorded = connection.execute(select(meta.c.value).where(meta.c.key == PUBLISHED)).scalar()
    return recorded == f"{marker} {made_from(app, rules_digest(app.settings.topics_dir))}"
