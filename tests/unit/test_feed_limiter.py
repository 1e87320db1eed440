"""The per-address limit on unknown feed tokens (``bot.feed.MissLimiter``): a burst, then one more per refill
period; forgotten when the allowance is full again; never more addresses remembered than its bound."""

from __future__ import annotations

from bot.feed import MissLimiter


def test_ten_misses_then_wait_for_the_allowance_to_refill() -> None:
    limiter = MissLimiter(burst=10, refill_seconds=30.0)
    for _ in range(10):
        assert limiter.retry_after("203.0.113.5", 0.0) == 0
        limiter.missed("203.0.113.5", 0.0)
    assert limiter.retry_after("203.0.113.5", 0.0) == 30.0
    assert abs(limiter.retry_after("203.0.113.5", 20.0) - 10.0) < 1e-9
    assert limiter.retry_after("198.51.100.7", 20.0) == 0  # other addresses are not held up
    assert limiter.retry_after("203.0.113.5", 30.0) == 0
    limiter.missed("203.0.113.5", 30.0)
    assert limiter.retry_after("203.0.113.5", 30.0) > 0


def test_a_full_allowance_is_forgotten_and_the_addresses_remembered_are_bounded() -> None:
    limiter = MissLimiter(burst=3, refill_seconds=10.0, max_addresses=100)
    limiter.missed("203.0.113.5", 0.0)
    assert len(limiter) == 1
    assert limiter.retry_after("203.0.113.5", 10.0) == 0 and len(limiter) == 0  # refilled: nothing to keep
    for n in range(1000):
        limiter.missed(f"10.0.{n // 256}.{n % 256}", 0.0)
    assert len(limiter) == 100
    for _ in range(3):
        limiter.missed("203.0.113.5", 1.0)
    assert limiter.retry_after("203.0.113.5", 1.0) > 0  # the newest is kept, the oldest went first
    assert limiter.retry_after("10.0.0.0", 1.0) == 0
