"""Labels that point into saved feed files (issue 17): resolved with the project's own feed
parser, measured per language, borderline items apart, splits kept apart, errors explained."""

import json
import sys
from pathlib import Path

import pytest

from aggregator.classify import load_topics
from aggregator.cli import main
from aggregator.evaluation import full_report, misclassified
from aggregator.labels import default_feeds_folder, load_labelled
from tests.support.project import REPO

TOPICS = load_topics(REPO / "config" / "topics")

# The description is escaped HTML: what the classifier sees is the parser's plain text.
FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Wire</title><link>http://wire.test/</link>
<item><title>Inter-Korean hotline restored</title><guid>g-1</guid>
<link>http://wire.test/1</link>
<description>&lt;b&gt;Seoul&lt;/b&gt; and Pyongyang talked again.</description></item>
<item><title>BTS world tour opens in Seoul</title><link>http://wire.test/2</link>
<description>Fans queued.</description></item>
<item><title>한미동맹 강화 합의</title><link>http://wire.test/3</link>
<description>한국과 미국 국방장관이 만났다.</description></item>
</channel></rss>
"""


def label(**fields: object) -> str:
    base = {"file": "day/wire.xml", "guid": None, "lang": "en", "topics": [], "note": "n"}
    return json.dumps({**base, **fields}, ensure_ascii=False)


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    """A checkout with labels in tests/, and the saved feeds in ../shared/realworld."""
    feeds = tmp_path / "shared" / "realworld" / "day"
    feeds.mkdir(parents=True)
    (feeds / "wire.xml").write_text(FEED, encoding="utf-8")
    labels = tmp_path / "checkout" / "tests" / "labels.jsonl"
    labels.parent.mkdir(parents=True)
    lines = [
        label(guid="g-1", link="http://wire.test/1", topics=["inter-korean"], split="tune"),
        label(link="http://wire.test/2", topics=["inter-korean"], split="tune"),
        label(link="http://wire.test/3", lang="ko", topics=["alliance"], split="heldout"),
        label(link="http://wire.test/3", file="day/missing.xml", split="tune"),
        label(link="http://wire.test/404", split="tune"),
        label(guid="g-1", topics=[], borderline=True),
        json.dumps({"id": "inline", "title": "Exports rise", "topics": [], "split": "tune"}),
    ]
    labels.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return labels


def test_labels_resolve_into_the_parsed_entries_and_bad_ones_are_named(labelled: Path) -> None:
    assert default_feeds_folder(labelled) == labelled.parents[2] / "shared" / "realworld"
    loaded = load_labelled(labelled)
    by_id = {e.id: e for e in loaded.examples}
    assert list(by_id) == [
        "day/wire.xml#g-1",
        "day/wire.xml#http://wire.test/2",
        "day/wire.xml#http://wire.test/3",
        "inline",
    ]
    first = by_id["day/wire.xml#g-1"]
    assert first.body == "Seoul and Pyongyang talked again."  # the parser's unescaped text
    assert (first.language, first.split, first.topics) == ("en", "tune", {"inter-korean"})
    assert by_id["day/wire.xml#http://wire.test/3"].language == "ko"
    assert by_id["inline"].language == "en"  # guessed from its text
    assert len(loaded.problems) == 3
    missing, unknown, repeated = loaded.problems
    assert f"{labelled}:4:" in missing and "missing.xml: cannot read" in missing
    assert f"{labelled}:5:" in unknown and "no entry with link 'http://wire.test/404'" in unknown
    assert "already labelled on line 1" in repeated


def test_a_label_without_an_entry_to_find_or_with_bad_fields_is_a_problem(tmp_path: Path) -> None:
    path = tmp_path / "labels.jsonl"
    path.write_text(
        "\n".join(
            [
                label(),
                label(link="x", split="train"),
                label(link="x", borderline="yes"),
                label(link="x", topics="alliance"),
            ]
        ),
        encoding="utf-8",
    )
    problems = load_labelled(path, tmp_path).problems
    assert [p.split(": not a usable label: ")[1] for p in problems] == [
        "a label needs a 'guid' or a 'link' to find its entry",
        "'split' must be one of tune, heldout",
        "'borderline' must be true or false",
        "'topics' must be a list of topic ids (empty for none)",
    ]


def test_the_report_is_per_language_with_borderline_items_apart(labelled: Path) -> None:
    examples = load_labelled(labelled).examples
    report = full_report(examples, TOPICS)
    sections = report.split("\n\n")
    assert [s.split(":")[0] for s in sections] == ["all languages", "en", "ko"]
    assert sections[0].startswith("all languages: 4 labelled examples")
    rows = {line.split()[0]: line.split()[1:] for line in sections[1].splitlines()[2:]}
    assert rows["inter-korean"] == ["1.000", "0.500", "0.667", "1", "0", "1"]
    borderline = load_labelled(labelled).examples + (
        examples[0].__class__("b", "Inter-Korean talks", "", frozenset(), borderline=True),
    )
    assert (
        full_report(borderline, TOPICS)
        .split("\n\n")[-1]
        .startswith("borderline, not counted above: 1 labelled examples")
    )


def test_errors_show_the_rule_hits_behind_each_wrong_verdict(labelled: Path) -> None:
    examples = load_labelled(labelled).examples
    (miss,) = misclassified(examples, TOPICS)
    assert miss.example.id == "day/wire.xml#http://wire.test/2"
    lines = miss.explained().splitlines()
    assert lines[0].startswith("day/wire.xml#http://wire.test/2: missing inter-korean; extra -")
    assert lines[1].startswith("  not in inter-korean: score 0 / 9")  # nothing in its title
    assert "requires 'a North Korean side'" in lines[-1]


def test_evaluate_command_filters_a_split_and_exits_1_on_unusable_labels(
    labelled: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    project = labelled.parent.parent
    (project / "config").mkdir()
    (project / "config" / "aggregator.toml").write_text(
        f'[topics]\nfolder = "{REPO / "config" / "topics"}"\n', encoding="utf-8"
    )
    monkeypatch.chdir(project)
    monkeypatch.setattr(sys, "argv", ["aggregator"])
    status = main(["evaluate", str(labelled), "--split", "tune", "--errors"])
    out, err = capsys.readouterr()
    assert status == 1
    assert err.count("failed: ") == 2  # the tune split's; the others are not read at all
    assert out.splitlines()[0] == "split tune, 3 labelled examples, 2 labels not usable"
    assert "http://wire.test/2: missing inter-korean" in out
    assert "http://wire.test/3" not in out  # held out
    assert main(["evaluate", str(labelled), "--feeds", str(project / "none")]) == 2
