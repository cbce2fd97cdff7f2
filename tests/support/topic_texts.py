"""Texts to classify: the labelled examples of tests/data/topics/, and generated texts that
mix the terms of topics in the ways that make matchers disagree (terms that overlap or
start one another, particles, plural and possessive endings, hyphens and dashes, acronyms
glued to Hangul, terms inside longer words, mixed case, full-width and dotted forms).
"""

import json
import random
from collections.abc import Sequence

from aggregator.classify import Topic, load_topics
from tests.support.project import DATA, REPO

SEED = 20250601
GENERATED = 4000

FILLER = [
    "the", "said", "on", "Monday", "officials", "and", "in", "a", "talks", "of", "to", "state",
    "media", "report", "정부는", "밝혔다", "이날", "관계자", "그리고", "Korean", "North", "South",
    "Northern", "US", "us", "UN", "U.S.", "U.N.", "N.", "S.", "Korea", "korea", "KOREA", "ally",
    "rally", "forces", "troops", "in", "from", "American", "and", "stationed", "based", "out",
    "is", "North America", "North Gyeongsang", "under", "12", "2025", "—", "–", "-", "(", ")",
    '"', "“", "”", "’", "'", ",", ".", "·", "_", "Ｕ", "ＳＦＫ", "한", "북", "남", "미", "x", "pre",
    "N.\nKorea", "S. \n Korea", "U.S.\n", "İstanbul", "DİPLOMAT", "ıs", "É", "ΣΑ", "¨", "\x1c",
    "\u2028", "\r", "\x85", "\u2003", "\u00a0\n", "\n\u3000", "ｔｒｏｏｐｓ",
]  # fmt: skip
PREFIXES = ["", "", "", "", "", "x", "un", "re", "-", "(", '"', "한", "북", "_", "'", "韓", "1"]
SUFFIXES = [
    "", "", "", "", "", "s", "es", "'s", "’s", "s'", "ing", "ss", "은", "는", "의", "에서", "이",
    "가", "를", "과", "-", ",", ".", ")", "x", "_", "1", "'",
]  # fmt: skip
SPACES = [" ", " ", " ", "", "-", "  ", "—", "\u00a0", "\t", "\u3000", "\n", "\x1c", " \n "]


def _terms(topics: Sequence[Topic]) -> list[str]:
    """Every term of every group, and phrases the shipped patterns look for."""
    terms = [t for topic in topics for g in (*topic.rules, *topic.exclusions, *topic.requires)
             for t in g.terms]  # fmt: skip
    return sorted(set(terms)) + [
        "troops in Korea", "troops stationed in South Korea", "North Korean troops in Korea",
        "US and South Korean forces", "American and Korean marines", "South Korean and US jets",
        "North Korea's", "the North", "the North's", "North America",
    ]  # fmt: skip


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _decorated(rng: random.Random, terms: list[str]) -> str:
    """A term as a text might write it: re-cased, re-spaced, glued to its neighbours."""
    term = rng.choice(terms)
    roll = rng.random()
    if roll < 0.15:
        term = term.lower()
    elif roll < 0.25:
        term = term.upper()
    elif roll < 0.35:
        term = term.title()
    elif roll < 0.45:
        term = "".join(c.swapcase() if rng.random() < 0.3 else c for c in term)
    if rng.random() < 0.3:
        term = term.replace(" ", rng.choice(SPACES))
    if rng.random() < 0.1:
        term = term.replace("US", "U.S.").replace("North ", "N. ").replace("South ", "S.")
    if rng.random() < 0.05:
        term = _full_width(term)
    if rng.random() < 0.2:  # two terms run together: one may end where the other starts
        term += rng.choice(["", "-", " "]) + rng.choice(terms)
    return rng.choice(PREFIXES) + term + rng.choice(SUFFIXES)


def _sentence(rng: random.Random, terms: list[str], size: int) -> str:
    pieces = [
        _decorated(rng, terms) if rng.random() < 0.5 else rng.choice(FILLER) for _ in range(size)
    ]
    return "".join(p + rng.choice([" ", " ", " ", " ", "", "-", ", "]) for p in pieces).strip()


def generated_texts(
    count: int = GENERATED, seed: int = SEED, topics: Sequence[Topic] | None = None
) -> list[tuple[str, str]]:
    """(title, body) pairs mixing the terms of ``topics`` (the shipped ones by default), the
    same for the same arguments; bodies have up to six paragraphs."""
    rng = random.Random(seed)
    terms = _terms(topics if topics is not None else load_topics(REPO / "config" / "topics"))
    texts = []
    for _ in range(count):
        title = _sentence(rng, terms, rng.randint(1, 7))
        paragraphs = [_sentence(rng, terms, rng.randint(1, 9)) for _ in range(rng.randint(0, 6))]
        body = rng.choice(["\n", "\n\n", "\n \n"]).join(paragraphs)
        texts.append((title, body))
    return texts


def labelled_texts() -> dict[str, tuple[str, str]]:
    """Every labelled example, keyed by its file and id."""
    texts = {}
    for path in sorted((DATA / "topics").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                example = json.loads(line)
                texts[f"{path.stem}:{example['id']}"] = (example["title"], example.get("body", ""))
    return texts
