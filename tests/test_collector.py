"""The cycle collector's thresholds during an ingest (issue #22): raised, then as before."""

import gc

import pytest

from aggregator.collector import MIDDLE_GENERATION, YOUNG_GENERATION, collecting_less


@pytest.fixture
def thresholds():
    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)
    yield
    gc.set_threshold(*before)


@pytest.mark.usefixtures("thresholds")
def test_an_ingest_collects_less_and_then_as_before():
    with collecting_less():
        assert gc.get_threshold() == (YOUNG_GENERATION, MIDDLE_GENERATION, 10)
    assert gc.get_threshold() == (700, 10, 10)


@pytest.mark.usefixtures("thresholds")
def test_the_thresholds_come_back_when_an_ingest_fails():
    with pytest.raises(RuntimeError), collecting_less():
        raise RuntimeError("a bug in the ingest")
    assert gc.get_threshold() == (700, 10, 10)
