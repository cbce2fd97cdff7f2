"""Versions and write-ups of one story decided on two items alone (``dedup.same_story``):
the rules of ``aggregator.containment`` at their thresholds, each with the neighbour that
must stay apart."""

import random
from dataclasses import replace
from datetime import timedelta

import pytest

from aggregator import dedup
from aggregator.containment import (
    CONTAINED,
    COPIED,
    ENDED_TITLE,
    FIGURES_HELD,
    FLASH_HELD,
    KEPT_HEADLINE_WINDOW,
    MIN_FLASH_GRAMS,
    MIN_NAMED_PAIRS,
    NAMED_ALIKE,
    OTHER_WRITE_UP_TEXT,
    REVISED_TEXT,
    VERSION_WINDOW,
    WRITE_UP_TEXT,
    WRITE_UP_TITLE,
    WRITTEN_UP_WINDOW,
    jaccard,
    version,
)
from aggregator.fingerprints import body_shingles, containment, title_grams
from aggregator.headlines import opinion
from tests import corpus
from tests.support.pairs import AT, item, same


def _sentences(seed: int, count: int) -> list[str]:
    rng = random.Random(seed)
    return [corpus._sentence(rng) for _ in range(count)]  # noqa: SLF001


def _held(first: str, second: str) -> float:
    return containment(body_shingles(first), body_shingles(second))


def test_a_version_with_its_figures_brought_up_to_date_is_the_same_story_within_hours() -> None:
    """A flash's more than 90 balloons and the full version's 600: the headlines' numbers
    differ, the text is the flash's with the figure updated and a sentence added. Headlines
    that differ in their numbers alone (an hourly count, a numbered part) stay apart."""
    shared = _sentences(1, 10)
    flash_text = " ".join(["North Korea sent 90 balloons overnight."] + shared)
    full_text = " ".join(["North Korea sent 600 balloons overnight."] + shared + _sentences(2, 2))
    assert _held(flash_text, full_text) >= REVISED_TEXT
    flash = item("wire", "North Korea sends over 90 trash balloons south", flash_text, 0)
    full = item("paper", "North Korea sends 600 trash balloons south", full_text, 1)
    assert same(flash, full)
    later = item("paper", "North Korea sends 600 trash balloons south", full_text, 13)
    assert not same(flash, later)
    count = item("wire", "North Korea sends 90 trash balloons south", flash_text, 0)
    assert not same(count, full)


def test_the_next_count_of_a_developing_story_stays_apart() -> None:
    """The fourth and the fifth day of balloons: other numbers, and the second day's report
    holds under REVISED_TEXT of the first's text."""
    day_four = _sentences(3, 10)
    day_five = day_four[:6] + _sentences(4, 5)
    assert WRITE_UP_TEXT <= _held(" ".join(day_four), " ".join(day_five)) < REVISED_TEXT
    first = item("wire", "Balloons cross the border for 4 days in a row", " ".join(day_four), 0)
    second = item("paper", "Balloons cross the border for 5 days in a row", " ".join(day_five), 2)
    assert not same(first, second)


def test_write_ups_sharing_a_quarter_of_the_headline_and_half_the_text_are_one_story() -> None:
    """Two outlets' own headlines for one announcement, their texts half alike; a headline
    sharing less, or a text sharing less, keeps them apart."""
    shared, own, other = _sentences(5, 8), _sentences(6, 4), _sentences(7, 8)
    mine = "Busan port authority opens new coffee street near the old ferry pier"
    theirs = "Coffee street to open at Busan ferry pier, city says"
    unlike = "City unveils a waterfront cafe district for tourists this summer"
    assert WRITE_UP_TITLE <= jaccard(title_grams(mine), title_grams(theirs)) < 0.3
    assert jaccard(title_grams(mine), title_grams(unlike)) < WRITE_UP_TITLE
    text, half = " ".join(own + shared), " ".join(other + shared)
    assert WRITE_UP_TEXT <= _held(text, half) < 0.9
    report = item("paper", mine, text, 0)
    assert same(report, item("daily", theirs, half, 3))
    assert not same(report, item("daily", unlike, half, 3))
    little = " ".join(other + shared[:3] + _sentences(8, 4))
    assert _held(text, little) < WRITE_UP_TEXT
    assert not same(report, item("daily", theirs, little, 3))


