"""The near-duplicate signature gives exactly the values of its straightforward first version.

Signatures and band keys are stored, and a stored item is only ever compared
with new ones, so any change in what the fast code computes (a shingle more or
less, another digest, slot or band key) would silently split stories until every
stored item was recomputed. The first version is kept here as the oracle, word
for word (but its shingles' hash: xxh3 since issue #22, as the code's), and the
fast one must agree with it on the corpus texts, on the seed files, and on
generated texts made of the pieces where a fast tokenizer can go wrong: Hangul
with Latin letters or digits attached, Hanja, Yi and other characters whose
UTF-8 starts like Hangul's, jamo, underscores, punctuation, characters that NFKC
or case-folding change (full-width letters, ligatures, circled numbers, ß, İ, ſ,
the Kelvin sign, final sigma), combining marks,
lone surrogates, and texts around MIN_SHINGLES.
"""

import hashlib
import json
import random
import re
from zoneinfo import ZoneInfo

import pytest
import xxhash

from aggregator import fingerprints
from aggregator.ingest.seeds import read_seed
from aggregator.text import html_to_text, normalize
from tests import corpus
from tests.support.project import DATA, REPO

# --- The oracle: the signature as first written, one shingle at a time ----------------------
# (its shingles hashed with xxh3 since issue #22; tests/test_signature_xxh3.py compares
# it with blake2b, which they were hashed with before)

_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_SPACELESS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7a3]")
_EMPTY = (1 << 64) - 1


def reference_shingles(text: str) -> set[str]:
    latin: list[str] = []
    hangul_words: list[str] = []
    for word in _WORD.findall(normalize(text).casefold()):
        korean = _SPACELESS.search(word)
        (hangul_words if korean else latin).append(word)
    hangul = "".join(hangul_words)
    found = {f"{a} {b} {c}" for a, b, c in zip(latin, latin[1:], latin[2:], strict=False)}
    found.update([hangul[i : i + 4] for i in range(len(hangul) - 3)])
    return found


def reference_signature(text: str) -> tuple[int, ...] | None:
    pieces = reference_shingles(text)
    if len(pieces) < fingerprints.MIN_SHINGLES:
        return None
    slots = [_EMPTY] * fingerprints.SIGNATURE_SLOTS
    for piece in pieces:
        value = xxhash.xxh3_64_intdigest(piece.encode())
        slot = value % fingerprints.SIGNATURE_SLOTS
        if value < slots[slot]:
            slots[slot] = value
    return tuple(slots)


def reference_band_keys(slots: tuple[int, ...]) -> list[int]:
    keys = []
    for band in range(0, fingerprints.SIGNATURE_SLOTS, fingerprints.BAND_ROWS):
        rows = slots[band : band + fingerprints.BAND_ROWS]
        if _EMPTY in rows:
            continue
        payload = band.to_bytes(2, "big") + b"".join(r.to_bytes(8, "big") for r in rows)
        keys.append(int.from_bytes(hashlib.blake2b(payload, digest_size=8).digest(), "big") >> 1)
    return keys


# --- Texts -----------------------------------------------------------------------------------

SEED = 20250607
GENERATED = 3000

