"""Two items decided alone (``dedup.same_story``): the rules' tests in
``test_containment`` and ``test_writeups`` build their items and ask the decision here."""

from datetime import UTC, datetime, timedelta

from aggregator import dedup
from aggregator.types import ItemData

AT = datetime(2025, 6, 9, 1, tzinfo=UTC)


def item(site: str, title: str, text: str, hours: float, number: int = 1) -> ItemData:
    """An item of outlet ``site`` published ``hours`` after AT."""
    return ItemData(
        key=f"https://{site}.example/{number}",
        title=title,
        content_html=f"<p>{text}</p>",
        link=f"https://{site}.example/{number}",
        published=AT + timedelta(hours=hours),
    )


def same(first: ItemData, second: ItemData) -> bool:
    """The decision, which must not depend on which item came first."""
    forth, back = dedup.same_story(first, second, 0.5), dedup.same_story(second, first, 0.5)
    assert forth == back
    return forth