def test_other_outlets_write_ups_sharing_less_of_the_text_within_half_a_day_are_one_story() -> None:
    """Two outlets' write-ups of one announcement, a quarter of the headline and under half
    of the text alike, published within half a day (a print edition dated the evening
    before): one story. Further apart, the same texts are not (a day's follow-up holds as
    much); one outlet's own two items, or an editorial or a column on the announcement (by
    its label or its link) stay apart."""
    shared, own, other = _sentences(9, 6), _sentences(10, 8), _sentences(11, 8)
    mine = "Busan port authority opens new coffee street near the old ferry pier"
    theirs = "Coffee street to open at Busan ferry pier, city says"
    text, half = " ".join(own + shared), " ".join(other + shared)
    assert OTHER_WRITE_UP_TEXT <= _held(text, half) < WRITE_UP_TEXT
    report = item("paper", mine, text, 0)
    window = WRITTEN_UP_WINDOW / timedelta(hours=1)
    assert same(report, item("daily", theirs, half, window))
    assert same(report, item("daily", theirs, half, -window))
    assert not same(report, item("daily", theirs, half, window + 0.5))
    assert not same(report, item("daily", theirs, half, 25))
    assert not same(report, item("paper", theirs, half, 3, number=2))
    assert not same(report, item("daily", f"[사설] {theirs}", half, 12))
    editorial = item("daily", theirs, half, 12)
    editorial = replace(editorial, link="https://daily.example/opinion/editorial/1")
    assert not same(report, editorial)


def test_another_outlets_template_report_of_the_next_day_stays_apart() -> None:
    """Two outlets' reports of a daily count on consecutive days: the agency's template
    (its wording, the background) is the same, the day, the figures and the districts
    named differ, and the headlines share their words. The texts hold 40% of each other,
    as write-ups of one event do; a day apart they are two days' counts."""
    template = _sentences(21, 6)
    monday = ["On Monday the agency counted 812 new cases in Mapo and Jongno."] + _sentences(22, 7)
    tuesday = ["On Tuesday the agency counted 1,020 new cases in Gangnam."] + _sentences(23, 7)
    first, second = " ".join(monday + template), " ".join(tuesday + template)
    assert OTHER_WRITE_UP_TEXT <= _held(first, second) < WRITE_UP_TEXT
    headline = "New infections climb again in the capital, health agency says"
    later = "Health agency says new infections in the capital climb again"
    assert jaccard(title_grams(headline), title_grams(later)) >= WRITE_UP_TITLE
    assert not same(item("wire", headline, first, 0), item("daily", later, second, 24))


@pytest.mark.parametrize(
    ("title", "is_opinion"),
    [
        ("[사설] 경찰국 신설, 서두를 일 아니다", True),
        ("[기자들의 시선] 시위대가 접수한 대통령궁", True),
        ("[팔면봉] 여야, 당사 건물주 되고 외", True),
        ("[오늘과 내일/김기자] 여름휴가가 남긴 것", True),
        ("시민이 경찰을 존중해야 하는 이유[광화문에서/김기자]", True),
        ("[속보] 尹대통령, 경찰 집단반발에 “중대한 기강문란”", False),
        ("[단독] 초대 경찰국장에 김순호 유력", False),
        ("[포토] 경찰청 앞 근조화환", False),
        ("이상민 장관 편지 공개 [전문]", False),
    ],
)
def test_opinion_pieces_are_told_by_their_column_label_before_or_after_the_headline(
    title: str, is_opinion: bool
) -> None:
    """A column's label (the knews-rss outlets' own, before the headline or after it) makes
    an opinion piece, which joins no other outlet's write-up; a version label does not."""
    assert opinion(title, "https://daily.example/news/1") is is_opinion


def _named_in(first: tuple[str, str], second: tuple[str, str]) -> float:
    """The share of the first headline's words and names in the second's headline and lead."""
    mine, theirs = version(*first), version(*second)
    return len(mine.named & theirs.told) / len(mine.named)


