"""Stories are a function of the set of items: one entry per story, whatever the arrival order.

Real SQLite stores fed seed files (saved RSS) one at a time in different orders; the
published feeds must come out byte for byte the same, and stories alike only through
a third version must still be one entry.
"""

import itertools
import random
import shutil
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import pytest

from aggregator import fingerprints, pipeline
from tests import corpus
from tests.benchmarks import feedcorpus
from tests.support.app import open_app

NOW = datetime(2025, 6, 10, tzinfo=UTC)


def _rss(site: str, entries: list[tuple[str, str, str, str]]) -> bytes:
    """An RSS file of one site: (link path, title, text, RFC 822 date) per item."""
    items = "".join(
        f"<item><title>{title}</title><link>https://www.{site}.example/{path}</link>"
        f"<pubDate>{date}</pubDate><description>{text}</description></item>"
        for path, title, text, date in entries
    )
    return (
        f"<?xml version='1.0'?><rss version='2.0'><channel><title>{site} {len(entries)}</title>"
        f"<link>https://www.{site}.example/</link>{items}</channel></rss>"
    ).encode()


def _publish(project: Path, files: dict[str, bytes], order: list[list[str]]) -> bytes:
    """all.xml after ingesting ``files``, a group of them per run, in ``order``."""
    seeds = project / "seeds"
    shutil.rmtree(seeds)
    seeds.mkdir()
    app = open_app(project, f"sqlite:///{project / 'aggregator.db'}")
    try:
        for group in order:
            for name in group:
                (seeds / name).write_bytes(files[name])
            pipeline.ingest(app, NOW)
        pipeline.regenerate(app, NOW)
        return (app.settings.feeds_dir / "all.xml").read_bytes()
    finally:
        app.close()


def _fresh(tmp_path: Path, project: Path, name: str) -> Path:
    copy = tmp_path / name
    shutil.copytree(project, copy)
    return copy


def _three_versions() -> dict[str, bytes]:
    """Versions A, B, C of a story: A and C share a third of their text (signatures 0.34
    alike, below the 0.5 threshold), B half or more of each (0.56 with A, 0.63 with C)."""
    rng = random.Random(11)
    parts = [" ".join(corpus._sentence(rng) for _ in range(2)) for _ in range(18)]  # noqa: SLF001
    return {
        f"{name.lower()}.xml": _rss(
            name.lower(),
            [
                (
                    "1",
                    f"Talks {name}",
                    " ".join(parts[start : start + 12]),
                    f"Mon, 09 Jun 2025 0{hour}:00:00 +0000",
                )
            ],
        )
        for name, start, hour in (("A", 0, 1), ("B", 3, 2), ("C", 6, 3))
    }


def test_versions_alike_only_through_a_third_are_one_entry_in_every_order(
    project: Path, tmp_path: Path
) -> None:
    """A and C share too little to be the same story, B is close to both: in whatever
    order the three arrive, one run or three, they are one entry, the earliest's."""
    versions = _three_versions()
    published = set()
    published.add(_publish(_fresh(tmp_path, project, "once"), versions, [sorted(versions)]))
    for n, order in enumerate(itertools.permutations(versions)):
        runs = [[name] for name in order]
        published.add(_publish(_fresh(tmp_path, project, str(n)), versions, runs))
    (only,) = published
    entries = [e for e in feedparser.parse(only).entries if e.title.startswith("Talks")]
    assert [e.title for e in entries] == ["Talks A"]
    related = sorted(link.href for link in entries[0].links if link.rel == "related")
    assert related == ["https://www.b.example/1", "https://www.c.example/1"]


def test_when_two_published_stories_join_the_older_entry_stays(project: Path) -> None:
    files = _three_versions()
    seeds = project / "seeds"
    app = open_app(project, f"sqlite:///{project / 'aggregator.db'}")
    try:
        (seeds / "c.xml").write_bytes(files["c.xml"])
        (seeds / "a.xml").write_bytes(files["a.xml"])
        pipeline.update(app, NOW)
        before = {
            e.title: e.id for e in feedparser.parse(app.settings.feeds_dir / "all.xml").entries
        }
        assert {"Talks A", "Talks C"} <= set(before)
        (seeds / "b.xml").write_bytes(files["b.xml"])
        pipeline.update(app, NOW)
        after = {
            e.title: e.id for e in feedparser.parse(app.settings.feeds_dir / "all.xml").entries
        }
        assert after.get("Talks A") == before["Talks A"] and "Talks C" not in after
        assert "Talks B" not in after
    finally:
        app.close()


