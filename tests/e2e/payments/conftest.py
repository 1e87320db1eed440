"""Payments end to end: every module here runs on SQLite and PostgreSQL, with a bot whose ``PAYMENTS`` is the
``modes`` fixture (Stars and a card provider unless a module or a test says otherwise), the test rate of 0.6 Stars
per rupee, the test provider's token and an operator chat."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.config import Settings
from domain.clock import FixedClock
from domain.model import PaymentMode
from sandbox.botapi import FakeBotApi
from tests.e2e.conftest import BotRunner

TOKEN = "284685063:TEST:sandbox-provider"
OPERATOR = 909  # the operator's chat: a person here, as the test server only has private chats


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