def test_other_outlets_naming_one_event_alike_within_a_day_are_one_story() -> None:
    """Two outlets' Korean reports of one decision (written for this test): each headline's
    words and names are mostly in the other's headline and first sentences, though the
    texts are worded apart. The same pair from one outlet (a follow-up, a template), a day
    and more apart, or another party's reaction naming the event, stays apart."""
    decision = (
        "부산시, 북항 재개발 부지에 해양박물관 건립 확정",
        "부산시는 9일 북항 재개발 부지에 국립 해양박물관을 짓기로 확정했다고 밝혔다. "
        "시는 설계 공모를 이달 안에 시작하고 주민 설명회도 열 계획이다.",
    )
    other = (
        "부산 북항 재개발지에 국립 해양박물관…설계 공모 이달 시작",
        "부산 북항 재개발 부지에 국립 해양박물관이 들어선다. 부산시는 9일 이 같은 계획을 "
        "확정하고 설계 공모 절차에 들어간다고 설명했다.",
    )
    reaction = (
        "시민단체 “해양박물관 건립 환영”…부산시에 주민 참여 주문",
        "지역 시민단체들은 부산시의 해양박물관 건립 확정을 환영한다는 성명을 냈다. "
        "이들은 설계 과정에 주민 참여를 보장하라고 요구했다.",
    )
    assert min(_named_in(decision, other), _named_in(other, decision)) >= NAMED_ALIKE
    assert _named_in(reaction, decision) < NAMED_ALIKE
    assert _held(decision[1], other[1]) < WRITE_UP_TEXT
    report = item("daily", *decision, 0)
    assert same(report, item("paper", *other, 3))
    assert same(report, item("paper", *other, 23))
    assert not same(report, item("paper", *other, 25))
    assert not same(report, item("daily", *other, 3, number=2))
    assert not same(report, item("news", *reaction, 3))


def test_other_outlets_ending_headlines_on_one_event_within_half_a_day_are_one_story() -> None:
    """Two outlets' Korean teasers of one announcement (written for this test), too short to
    compare and naming it apart (under NAMED_ALIKE), each end a clause of their headlines on
    what was done ("선정"), found in the other's headline or text: one story within half a
    day, from other outlets. A reaction setting the scene with the event ("…선정에") and
    ending on its own news ("환영"), or a follow-up ending on its own ("의혹 제기"), with
    as much of the headline alike, stays apart."""
    teaser = (
        "부산 해양박물관 설계 당선작 ‘바다의 창’ 선정…2027년 개관 목표",
        "시는 9일 심사 결과를 공개했다. 공사는 내년에 시작한다···",
    )
    other = (
        "부산시, 해양박물관 설계 공모 당선작 발표…‘바다의 창’ 선정",
        "북항에 들어설 전시시설의 밑그림이 9일 정해졌다.",
    )
    reaction = (
        "해양박물관 설계 당선작 ‘바다의 창’ 선정에…지역 시민사회 “환영”",
        "지역 단체들은 성명을 내고 반겼다.",
    )
    follow_up = (
        "부산 해양박물관 설계 당선작 ‘바다의 창’…건축계 표절 의혹 제기",
        "해외 건축물을 베꼈다는 주장이 나왔다.",
    )
    mine = version(*teaser)
    for pair in (other, reaction, follow_up):
        assert jaccard(mine.grams, version(*pair).grams) >= ENDED_TITLE
        assert min(_named_in(teaser, pair), _named_in(pair, teaser)) < NAMED_ALIKE
        assert _held(teaser[1], pair[1]) < OTHER_WRITE_UP_TEXT
    report = item("daily", *teaser, 0)
    window = WRITTEN_UP_WINDOW / timedelta(hours=1)
    assert same(report, item("paper", *other, window))
    assert not same(report, item("paper", *other, window + 0.5))
    assert not same(report, item("daily", *other, 3, number=2))
    assert not same(report, item("paper", *reaction, 3))
    assert not same(report, item("paper", *follow_up, 3))


