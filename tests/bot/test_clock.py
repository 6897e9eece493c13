"""The sandbox clock: real time that keeps ticking, plus an offset that only grows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import SandboxClock


def test_sandbox_clock_follows_real_time_until_advanced() -> None:
    clock = SandboxClock()
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)
    assert clock.now().tzinfo is UTC


def test_advance_moves_time_forward_and_keeps_it_ticking() -> None:
    clock = SandboxClock()
    clock.advance(timedelta(days=1))
    clock.advance(timedelta(hours=2))
    assert clock.offset == timedelta(days=1, hours=2)
    assert abs(clock.now() - (datetime.now(UTC) + timedelta(days=1, hours=2))) < timedelta(seconds=1)


def test_a_negative_start_back_dates_but_advance_never_goes_back() -> None:
    clock = SandboxClock(offset=-timedelta(days=21))
    assert clock.now() < datetime.now(UTC) - timedelta(days=20)
    with pytest.raises(ValueError, match="forward"):
        clock.advance(timedelta(seconds=-1))
    clock.advance(timedelta(days=21))
    assert clock.offset == timedelta(0)