def test_one_outlets_article_in_several_section_feeds_is_one_entry_naming_other_outlets_once(
    project: Path,
) -> None:
    """A short article one outlet carries under two section URLs and in its all-news feed,
    and another outlet's copy of it: one entry, whose "Also reported by" names the other
    outlet once and never the entry's own outlet or URL."""
    text = "The ministry said talks would resume on Friday."
    date, later = "Mon, 09 Jun 2025 01:00:00 +0000", "Mon, 09 Jun 2025 02:00:00 +0000"
    files = {
        "khan-politics.xml": _rss("khan", [("politics/77", "Talks to resume", text, date)]),
        "khan-society.xml": _rss("khan", [("society/77", "Talks to resume", text, date)]),
        "khan-all.xml": _rss("khan", [("politics/77", "Talks to resume", text, date)]),
        "wire-all.xml": _rss("wire", [("9", "Talks to resume", text, later)]),
        "wire-world.xml": _rss("wire", [("world/9", "Talks to resume", text, later)]),
    }  # fmt: skip
    feed = feedparser.parse(_publish(project, files, [sorted(files)]))
    (entry,) = [e for e in feed.entries if e.title == "Talks to resume"]
    related = [link.href for link in entry.links if link.rel == "related"]
    assert entry.link.startswith("https://www.khan.example/")
    assert len(related) == 1 and related[0].startswith("https://www.wire.example/")
    assert entry.content[0].value.count("<li>") == 1


def test_the_same_short_text_days_apart_stays_two_entries(project: Path) -> None:
    text = "Weather: rain in the afternoon."
    files = {
        "a.xml": _rss("a", [("1", "Today", text, "Mon, 02 Jun 2025 01:00:00 +0000")]),
        "b.xml": _rss("b", [("1", "Today", text, "Mon, 09 Jun 2025 01:00:00 +0000")]),
    }
    feed = feedparser.parse(_publish(project, files, [sorted(files)]))
    assert [e.title for e in feed.entries].count("Today") == 2


def test_any_arrival_order_of_a_corpus_gives_the_same_feed(project: Path, tmp_path: Path) -> None:
    """Six feeds of a generated corpus (copies, edited copies, stories on one subject),
    ingested one feed per run in random orders, or all at once: byte-identical feeds."""
    entries = corpus.generate(60)
    files = {f"feed{n}.xml": corpus.rss(n, entries) for n in range(6)}
    rng = random.Random(18)
    published = {_publish(_fresh(tmp_path, project, "all"), files, [sorted(files)])}
    for trial in range(4):
        order = rng.sample(sorted(files), len(files))
        published.add(_publish(_fresh(tmp_path, project, str(trial)), files, [[n] for n in order]))
    assert len(published) == 1


def _ingest_corpus(project: Path, urls: list[str], workers: int) -> bytes:
    """all.xml after one update of a fresh store following ``urls`` with ``workers``."""
    sources = "".join(f'[[sources]]\nurl = "{url}"\nenabled = true\n' for url in urls)
    config = f"[fetch]\nworkers = {workers}\nper_host = {workers}\n{sources}"
    shutil.rmtree(project / "seeds")
    (project / "seeds").mkdir()
    app = open_app(project, f"sqlite:///{project / 'aggregator.db'}", config)
    try:
        pipeline.update(app, NOW)
        return (app.settings.feeds_dir / "all.xml").read_bytes()
    finally:
        app.close()


def _corpus_three_times(project: Path, tmp_path: Path, feeds: int, entries: int) -> None:
    data = feedcorpus.generate(feeds, entries)
    server = feedcorpus.serve(data)
    try:
        urls = [server.url(feed.path) for feed in data.feeds]
        published = {
            _ingest_corpus(_fresh(tmp_path, project, str(workers)), urls, workers)
            for workers in (1, 4, 8)
        }
    finally:
        server.stop()
    assert len(published) == 1


def test_the_benchmark_corpus_fetched_by_any_number_of_workers_gives_one_feed(
    project: Path, tmp_path: Path
) -> None:
    """Parallel fetching changes the order sources are written in; the feed stays the same."""
    _corpus_three_times(project, tmp_path, 12, 20)


@pytest.mark.slow
def test_the_full_benchmark_corpus_ingested_three_times_gives_one_feed(
    project: Path, tmp_path: Path
) -> None:
    _corpus_three_times(project, tmp_path, 60, 50)


def test_stories_published_at_one_moment_keep_their_order_whatever_arrives_first(
    project: Path, tmp_path: Path
) -> None:
    """Ties in the published date are common (outlets round to the minute; future dates are
    capped at the fetch): the feed orders them by entry id, never by arrival."""
    date = "Mon, 09 Jun 2025 01:00:00 +0000"
    files = {
        f"{site}.xml": _rss(site, [("1", f"{subject} story", f"{subject} held a briefing.", date)])
        for site, subject in [("a", "Seoul"), ("b", "Busan"), ("c", "Incheon")]
    }
    published = {
        _publish(_fresh(tmp_path, project, "".join(order)), files, [[name] for name in order])
        for order in itertools.permutations(sorted(files))
    }
    assert len(published) == 1


