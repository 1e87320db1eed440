"""Settings from the environment and an optional ``.env`` file (the environment wins), on pydantic-settings.

Each setting is one field of ``Settings``: its type, its default and what it must be (``description``), written
once. Its environment variable is the field's name in capitals (``REMINDERS`` for ``reminder_leads``). A missing
or invalid setting stops start-up with one line that names it and says what it must be (``ConfigError``); the
values of ``BOT_TOKEN``, ``DATABASE_URL``, ``WEBHOOK_SECRET`` and ``PAYMENT_PROVIDER_TOKEN`` are never repeated,
there or in a repr.

``load_settings()`` reads the process environment and ``.env``. ``Settings(bot_token=..., ...)`` in code (tests,
benchmarks) takes its keyword arguments and the defaults and reads neither, so a developer's ``.env`` cannot leak
into a test.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
from collections.abc import Mapping
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, Field, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.exc import ArgumentError

from chat.i18n import SUPPORTED_LOCALES
from domain.mentee import DEFAULT_MAX_ACTIVE_PER_MENTOR
from domain.model import PaymentMode
from domain.payments import PaymentSettings
from domain.reschedule import DEFAULT_MAX_RESCHEDULES
from storage.engine import SUPPORTED_DRIVERS, normalize_url

_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
# Telegram's setWebhook: the secret_token is 1-256 characters of A-Z, a-z, 0-9, _ and -; a webhook URL is
# https on port 443, 80, 88 or 8443.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_PORTS = (443, 80, 88, 8443)
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_LEAD = re.compile(r"^(\d{1,4})\s*(h|m)$")
_SCHEMES = " or ".join(f"{driver}://" for driver in sorted(SUPPORTED_DRIVERS))
_POSITIVE = "a positive number"
_AT_LEAST_ONE = "a whole number of at least 1"
UPDATES_AT_ONCE = 256  # updates handled at once by default (``Settings.updates_at_once``)
INVOICE_UPDATES_AT_ONCE = 32  # ... when Telegram's invoices are on: pre-checkout questions are answered in time


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it and says what is expected."""


