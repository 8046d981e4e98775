"""A batch pauses the cyclic collector and gives it back as it found it, error or not."""

from __future__ import annotations

import gc

import pytest

from secureai.batch import batch


@batch
def _collector_on() -> bool:
    return gc.isenabled()


@batch
def _fails() -> None:
    raise RuntimeError("boom")


def test_a_batch_runs_paused_and_restores_the_collector() -> None:
    assert gc.isenabled()
    assert _collector_on() is False
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        _fails()
    assert gc.isenabled()


def test_a_batch_inside_a_paused_run_leaves_it_paused() -> None:
    gc.disable()
    try:
        assert _collector_on() is False
        assert not gc.isenabled()
    finally:
        gc.enable()
