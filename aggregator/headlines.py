"""What a headline says of its item beyond its words: whether it is an opinion piece,
and what each of its clauses ends on.

Pure functions of a headline (and a link), asked by ``containment`` and ``dedup`` when
they judge other outlets' write-ups of one event (issue #18): an opinion piece joins
none, and write-ups end their headlines' clauses on the event.
"""

import re
import unicodedata
from functools import lru_cache
from urllib.parse import urlsplit

from aggregator.fingerprints import bare_title, spaceless_grams

# An opinion piece's label ("[사설]", "[5분 칼럼]", "[횡설수설/장택동]", "[Q&A]", "【社评】"),
# before its headline or after it ("…[광화문에서/조종엽]"), or an opinion section in its
# link's path ("/opinion/editorial/"): it discusses an event another outlet reports, in the
# report's words and names, and is no write-up of it. The columns are the knews-rss
# outlets' own ("[기자들의 시선]", "[팔면봉]", "[태평로]", "[오늘과 내일/…]", …).
_OPINION_WORDS = (
    r"[\[【〈<(][^\]】〉>)]{0,12}"
    r"(?:사설|칼럼|시론|기고|논단|기자수첩|만물상|여적|횡설수설|설왕설래|분수대|팩트체크|Q&A"
    r"|시선|시각|팔면봉|광화문에서|일사일언|태평로|동서남북|한강로에서|뒤끝작렬|세상읽기"
    r"|유레카|발언대|의 발언|특파원 리포트|취재 뒷담화|프리스타일|기사비평|편집국장의 편지"
    r"|독자 마당|터치! 코리아|과유불급|오늘과 내일|동아광장|바람개비|아침을 열며|논설위원"
    r"|데스크에서|데스크의|편지|헬스토피아|社论|社评|评论|时评)"
)
_OPINION_LABEL = re.compile(
    rf"^\s*{_OPINION_WORDS}|{_OPINION_WORDS}[^\]】〉>)]{{0,12}}[\]】〉>)]\s*$", re.IGNORECASE
)
_OPINION_PATH = re.compile(r"/opinion/", re.IGNORECASE)

# Where a headline's clauses end: "A…B", "A... B", "A···B".
_CLAUSE_BREAK = re.compile(r"…|⋯|·{3}|\.{2,}")
# A clause whose last word ends on a particle of place or cause ("문자에", "회의에서") sets
# the scene ("Over the text message…") for what the next clause reports: not an end.
_SCENE_PARTICLE = re.compile(r"(?:에|에서|에게|에도|엔)$")
# A label after a headline ("[공식]", "[KSOI]", "(종합)"): not what a clause ends on.
_TRAILING_LABEL = re.compile(r"\s*[\[【(〈<][^\]】)〉>]{1,20}[\]】)〉>]\s*$")
_TITLE_WORD = re.compile(r"[^\W_]+")
# A clause ending on "등" (and others) lists items: a roundup names several events.
_LISTED = re.compile(r"\s등\W*$")
# Where last words were measured: Korean. A Chinese clause is one "word" whose first
# characters are not where it ends.
_HANGUL = re.compile(r"[\uac00-\ud7a3]")


def opinion(title: str, link: str | None) -> bool:
    """Whether an item is an opinion piece (an editorial, a column, a Q&A), by its
    headline's label or its link's path."""
    path = urlsplit(link).path if link else ""
    return bool(_OPINION_LABEL.search(title) or _OPINION_PATH.search(path))


def _clauses(title: str) -> list[str]:
    """A headline's clauses, its labels (version, leading, trailing) aside."""
    return _CLAUSE_BREAK.split(_TRAILING_LABEL.sub("", bare_title(title)))


def last_clause_end(title: str) -> frozenset[str]:
    """What a headline's last clause ends on (``clause_ends`` of that clause alone) if it is
    a Korean word, none when it ends on a list ("…우수기관 선정 등": a roundup of items)."""
    said = [clause for clause in _clauses(title) if clause.strip()]
    if not said or _LISTED.search(said[-1]):
        return frozenset()
    return frozenset(end for end in clause_ends(said[-1]) if _HANGUL.match(end))


@lru_cache(maxsize=8192)
def clause_ends(title: str) -> frozenset[str]:
    """The gram each clause of a headline ends on (labels aside): its last word of two
    characters or more without digits (figures are the numbers guard's), the word's first
    character pair in a script without spaces ("기각했다": "기각"), the whole word in
    others; none for a clause setting the scene ("…문자에")."""
    ends = set()
    for clause in _clauses(title):
        words = [
            word
            for word in _TITLE_WORD.findall(unicodedata.normalize("NFKC", clause).casefold())
            if len(word) >= 2 and not any(map(str.isdigit, word))
        ]
        last = words[-1] if words else ""
        if last and not _SCENE_PARTICLE.search(last):
            ends.add(last[:2] if spaceless_grams(frozenset({last})) else last)
    return frozenset(ends)
