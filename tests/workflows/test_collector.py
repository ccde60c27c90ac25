"""workflows.collector: the cyclic collector paused for a block, then left as it was."""

from __future__ import annotations

import gc

import pytest

from workflows.collector import collector_paused


def test_the_collector_is_off_in_the_block_and_on_after_it_even_after_an_error():
    assert gc.isenabled()
    with collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_caller_that_had_paused_it_finds_it_paused():
    gc.disable()
    try:
        with collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