def test_one_feed_listing_an_article_under_two_of_its_urls_shows_it_once(
    project: Path,
) -> None:
    text = "The ministry said talks would resume on Friday."
    date = "Mon, 09 Jun 2025 01:00:00 +0000"
    files = {
        "khan-all.xml": _rss(
            "khan",
            [
                ("politics/77", "Talks to resume", text, date),
                ("society/77", "Talks to resume", text, date),
            ],
        )
    }
    feed = feedparser.parse(_publish(project, files, [sorted(files)]))
    (entry,) = [e for e in feed.entries if e.title == "Talks to resume"]
    assert not [link for link in entry.links if link.rel == "related"]


# Written for these tests (issue #18's kinds of versions), not taken from any outlet.
_REPORT = (
    "정부는 오늘 오전 정부서울청사에서 열린 비상경제회의에서 올해 하반기 물가 안정을 위한 "
    "종합 대책을 발표했다. 대책에는 농산물 수입 관세를 한시적으로 낮추고 공공요금 인상 "
    "시기를 늦추는 방안이 담겼다. 기획재정부 장관은 회의를 마친 뒤 기자들과 만나 서민 "
    "부담을 덜기 위해 가능한 모든 수단을 동원하겠다고 말했다. 정부는 다음 달 초까지 "
    "세부 시행 계획을 마련해 국무회의에 올릴 예정이며 지방자치단체와도 협의를 이어갈 "
    "방침이다. 전문가들은 대책의 효과가 나타나려면 적어도 한 분기는 걸릴 것으로 내다봤다."
)
_FULL = (
    "韩国央行今日召开货币政策会议，决定维持基准利率不变，同时下调今年经济增长预期。"
    "央行行长在会后记者会上表示，物价上涨压力有所缓解，但家庭负债仍在增加，需要继续观察。"
    "市场此前普遍预计央行将按兵不动，股市和汇市对决定反应平稳。"
)


