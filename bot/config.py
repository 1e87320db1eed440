"""Settings from the environment (and an optional ``.env``). A bad value stops start-up with one clear line."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy.exc import ArgumentError

from chat.i18n import SUPPORTED_LOCALES
from domain.mentee import DEFAULT_MAX_ACTIVE_PER_MENTOR
from storage.engine import SUPPORTED_DRIVERS, normalize_url

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/mentor_desk.sqlite3"
DEFAULT_API_URL = "https://api.telegram.org"
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")
# Telegram's setWebhook: the secret_token is 1-256 characters of A-Z, a-z, 0-9, _ and -; a webhook URL is
# https on port 443, 80, 88 or 8443.
_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_PORTS = (443, 80, 88, 8443)
DEFAULT_PORT = 8080
DEFAULT_WEBHOOK_LISTEN = "0.0.0.0"
_HOSTNAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it and says what is expected."""


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: str
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_url: str = DEFAULT_API_URL
    default_timezone: str = "Asia/Kolkata"
    default_locale: str = "en"
    # Scheduler (``bot.dispatcher``): how often the outbox is checked even when nothing woke it, the overall
    # Telegram send rate (messages per second, all chats together), and the dispatcher's tuning.
    dispatch_interval_seconds: float = 5.0
    send_rate_per_second: float = 30.0
    dispatch_batch: int = 100
    dispatch_concurrency: int = 10
    dispatch_max_attempts: int = 5
    dispatch_lease_seconds: float = 300.0
    # Reminders before each confirmed session, and how long a request may wait for the mentor (or until the start).
    reminder_leads: tuple[timedelta, ...] = (timedelta(hours=24), timedelta(hours=1))
    expire_after_hours: float = 48.0
    # At most this many pending or upcoming bookings per mentee with one mentor (MAX_ACTIVE_BOOKINGS_PER_MENTOR).
    max_active_bookings_per_mentor: int = DEFAULT_MAX_ACTIVE_PER_MENTOR
    # Webhook mode (``bot.web``) when ``webhook_url`` is set, long polling otherwise. An empty secret means
    # "derived from the token" (``webhook_secret_token``).
    webhook_url: str | None = None
    webhook_secret: str = ""
    port: int = DEFAULT_PORT
    webhook_listen: str = DEFAULT_WEBHOOK_LISTEN
    # Several worker processes on one host serving the same port (SO_REUSEPORT: the kernel spreads connections).
    webhook_reuse_port: bool = False

    @property
    def webhook_secret_token(self) -> str:
        """What Telegram must send in ``X-Telegram-Bot-Api-Secret-Token``: WEBHOOK_SECRET, else derived."""
        return self.webhook_secret or derive_webhook_secret(self.bot_token)

    @property
    def webhook_path(self) -> str:
        """The path the webhook is served on: the path of ``webhook_url`` (``/`` when it has none)."""
        return urlsplit(self.webhook_url or "").path or "/"

    @property
    def base_url(self) -> str:
        return f"{self.telegram_api_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"


def derive_webhook_secret(token: str) -> str:
    """A webhook secret that every worker computes alike from the bot token, so none needs extra config.

    HMAC-SHA256 keyed with the token over a fixed label: it reveals nothing about the token, and whoever
    knows the token could re-register the webhook anyway, so it is as strong as the token itself.
    """
    return hmac.new(token.encode(), b"mentor-desk webhook secret", hashlib.sha256).hexdigest()


def normalize_database_url(url: str) -> str:
    """``DATABASE_URL`` with the async driver picked for a bare dialect name (``storage.engine.normalize_url``);
    ConfigError for anything this project has no driver for."""
    try:
        parsed = normalize_url(url)
    except ArgumentError:  # not a URL at all
        parsed = None
    if parsed is None or parsed.drivername not in SUPPORTED_DRIVERS:
        schemes = " or ".join(f"{driver}://" for driver in sorted(SUPPORTED_DRIVERS))
        # the URL is not shown: it may hold a password
        raise ConfigError(f"DATABASE_URL must start with {schemes} (got a different scheme)")
    return parsed.render_as_string(hide_password=False)


