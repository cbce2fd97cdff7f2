"""Replay the six knews-rss days through the real pipeline, then list what each topic feed shows.

    python -m tests.benchmarks.replay_knews [--workdir DIR] [--judgement FILE.jsonl]

Each day's folder of ../shared/realworld/knews-rss is ingested in order, as a daemon
would meet the outlets' feeds day after day: the day's files are linked (not copied)
into a seeds folder under the same names, so each outlet-and-section file is one source
across the days, and ``pipeline.update`` runs with ``now`` at the end of that day in
Seoul. After the last day, every entry of every topic feed is listed (topic, title,
link, the start of its text) for a reader to judge by ../shared/TOPICS.md (issue 17:
precision of what the feeds show).

With ``--judgement``, a file of that reader's verdicts, one JSON object per line
(``{"topic": ..., "link": ..., "right": true|false}``), is matched to the entries and
the precision of each feed printed; entries without a verdict are listed as unjudged.
"""

import argparse
import json
import tempfile
from datetime import datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import feedparser

from aggregator import pipeline
from aggregator.config import load_settings
from aggregator.text import html_to_text

REPO = Path(__file__).resolve().parents[2]
DAYS = REPO.parent / "shared" / "realworld" / "knews-rss"
SEOUL = ZoneInfo("Asia/Seoul")


def replay(workdir: Path) -> dict[str, list[dict[str, str]]]:
    """Ingest every day in order; the entries of each topic feed after the last one."""
    seeds = workdir / "seeds"
    seeds.mkdir(parents=True, exist_ok=True)
    (workdir / "config").mkdir(exist_ok=True)
    config = workdir / "config" / "aggregator.toml"
    config.write_text(f'[topics]\nfolder = "{REPO / "config" / "topics"}"\n', encoding="utf-8")
    app = pipeline.Aggregator.open(load_settings(config, environ={}))
    try:
        for day in sorted(p for p in DAYS.iterdir() if p.is_dir()):
            for old in seeds.iterdir():
                old.unlink()
            for feed in sorted(day.glob("*.xml")):
                (seeds / feed.name).symlink_to(feed)
            end = datetime.combine(datetime.fromisoformat(day.name), time(23, 59), SEOUL)
            ingested, published = pipeline.update(app, end.astimezone(ZoneInfo("UTC")))
            print(
                f"{day.name}: {ingested.items_new} new, {ingested.items_updated} updated, "
                f"{len(ingested.failures)} failed inputs, {len(published.written)} feeds written"
            )
        topics = [t.id for t in app.topics]
        feeds_dir = app.settings.feeds_dir
    finally:
        app.close()
    shown: dict[str, list[dict[str, str]]] = {}
    for topic in topics:
        parsed = feedparser.parse((feeds_dir / f"{topic}.xml").read_bytes())
        shown[topic] = [
            {
                "title": entry.get("title", ""),
                "link": entry.get("link", ""),
                "text": html_to_text(entry.get("summary", "") or "")[:160],
            }
            for entry in parsed.entries
        ]
    return shown


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, help="keep the replay here (default: a temp dir)")
    parser.add_argument("--judgement", type=Path, help="a reader's verdicts, JSON Lines")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temporary:
        shown = replay(args.workdir or Path(temporary))
    verdicts: dict[tuple[str, str], bool] = {}
    if args.judgement:
        for line in args.judgement.read_text(encoding="utf-8").splitlines():
            if line.strip():
                raw = json.loads(line)
                verdicts[raw["topic"], raw["link"]] = raw["right"]
    for topic, entries in shown.items():
        print(f"\n== {topic}: {len(entries)} entries")
        right = judged = 0
        for number, entry in enumerate(entries, start=1):
            verdict = verdicts.get((topic, entry["link"]))
            if verdict is not None:
                judged += 1
                right += verdict
            mark = {True: "ok", False: "WRONG", None: "?"}[verdict]
            print(f"{number:3} {mark:5} {entry['title']}")
            print(f"      {entry['link']}\n      {entry['text']}")
        if judged:
            unjudged = len(entries) - judged
            print(f"precision {right}/{judged} = {right / judged:.3f}; unjudged {unjudged}")


if __name__ == "__main__":
    main()
