"""Topic rules: the shipped seeds, the boundaries editors care about, matching mechanics, errors."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.classify import classify, explain, load_topic, load_topics
from aggregator.errors import ConfigError
from aggregator.ingest.seeds import read_seed
from aggregator.text import html_to_text
from tests.support.project import REPO

TOPICS = load_topics(REPO / "config" / "topics")


def topics_of(title: str, body: str = "") -> set[str]:
    return {m.topic_id for m in classify(title, body, TOPICS) if m.matched}


# The first seed names the alliance in two of its fifteen paragraphs, in passing: a story
# about Lee's pledge to resume talks with the North, not about the allies (TOPICS.md).
SEED_TOPICS = {
    "000_bbf987679977ef00.txt": {"inter-korean", "domestic-politics"},
    "002_605a32e122b5d713.txt": {"inter-korean", "alliance", "domestic-politics"},
}


@pytest.mark.parametrize("name", sorted(SEED_TOPICS))
def test_the_shipped_seeds_are_in_the_topics_they_are_about(name: str) -> None:
    (item,) = read_seed(REPO / "seeds" / name, ZoneInfo("Asia/Seoul")).items
    assert topics_of(item.title, html_to_text(item.content_html)) == SEED_TOPICS[name]


# Headline, first and last article paragraph of each shipped seed; the site chrome around
# them (menus, share buttons, copyright) is left out, as a reader would.
SEED_ARTICLES = {
    "000_bbf987679977ef00.txt": (
        "South Korea’s new president Lee Jae-myung pledges to resume North Korea talks amid "
        "rising tensions",
        "South Korea’s newly inaugurated president",
        "As President Lee Jae-myung steps into office",
    ),
    "002_605a32e122b5d713.txt": (
        "Lee Jae-myung pledges to restore inter-Korean hotline, strengthen U.S. alliance",
        "Liberal presidential candidate Lee Jae-myung",
        "“I will restore the prestige of the Korean Armed Forces",
    ),
}


@pytest.mark.parametrize("name", sorted(SEED_ARTICLES))
def test_shipped_seed_articles_are_in_the_topics_they_are_about(name: str) -> None:
    headline, first, last = SEED_ARTICLES[name]
    lines = (REPO / "seeds" / name).read_text(encoding="utf-8").splitlines()
    assert any(headline in line for line in lines)
    start = next(i for i, line in enumerate(lines) if line.startswith(first))
    end = next(i for i, line in enumerate(lines) if line.startswith(last))
    body = "\n".join(line.strip() for line in lines[start : end + 1] if line.strip())
    assert topics_of(headline, body) == SEED_TOPICS[name]


@pytest.mark.parametrize(
    ("title", "body", "expected"),
    [
        (
            "North Korea ships more artillery shells to Russia, satellite images suggest",
            "Pyongyang has sent thousands of containers of munitions to Russia by rail,\n"
            "according to a think tank. Moscow and Pyongyang signed a mutual defense pact "
            "last year, and Kim Jong-un has visited Russian arms factories.",
            set(),
        ),
        (
            "K-pop group announces 20-city world tour",
            "The seven-member group will open its tour in Seoul in September before playing "
            "arenas in Tokyo, Los Angeles and London, its agency said.",
            set(),
        ),
        (
            "National Assembly passes special counsel bill over martial law probe",
            "Lawmakers voted 180 to 100 to appoint a special counsel. The People Power Party "
            "opposed the bill, which the Democratic Party of Korea pushed through.",
            {"domestic-politics"},
        ),
        (
            "Japan and South Korea clash over Sado mine memorial",
            "Seoul boycotted the memorial for Korean forced labor victims at the Sado gold mine, "
            "saying Tokyo failed to acknowledge the wartime history.",
            set(),
        ),
        (
            "Republicans in Congress push impeachment inquiry",
            "House Republicans opened an impeachment inquiry into the cabinet secretary, "
            "setting up a Senate trial next year.",
            set(),
        ),
        (
            "Bank of Korea holds rates as exports slow",
            "South Korea's central bank kept its policy rate at 2.5 percent. Semiconductor "
            "exports fell for a second month, and Samsung shares slipped.",
            set(),
        ),
        (
            "북한, 남북 통신선 연락에 사흘째 응답 없어",
            "통일부는 북한이 남북 연락채널을 통한 통화 시도에 응하지 않았다고 밝혔다.",
            {"inter-korean"},
        ),
        (
            "주한미군 사령관, 을지 자유의 방패 연습 종료 후 전방 부대 방문",
            "주한미군 사령관은 한미연합훈련이 끝난 뒤 한국군 장병들을 격려했다.",
            {"alliance"},
        ),
        (
            "Hyundai Motor cuts US sales forecast over 25% tariff",
            "The US tariff on imported cars will cost South Korea's largest carmaker "
            "1.6 trillion won a quarter, and it will raise prices in the United States.",
            set(),
        ),
        (
            "Seoul pitches shipbuilding deal to Washington to avert 25% tariff",
            "Officials argued that the alliance should extend to economic security. President "
            "Trump has threatened a 25 percent tariff on South Korean goods.",
            {"alliance"},
        ),
        (
            '北, 동해상으로 탄도미사일 발사…합참 "한미 공조 하에 분석 중"',
            "합동참모본부는 북한이 평양 일대에서 단거리 탄도미사일 1발을 발사했다고 밝혔다.",
            {"inter-korean"},  # a launch the South's Joint Chiefs report (TOPICS.md)
        ),
        (
            "Trump says South Korea would pay $10 billion a year for US troops",
            "The former president called South Korea a 'money machine'.",
            {"alliance"},
        ),
        (
            "Kim Jong-un calls for constitution to name South Korea as 'primary foe'",
            "He said reunification was no longer possible and scrapped agencies that dealt with "
            "the South.",
            {"inter-korean"},
        ),
        (
            "이산가족 생존자 4만명 선 무너져",
            "등록 이산가족 가운데 생존자는 3만9천여 명이다. 정부는 상봉 재개를 촉구했다.",
            {"inter-korean"},
        ),
        (
            "국회, 계엄 특검법 본회의 통과",
            "국회는 본회의에서 비상계엄 특검법을 통과시켰다. 국민의힘은 표결에 불참했다.",
            {"domestic-politics"},
        ),
    ],
)
def test_boundaries(title: str, body: str, expected: set[str]) -> None:
    assert topics_of(title, body) == expected


@pytest.mark.parametrize(
    ("title", "topic"),
    [
        ("한미동맹을 강화한다", "alliance"),
        ("한미 동맹은 굳건하다", "alliance"),
        ("주한미군이 훈련했다", "alliance"),
        ("북한은 남북 대화를 거부했다", "inter-korean"),
        ("국회에서 특검법 통과", "domestic-politics"),
        ("Ｓｅｏｕｌ 국회의장, 여야 대표 회동", "domestic-politics"),
    ],
)
def test_korean_terms_match_with_particles_and_spacing_variants(title: str, topic: str) -> None:
    assert topic in topics_of(title)


def test_korean_terms_match_only_at_the_start_of_a_word() -> None:
    # 한미 inside 대한미술 is not the alliance; 국회 inside 전국회의 is not the Assembly.
    for match in classify("대한미술협회 전국회의 개최", "", TOPICS):
        assert match.hits == (), match


def test_full_width_and_dotted_forms_match_after_normalization() -> None:
    title = "ＵＳＦＫ commander meets U.S. envoy on extended deterrence"
    (match,) = [m for m in classify(title, "", TOPICS) if m.topic_id == "alliance"]
    assert {h.rule for h in match.hits} >= {
        "US forces in Korea and extended deterrence (usfk, extended deterrence)",
        "the US side (us)",
    }


def test_headline_abbreviations_name_the_koreas() -> None:
    assert topics_of("N. Korea's Kim Yo-jong rejects S. Korea's offer of inter-Korean talks") == {
        "inter-korean"
    }


def test_acronyms_take_korean_particles_and_match_only_in_capitals() -> None:
    assert topics_of("한미 NCG는 워싱턴에서 회의를 열었다") == {"alliance"}
    (match,) = [
        m for m in classify("Let us talk about the weather", "", TOPICS) if m.topic_id == "alliance"
    ]
    assert match.hits == ()


def test_hanja_abbreviations_in_korean_headlines() -> None:
    assert topics_of('韓美 국방장관 "확장억제 강화" 공동성명') == {"alliance"}
    assert topics_of("尹 탄핵심판 선고 4일 오전 11시") == {"domestic-politics"}
    assert topics_of('北, 경의선 도로 폭파…軍 "남북 연결 완전 차단"') == {"inter-korean"}


def test_text_that_cannot_be_encoded_still_classifies() -> None:
    """A JSON feed can carry a lone surrogate ("\\ud800"), which UTF-8 cannot encode."""
    title = "\ud800Seoul and Pyongyang agree to resume inter-Korean talks\ud800"
    (match,) = [m for m in classify(title, "\ud800South Korea said\ud800", TOPICS) if m.matched]
    assert (match.topic_id, match.score) == ("inter-korean", 19.5)


@pytest.mark.parametrize(
    ("title", "body"),
    [
        ("개성 넘치는 무대…신인 걸그룹 데뷔", "신인 그룹이 개성 있는 퍼포먼스를 선보였다."),
        ("한미약품, 미국 FDA에 신약 임상 신청", "한미약품은 미국 식품의약국에 계획을 냈다."),
        ('김연아, 후배들에게 "대선배로서 응원"', "피겨 여왕이 국가대표 선수들을 격려했다."),
        ("French National Assembly topples prime minister", "Lawmakers voted to oust him."),
    ],
)
def test_words_that_only_look_like_topic_terms_match_no_topic(title: str, body: str) -> None:
    assert topics_of(title, body) == set()


def test_unification_church_is_not_unification_policy() -> None:
    title = "특검, 통일교 한학자 총재 소환 통보"
    assert topics_of(title, "김건희 특검은 통일교 측에 출석을 통보했다.") == {"domestic-politics"}


def test_chinese_terms_match_inside_running_text() -> None:
    # Chinese has no spaces: 朝鲜 and 韩朝 are found inside the words around them.
    assert topics_of("韩统一部：朝鲜拆除金刚山韩方设施", "韩国统一部表示遗憾。") == {"inter-korean"}
    assert topics_of("韩美举行第五次防卫费分担特别协定谈判", "") == {"alliance"}
    assert topics_of("韩国最大在野党共同民主党举行全党大会", "") == {"domestic-politics"}


def test_chinese_hard_negatives_are_not_the_two_koreas() -> None:
    assert topics_of("2024年6月30日韩国历史上的今天", "1882年 朝鲜王朝与德国签署条约。") == set()
    assert topics_of("中国南北朝时期文物在首尔展出", "") == set()


def test_a_hanja_abbreviation_may_be_glued_to_a_korean_word() -> None:
    (match,) = [
        m for m in classify("尹지지율 30%대 회복", "", TOPICS) if m.topic_id == "domestic-politics"
    ]
    assert match.matched and "지지율" in explain([match])


def test_a_wire_dateline_is_no_south_korean_side() -> None:
    body = "[서울=뉴시스] 북한 외무성은 미국의 대외정책을 비난했다."
    (match,) = [m for m in classify("北외무성 담화", body, TOPICS) if m.topic_id == "inter-korean"]
    assert "a South Korean side" in match.missing


def test_a_title_that_shows_nothing_of_a_topic_needs_more_from_the_body() -> None:
    body = "주한미군은 이날 훈련을 했다."
    (titled,) = [m for m in classify("주한미군 훈련", body, TOPICS) if m.topic_id == "alliance"]
    (untitled,) = [m for m in classify("오늘의 소식", body, TOPICS) if m.topic_id == "alliance"]
    assert titled.threshold == 6 and untitled.threshold == 9
    assert titled.matched and not untitled.matched
    assert "score 4 / 9" in explain([untitled])


def test_early_paragraphs_weigh_more_and_repeats_have_diminishing_returns() -> None:
    def score(title: str, body: str) -> float:
        (match,) = [m for m in classify(title, body, TOPICS) if m.topic_id == "alliance"]
        return match.score

    filler = "\n".join(["Officials spoke."] * 3)
    assert score("News", "USFK commander spoke.") > score("News", f"{filler}\nUSFK spoke.")
    once, twice = score("News", "USFK spoke."), score("News", "USFK spoke. USFK again.")
    assert once < twice < 2 * once


def test_a_standalone_group_needs_no_required_context() -> None:
    (match,) = [
        m for m in classify("전작권 전환 로드맵 연내 마련", "", TOPICS) if m.topic_id == "alliance"
    ]
    assert match.matched and match.missing == ()
    (match,) = [
        m
        for m in classify("US troops hold drill in Germany", "", TOPICS)
        if m.topic_id == "alliance"
    ]
    assert not match.matched and match.missing == ("a South Korean side",)


def test_exclusions_subtract_and_are_explained() -> None:
    matches = classify(
        "Seoul skips Japan's Sado mine memorial for forced labor victims", "", TOPICS
    )
    (alliance,) = [m for m in matches if m.topic_id == "alliance"]
    assert alliance.excluded_by and alliance.excluded_by[0].weight < 0
    assert "- Japan-Korea history disputes (sado mine, forced labor) in title" in explain(matches)


# Written here in the form of Yonhap's Chinese digests: "▲headline" then the story's text,
# or one "《paper》headline" line per front page. Each story is judged on its own (TOPICS.md).
DIGEST = "\n".join(
    [
        "▲韩美防长举行会谈商定加强延伸威慑",
        "韩美两国国防部长当天在首尔举行会谈，商定加强对朝延伸威慑。",
        "▲国会通过预算案 朝野激烈交锋",
        "国会当天召开全体会议表决通过明年预算案，执政党和在野党激烈交锋。",
        "▲歌手新专辑登顶排行榜",
        "某组合新专辑发行首日登顶。",
    ]
)
FRONT_PAGES = "《甲日报》国会弹劾案表决在即\n《乙日报》朝鲜再射弹道导弹\n《丙经济》股市小幅上涨"


def test_a_digest_is_in_every_topic_one_of_its_stories_is_in_and_says_which() -> None:
    matches = {m.topic_id: m for m in classify("2025年1月2日韩联社要闻简报-1", DIGEST, TOPICS)}
    assert {t for t, m in matches.items() if m.matched} == {"alliance", "domestic-politics"}
    assert {h.where for h in matches["alliance"].hits} == {"title of story 1", "body of story 1"}
    assert {h.where for h in matches["domestic-politics"].hits} == {
        "title of story 2",
        "body of story 2",
    }
    assert "(国会, 朝野) in title of story 2 ×2: +12.00" in explain(tuple(matches.values()))
    # The same stories in one item that is not a digest: one story, scored as a whole.
    whole = classify("今日新闻", DIGEST, TOPICS)
    assert all(h.where in ("title", "body") for m in whole for h in m.hits)
    assert topics_of("2025年1月2日韩国主要报纸头条新闻", FRONT_PAGES) == {
        "domestic-politics",
        "inter-korean",
    }


def test_a_digest_that_lists_no_story_is_judged_as_one_item() -> None:
    assert topics_of("2025年1月2日韩联社要闻简报", "") == set()
    (matches,) = [classify("2025年1月2日韩联社要闻简报", "国会当天召开全体会议。", TOPICS)]
    assert all(h.where in ("title", "body") for m in matches for h in m.hits)
    assert topics_of("2025年1月2日韩联社要闻简报", "国会当天召开全体会议，朝野交锋。")


def test_title_matches_outweigh_body_matches() -> None:
    in_title = classify("Talks on separated families", "", TOPICS)
    in_body = classify("News", "Talks on separated families", TOPICS)
    score = {m.topic_id: m.score for m in in_title}
    assert score["inter-korean"] > {m.topic_id: m.score for m in in_body}["inter-korean"]


def test_explain_names_each_rule_where_it_matched_and_the_verdict() -> None:
    text = explain(classify("Inter-Korean hotline restored", "Seoul and Pyongyang talked.", TOPICS))
    assert "IN inter-korean" in text
    assert "+ the relationship itself (inter-korean) in title ×1: +12.00" in text
    assert "+ North Korea (pyongyang) in body ×1: +1.00" in text
    assert "not in alliance" in text
    missing = explain(classify("Pyongyang tests a missile", "Kim Jong-un watched.", TOPICS))
    assert "requires 'a South Korean side': no match" in missing


HEAD = "id = 'topic'\ntitle = 'T'\ndescription = 'D'\nthreshold = 1\n"
RULE = "[[rules]]\nweight = 1\nterms = ['hotline']\n"


@pytest.mark.parametrize(
    ("content", "key", "problem"),
    [
        ("id = 'x'\ntitle = 'T'\ndescription = 'D'\n", "id", "must match the file name"),
        ("id = 'topic'\ntitle = 'T'\n", "description", "required"),
        ("id = 'topic'\ntitle = 'T'\ndescription = 'D'\n", "threshold", "positive number"),
        (
            "id = 'topic'\ntitle = 'T'\ndescription = 'D'\nthreshold = 1\n",
            "rules",
            "at least one",
        ),
        (
            "id = 'topic'\ntitle = 'T'\ndescription = 'D'\nthreshold = 1\n"
            "[[rules]]\nweight = 'heavy'\nterms = ['a']\n",
            "rules[0].weight",
            "must be a number",
        ),
        (
            "id = 'topic'\ntitle = 'T'\ndescription = 'D'\nthreshold = 1\n"
            "[[rules]]\nweight = 1\nterms = []\n",
            "rules[0].terms",
            "non-empty list",
        ),
        (
            "id = 'topic'\ntitle = 'T'\ndescription = 'D'\nthreshold = 1\nlabel = 'x'\n",
            "label",
            "unknown setting",
        ),
        (f"{HEAD}[[rules]]\nweight = 1\nterms = ['a']\nboost = 2\n", "rules[0].boost", "unknown"),
        (
            f"{HEAD}[[rules]]\nweight = 1\npatterns = ['(unclosed']\n",
            "rules[0].patterns[0]",
            "invalid regex",
        ),
        (
            f"{HEAD}[[rules]]\nweight = 1\nterms = ['a']\nstandalone = 'yes'\n",
            "rules[0].standalone",
            "true or false",
        ),
        (f"{HEAD}{RULE}[[exclude]]\nterms = ['b']\n", "exclude[0].weight", "must be a number"),
        (f"{HEAD}{RULE}[[requires]]\nterms = 'Seoul'\n", "requires[0].terms", "list"),
        (f"{HEAD}requires = 'Seoul'\n{RULE}", "requires", "array of tables"),
        (
            "id = 'topic'\ntitle = 'T'\ndescription = 'D'\nthreshold = 'high'\n",
            "threshold",
            "positive number",
        ),
        ("id = 'Topic One'\ntitle = 'T'\ndescription = 'D'\n", "id", "lower-case"),
        ("title = 'T'\ndescription = 'D'\n", "id", "required"),
    ],
)
def test_invalid_topic_files_name_file_key_and_problem(
    tmp_path: Path, content: str, key: str, problem: str
) -> None:
    path = tmp_path / "topic.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_topic(path)
    assert caught.value.key == key
    assert str(path) in str(caught.value) and problem in str(caught.value)


def test_invalid_toml_in_a_topic_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "topic.toml"
    path.write_text("id = 'topic'\ntitle = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"topic.toml: invalid TOML: .*line 2"):
        load_topic(path)


def test_load_topics_sorts_by_id_and_names_a_missing_or_empty_folder(tmp_path: Path) -> None:
    assert [t.id for t in TOPICS] == ["alliance", "domestic-politics", "inter-korean"]
    with pytest.raises(ConfigError, match="topics folder not found"):
        load_topics(tmp_path / "absent")
    with pytest.raises(ConfigError, match="no topic files"):
        load_topics(tmp_path)


def test_a_bad_file_among_good_ones_is_named(tmp_path: Path) -> None:
    (tmp_path / "good.toml").write_text(f"{HEAD.replace('topic', 'good')}{RULE}", encoding="utf-8")
    (tmp_path / "bad.toml").write_text(f"{HEAD}{RULE}", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"bad\.toml: id: 'topic' must match the file name"):
        load_topics(tmp_path)


def test_topics_compare_by_their_rules_as_written(tmp_path: Path) -> None:
    path = tmp_path / "topic.toml"
    path.write_text(f"{HEAD}{RULE}", encoding="utf-8")
    first, second = load_topic(path), load_topic(path)
    assert first == second and repr(first) == repr(second)
    assert "re.compile" not in repr(first)
    path.write_text(f"{HEAD}{RULE.replace('hotline', 'hotlines')}", encoding="utf-8")
    assert load_topic(path) != first


@pytest.mark.parametrize(
    ("pattern", "openings"),
    [
        (r"\bdrones?\b", {"drone"}),  # a zero-width assertion opens nothing
        (r"(?<!North )\btroops (?:in|from)", {"troops "}),
        (r"(?:US|American) and", {"us and", "american and"}),  # each branch, then what follows
        (r"(?-i:'?END'?) plan", {"'end", "end"}),  # an optional opening, or what follows it
        (r"[AB]-52", {"a-52", "b-52"}),
        (r"(?:미국|美)\s?대선", {"미국", "美"}),
        (r"\w+ forces", None),  # a class of characters: not known
        (r"é", None),  # ignoring case, "É" matches too, which lower-casing ASCII does not find
        (r"(?-i:é)", {"é"}),
        (r"x?", None),  # can match nothing, which finditer treats its own way
    ],
)
def test_what_a_pattern_begins_with(pattern: str, openings: set[str] | None) -> None:
    from aggregator.matching import compile_matcher

    (scan,) = compile_matcher((), (pattern,)).scans
    assert scan.openings == (None if openings is None else frozenset(openings))


def test_every_shipped_rule_is_looked_for_by_the_key_finder() -> None:
    """No shipped term or pattern falls back to scanning whole texts: the automaton finds
    where each may match."""
    scans = [
        scan
        for topic in TOPICS
        for group in (*topic.rules, *topic.exclusions, *topic.requires)
        for scan in group.matcher.scans
    ]
    assert {scan.kind for scan in scans} == {"latin", "acronym", "cjk", "chinese", "pattern"}
    assert all(scan.openings for scan in scans)


def test_topics_sent_to_a_worker_process_classify_the_same() -> None:
    """Workers get the topics pickled; their matchers and automaton must still agree."""
    import pickle

    copies = pickle.loads(pickle.dumps(TOPICS))
    title = "N. Korea's Kim warns Seoul over joint drills with USFK"
    body = "주한미군 and South Korean troops held drills.\nThe unification ministry said..."
    assert classify(title, body, copies) == classify(title, body, TOPICS)
    assert any(m.matched for m in classify(title, body, copies))