def load_settings(environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> Settings:
    """Read settings from ``environ`` (default: the process environment, after loading ``env_file`` if present)."""
    if environ is None:
        if env_file and Path(env_file).is_file():
            from dotenv import load_dotenv

            load_dotenv(env_file, override=False)
        environ = os.environ
    token = environ.get("BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError("BOT_TOKEN is not set: create a bot with @BotFather and put its token in BOT_TOKEN")
    if not _TOKEN.match(token):
        raise ConfigError("BOT_TOKEN does not look like a bot token (expected <digits>:<secret> from @BotFather)")
    database_url = normalize_database_url(environ.get("DATABASE_URL", "").strip() or DEFAULT_DATABASE_URL)
    api_url = (environ.get("TELEGRAM_API_URL", "").strip() or DEFAULT_API_URL).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", api_url):
        raise ConfigError("TELEGRAM_API_URL must be an http(s) URL, e.g. https://api.telegram.org")
    zone = environ.get("DEFAULT_TIMEZONE", "").strip() or "Asia/Kolkata"
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"DEFAULT_TIMEZONE is not an IANA time zone: {zone!r} (e.g. Asia/Kolkata)") from None
    locale = environ.get("DEFAULT_LOCALE", "").strip() or "en"
    if locale not in SUPPORTED_LOCALES:
        raise ConfigError(f"DEFAULT_LOCALE must be one of {', '.join(SUPPORTED_LOCALES)} (got {locale!r})")
    interval = _positive_number(environ, "DISPATCH_INTERVAL_SECONDS", 5.0)
    rate = _positive_number(environ, "SEND_RATE_PER_SECOND", 30.0)
    leads = parse_leads(environ.get("REMINDERS", "").strip() or "24h,1h")
    expire = _positive_number(environ, "EXPIRE_AFTER_HOURS", 48.0)
    max_active = _positive_whole_number(environ, "MAX_ACTIVE_BOOKINGS_PER_MENTOR", DEFAULT_MAX_ACTIVE_PER_MENTOR)
    webhook_url = parse_webhook_url(environ.get("WEBHOOK_URL", "").strip())
    secret = environ.get("WEBHOOK_SECRET", "").strip()
    if secret and not _WEBHOOK_SECRET.match(secret):
        raise ConfigError("WEBHOOK_SECRET must be 1-256 characters of A-Z, a-z, 0-9, _ and - (Telegram's rule)")
    port = _port(environ.get("PORT", "").strip())
    listen = parse_listen(environ.get("WEBHOOK_LISTEN", "").strip() or DEFAULT_WEBHOOK_LISTEN)
    reuse_port = _flag(environ, "WEBHOOK_REUSE_PORT")
    return Settings(
        token,
        database_url,
        api_url,
        zone,
        locale,
        dispatch_interval_seconds=interval,
        send_rate_per_second=rate,
        reminder_leads=leads,
        expire_after_hours=expire,
        max_active_bookings_per_mentor=max_active,
        webhook_url=webhook_url,
        webhook_secret=secret,
        port=port,
        webhook_listen=listen,
        webhook_reuse_port=reuse_port,
    )


def parse_webhook_url(raw: str) -> str | None:
    """``WEBHOOK_URL``: None (long polling) when empty, else an https URL Telegram accepts for a webhook."""
    if not raw:
        return None
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        parts, port = None, None
    if parts is None or parts.scheme != "https" or not parts.hostname:
        raise ConfigError(f"WEBHOOK_URL must be an https:// URL (Telegram requires https), got {raw!r}")
    if port is not None and port not in WEBHOOK_PORTS:
        ports = ", ".join(map(str, WEBHOOK_PORTS))
        raise ConfigError(f"WEBHOOK_URL may only use port {ports} (Telegram's rule), got {raw!r}")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError(f"WEBHOOK_URL must be https://host/path without user, query or fragment, got {raw!r}")
    if parts.path.rstrip("/") == "/healthz":
        raise ConfigError("WEBHOOK_URL must not use the path /healthz (the health check is served there)")
    return raw


def parse_listen(raw: str) -> str:
    """``WEBHOOK_LISTEN``: the address the webhook server binds (an IP address or a host name)."""
    try:
        ipaddress.ip_address(raw)
    except ValueError:
        if not _HOSTNAME.match(raw):
            raise ConfigError(f"WEBHOOK_LISTEN must be an IP address or host name, e.g. 0.0.0.0 (got {raw!r})")
    return raw


_TRUE, _FALSE = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


def _flag(environ: Mapping[str, str], name: str) -> bool:
    raw = environ.get(name, "").strip().lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise ConfigError(f"{name} must be 1 or 0 (true/false, yes/no, on/off), got {raw!r}")


def _port(raw: str) -> int:
    if not raw:
        return DEFAULT_PORT
    if not re.fullmatch(r"\d{1,5}", raw) or not 1 <= int(raw) <= 65535:
        raise ConfigError(f"PORT must be a whole number from 1 to 65535 (got {raw!r})")
    return int(raw)


_LEAD = re.compile(r"^(\d{1,4})\s*(h|m)$")


def parse_leads(raw: str) -> tuple[timedelta, ...]:
    """``REMINDERS``: how long before a session reminders go out, e.g. ``24h,1h`` or ``2h,15m``; ``none`` for no
    reminders. Each between 1 minute and 30 days; duplicates dropped; longest first."""
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
            raise ConfigError(f"REMINDERS must be a list such as 24h,1h or 2h,15m, or none (got {raw!r})")
        leads.add(lead)
    return tuple(sorted(leads, reverse=True))


def _positive_number(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not 0 < value < float("inf"):
        raise ConfigError(f"{name} must be a positive number (got {raw!r})")
    return value


def _positive_whole_number(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name, "").strip()
    if not raw:
        return default
    if not re.fullmatch(r"\d{1,6}", raw) or int(raw) < 1:
        raise ConfigError(f"{name} must be a whole number of at least 1 (got {raw!r})")
    return int(raw)
