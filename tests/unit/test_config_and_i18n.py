from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from bot.config import ConfigError, Settings, load_settings
from chat.i18n import (
    SUPPORTED_LOCALES,
    _,
    format_clock,
    format_day,
    format_money,
    format_rating,
    format_wall,
    ngettext,
    pick_locale,
    translations,
    use_locale,
)
from domain.model import PaymentMode
from domain.payments import PaymentSettings
from storage.engine import normalize_url

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ"


def test_defaults():
    settings = load_settings({"BOT_TOKEN": TOKEN})
    assert settings.database_url == "sqlite+aiosqlite:///data/mentor_desk.sqlite3"
    assert settings.base_url == "https://api.telegram.org/bot"
    assert settings.base_file_url == "https://api.telegram.org/file/bot"
    assert (settings.default_timezone, settings.default_locale) == ("Asia/Kolkata", "en")


def test_scheduler_settings():
    default = load_settings({"BOT_TOKEN": TOKEN})
    assert default.reminder_leads == (timedelta(hours=24), timedelta(hours=1))
    assert (default.expire_after_hours, default.send_rate_per_second) == (48.0, 30.0)
    custom = load_settings(
        {"BOT_TOKEN": TOKEN, "REMINDERS": "15m, 2h,2H", "EXPIRE_AFTER_HOURS": "12", "SEND_RATE_PER_SECOND": "20"}
    )
    assert custom.reminder_leads == (timedelta(hours=2), timedelta(minutes=15))  # longest first, once each
    assert (custom.expire_after_hours, custom.send_rate_per_second) == (12.0, 20.0)
    assert load_settings({"BOT_TOKEN": TOKEN, "REMINDERS": "none"}).reminder_leads == ()
    assert (default.updates_at_once, custom.updates_at_once) == (256, 256)
    assert load_settings({"BOT_TOKEN": TOKEN, "CONCURRENT_UPDATES": "64"}).updates_at_once == 64
    # Telegram's invoices on: fewer at once, so that pre-checkout questions are answered in time
    assert load_settings({"BOT_TOKEN": TOKEN, "PAYMENTS": "stars"}).updates_at_once == 32
    assert load_settings({"BOT_TOKEN": TOKEN, "PAYMENTS": "upi"}).updates_at_once == 256  # no pre-checkout
    assert (
        load_settings({"BOT_TOKEN": TOKEN, "PAYMENTS": "stars", "CONCURRENT_UPDATES": "100"}).updates_at_once
        == 100
    )


def test_payment_settings():
    default = load_settings({"BOT_TOKEN": TOKEN})
    assert default.payments == (PaymentMode.OFF,) and default.operator_chat_id is None
    assert default.payment_settings == PaymentSettings()  # off, 1 Star per rupee, a 15-minute hold
    custom = load_settings(
        {
            "BOT_TOKEN": TOKEN, "PAYMENTS": " Provider, stars ,provider",
            "PAYMENT_PROVIDER_TOKEN": "284685063:TEST:x", "STARS_PER_RUPEE": "0.6", "PAYMENT_HOLD_MINUTES": "20",
            "OPERATOR_CHAT_ID": "-1001234567890",
        }
    )  # fmt: skip
    assert custom.payments == (PaymentMode.PROVIDER, PaymentMode.STARS)  # as listed, once each
    assert custom.payment_settings == PaymentSettings(
        (PaymentMode.PROVIDER, PaymentMode.STARS), Decimal("0.6"), timedelta(minutes=20)
    )
    assert custom.operator_chat_id == -1001234567890
    assert load_settings({"BOT_TOKEN": TOKEN, "PAYMENTS": "stars"}).payment_provider_token == ""


