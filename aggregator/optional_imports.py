"""Importing a library without the optional packages it would import because they are
installed, for features aggregator never uses (issue #22).

httpx imports its command line's packages (click, pygments, rich: ``httpx[cli]``) when it
is imported, and httpcore imports trio (async locks for code running under trio) when
httpx makes its first client. aggregator's clients are synchronous and it has no use for
httpx's command line, yet on a machine with those installed every run paid for importing
them, the largest part of a round where every source answers 304 after SQLAlchemy's
(``bench_knews``; ``tests/test_cli_startup.py`` checks they stay unloaded).
"""

import sys
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without(*names: str) -> Iterator[None]:
    """``import NAME`` fails inside the block for each of ``names`` not imported yet (the
    import system stops at None in ``sys.modules``), and works again after it.

    Only the library imported inside the block does without them, as if they were not
    installed: its own fallbacks (httpx's stub command line, httpcore's "requires
    httpcore[trio]" under trio) stay in place for the rest of the process.
    """
    hidden = [name for name in names if name not in sys.modules]
    sys.modules.update(dict.fromkeys(hidden))
    try:
        yield
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
