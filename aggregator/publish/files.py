"""Atomic writes into the feeds folder, and the cleanup after a run that was killed."""

import logging
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

log = logging.getLogger("aggregator.publish")


_TEMPORARY = re.compile(r"^\.[a-z0-9-]+\.(?:xml|html|opml)\.[A-Za-z0-9_]+$")


# Present while a regeneration writes the feeds folder: found at the start of the next
# one, it tells that one that the last did not finish.
_WRITING = ".writing"


@contextmanager
def writing(folder: Path) -> Iterator[None]:
    """Mark the feeds folder as being written for the block; after a run that did not
    finish (killed, or failed), first remove the temporary files it left.

    Finding them means listing every archive folder, which grows with the store (at a
    million items, more than half of a regeneration: RESULTS.md), so it is done only after
    such a run. The mark stays when the block fails. In a folder that takes no new file
    there is no mark, and no temporary file either: the writes report what they cannot do.
    """
    marker = folder / _WRITING
    if marker.exists():
        remove_temporaries(folder)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        marker.touch()
    except OSError as error:
        log.debug("cannot mark %s as being written: %s", folder, error.strerror)
    yield
    with suppress(OSError):  # the next run looks for leftovers once more, no harm done
        marker.unlink(missing_ok=True)


def remove_temporaries(folder: Path) -> int:
    """Delete temporary files a killed run left beside the published ones; how many.

    ``write_if_changed`` removes its temporary file on any error, but not when the
    process is killed outright. Only the one regenerating process (it holds the cycle
    lock) writes here, so whatever temporary file exists now is such a leftover.
    """
    removed = 0
    for directory in [folder, *folder.glob("archive/*")]:
        for path in directory.glob(".*"):
            if _TEMPORARY.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("removed %d temporary files left by an interrupted run", removed)
    return removed


def write_if_changed(path: Path, content: bytes) -> bool:
    """Atomically replace ``path`` with ``content`` unless it already holds exactly that.

    The bytes go to a temporary file beside the target, are fsynced, and are
    renamed over it: a reader or a crash sees the old file or the new one,
    never a torn one. Returns True when the file was written.
    """
    try:
        if path.read_bytes() == content:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    log.info("wrote %s (%d bytes)", path, len(content))
    return True