PIECES = [
    # Latin words, some that case-folding or NFKC change
    "the", "said", "North", "KOREA", "Seoul", "talks", "US", "U.S.", "2024", "1,000", "x",
    "Straße", "STRASSE", "İstanbul", "ſtate", "\u212aelvin", "ΣΟΦΟΣ", "σοφος", "Ὀδυσσεύς",
    "Ｆｕｌｌ", "ｗｉｄｔｈ１２", "ﬁnance", "ﬀ", "Ⅻ", "①", "½", "x²", "µs", "À", "éte", "Ça",
    "naïve", "hindi", "हिन्दी", "ﾊﾝｶｸ", "ｶﾞ", "e\u0301", "a\u0308b",
    # Korean words, alone and with Latin letters, digits or particles attached
    "한미", "동맹", "연합훈련", "국방부는", "NCG는", "2024년", "3월", "G7에서", "北", "한國",
    "韓國", "中国語", "北韓은", "ㄱ", "ㅎㅎ", "ᄀ", "ﾡ", "㈜", "㉠", "힣", "가", "ퟻ", "ꀀ가", "ꀀ",
    "𠀀", "가_나", "가-나", "A가b", "1가2", "가\u0301", "\ud7a4", "\uabff",
    # separators and characters that are no word
    "_", "__init__", "snake_case", "-", "—", "–", "’", "'s", "“", "”", "·", "…", ".", ",", "!",
    "(", ")", "\u00a0", "\u3000", "\t", "\n", "\r\n", "\x1c", "\x00", "\u2028", "\ufeff",
    "\ud800", "\udfff", "😀", "#", "@", "\\", "~",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", " ", "", "  ", "\n", ". ", ", ", "-", "_", "\u00a0", "\u3000", "’"]
LATIN = [f"w{n}" for n in range(60)]
KOREAN = ["한미", "동맹", "국방부", "연합", "훈련", "통일부", "대화", "남북", "발표", "회담"]


def _generated(rng: random.Random) -> str:
    pool = rng.choice([PIECES, PIECES + LATIN, PIECES + KOREAN * 3, LATIN, KOREAN, LATIN + KOREAN])
    words = rng.choices(pool, k=rng.choice([0, 1, 3, 10, 40, 45, 60, 200]))
    return "".join(word + rng.choice(SEPARATORS) for word in words)


def _around_the_minimum() -> list[str]:
    """Texts with just under, at and just over MIN_SHINGLES distinct shingles."""
    texts = []
    for count in range(fingerprints.MIN_SHINGLES - 3, fingerprints.MIN_SHINGLES + 3):
        texts.append(" ".join(LATIN[: count + 2]))  # count distinct 3-word shingles
        texts.append(" ".join(LATIN[: count + 2] * 2))  # the same, and the seams between
        texts.append("가나다라마바사아자차카타파하" * 4 + "갸"[: count % 2])
    return texts


def _corpus_texts() -> list[str]:
    entries = corpus.generate(40)
    return [f"{entry.title}\n" + "\n".join(entry.paragraphs) for entry in entries]


def _seed_texts() -> list[str]:
    texts = []
    for path in sorted((REPO / "seeds").glob("*.txt")):
        (item,) = read_seed(path, ZoneInfo("Asia/Seoul")).items
        texts.append(f"{item.title}\n{html_to_text(item.content_html)}")
    return texts


def _topic_texts() -> list[str]:
    """The labelled examples, one by one and run together (all English, all Korean, mixed)."""
    rows = [
        json.loads(line)
        for path in sorted((DATA / "topics").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").splitlines()
    ]
    texts = [f"{row['title']}\n{row['body']}" for row in rows]
    korean = [t for t in texts if _HANGUL.search(t)]
    english = [t for t in texts if t.isascii()]
    return texts + ["\n".join(korean), "\n".join(english), "\n".join(texts)]


def _all_texts() -> list[str]:
    rng = random.Random(SEED)
    generated = [_generated(rng) for _ in range(GENERATED)]
    return (
        ["", " ", "가", "a b c", *_around_the_minimum(), *_seed_texts(), *_topic_texts()]
        + _corpus_texts()
        + generated
    )


TEXTS = _all_texts()


def test_the_texts_reach_every_case() -> None:
    """The generated texts are not all trivially short, nor all long enough."""
    signatures = [reference_signature(text) for text in TEXTS]
    assert sum(s is None for s in signatures) > 100
    assert sum(s is not None for s in signatures) > 1000
    assert any(s is not None and _EMPTY in s for s in signatures)  # a slot left empty


@pytest.mark.parametrize("start", range(0, len(TEXTS), 500))
def test_shingles_signatures_and_band_keys_are_the_oracles(start: int) -> None:
    for text in TEXTS[start : start + 500]:
        assert fingerprints.shingles(text) == {s.encode() for s in reference_shingles(text)}, text
        slots = fingerprints.signature(text)
        assert slots == reference_signature(text), text
        if slots is not None:
            assert fingerprints.band_keys(slots) == reference_band_keys(slots)
            assert fingerprints.unpack(fingerprints.pack(slots)) == slots
