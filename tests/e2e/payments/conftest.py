"""Payments end to end: every module here runs on SQLite and PostgreSQL, with a bot whose ``PAYMENTS`` is the
``modes`` fixture (Stars and a card provider unless a module or a test says otherwise), the test rate of 0.6 Stars
per rupee, the test provider's token and an operator chat; every pre-checkout question must be answered exactly
once, and quickly (``every_checkout_answered_once``)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from bot.config import Settings
from domain.clock import FixedClock
from domain.model import PaymentMode
from sandbox.botapi import FakeBotApi
from tests.e2e.conftest import BotRunner
from tests.e2e.payments.helpers import OPERATOR, TOKEN


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


class PaymentsRunner(BotRunner):
    modes: tuple[PaymentMode, ...] = (PaymentMode.STARS, PaymentMode.PROVIDER)

    def settings(self, **changes: object) -> Settings:
        return (
            super()
            .settings(**changes)
            .replace(
                payments=self.modes,
                stars_per_rupee=Decimal("0.6"),
                payment_provider_token=TOKEN if PaymentMode.PROVIDER in self.modes else "",
                operator_chat_id=OPERATOR,
            )
        )


@pytest.fixture
def modes() -> tuple[PaymentMode, ...]:
    """The deployment's ``PAYMENTS``: a module overrides this fixture, or a test parametrizes ``modes``."""
    return (PaymentMode.STARS, PaymentMode.PROVIDER)


@pytest.fixture
def runner(api: FakeBotApi, database_url: str, clock: FixedClock, modes: tuple[PaymentMode, ...]) -> BotRunner:
    made = PaymentsRunner(api, database_url, clock)
    made.modes = modes
    return made


@pytest.fixture(autouse=True)
def every_checkout_answered_once(api: FakeBotApi) -> Iterator[None]:
    yield
    problems = [c.id for c in api.payments.checkouts.values() if len(c.answers) != 1 or c.rejected_answers]
    assert not problems, f"pre-checkout queries not answered exactly once: {problems}"
    assert all(c.answer_seconds is not None and c.answer_seconds < 10 for c in api.payments.checkouts.values())
