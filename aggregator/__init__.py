"""aggregator: an RSS/Atom feed aggregator and scheduled publisher of topic feeds.

The pipeline (see ``aggregator.pipeline``) ingests seed files and web sources,
deduplicates and stores items, classifies them into topics and publishes one
Atom feed per topic.
"""

__version__ = "0.1.0"
HOMEPAGE = "https://github.com/aggregator-project/aggregator"
