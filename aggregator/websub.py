"""WebSub (W3C Recommendation): tell the configured hub which feeds changed, so it pushes them.

Pinged only after a regeneration that changed a feed's bytes, never otherwise.
A hub that is down costs a warning; the feeds are published all the same.
"""

import logging
from collections.abc import Sequence

import httpx

from aggregator.ingest.http import USER_AGENT

log = logging.getLogger("aggregator.websub")


def ping(hub: str, feed_urls: Sequence[str], timeout: float = 10.0) -> list[str]:
    """POST hub.mode=publish for each feed URL; returns the problems met (empty when all went)."""
    problems = []
    with httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT}) as client:
        for url in feed_urls:
            try:
                response = client.post(hub, data={"hub.mode": "publish", "hub.url": url})
            except httpx.HTTPError as error:
                problems.append(f"{hub}: {type(error).__name__}: {error}")
                continue
            if response.status_code >= 300:
                problems.append(f"{hub}: HTTP {response.status_code} for {url}")
    for problem in problems:
        log.warning("WebSub ping failed: %s", problem)
    return problems