def test_headlines_of_spaced_scripts_are_not_judged_by_their_words_in_the_text() -> None:
    """A headline's words in another report's first sentences say little where words are
    few and common (the benchmark corpus builds its headlines from its texts' phrases): the
    rule is for headlines of scripts without spaces, where it was measured."""
    mine = (
        "Coast guard warns navy on delays of cost-sharing deal talks at Busan port",
        "The navy said the cost-sharing deal talks at Busan port stall as the coast guard "
        "warns of delays.",
    )
    theirs = (
        "Cost-sharing deal talks at Busan port stall as navy says coast guard warns",
        "The coast guard warns of delays: cost-sharing deal talks at Busan port stall, the "
        "navy said.",
    )
    assert min(len(version(*mine).named), len(version(*theirs).named)) >= MIN_NAMED_PAIRS
    assert min(_named_in(mine, theirs), _named_in(theirs, mine)) >= NAMED_ALIKE
    assert not same(item("paper", *mine, 0), item("daily", *theirs, 1))


def test_a_flash_naming_its_source_and_the_full_version_stating_the_fact_are_one_story() -> None:
    """A wire's flash says who reports it ("the military says"), its text only the
    copyright notice; the full version, an hour later, states the fact with a detail added.
    A flash on another launch, with the same source named, stays apart."""
    notice = "【版权归通讯社所有，严禁转载】"
    flash = item("wire", "快讯：韩军方称朝鲜向西部海域发射巡航导弹", notice, 0)
    text = "朝鲜当天上午向西部海域发射数枚巡航导弹。军方正在分析导弹的具体参数。"
    full = item("wire", "详讯：朝鲜今晨向西部海域发射数枚新型巡航导弹", text, 1, number=2)
    assert containment(title_grams(flash.title), title_grams(full.title)) < 0.75
    assert same(flash, full)
    other = item("wire", "快讯：韩军方称朝鲜向东部海域发射弹道导弹", notice, 1, number=3)
    assert not same(other, full)


def test_mixed_headlines_differing_in_a_word_and_short_headlines_stay_apart() -> None:
    """The benchmark corpus's headlines: a Korean subject and object with an English verb,
    the rest of each headline in the other's first sentences. Each headline's spaced words
    count apart from its character pairs, so the verb that differs keeps them apart; and a
    headline of fewer than MIN_NAMED_PAIRS pairs names a subject, not an event."""
    mine = "국방부 signaled 한미 연합훈련 일정 조정 방침"
    theirs = "한미 연합훈련 일정 조정 방침 국방부 rejected"
    lead = "국방부는 한미 연합훈련 일정 조정 방침을 밝혔다. 훈련 규모 축소도 검토한다."
    other = "한미 연합훈련 일정과 관련해 국방부는 조정 방침을 설명했다. 규모 축소 검토도 언급됐다."
    assert len(version(mine, lead).named_pairs) >= MIN_NAMED_PAIRS
    assert containment(title_grams(mine), title_grams(theirs)) < 0.9
    first = item("paper", mine, lead, 0)
    assert not same(first, item("daily", theirs, other, 2))
    assert same(first, item("daily", theirs.replace("rejected", "signaled"), other, 2))
    short = "한국은행 물가 상승률"
    assert len(version(short, "").named_pairs) < MIN_NAMED_PAIRS
    first = item("paper", short, " ".join(_sentences(9, 8)), 0)
    assert not same(first, item("daily", short, " ".join(_sentences(10, 8)), 2))


def _figures_held(first: str, second: str) -> float:
    mine, theirs = version("", first).figures, version("", second).figures
    return len(mine & theirs) / len(mine)