class Settings(BaseSettings):
    """The bot's settings. Built in code from keyword arguments, or by ``load_settings`` from the environment."""

    model_config = SettingsConfigDict(frozen=True, extra="ignore", env_ignore_empty=True)

    # repr=False: a secret, or a value that may hold one (a database password), is never shown - not in a repr,
    # not in a ConfigError
    bot_token: str = Field(
        repr=False,
        description="the token @BotFather gives your bot: <digits>:<at least 20 characters of A-Z a-z 0-9 _ ->",
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///data/mentor_desk.sqlite3", repr=False, description=f"a URL starting with {_SCHEMES}"
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org", description="an http(s) URL, e.g. https://api.telegram.org"
    )
    default_timezone: str = Field("Asia/Kolkata", description="an IANA time zone, e.g. Asia/Kolkata")
    default_locale: str = Field("en", description=f"one of {', '.join(SUPPORTED_LOCALES)}")
    # Scheduler (``bot.dispatcher``): how often the outbox is checked even when nothing woke it, the overall
    # Telegram send rate (messages per second, all chats together), and the dispatcher's tuning.
    dispatch_interval_seconds: float = Field(5.0, gt=0, allow_inf_nan=False, description=_POSITIVE)
    send_rate_per_second: float = Field(30.0, gt=0, allow_inf_nan=False, description=_POSITIVE)
    dispatch_batch: int = Field(100, ge=1, description=_AT_LEAST_ONE)
    dispatch_concurrency: int = Field(10, ge=1, description=_AT_LEAST_ONE)
    dispatch_max_attempts: int = Field(5, ge=1, description=_AT_LEAST_ONE)
    dispatch_lease_seconds: float = Field(300.0, gt=0, allow_inf_nan=False, description=_POSITIVE)
    # How many updates the bot handles at once (``bot.updates``; one at a time per person in any case); unset:
    # ``updates_at_once``, which depends on whether Telegram's invoices are on.
    concurrent_updates: int | None = Field(None, ge=1, description=_AT_LEAST_ONE)
    # Reminders before each confirmed session, and how long a request may wait for the mentor (or until the start).
    reminder_leads: Annotated[tuple[timedelta, ...], NoDecode] = Field(
        (timedelta(hours=24), timedelta(hours=1)),
        validation_alias=AliasChoices("reminder_leads", "reminders"),
        description="a list such as 24h,1h or 2h,15m (each from 1 minute to 30 days), or none",
    )
    expire_after_hours: float = Field(48.0, gt=0, allow_inf_nan=False, description=_POSITIVE)
    # At most this many pending or upcoming bookings per mentee with one mentor.
    max_active_bookings_per_mentor: int = Field(DEFAULT_MAX_ACTIVE_PER_MENTOR, ge=1, description=_AT_LEAST_ONE)
    # At most this many moves per booking (``domain.reschedule``); 0 turns rescheduling off.
    max_reschedules: int = Field(DEFAULT_MAX_RESCHEDULES, ge=0, description="a whole number of at least 0")
    # Webhook mode (``bot.web``) when ``webhook_url`` is set, long polling otherwise. An empty secret means
    # "derived from the token" (``webhook_secret_token``).
    webhook_url: str | None = Field(None, description="an https:// URL, e.g. https://bot.example.com/tg")
    webhook_secret: str = Field(
        "", repr=False, description="1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)"
    )
    port: int = Field(8080, ge=1, le=65535, description="a whole number from 1 to 65535")
    webhook_listen: str = Field("0.0.0.0", description="an IP address or host name, e.g. 0.0.0.0")
    # Several worker processes on one host serving the same port (SO_REUSEPORT: the kernel spreads connections).
    webhook_reuse_port: bool = Field(False, description="1 or 0 (true/false, yes/no, on/off)")
    # Payments (``domain.payments``): how paid bookings are paid, the rate that suggests a price in Stars, the
    # provider's token from @BotFather, how long a slot waits for its payment, and where refunds owed by hand are
    # also reported.
    payments: Annotated[tuple[PaymentMode, ...], NoDecode] = Field(
        (PaymentMode.OFF,), description="stars, provider, upi or several (comma-separated), or off"
    )
    stars_per_rupee: Decimal = Field(
        Decimal(1), gt=0, le=1000, allow_inf_nan=False, description="a positive number such as 0.6 (at most 1000)"
    )
    payment_provider_token: str = Field(
        "", repr=False, validate_default=True, description="the payment provider's token from @BotFather"
    )
    payment_hold_minutes: int = Field(15, ge=1, le=1440, description="a whole number of minutes from 1 to 1440")
    operator_chat_id: int | None = Field(None, description="a Telegram chat id, e.g. 123456789 or -1001234567890")
    # Calendar sync: where people reach the bot's HTTP server (their feeds are <public_url>/calendar/<token>.ics;
    # unset: no feeds, and no HTTP server in polling mode), how often mentors' busy calendars are read, and - for
    # tests only - whether a calendar on a loopback address may be read.
    public_url: str | None = Field(None, description="an http(s) URL, e.g. https://bot.example.com")
    calendar_refresh_minutes: int = Field(15, ge=1, le=24 * 60, description="a whole number of minutes, 1 to 1440")
    calendar_allow_loopback: bool = Field(False, description="1 or 0 (true/false, yes/no, on/off)")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)  # in code: the arguments only (``load_settings`` reads the environment)

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``, checked like the original."""
        return Settings(**{**self.model_dump(), **changes})

    @property
    def webhook_secret_token(self) -> str:
        """What Telegram must send in ``X-Telegram-Bot-Api-Secret-Token``: WEBHOOK_SECRET, else derived."""
        return self.webhook_secret or derive_webhook_secret(self.bot_token)

    @property
    def webhook_path(self) -> str:
        """The path the webhook is served on: the path of ``webhook_url`` (``/`` when it has none)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def feed_path(self) -> str:
        """The aiohttp route of the feeds: the path of ``public_url`` followed by ``/calendar/{token}.ics``."""
        return urlsplit(self.public_url or "").path.rstrip("/") + "/calendar/{token}.ics"

    @property
    def base_url(self) -> str:
        return f"{self.telegram_api_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"

    # -- checks: a ValueError without a message means "not what the description says" ---------------------------

    @field_validator("*", mode="before")
    @classmethod
    def _from_text(cls, value: Any, info: ValidationInfo) -> Any:
        """Text (from the environment): surrounding spaces mean nothing, and blank means "not set"."""
        if not isinstance(value, str):
            return value
        value = value.strip()
        field = cls.model_fields[info.field_name or ""]
        if not value and not field.is_required():
            return field.get_default(call_default_factory=True)
        if info.field_name == "reminder_leads":
            return parse_leads(value)
        if info.field_name == "payments":
            return parse_modes(value)
        return value

    @field_validator("bot_token")
    @classmethod
    def _token(cls, value: str) -> str:
        if not _TOKEN.match(value):
            raise ValueError
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        try:
            url = normalize_url(value)  # postgres:// and sqlite:/// get their async drivers
        except ArgumentError:  # not a URL
            raise ValueError from None
        if url.drivername not in SUPPORTED_DRIVERS:
            raise ValueError
        return url.render_as_string(hide_password=False)

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.rstrip("/")
        if not re.match(r"^https?://[^/\s]+", value):
            raise ValueError
        return value

    @field_validator("default_timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError from None
        return value

    @field_validator("default_locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError
        return value

    @field_validator("webhook_url")
    @classmethod
    def _webhook_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            port = parts.port
        except ValueError:
            parts, port = None, None
        if parts is None or parts.scheme != "https" or not parts.hostname:
            raise ValueError("must be an https:// URL (Telegram requires https)")
        if port is not None and port not in WEBHOOK_PORTS:
            raise ValueError(f"may only use port {', '.join(map(str, WEBHOOK_PORTS))} (Telegram's rule)")
        if parts.query or parts.fragment or parts.username or parts.password:
            raise ValueError("must be https://host/path without user, query or fragment")
        if parts.path.rstrip("/") == "/healthz":
            raise ValueError("must not use the path /healthz (the health check is served there)")
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - a port that is not a number in range raises
        except ValueError:
            raise ValueError from None
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
            raise ValueError
        if parts.username or parts.password:
            raise ValueError
        return value.rstrip("/")

    @field_validator("webhook_secret")
    @classmethod
    def _secret(cls, value: str) -> str:
        if value and not _WEBHOOK_SECRET.match(value):
            raise ValueError
        return value

    @field_validator("payment_provider_token")
    @classmethod
    def _provider_token(cls, value: str, info: ValidationInfo) -> str:
        if PaymentMode.PROVIDER in info.data.get("payments", ()) and not value:
            raise ValueError(
                "must be set when PAYMENTS includes provider: the token @BotFather gives under Payments"
            )
        return value

    @property
    def updates_at_once(self) -> int:
        """``CONCURRENT_UPDATES``, or by default 256 - or 32 when Telegram's invoices are on (Stars or a provider).

        Telegram waits at most 10 s for the answer to a pre-checkout question, which runs beside the updates being
        handled, on the same event loop: the fewer of them, the sooner its turns come. Overloaded with 1,000 people
        paying by Stars (``benchmarks/bench_flow.py --flows stars``), 256 at once answered the question with p99
        3.8 s, 32 with p99 0.25 s, at 8% fewer updates per second; the free flow loses about 15% at 32, so a bot
        without invoices keeps 256 (docs/performance.md, 2026-12-05)."""
        if self.concurrent_updates is not None:
            return self.concurrent_updates
        invoices = {PaymentMode.STARS, PaymentMode.PROVIDER} & set(self.payments)
        return INVOICE_UPDATES_AT_ONCE if invoices else UPDATES_AT_ONCE

    @property
    def payment_settings(self) -> PaymentSettings:
        return PaymentSettings(
            modes=self.payments,
            stars_per_rupee=self.stars_per_rupee,
            hold=timedelta(minutes=self.payment_hold_minutes),
        )

    @field_validator("webhook_listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        try:
            ipaddress.ip_address(value)
        except ValueError:
            if not _HOSTNAME.match(value):
                raise ValueError from None
        return value


class _Environment(Settings):
    """``Settings`` read from the process environment and ``.env``; a variable set in both: the environment's."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (env_settings, dotenv_settings)


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """The settings from the process environment and ``env_file`` if it exists (the environment wins) - or, when
    ``environ`` is given (tests), from that mapping alone, as if it were the environment. ConfigError if one is
    missing or invalid."""
    try:
        if environ is None:
            return _Environment(_env_file=env_file)
        # Any: text, as in the environment, which each field's validation reads
        values: dict[str, Any] = {name.lower(): value for name, value in environ.items() if value.strip()}
        return Settings(**values)
    except ValidationError as error:
        raise _config_error(error) from None


def _config_error(error: ValidationError) -> ConfigError:
    """The first problem in ``error`` as one line: the variable, what it must be, and what it was."""
    problem = error.errors()[0]
    name, variable = _setting(str(problem["loc"][0]))
    field = Settings.model_fields[name]
    if problem["type"] == "missing":
        return ConfigError(f"{variable} is not set: it must be {field.description}")
    reason = str(problem.get("ctx", {}).get("error") or "") if problem["type"] == "value_error" else ""
    shown = f" (got {problem['input']!r})" if field.repr else ""
    return ConfigError(f"{variable} {reason or 'must be ' + str(field.description)}{shown}")


def _setting(key: str) -> tuple[str, str]:
    """The field and the environment variable for ``key``, a field's name or any of its aliases."""
    for name, field in Settings.model_fields.items():
        aliases = field.validation_alias.choices if isinstance(field.validation_alias, AliasChoices) else []
        spellings = [name, *(str(alias) for alias in aliases)]
        if key.lower() in (spelling.lower() for spelling in spellings):
            return name, spellings[-1].upper()
    raise KeyError(key)  # pragma: no cover - pydantic reports the fields it has


def derive_webhook_secret(token: str) -> str:
    """A webhook secret that every worker computes alike from the bot token, so none needs extra config.

    HMAC-SHA256 keyed with the token over a fixed label: it reveals nothing about the token, and whoever
    knows the token could re-register the webhook anyway, so it is as strong as the token itself.
    """
    return hmac.new(token.encode(), b"mentor-desk webhook secret", hashlib.sha256).hexdigest()


def parse_modes(raw: str) -> tuple[PaymentMode, ...]:
    """``PAYMENTS``: ``stars``, ``provider``, ``upi`` or several (comma-separated, in the order the mentee sees
    them), or ``off``. ValueError for anything else, or ``off`` with another mode."""
    modes: list[PaymentMode] = []
    for part in raw.split(","):
        try:
            mode = PaymentMode(part.strip().lower())
        except ValueError:
            raise ValueError from None
        if mode not in modes:
            modes.append(mode)
    if PaymentMode.OFF in modes and len(modes) > 1:
        raise ValueError("is off, or a list of ways to pay in the bot (stars, provider, upi): not both")
    return tuple(modes)


def parse_leads(raw: str) -> tuple[timedelta, ...]:
    """``REMINDERS``: how long before a session reminders go out, e.g. ``24h,1h`` or ``2h,15m``; ``none`` for no
    reminders. Each between 1 minute and 30 days; duplicates dropped; longest first. ValueError otherwise."""
    if raw.lower() == "none":
        return ()
    leads: set[timedelta] = set()
    for part in raw.split(","):
        found = _LEAD.match(part.strip().lower())
        lead = None
        if found:
            number, unit = int(found.group(1)), found.group(2)
            lead = timedelta(hours=number) if unit == "h" else timedelta(minutes=number)
        if lead is None or not timedelta(minutes=1) <= lead <= timedelta(days=30):
            raise ValueError
        leads.add(lead)
    return tuple(sorted(leads, reverse=True))
