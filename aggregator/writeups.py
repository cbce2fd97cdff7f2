"""Different outlets' write-ups of one event (issue #18): the rules on top of
``containment``'s for items of other outlets, neither an opinion piece.

Pure, symmetric decisions on two items' ``containment.Version`` and the time between
them, asked by ``dedup.matching_stories`` once it knows the items are of other outlets
(their links' hosts) and neither is an opinion piece. The thresholds were set on the
labelled real pairs' tune half (tests/data/stories/real/pairs.jsonl), never on the
held-out half, and each new join they made in the knews replay was read
(tests/benchmarks/RESULTS.md, "Write-ups ending on one word").
"""

from datetime import timedelta

from aggregator.containment import (
    MIN_NAMED_PAIRS,
    WRITE_UP_TITLE,
    WRITTEN_UP_WINDOW,
    Version,
    jaccard,
    named_alike,
    written_up,
)
from aggregator.headlines import last_clause_end

# Other outlets' write-ups of one event published within a day (print editions dated the
# evening before, online ones the next afternoon, in the labelled pairs) name it alike
# (``containment.named_alike``).
NAMED_WINDOW = timedelta(hours=24)
# Other outlets' headlines for one event end on what was done, and often on the same word
# ("…체포영장 기각" / "…영장 기각", "…반발" / "…반발"): with a quarter of their grams alike,
# within half a day, that is one event. A reaction, a follow-up or a preview ends on its
# own news ("환영", "의결" after "심의"), and a last word found elsewhere in the other's
# headline or text is not enough (11 of 203 such joins in the knews replay were wrong:
# a roundup, a reaction, previews, templates of other companies).
# Further apart (a print edition of the day before), within PRINT_WINDOW, such headlines
# share PRINT_TITLE of their grams and each names PRINT_NAMED of the other's words in its
# headline and text beginning: in the knews replay, the next day's weather under the same
# words (0.47) and two health columns on one subject (a column is an ``opinion`` piece)
# were the joins such a rule made wrongly.
PRINT_WINDOW = timedelta(hours=30)
PRINT_TITLE = 0.35
PRINT_NAMED = 0.5


def written_alike(mine: Version, theirs: Version, apart: timedelta) -> bool:
    """Whether two other outlets' items published ``apart``, neither an opinion piece,
    are write-ups of one event: ``containment.written_up`` (within half a day),
    ``containment.named_alike`` (within NAMED_WINDOW), or headlines that ``ended_as_one``
    (within half a day; within PRINT_WINDOW with PRINT_TITLE of the headlines' grams
    alike and PRINT_NAMED of each headline's pairs in the other's headline and lead)."""
    if written_up(mine, theirs, apart) or (apart <= NAMED_WINDOW and named_alike(mine, theirs)):
        return True
    if apart > PRINT_WINDOW or not ended_as_one(mine, theirs):
        return False
    return apart <= WRITTEN_UP_WINDOW or (
        jaccard(mine.grams, theirs.grams) >= PRINT_TITLE
        and min(_named_share(mine, theirs), _named_share(theirs, mine)) >= PRINT_NAMED
    )


def _named_share(mine: Version, theirs: Version) -> float:
    """The share of one headline's character pairs (numbers aside) in the other's
    headline and text beginning."""
    return len(mine.named_pairs & theirs.told) / len(mine.named_pairs)


def ended_as_one(mine: Version, theirs: Version) -> bool:
    """Whether two headlines holding MIN_NAMED_PAIRS character pairs of a script without
    spaces each (where it was measured), sharing WRITE_UP_TITLE of their grams, end their
    last clauses on one word (``headlines.last_clause_end``)."""
    if min(len(mine.named_pairs), len(theirs.named_pairs)) < MIN_NAMED_PAIRS:
        return False
    if jaccard(mine.grams, theirs.grams) < WRITE_UP_TITLE:
        return False
    return bool(last_clause_end(mine.title) & last_clause_end(theirs.title))