def test_another_outlets_copy_of_a_wire_text_under_its_own_headline_is_one_story() -> None:
    """An outlet carries a wire's text without the byline, cut, with two sentences of its
    own and a headline of its own stating other numbers: a copy within a day. Not the
    outlet's own articles, not after a day, not a text stating another figure (a notice of
    another day), and not a roundup that holds the text further on."""
    wire_sentences = _sentences(11, 12)
    own = (
        "Officials in the capital said the talks would go on as planned next month. "
        "Residents near the border were told to stay calm and follow the local news."
    )
    wire_text = "[Seoul=Wire] Kim Minji reporter = " + " ".join(wire_sentences)
    copy_text = " ".join(wire_sentences[:9]) + " " + own
    assert COPIED <= _held(copy_text, wire_text) < CONTAINED
    assert _figures_held(copy_text, wire_text) == 1.0
    wire = item("wire", "Joint chiefs say 3 launches seen near the border", wire_text, 0)
    assert same(wire, item("paper", "Military reports missiles in 2 areas", copy_text, 20))
    assert not same(wire, item("paper", "Military reports missiles in 2 areas", copy_text, 25))
    assert not same(wire, item("wire", "Military reports missiles in 2 areas", copy_text, 2, 2))
    figure = next(word for word in copy_text.split() if word.isdigit())
    other_day = copy_text.replace(figure, str(int(figure) + 1))
    assert _held(other_day, wire_text) >= COPIED
    assert _figures_held(other_day, wire_text) < FIGURES_HELD
    assert not same(wire, item("paper", "Military reports missiles in 2 areas", other_day, 2))
    roundup_text = " ".join(_sentences(12, 12) + wire_sentences)
    assert _held(wire_text, roundup_text) >= COPIED
    roundup = item("paper", "All of the day's 5 launches, roundup", roundup_text, 2)
    assert not same(wire, roundup)


def test_a_digest_listing_a_story_is_not_that_story() -> None:
    """A wire's daily digest lists its stories, each a bullet with its headline and first
    paragraph: it holds one story's text among others, and joining it to each would join
    them all. The same digest under another address is one item still."""
    story_text = " ".join(_sentences(13, 8))
    digest_text = f"▲Joint chiefs report a launch {story_text} ▲Talks resume " + " ".join(
        _sentences(14, 4)
    )
    assert _held(story_text, digest_text) >= CONTAINED
    story = item("wire", "Joint chiefs report a launch", story_text, 0)
    digest = item("wire", "Daily digest, June 9 - 2", digest_text, 1, number=2)
    assert not same(story, digest)
    assert same(digest, item("daily", "Daily digest, June 9 - 2", digest_text, 2))


def test_a_full_version_stating_the_flashs_first_sentence_is_one_story_within_hours() -> None:
    """A wire's first report and, hours later, its full version (详讯) under a reworded
    headline: the desk restates the first report's first sentence in other words and adds
    paragraphs. Not when the full version came first (the later item is a development),
    not after VERSION_WINDOW (a day, when its headline keeps the first report's), not
    another outlet's, and not another item of the desk on the subject, whose first
    sentence says something else."""
    dateline = "东方通讯社某市3月5日电 "
    first = "某市交通局5日表示，地铁二号线因信号故障今晨全线停运，约十万名乘客出行受到影响。"
    more = "交通局称抢修人员已赶赴现场，预计中午前恢复运营。"
    flash = item("wire", "某市地铁二号线今晨停运", dateline + first + more, 0)
    restated = "某市交通局5日表示，地铁二号线今晨因信号故障全线停运，约十万名乘客出行受影响。"
    added = (
        "据悉，故障发生在早高峰时段，多个车站一度出现拥堵，部分乘客改乘公交出行。"
        "市政府已要求运营公司查明原因，并对全市线路的信号设备开展安全检查。"
    )
    full_text = dateline + restated + added
    reworded = "详讯：信号故障致地铁停运 交通局紧急抢修"
    full = item("wire", reworded, full_text, 4, number=2)
    flash_says = version(flash.title, dedup.body_text(flash.content_html))
    full_says = version(full.title, dedup.body_text(full.content_html))
    assert containment(title_grams(flash.title), title_grams(full.title)) < 0.5
    assert _held(first + more, full_text) < CONTAINED
    assert len(flash_says.first_sentence) >= MIN_FLASH_GRAMS
    assert containment(flash_says.first_sentence, full_says.beginning) >= FLASH_HELD
    assert same(flash, full)
    assert not same(flash, replace(full, published=AT + VERSION_WINDOW + timedelta(hours=1)))
    kept = replace(full, title="详讯：某市地铁二号线今晨停运 交通局紧急抢修")
    assert same(flash, replace(kept, published=AT + KEPT_HEADLINE_WINDOW - timedelta(hours=1)))
    assert not same(flash, replace(kept, published=AT + KEPT_HEADLINE_WINDOW + timedelta(hours=1)))
    assert not same(replace(flash, published=AT + timedelta(hours=5)), full)
    elsewhere = "https://paper.example/2"
    assert not same(flash, replace(full, link=elsewhere, key=elsewhere))
    other = "某市交通局5日表示，公交三路将于下月起调整线路，沿途站点将增加两个。"
    related = item("wire", "详讯：某市公交三路下月调整线路", dateline + other + more, 2, 3)
    assert not same(flash, related)