def _versions() -> dict[str, bytes]:
    """A wire's flash (its text only the copyright notice) and full version under a longer
    headline; a paper's report and another paper's copy cut to its first half under
    another headline, 20 hours later; two template notices and two parts of a series."""

    def at(hour: int, minute: int = 0) -> str:
        return f"Mon, 09 Jun 2025 {hour:02}:{minute:02}:00 +0000"

    notice = "{} 주가가 장중 3% 이상 급등했다. 거래량은 평소의 두 배 수준이었다."
    part = "연재 기사는 지역 경제의 변화를 다룬다. 이번 회에서는 항구 도시의 재개발 과정을 살핀다."
    return {
        "wire.xml": _rss(
            "wire",
            [
                (
                    "1",
                    "快讯：韩国央行维持基准利率不变",
                    "【版权归通讯社所有，严禁转载】",
                    at(1),
                ),
                (
                    "2",
                    "详讯：韩国央行今日宣布维持基准利率不变并下调增长预期",
                    _FULL,
                    at(1, 20),
                ),
            ],
        ),
        "paper.xml": _rss(
            "paper",
            [("7", "정부, 하반기 물가 안정 종합 대책 발표", _REPORT, at(0))],
        ),
        "copy.xml": _rss(
            "copy",
            [
                (
                    "3",
                    "농산물 관세 낮추고 공공요금 인상 늦춘다",
                    _REPORT[: len(_REPORT) // 2],
                    at(20),
                )
            ],
        ),
        "notices.xml": _rss(
            "notices",
            [
                (
                    "a",
                    "가나전자, 장중 3% 이상 급등",
                    notice.format("가나전자"),
                    at(2),
                ),
                (
                    "b",
                    "다라화학, 장중 3% 이상 급등",
                    notice.format("다라화학"),
                    at(2, 5),
                ),
                ("c", "항구 도시의 재개발 ①", part, at(3)),
                ("d", "항구 도시의 재개발 ②", part, at(3)),
            ],
        ),
    }


def test_flash_and_full_versions_and_a_cut_copy_are_one_entry_in_any_order(
    project: Path, tmp_path: Path
) -> None:
    """Versions found by containment (a flash's headline in the full version's, a copy's
    text in the report's) are one entry whatever the arrival order; template notices and
    a series' parts stay apart."""
    files = _versions()
    rng = random.Random(18)
    published = {_publish(_fresh(tmp_path, project, "all"), files, [sorted(files)])}
    for trial in range(6):
        order = rng.sample(sorted(files), len(files))
        published.add(_publish(_fresh(tmp_path, project, str(trial)), files, [[n] for n in order]))
    (only,) = published
    entries = {e.title: e for e in feedparser.parse(only).entries}
    related = {
        title: sorted(link.href for link in entry.links if link.rel == "related")
        for title, entry in entries.items()
    }
    assert related["정부, 하반기 물가 안정 종합 대책 발표"] == ["https://www.copy.example/3"]
    assert "농산물 관세 낮추고 공공요금 인상 늦춘다" not in entries
    # One outlet's two versions: one entry (the earliest), listing no other outlet.
    assert "详讯：韩国央行今日宣布维持基准利率不变并下调增长预期" not in entries
    assert related["快讯：韩国央行维持基准利率不变"] == []
    for title in ("가나전자", "다라화학", "항구 도시의 재개발 ①", "항구 도시의 재개발 ②"):
        assert any(t.startswith(title) for t in entries), title


def test_an_ingest_lets_go_of_the_shingles_it_compared(project: Path, tmp_path: Path) -> None:
    """The texts' shingles kept for containment (tens of MB after a large ingest) are let go
    when the ingest ends, before a regeneration needs the memory (issue #22)."""
    files = _versions()
    copy = _fresh(tmp_path, project, "once")
    published = feedparser.parse(_publish(copy, files, [sorted(files)]))
    related = {
        e.title: [link.href for link in e.links if link.rel == "related"] for e in published.entries
    }
    # The copy joined the report by containment, so shingles were compared.
    assert related["정부, 하반기 물가 안정 종합 대책 발표"] == ["https://www.copy.example/3"]
    assert fingerprints.body_shingles.cache_info().currsize == 0


def _write_ups() -> dict[str, bytes]:
    """Two outlets' own reports of one decision (written for this test: their texts worded
    apart, their headlines naming it alike), 9 hours apart; a civic group's reaction by a
    third outlet; and the first outlet's own follow-up on the same subject."""

    def at(hour: int) -> str:
        return f"Mon, 09 Jun 2025 {hour:02}:00:00 +0000"

    return {
        "daily.xml": _rss(
            "daily",
            [
                (
                    "1",
                    "부산시, 북항 재개발 부지에 해양박물관 건립 확정",
                    "부산시는 9일 북항 재개발 부지에 국립 해양박물관을 짓기로 확정했다고 밝혔다. "
                    "시는 설계 공모를 이달 안에 시작하고 주민 설명회도 열 계획이다.",
                    at(0),
                ),
                (
                    "2",
                    "북항 해양박물관 설계 공모에 국내외 건축가 몰려",
                    "부산 북항 재개발 부지에 들어설 국립 해양박물관 설계 공모에 국내외 건축가들이 "
                    "대거 참가 신청을 했다고 부산시가 밝혔다.",
                    at(8),
                ),
            ],
        ),
        "paper.xml": _rss(
            "paper",
            [
                (
                    "5",
                    "부산 북항 재개발지에 국립 해양박물관…설계 공모 이달 시작",
                    "부산 북항 재개발 부지에 국립 해양박물관이 들어선다. 부산시는 9일 이 같은 "
                    "계획을 확정하고 설계 공모 절차에 들어간다고 설명했다.",
                    at(9),
                )
            ],
        ),
        "news.xml": _rss(
            "news",
            [
                (
                    "9",
                    "시민단체 “해양박물관 건립 환영”…부산시에 주민 참여 주문",
                    "지역 시민단체들은 부산시의 해양박물관 건립 확정을 환영한다는 성명을 냈다. "
                    "이들은 설계 과정에 주민 참여를 보장하라고 요구했다.",
                    at(4),
                )
            ],
        ),
    }


def test_other_outlets_write_ups_of_one_event_are_one_entry_in_any_order(
    project: Path, tmp_path: Path
) -> None:
    """The write-ups are found through the band index and joined whichever comes first;
    the reaction and the outlet's own follow-up stay entries of their own."""
    files = _write_ups()
    published = set()
    for trial, order in enumerate(itertools.permutations(sorted(files))):
        if trial % 2:
            continue
        project_copy = _fresh(tmp_path, project, str(trial))
        published.add(_publish(project_copy, files, [[name] for name in order]))
    (only,) = published
    entries = {e.title: e for e in feedparser.parse(only).entries}
    assert set(entries) == {
        "부산시, 북항 재개발 부지에 해양박물관 건립 확정",
        "북항 해양박물관 설계 공모에 국내외 건축가 몰려",
        "시민단체 “해양박물관 건립 환영”…부산시에 주민 참여 주문",
    }
    related = [
        link.href
        for link in entries["부산시, 북항 재개발 부지에 해양박물관 건립 확정"].links
        if link.rel == "related"
    ]
    assert related == ["https://www.paper.example/5"]
