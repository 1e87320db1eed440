"""Settings from the environment (and an optional ``.env``). A bad value stops start-up with one clear line."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.i18n import SUPPORTED_LOCALES

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///data/mentor_desk.sqlite3"
DEFAULT_API_URL = "https://api.telegram.org"
_TOKEN = re.compile(r"^\d{1,20}:[A-Za-z0-9_-]{20,}$")


class ConfigError(Exception):
    """A setting is missing or invalid; the message names it and says what is expected."""


@dataclass(frozen=True, slots=True)
class Settings:
    bot_token: str
    database_url: str = DEFAULT_DATABASE_URL
    telegram_api_url: str = DEFAULT_API_URL
    default_timezone: str = "Asia/Kolkata"
    default_locale: str = "en"

    @property
    def base_url(self) -> str:
        return f"{self.telegram_api_url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.telegram_api_url}/file/bot"


def normalize_database_url(url: str) -> str:
    """Accept the common spellings and return a URL with an async driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith("sqlite:///"):
        return "sqlite+aiosqlite:///" + url[len("sqlite:///") :]
    if url.startswith(("postgresql+asyncpg://", "sqlite+aiosqlite:///")):
        return url
    raise ConfigError(
        "DATABASE_URL must start with sqlite+aiosqlite:/// or postgresql+asyncpg:// (got a different scheme)"
    )


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
    return Settings(token, database_url, api_url, zone, locale)