def test_a_flash_without_text_and_the_version_stating_its_headline_are_one_story() -> None:
    """A wire's first flash is a headline over the copyright notice alone; the short version
    half an hour later rewords the headline and states the flash's headline (its source
    aside) in its first sentence: one story. Not when the flash came later, not the desk's
    version on another accident at that place, which shares half of the headline, and not
    a roundup of several polls holding the flash's poll but not its figures in its headline."""
    notice = "【版权归东方通讯社所有，未经授权严禁转载】"
    flash = item("wire", "快讯：警方称一辆货车在北环高架大桥上起火燃烧", notice, 0)
    dateline = "东方通讯社某市3月5日电 "
    stated = "警方5日表示，一辆货车当天在北环高架大桥南段起火燃烧，消防部门已出动灭火。"
    short = item("wire", "简讯：北环高架桥货车起火 交通中断", dateline + stated, 0.5, 2)
    flash_says = version(flash.title, dedup.body_text(flash.content_html))
    short_says = version(short.title, dedup.body_text(short.content_html))
    assert len(flash_says.first_sentence) < MIN_FLASH_GRAMS
    assert containment(flash_says.reported, short_says.beginning) >= FLASH_HELD
    assert containment(title_grams(flash.title), title_grams(short.title)) < 0.5
    assert same(flash, short)
    assert not same(replace(flash, published=AT + timedelta(hours=1)), short)
    crash = "警方5日表示，一辆轿车当天在北环高架大桥上追尾，两人受伤。"
    other = item("wire", "简讯：北环高架桥轿车追尾 两人受伤", dateline + crash, 0.5, 3)
    assert not same(flash, other)
    poll = item("wire", "快讯：甲台出口民调显示执政党85～99席在野党184～197席", notice, 0, 4)
    polls = (
        "甲台、乙台出口民调显示，在野阵营有望获得多数议席。"
        "甲台出口民调显示执政党85～99席在野党184～197席，乙台为执政党87～105席。"
    )
    roundup = item("wire", "简讯：两台出口民调显示在野阵营获多数议席", dateline + polls, 0.5, 5)
    poll_says = version(poll.title, dedup.body_text(poll.content_html))
    roundup_says = version(roundup.title, dedup.body_text(roundup.content_html))
    assert containment(poll_says.reported, roundup_says.beginning) >= FLASH_HELD
    assert not same(poll, roundup)


def test_a_days_personnel_column_is_not_one_organizations_notice() -> None:
    """An outlet's column of the day's personnel notices ("5월3일 인사") opens with one
    organization's list, word for word the notice another outlet carries under that
    organization's name, and goes on with others': it lists notices and is none of them.
    Another outlet's copy of the column is one item still."""
    rng = random.Random(21)
    surnames, given = "김이박최정강조윤장임", ["민준", "서연", "도윤", "하은", "시우", "지아"]
    posts = ["기획부장", "총무부장", "감사실장", "홍보팀장", "재무팀장", "전산실장", "인사팀장"]
    entries = [
        f"△{rng.choice(posts)} {rng.choice(surnames)}{rng.choice(given)}{n}" for n in range(40)
    ]
    notice_text = "◇가나공사 ＜신임＞ ▽부서장 " + " ".join(entries)
    column_text = "⊙ 가나공사 ◇부서장 " + " ".join(entries) + " ⊙ 다라은행 ◇팀장 △여신팀장 오세훈"
    assert _held(notice_text, column_text) >= CONTAINED
    notice = item("paper", "[인사]가나공사", notice_text, 0)
    column = item("daily", "5월3일 인사", column_text, 2)
    assert not same(notice, column)
    assert same(column, item("weekly", "오늘의 인사 - 2025년 5월 3일", column_text, 3))
