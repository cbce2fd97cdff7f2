"""Other outlets' write-ups of one event whose headlines end on one word
(``aggregator.writeups``), decided on two items alone (``dedup.same_story``), each with
the neighbour that must stay apart. The headlines and texts were written for these tests."""

from datetime import timedelta

from aggregator.containment import (
    ENDED_TITLE,
    NAMED_ALIKE,
    WRITE_UP_TITLE,
    WRITTEN_UP_WINDOW,
    jaccard,
    version,
)
from aggregator.headlines import last_clause_end, opinion
from aggregator.writeups import PRINT_NAMED, PRINT_TITLE, PRINT_WINDOW
from tests.support.pairs import item, same

HOURS = WRITTEN_UP_WINDOW / timedelta(hours=1)

# Two outlets' teasers of one decision, too short to compare, naming it apart: each
# headline's last clause ends on what was done, "선정".
DECISION = (
    "부산 북항 해양박물관 설계 공모…당선작 ‘바다의 창’ 선정",
    "심사위원회는 9일 열한 개 응모작 가운데 한 작품을 골랐다.",
)
OTHER = (
    "해양박물관 밑그림 나왔다…북항 설계안에 ‘바다의 창’ 선정",
    "시는 이번 주 안에 설계 계약을 맺을 예정이라고 전했다.",
)


def _covered(first: tuple[str, str], second: tuple[str, str]) -> float:
    mine, theirs = version(*first), version(*second)
    return len(mine.named_pairs & theirs.told) / len(mine.named_pairs)


def test_other_outlets_headlines_ending_on_one_word_within_half_a_day_are_one_story() -> None:
    """The two teasers share a third of their headlines' grams (under ENDED_TITLE, so no
    clause end of either is enough) and name the decision apart (under NAMED_ALIKE), but
    both headlines end on "선정": one story within half a day, from other outlets. Further
    apart, or one outlet's own two items, they stay apart."""
    mine, theirs = version(*DECISION), version(*OTHER)
    assert WRITE_UP_TITLE <= jaccard(mine.grams, theirs.grams) < ENDED_TITLE
    assert min(_covered(DECISION, OTHER), _covered(OTHER, DECISION)) < NAMED_ALIKE
    assert last_clause_end(DECISION[0]) == last_clause_end(OTHER[0]) == {"선정"}
    report = item("daily", *DECISION, 0)
    assert same(report, item("paper", *OTHER, HOURS))
    assert not same(report, item("paper", *OTHER, HOURS + 0.5))
    assert not same(report, item("daily", *OTHER, 3, number=2))


def test_a_reaction_or_the_decision_after_its_preview_ends_on_its_own_word() -> None:
    """A reaction naming the decision ends on its own news ("환영"); a cabinet meeting's
    preview ends on "심의" and its decision on "의결": each stays apart, though the
    headlines share as many grams as the write-ups above."""
    reaction = ("해양박물관 설계안 ‘바다의 창’ 선정에…지역 시민단체 환영", "성명을 내고 반겼다.")
    assert jaccard(version(*DECISION).grams, version(*reaction).grams) >= WRITE_UP_TITLE
    assert not same(item("daily", *DECISION, 0), item("paper", *reaction, 3))
    preview = ("국무회의, 경찰국 신설 시행령 개정안 오늘 심의", "정부는 이날 오전 회의를 연다.")
    decided = ("경찰국 신설 시행령, 국무회의서 원안대로 의결", "개정안은 다음 달 시행된다.")
    assert jaccard(version(*preview).grams, version(*decided).grams) >= WRITE_UP_TITLE
    assert not same(item("daily", *preview, 0), item("paper", *decided, 3))


def test_a_headline_ending_on_a_list_is_a_roundup_and_ends_on_no_word() -> None:
    """ "…선정 등" (and other news): a local roundup holding the decision among others ends
    on no word, so it does not join a report of one of them."""
    roundup = (f"{DECISION[0]} 등", DECISION[1])
    assert last_clause_end(roundup[0]) == frozenset()
    assert jaccard(version(*roundup).grams, version(*OTHER).grams) >= WRITE_UP_TITLE
    assert not same(item("daily", *roundup, 0), item("paper", *OTHER, 3))


def test_headlines_in_chinese_end_on_no_word() -> None:
    """A Chinese clause has no spaces, so its "last word" would be its first characters:
    two announcements opening "韩国政府宣布下月起…" would end alike. Only Korean words count."""
    easing = ("韩国政府宣布下月起放宽入境防疫措施", "政府当天发布消息。")
    wages = ("韩国政府宣布下月起上调最低工资标准", "有关部门当天表示。")
    assert jaccard(version(*easing).grams, version(*wages).grams) >= WRITE_UP_TITLE
    assert last_clause_end(easing[0]) == last_clause_end(wages[0]) == frozenset()
    assert not same(item("wire", *easing, 0), item("paper", *wages, 1))


def test_a_print_edition_of_the_day_before_ending_on_one_word_is_one_story() -> None:
    """Other outlets' write-ups 20 hours apart (a paper's print edition): headlines ending
    on "선정", sharing PRINT_TITLE of their grams, each naming PRINT_NAMED of the other's
    pairs in its headline and lead (under NAMED_ALIKE on one side). One story within
    PRINT_WINDOW, not past it."""
    first = ("해양박물관 설계 공모 당선작 발표…북항에 ‘바다의 창’ 선정", DECISION[1])
    second = ("부산시, 해양박물관 밑그림 확정…설계 당선작 ‘바다의 창’ 선정", OTHER[1])
    assert PRINT_TITLE <= jaccard(version(*first).grams, version(*second).grams) < ENDED_TITLE
    shares = (_covered(first, second), _covered(second, first))
    assert PRINT_NAMED <= min(shares) < NAMED_ALIKE
    report = item("daily", *first, 0)
    assert same(report, item("paper", *second, 20))
    assert same(report, item("paper", *second, PRINT_WINDOW / timedelta(hours=1)))
    assert not same(report, item("paper", *second, 31))


def test_a_day_apart_a_headline_naming_much_the_other_does_not_stays_apart() -> None:
    """A longer headline ending on the same word, most of whose pairs the other item does
    not name (under PRINT_NAMED; the next day's weather under the same words, in the knews
    replay): one story within half a day, not 20 hours apart."""
    short = ("부산 해양박물관 설계 당선작 ‘바다의 창’ 선정", DECISION[1])
    longer = (
        "해양박물관 내년 초 착공 앞두고 전시 밑그림 확정…설계 당선작 ‘바다의 창’ 선정",
        OTHER[1],
    )
    assert jaccard(version(*short).grams, version(*longer).grams) >= PRINT_TITLE
    assert _covered(longer, short) < PRINT_NAMED
    report = item("daily", *short, 0)
    assert same(report, item("paper", *longer, 3))
    assert not same(report, item("paper", *longer, 20))


def test_a_health_column_is_an_opinion_piece() -> None:
    """sports.khan's health column ("[헬스토피아]") discusses a subject, and joins no other
    outlet's feature on it."""
    assert opinion("[헬스토피아] 렌즈 끼고 물놀이, 괜찮을까?", "https://sports.example/1")
