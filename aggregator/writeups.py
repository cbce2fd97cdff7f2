"""Different outlets' write-ups of one event (issue #18): the rules on top of
``containment``'s for items of other outlets, neither an opinion piece.

Pure, symmetric decisions on two items' ``containment.Version`` and the time between
them, asked by ``dedup.matching_stories`` once it knows the items are of other outlets
(their links' hosts) and neither is an opinion piece. The thresholds were set on the
labelled real pairs' tune half (tests/data/stories/real/pairs.jsonl), never on the
held-out half, and each new join they made in the knews replay was read
(tests/benchmarks/RESULTS.md, "Write-ups saying the same last").
"""

from datetime import timedelta

from aggregator.containment import (
    MIN_HEADLINE_GRAMS,
    MIN_NAMED_PAIRS,
    WRITE_UP_TITLE,
    WRITTEN_UP_WINDOW,
    Version,
    _text_held,
    jaccard,
    named_alike,
    written_up,
)
from aggregator.headlines import last_clause_end

# Other outlets' write-ups of one event published within a day (print editions dated the
# evening before, online ones the next afternoon, in the labelled pairs) name it alike
# (``containment.named_alike``).
NAMED_WINDOW = timedelta(hours=24)
# A paper's print edition reports the event of the day before: further apart than half a
# day, other outlets' items are one event only when their headlines share PRINT_TITLE of
# their grams and one text holds PRINT_TEXT of the other, within PRINT_WINDOW.
PRINT_WINDOW = timedelta(hours=30)
PRINT_TITLE = 0.35
PRINT_TEXT = 0.5


def written_alike(mine: Version, theirs: Version, apart: timedelta) -> bool:
    """Whether two other outlets' items published ``apart``, neither an opinion piece,
    are write-ups of one event: ``containment.written_up`` (within half a day),
    ``containment.named_alike`` (within NAMED_WINDOW), ``said_last_alike`` (within half a
    day) or ``printed_alike``."""
    return (
        written_up(mine, theirs, apart)
        or (apart <= NAMED_WINDOW and named_alike(mine, theirs))
        or (apart <= WRITTEN_UP_WINDOW and said_last_alike(mine, theirs))
        or printed_alike(mine, theirs, apart)
    )


def said_last_alike(mine: Version, theirs: Version) -> bool:
    """Whether two headlines sharing WRITE_UP_TITLE of their grams, MIN_NAMED_PAIRS
    character pairs of a script without spaces each, both end on the event: the last
    clause of each ends on a gram of the other's headline and text beginning."""
    if min(len(mine.named_pairs), len(theirs.named_pairs)) < MIN_NAMED_PAIRS:
        return False
    if jaccard(mine.grams, theirs.grams) < WRITE_UP_TITLE:
        return False
    return all(last_clause_end(a.title) & b.told for a, b in ((mine, theirs), (theirs, mine)))


def printed_alike(mine: Version, theirs: Version, apart: timedelta) -> bool:
    """Whether two items further apart than half a day, within PRINT_WINDOW, share
    PRINT_TITLE of their headlines' grams (MIN_HEADLINE_GRAMS each) and PRINT_TEXT of the
    shorter text."""
    if not WRITTEN_UP_WINDOW < apart <= PRINT_WINDOW:
        return False
    if min(len(mine.grams), len(theirs.grams)) < MIN_HEADLINE_GRAMS:
        return False
    if jaccard(mine.grams, theirs.grams) < PRINT_TITLE:
        return False
    return _text_held(mine, theirs) >= PRINT_TEXT
