"""A server process sets what it made at start-up aside from the cycle collector, and runs the
collector less often (``app.tune_collector``), and the ASGI entry point does so."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from bluelight import app as app_module
from bluelight.app import COLLECTOR_THRESHOLDS, app_factory, tune_collector


@pytest.fixture
def collector() -> Iterator[None]:
    """The collector as the test found it, afterwards."""
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector")
def test_the_entry_point_sets_start_up_aside_and_collects_less_often(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    built = object()
    monkeypatch.setattr(app_module, "create_app", lambda: built)
    gc.unfreeze()

    app = app_factory()

    assert app is built
    assert gc.get_threshold() == COLLECTOR_THRESHOLDS
    # What existed when it was tuned is out of the collector's passes for good
    assert gc.get_freeze_count() > 0


class _Node:
    def __init__(self) -> None:
        self.me = self


@pytest.mark.usefixtures("collector")
def test_garbage_made_before_tuning_is_collected_not_set_aside() -> None:
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage

    tune_collector()

    assert gone() is None
