"""The sanitizer's one reusable nh3 cleaner: each call still resolves against its own base URL.

``sanitize_html`` builds its cleaner once and hands each call's base URL to the
attribute filter through a ContextVar; these tests check it against nh3 told
everything afresh on every call (what it did before), and that calls running
at the same time in other threads (nh3 releases the GIL) keep their own bases.
"""

import random
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urljoin

import nh3

from aggregator.ingest import sanitize
from aggregator.ingest.sanitize import sanitize_html

PIECES = [
    '<a href="{u}">a</a>', '<img src="{u}" alt="i">', '<blockquote cite="{u}">q</blockquote>',
    '<q cite="{u}">q</q>', '<a href="{u}" title="{u}">t</a>', "<p>text 한국어 &amp; more</p>",
    '<script src="{u}">x</script>', '<iframe src="{u}"></iframe>', "<b>bold</b>", "<br>",
    '<td colspan="2">c</td>', '<a href="{u}" onclick="x()">e</a>', "<!-- c -->",
]  # fmt: skip
URLS = [
    "/a", "b/c", "../up", "#frag", "?q=1", "//cdn.example/x.png", "https://abs.example/p",
    " /padded ", "mailto:desk@example.org", "javascript:alert(1)", "", "http://h.example/a/../b",
]  # fmt: skip
BASES = [None, "", "https://site.example/news/item?id=3", "http://other.example/", "/relative/"]


def cleaned_afresh(markup: str, base_url: str | None) -> str:
    """The sanitizer as it was: nh3.clean given every option and a closure over the base."""

    def absolute(element: str, attribute: str, value: str) -> str | None:
        if attribute in sanitize._URL_ATTRIBUTES and base_url:  # noqa: SLF001
            return urljoin(base_url, value.strip())
        return value

    return nh3.clean(
        markup,
        tags=sanitize._TAGS,  # noqa: SLF001
        clean_content_tags=sanitize._DROP_WITH_CONTENT,  # noqa: SLF001
        attributes=sanitize._ATTRIBUTES,  # noqa: SLF001
        attribute_filter=absolute,
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    ).strip()


def random_markup(rng: random.Random) -> str:
    pieces = rng.choices(PIECES, k=rng.randint(1, 8))
    return " ".join(piece.format(u=rng.choice(URLS)) for piece in pieces)


def test_the_reused_cleaner_gives_what_a_fresh_one_gave() -> None:
    rng = random.Random(7)
    for _ in range(300):
        markup, base = random_markup(rng), rng.choice(BASES)
        assert sanitize_html(markup, base) == cleaned_afresh(markup, base), (markup, base)


def test_concurrent_calls_keep_their_own_base_url() -> None:
    # Big enough documents that nh3 (which releases the GIL) overlaps the threads' calls.
    markup = '<p><a href="/story">s</a> <img src="pic.png"> filler text</p>' * 400
    bases = [f"https://site{n}.example/dir/" for n in range(4)]
    expected = {base: cleaned_afresh(markup, base) for base in bases}

    def clean_many(base: str) -> bool:
        return all(sanitize_html(markup, base) == expected[base] for _ in range(25))

    with ThreadPoolExecutor(max_workers=len(bases)) as pool:
        assert all(pool.map(clean_many, bases))