def test_local_api_server_and_postgres_spelling():
    settings = load_settings(
        {"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "http://127.0.0.1:8081/", "DATABASE_URL": "postgres://u@h/db"}
    )
    assert settings.base_url == "http://127.0.0.1:8081/bot"
    assert settings.database_url == "postgresql+asyncpg://u@h/db"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql://md:p%40ss%2Fw0rd@db.internal:5433/md?ssl=require",
         "postgresql+asyncpg://md:p%40ss%2Fw0rd@db.internal:5433/md?ssl=require"),
        ("sqlite:///data/x.sqlite3", "sqlite+aiosqlite:///data/x.sqlite3"),
        ("sqlite+aiosqlite:////srv/x.sqlite3", "sqlite+aiosqlite:////srv/x.sqlite3"),
    ],
)  # fmt: skip
def test_database_url_spellings_mean_what_the_engine_opens(given: str, used: str):
    settings = load_settings({"BOT_TOKEN": TOKEN, "DATABASE_URL": given})
    assert settings.database_url == used
    assert normalize_url(settings.database_url) == normalize_url(given)  # the same password, host and options


def test_calendar_settings():
    default = load_settings({"BOT_TOKEN": TOKEN})
    assert (default.public_url, default.calendar_refresh_minutes, default.calendar_allow_loopback) == (
        None,
        15,
        False,
    )
    assert default.feed_path == "/calendar/{token}.ics"
    custom = load_settings(
        {
            "BOT_TOKEN": TOKEN,
            "PUBLIC_URL": "https://bot.example.com/mentor/",
            "CALENDAR_REFRESH_MINUTES": "5",
            "CALENDAR_ALLOW_LOOPBACK": "1",
        }
    )
    assert custom.public_url == "https://bot.example.com/mentor"
    assert custom.feed_path == "/mentor/calendar/{token}.ics"
    assert (custom.calendar_refresh_minutes, custom.calendar_allow_loopback) == (5, True)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({}, "BOT_TOKEN"),
        ({"BOT_TOKEN": TOKEN, "PUBLIC_URL": "bot.example.com"}, "PUBLIC_URL"),
        ({"BOT_TOKEN": TOKEN, "PUBLIC_URL": "webcal://bot.example.com"}, "PUBLIC_URL"),
        ({"BOT_TOKEN": TOKEN, "PUBLIC_URL": "https://bot.example.com/?x=1"}, "PUBLIC_URL"),
        ({"BOT_TOKEN": TOKEN, "PUBLIC_URL": "https://u:p@bot.example.com"}, "PUBLIC_URL"),
        ({"BOT_TOKEN": TOKEN, "CALENDAR_REFRESH_MINUTES": "0"}, "CALENDAR_REFRESH_MINUTES"),
        ({"BOT_TOKEN": TOKEN, "CALENDAR_REFRESH_MINUTES": "2.5"}, "CALENDAR_REFRESH_MINUTES"),
        ({"BOT_TOKEN": TOKEN, "CALENDAR_ALLOW_LOOPBACK": "maybe"}, "CALENDAR_ALLOW_LOOPBACK"),
        ({"BOT_TOKEN": "nope"}, "BOT_TOKEN"),
        ({"BOT_TOKEN": TOKEN, "DATABASE_URL": "mysql://x"}, "DATABASE_URL"),
        ({"BOT_TOKEN": TOKEN, "DATABASE_URL": "postgresql+psycopg://x"}, "DATABASE_URL"),
        ({"BOT_TOKEN": TOKEN, "DATABASE_URL": "not a url"}, "DATABASE_URL"),
        ({"BOT_TOKEN": TOKEN, "TELEGRAM_API_URL": "ftp://x"}, "TELEGRAM_API_URL"),
        ({"BOT_TOKEN": TOKEN, "DEFAULT_TIMEZONE": "Mars/Olympus"}, "DEFAULT_TIMEZONE"),
        ({"BOT_TOKEN": TOKEN, "DEFAULT_LOCALE": "fr"}, "DEFAULT_LOCALE"),
        ({"BOT_TOKEN": TOKEN, "REMINDERS": "1d"}, "REMINDERS"),
        ({"BOT_TOKEN": TOKEN, "REMINDERS": "24h,0m"}, "REMINDERS"),
        ({"BOT_TOKEN": TOKEN, "REMINDERS": "999h"}, "REMINDERS"),
        ({"BOT_TOKEN": TOKEN, "EXPIRE_AFTER_HOURS": "-1"}, "EXPIRE_AFTER_HOURS"),
        ({"BOT_TOKEN": TOKEN, "SEND_RATE_PER_SECOND": "fast"}, "SEND_RATE_PER_SECOND"),
        ({"BOT_TOKEN": TOKEN, "DISPATCH_INTERVAL_SECONDS": "0"}, "DISPATCH_INTERVAL_SECONDS"),
        ({"BOT_TOKEN": TOKEN, "CONCURRENT_UPDATES": "0"}, "CONCURRENT_UPDATES"),
        ({"BOT_TOKEN": TOKEN, "PAYMENTS": "stars, cash"}, "PAYMENTS"),
        ({"BOT_TOKEN": TOKEN, "PAYMENTS": "off, stars"}, "PAYMENTS"),
        ({"BOT_TOKEN": TOKEN, "PAYMENTS": "stars,provider"}, "PAYMENT_PROVIDER_TOKEN"),  # provider needs a token
        ({"BOT_TOKEN": TOKEN, "STARS_PER_RUPEE": "-0.5"}, "STARS_PER_RUPEE"),
        ({"BOT_TOKEN": TOKEN, "STARS_PER_RUPEE": "nan"}, "STARS_PER_RUPEE"),
        ({"BOT_TOKEN": TOKEN, "PAYMENT_HOLD_MINUTES": "0"}, "PAYMENT_HOLD_MINUTES"),
        ({"BOT_TOKEN": TOKEN, "OPERATOR_CHAT_ID": "@ops"}, "OPERATOR_CHAT_ID"),
    ],
)
def test_a_bad_setting_is_named_in_one_line(env, named):
    with pytest.raises(ConfigError) as caught:
        load_settings(env)
    assert named in str(caught.value) and "\n" not in str(caught.value)


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    """A process environment without any of the bot's variables, in a directory without a ``.env``."""
    for name, field in Settings.model_fields.items():
        for variable in (name, *getattr(field.validation_alias, "choices", ())):
            monkeypatch.delenv(str(variable).upper(), raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_the_environment_wins_over_dot_env(environment: pytest.MonkeyPatch, tmp_path: Path):
    (tmp_path / ".env").write_text(f"BOT_TOKEN={TOKEN}\nREMINDERS=2h\nDEFAULT_LOCALE=hi\nPORT=\n")
    environment.setenv("REMINDERS", "15m")
    settings = load_settings()
    assert settings.reminder_leads == (timedelta(minutes=15),)  # the environment's
    assert (settings.bot_token, settings.default_locale) == (TOKEN, "hi")  # only in .env
    assert settings.port == 8080  # empty in .env: the default
    environment.setenv("BOT_TOKEN", TOKEN)
    assert load_settings(env_file=None).default_locale == "en"  # without the file


def test_without_dot_env_a_missing_token_stops_start_up(environment: pytest.MonkeyPatch):
    with pytest.raises(ConfigError, match=r"^BOT_TOKEN is not set"):
        load_settings()
    environment.setenv("BOT_TOKEN", TOKEN)
    environment.setenv("WEBHOOK_REUSE_PORT", "sometimes")
    with pytest.raises(ConfigError, match=r"^WEBHOOK_REUSE_PORT must be 1 or 0"):
        load_settings()


def test_settings_built_in_code_read_neither_the_environment_nor_dot_env(
    environment: pytest.MonkeyPatch, tmp_path: Path
):
    (tmp_path / ".env").write_text("DEFAULT_LOCALE=hi\n")
    environment.setenv("WEBHOOK_URL", "https://bot.example.com/tg")
    settings = Settings(bot_token=TOKEN)
    assert (settings.webhook_url, settings.default_locale) == (None, "en")
    # one set of defaults: the environment path gives what the code path gives
    environment.setenv("BOT_TOKEN", TOKEN)
    environment.delenv("WEBHOOK_URL")
    from_environment, from_mapping = load_settings(env_file=None), load_settings({"BOT_TOKEN": TOKEN})
    assert from_environment.model_dump() == settings.model_dump() == from_mapping.model_dump()
    assert settings.replace(port=8443).port == 8443
    with pytest.raises(ValueError, match="port"):
        settings.replace(port=0)  # checked like the original


def test_secrets_are_not_shown(environment: pytest.MonkeyPatch):
    settings = Settings(
        bot_token=TOKEN, database_url="postgresql://md:db-pw@h/md", webhook_secret="hook-secret",
        payments=(PaymentMode.PROVIDER,), payment_provider_token="284685063:LIVE:provider-secret",
    )  # fmt: skip
    assert not any(secret in repr(settings) for secret in (TOKEN, "db-pw", "hook-secret", "provider-secret"))
    with pytest.raises(ConfigError) as caught:
        load_settings({"BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "hook secret with spaces"})
    assert "spaces" not in str(caught.value)


def test_locale_from_telegram_language_code():
    assert [pick_locale(c) for c in ("hi", "hi-IN", "en-GB", "fr", None)] == ["hi", "hi", "en", "en", "en"]
    assert [pick_locale(c) for c in ("ru", "ru-RU", "ru_UA", "RU")] == ["ru", "ru", "ru", "ru"]
    assert pick_locale("uk", "ru") == "ru"  # an unsupported language gets DEFAULT_LOCALE


def test_russian_may_be_the_default_language():
    assert load_settings({"BOT_TOKEN": TOKEN, "DEFAULT_LOCALE": "ru"}).default_locale == "ru"


def test_hindi_readers_get_hindi():
    with use_locale("hi"):
        assert _("Free") == "मुफ़्त"
    with use_locale("en"):
        assert _("Free") == "Free"
    assert all(translations(locale) is not None for locale in SUPPORTED_LOCALES)


def test_money_and_time_follow_the_reader():
    with use_locale("en"):
        assert format_money(Decimal("500")) == "₹500"
        assert format_money(Decimal("0")) == "Free"
        assert format_money(Decimal("499.50")) == "₹499.50"
    with use_locale("hi"):
        assert format_money(Decimal("100000")) == "₹1,00,000"
    moment = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert format_clock(moment, "Asia/Kolkata") == "2:30\u202fPM"  # CLDR's narrow no-break space
    assert format_clock(moment, "Australia/Lord_Howe") == "8:00\u202fPM"
    with use_locale("hi"):
        assert format_clock(moment, "Asia/Kolkata") == "2:30 pm"


def test_russian_readers_get_russian_with_three_plural_forms():
    with use_locale("ru"):
        assert _("Free") == "Бесплатно"
        made = ("{count} request made", "{count} requests made")
        counted = [ngettext(*made, n).format(count=n) for n in (1, 3, 5, 11, 21, 22)]
        assert counted == ["1 заявка", "3 заявки", "5 заявок", "11 заявок", "21 заявка", "22 заявки"]


def test_russian_readers_get_russian_money_dates_and_times():
    moment = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    with use_locale("ru"):
        assert format_money(Decimal("500")) == "500\xa0₹"
        assert format_money(Decimal("499.50")) == "499,50\xa0₹"
        assert format_money(Decimal("100000")) == "100\xa0000\xa0₹"
        assert format_day(moment, "Europe/Moscow") == "пн, 30 нояб."
        assert format_clock(moment, "Europe/Moscow") == "12:00"
        assert format_wall(9 * 60) == "09:00"
        assert format_rating(Decimal("4.5")) == "4,5"  # a Russian reader's decimal comma
    with use_locale("en"):
        assert format_rating(Decimal("4.5")) == "4.5"
        assert format_rating(Decimal("5")) == "5.0"


async def test_the_bot_handles_as_many_updates_at_once_as_configured(tmp_path: Path):
    from bot.app import build_application
    from bot.updates import PerUserUpdateProcessor

    database = f"sqlite+aiosqlite:///{tmp_path / 'bot.db'}"
    application = build_application(
        load_settings({"BOT_TOKEN": TOKEN, "DATABASE_URL": database, "CONCURRENT_UPDATES": "64"})
    )
    processor = application.update_processor
    assert isinstance(processor, PerUserUpdateProcessor) and processor.max_running == 64
