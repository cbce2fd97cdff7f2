"""Atomic writes into the feeds folder, and the cleanup after a run that was killed."""

import logging
import os
import re
import tempfile
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import NamedTuple

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
    for directory in [folder, folder / "stories", *folder.glob("archive/*")]:
        for path in directory.glob(".*"):
            if _TEMPORARY.match(path.name) and path.is_file():
                path.unlink(missing_ok=True)
                removed += 1
    if removed:
        log.info("removed %d temporary files left by an interrupted run", removed)
    return removed


# Files whose contents are synced together: one open descriptor each until then.
FILES_PER_SYNC = 64
# fsyncs issued at once: the file system and the disk serve them together (ext4 commits
# them in one journal transaction) where one after another each waited for the disk, ~2 ms
# a file for a first regeneration's thousands of archive pages (RESULTS.md, issue #22).
SYNC_THREADS = 16


class Written(NamedTuple):
    """What ``write_changed`` did: files replaced, files already holding their bytes, and the
    file it stopped at with its error (it and the files after it were left as they were)."""

    changed: list[Path]
    unchanged: list[Path]
    failed: Path | None = None
    error: OSError | None = None


def write_if_changed(path: Path, content: bytes) -> bool:
    """Atomically replace ``path`` with ``content`` unless it already holds exactly that;
    whether it was written. An error writing it is raised."""
    done = write_changed([(path, content)])
    if done.error is not None:
        raise done.error
    return bool(done.changed)


def write_changed(files: Sequence[tuple[Path, bytes]]) -> Written:
    """Atomically replace each file whose bytes would change, in order, stopping at the
    first that cannot be written.

    Each file's bytes go to a temporary file beside it; the temporary files are fsynced
    together, then renamed over their targets in order, then each folder is fsynced
    once. A reader or a crash sees every file old or new, never torn; a run killed
    among the renames leaves the first files renamed (so archive pages stay 1..n with
    no gap) and temporary files, which the next regeneration removes (``writing``).
    """
    changed: list[Path] = []
    unchanged: list[Path] = []
    for start in range(0, len(files), FILES_PER_SYNC):
        chunk = files[start : start + FILES_PER_SYNC]
        staged: list[tuple[Path, str, int]] = []  # target, temporary, open descriptor
        try:
            failure = _stage(chunk, staged, unchanged)
            synced, sync_failure = _sync(staged)
            failure = sync_failure or failure
            renamed, rename_failure = _rename(staged[:synced])
            failure = rename_failure or failure
            changed.extend(renamed)
        finally:
            for _, temporary, descriptor in staged:
                with suppress(OSError):
                    os.close(descriptor)
                Path(temporary).unlink(missing_ok=True)  # those not renamed
        if log.isEnabledFor(logging.INFO):
            for path in renamed:
                log.info("wrote %s (%d bytes)", path, path.stat().st_size)
        if failure is not None:
            return Written(changed, unchanged, *failure)
    return Written(changed, unchanged)


def _stage(
    files: Sequence[tuple[Path, bytes]],
    staged: list[tuple[Path, str, int]],
    unchanged: list[Path],
) -> tuple[Path, OSError] | None:
    """Write each changed file's bytes to a temporary file beside it (into ``staged``);
    stop at the first that fails, and return it with its error."""
    for path, content in files:
        try:
            if _holds(path, content):
                unchanged.append(path)
                continue
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            try:
                os.fchmod(descriptor, 0o644)
                view = memoryview(content)
                while view:
                    view = view[os.write(descriptor, view) :]
            except BaseException:
                os.close(descriptor)
                Path(temporary).unlink(missing_ok=True)
                raise
            staged.append((path, temporary, descriptor))
        except OSError as error:
            return path, error
    return None


def _holds(path: Path, content: bytes) -> bool:
    try:
        return path.read_bytes() == content
    except FileNotFoundError:
        return False


def _sync(staged: Sequence[tuple[Path, str, int]]) -> tuple[int, tuple[Path, OSError] | None]:
    """fsync the staged files, together; how many from the first are on disk, and the
    first that could not be synced with its error."""
    if len(staged) <= 1:
        outcomes = [_fsync(descriptor) for _, _, descriptor in staged]
    else:
        with ThreadPoolExecutor(min(SYNC_THREADS, len(staged))) as pool:
            outcomes = list(pool.map(_fsync, (descriptor for _, _, descriptor in staged)))
    for number, error in enumerate(outcomes):
        if error is not None:
            return number, (staged[number][0], error)
    return len(staged), None


def _fsync(descriptor: int) -> OSError | None:
    try:
        os.fsync(descriptor)
    except OSError as error:
        return error
    return None


def _rename(
    staged: Sequence[tuple[Path, str, int]],
) -> tuple[list[Path], tuple[Path, OSError] | None]:
    """Rename synced temporary files over their targets in order, then fsync each folder
    once so the renames are on disk too; the targets renamed, and the first failure."""
    renamed: list[Path] = []
    failure: tuple[Path, OSError] | None = None
    for path, temporary, _ in staged:
        try:
            os.replace(temporary, path)
        except OSError as error:
            failure = path, error
            break
        renamed.append(path)
    for folder in dict.fromkeys(path.parent for path in renamed):
        # Best effort: the renames are visible already; a folder that cannot be opened or
        # synced (some file systems refuse it) only leaves them to the next commit.
        with suppress(OSError):
            descriptor = os.open(folder, os.O_RDONLY)
            try:
                os.fsync(descriptor)
            finally:
                os.close(descriptor)
    return renamed, failure
