"""Topic rules: the shipped seeds, the boundaries editors care about, Korean matching, errors."""

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from aggregator.classify import classify, explain, load_topic, load_topics
from aggregator.errors import ConfigError
from aggregator.ingest.seeds import read_seed
from aggregator.text import html_to_text
from tests.conftest import REPO

TOPICS = load_topics(REPO / "config" / "topics")


def topics_of(title: str, body: str = "") -> set[str]:
    return {m.topic_id for m in classify(title, body, TOPICS) if m.matched}


@pytest.mark.parametrize("name", ["000_bbf987679977ef00.txt", "002_605a32e122b5d713.txt"])
def test_both_shipped_seeds_are_in_all_three_topics(name: str) -> None:
    (item,) = read_seed(REPO / "seeds" / name, ZoneInfo("Asia/Seoul")).items
    assert topics_of(item.title, html_to_text(item.content_html)) == {
        "inter-korean",
        "alliance",
        "domestic-politics",
    }


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
            set(),
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


def test_korean_terms_match_with_particles_and_spacing_variants() -> None:
    (alliance,) = [t for t in TOPICS if t.id == "alliance"]
    for text in ("한미동맹을", "한미 동맹은", "주한미군이", "확장억제의"):
        assert alliance.rules[0].pattern.search(text) or any(
            g.pattern.search(text) for g in alliance.rules
        ), text
    # A term must start a word: 한미 inside 대한미술 is not the alliance.
    assert not any(g.pattern.search("대한미술협회") for g in alliance.rules)


def test_full_width_and_dotted_forms_match_after_normalization() -> None:
    title = "ＵＳＦＫ commander meets U.S. envoy on extended deterrence"
    (match,) = [m for m in classify(title, "", TOPICS) if m.topic_id == "alliance"]
    assert {h.rule for h in match.hits} >= {"US forces and deterrence", "the US side"}


def test_title_matches_outweigh_body_matches() -> None:
    in_title = classify("Talks on separated families", "", TOPICS)
    in_body = classify("News", "Talks on separated families", TOPICS)
    score = {m.topic_id: m.score for m in in_title}
    assert score["inter-korean"] > {m.topic_id: m.score for m in in_body}["inter-korean"]


def test_explain_names_each_rule_where_it_matched_and_the_verdict() -> None:
    text = explain(classify("Inter-Korean hotline restored", "Seoul and Pyongyang talked.", TOPICS))
    assert "IN inter-korean" in text
    assert "'relations between the two Koreas' in title" in text
    assert "not in alliance" in text
    missing = explain(classify("Pyongyang tests a missile", "Kim Jong-un watched.", TOPICS))
    assert "requires 'a South Korean side': no match" in missing


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


def test_invalid_toml_in_a_topic_file(tmp_path: Path) -> None:
    path = tmp_path / "topic.toml"
    path.write_text("id = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="topic.toml: invalid TOML"):
        load_topic(path)
