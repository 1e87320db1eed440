"""Webhook settings: WEBHOOK_URL switches the mode; the secret, port and listen address are checked at start."""

from __future__ import annotations

import re

import pytest

from bot.config import ConfigError, derive_webhook_secret, load_settings

TOKEN = "123456:ABCdefGHIjklMNOpqrSTUvwxYZ"
OTHER_TOKEN = "123456:ZYXwvuTSRqpoNMLkjiHGFedcBA"


def test_polling_by_default() -> None:
    settings = load_settings({"BOT_TOKEN": TOKEN})
    assert settings.webhook_url is None
    assert (settings.port, settings.webhook_listen) == (8080, "0.0.0.0")


def test_webhook_settings_are_read() -> None:
    settings = load_settings(
        {
            "BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://bot.example.com:8443/tg/abc",
            "WEBHOOK_SECRET": "s3cret_-X", "PORT": "10000", "WEBHOOK_LISTEN": "127.0.0.1",
        }
    )  # fmt: skip
    assert settings.webhook_url == "https://bot.example.com:8443/tg/abc"
    assert settings.webhook_path == "/tg/abc"
    assert settings.webhook_secret_token == "s3cret_-X"
    assert (settings.port, settings.webhook_listen) == (10000, "127.0.0.1")


@pytest.mark.parametrize(("url", "path"), [("https://x.example", "/"), ("https://x.example/", "/")])
def test_a_url_without_a_path_is_served_on_the_root(url: str, path: str) -> None:
    assert load_settings({"BOT_TOKEN": TOKEN, "WEBHOOK_URL": url}).webhook_path == path


def test_without_webhook_secret_every_worker_derives_the_same_one() -> None:
    first = load_settings({"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://x.example/tg"})
    second = load_settings({"BOT_TOKEN": TOKEN, "WEBHOOK_URL": "https://x.example/tg"})
    secret = first.webhook_secret_token
    assert secret == second.webhook_secret_token == derive_webhook_secret(TOKEN)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret)  # what Telegram accepts as secret_token
    assert secret != derive_webhook_secret(OTHER_TOKEN)
    assert TOKEN.split(":")[1] not in secret


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"WEBHOOK_URL": "http://x.example/tg"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "x.example/tg"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https:///tg"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://x.example:8080/tg"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://x.example:99999/tg"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://x.example/tg?key=1"}, "WEBHOOK_URL"),
        ({"WEBHOOK_URL": "https://x.example/healthz"}, "WEBHOOK_URL"),
        ({"WEBHOOK_SECRET": "has space"}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "x" * 257}, "WEBHOOK_SECRET"),
        ({"WEBHOOK_SECRET": "ümlaut"}, "WEBHOOK_SECRET"),
        ({"PORT": "0"}, "PORT"),
        ({"PORT": "65536"}, "PORT"),
        ({"PORT": "http"}, "PORT"),
        ({"PORT": "-1"}, "PORT"),
        ({"WEBHOOK_LISTEN": "0.0.0.0:8080"}, "WEBHOOK_LISTEN"),
        ({"WEBHOOK_LISTEN": "bad host"}, "WEBHOOK_LISTEN"),
    ],
)
def test_a_bad_webhook_setting_is_named_in_one_line(env: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"BOT_TOKEN": TOKEN, **env})
    assert named in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize("listen", ["::", "localhost", "10.0.0.5"])
def test_listen_accepts_addresses_and_host_names(listen: str) -> None:
    assert load_settings({"BOT_TOKEN": TOKEN, "WEBHOOK_LISTEN": listen}).webhook_listen == listen


def test_longest_secret_is_accepted() -> None:
    assert load_settings({"BOT_TOKEN": TOKEN, "WEBHOOK_SECRET": "a" * 256}).webhook_secret_token == "a" * 256


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(None, False), ("", False), ("0", False), ("off", False), ("1", True), ("true", True), (" Yes ", True)],
)
def test_webhook_reuse_port(raw: str | None, expected: bool) -> None:
    environ = {"BOT_TOKEN": TOKEN} if raw is None else {"BOT_TOKEN": TOKEN, "WEBHOOK_REUSE_PORT": raw}
    assert load_settings(environ).webhook_reuse_port is expected


def test_webhook_reuse_port_must_be_a_flag() -> None:
    with pytest.raises(ConfigError, match="WEBHOOK_REUSE_PORT must be 1 or 0"):
        load_settings({"BOT_TOKEN": TOKEN, "WEBHOOK_REUSE_PORT": "sometimes"})
