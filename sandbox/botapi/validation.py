"""Decoding and checking the parameters of Bot API requests, as Telegram does where it catches bot bugs."""

from __future__ import annotations

import json
import re
from typing import Any

from aiohttp import web

from sandbox.botapi.errors import bad_request
from sandbox.botapi.html import HtmlParseError, parse_html, trim_entities
from sandbox.botapi.records import Upload

__all__ = [
    "MAX_CALLBACK_DATA_BYTES",
    "MAX_CAPTION_LENGTH",
    "MAX_MESSAGE_LENGTH",
    "as_bool",
    "as_int",
    "format_text",
    "inline_rows",
    "read_params",
    "validate_markup",
]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64

# Parameters whose form value is a plain string and must never be JSON-decoded.
_STRING_PARAMS = frozenset(
    {
        "text", "caption", "parse_mode", "callback_query_id", "url", "action", "language_code",
        "inline_message_id", "business_connection_id", "message_effect_id", "secret_token",
        "ip_address", "description", "short_description", "name", "file_id", "document", "photo",
        "thumbnail", "audio", "video", "voice", "animation", "sticker", "emoji", "title", "query",
        "custom_emoji_id", "payload", "provider_token", "currency", "pre_checkout_query_id", "error_message",
        "telegram_payment_charge_id", "start_parameter", "provider_data",
    }
)  # fmt: skip
# Parameters that carry JSON objects/arrays (may arrive as JSON strings even in a JSON body).
_JSON_PARAMS = frozenset(
    {
        "reply_markup", "entities", "caption_entities", "commands", "scope", "menu_button",
        "allowed_updates", "link_preview_options", "reply_parameters", "media", "prices",
    }
)  # fmt: skip


def _coerce_form_value(name: str, value: str) -> Any:
    if name in _STRING_PARAMS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def as_int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad_request(f"invalid {name} specified") from None


def as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in ("true", "1")
    return bool(value)


async def read_params(request: web.Request) -> tuple[dict[str, Any], dict[str, Upload]]:
    """The parameters of a Bot API request (query string and body, in any of the encodings PTB uses)."""
    params: dict[str, Any] = {k: _coerce_form_value(k, v) for k, v in request.query.items()}
    files: dict[str, Upload] = {}
    content_type = request.content_type
    if content_type == "application/json":
        body = await request.read()
        if body.strip():
            try:
                data = json.loads(body)
            except ValueError:
                raise bad_request("can't parse JSON encoded request body") from None
            if not isinstance(data, dict):
                raise bad_request("JSON object expected as request body")
            params.update(data)
    elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                files[key] = Upload(value.filename, value.content_type, value.file.read())
            else:
                params[key] = _coerce_form_value(key, str(value))
    for key in ("chat_id", "message_id", "user_id"):
        given = params.get(key)
        if isinstance(given, str) and re.fullmatch(r"-?\d+", given.strip()):
            params[key] = int(given)
    for key in _JSON_PARAMS & params.keys():
        if isinstance(params[key], str):
            try:
                params[key] = json.loads(params[key])
            except ValueError:
                raise bad_request(f"can't parse {key} JSON object") from None
    return params, files


def format_text(
    text: Any, parse_mode: Any, entities: Any, *, limit: int, kind: str
) -> tuple[str, list[dict[str, Any]]]:
    """Message text or a caption as Telegram stores it: entities parsed, trimmed, within ``limit``."""
    if text is None or text == "":
        raise bad_request(f"{kind} text is empty" if kind == "message" else "caption is empty")
    if not isinstance(text, str):
        text = json.dumps(text) if not isinstance(text, (int, float)) else str(text)
    mode = (parse_mode or "").lower() if isinstance(parse_mode, str) else ""
    if mode == "html":
        try:
            plain, parsed = parse_html(text)
        except HtmlParseError as exc:
            raise bad_request(f"can't parse entities: {exc}") from None
    elif mode in ("", "markdown", "markdownv2"):
        plain = text
        parsed = [dict(e) for e in entities] if isinstance(entities, list) else []
    else:
        raise bad_request("unsupported parse_mode")
    plain, parsed = trim_entities(plain, parsed)
    if not plain:
        raise bad_request(f"{kind} text is empty" if kind == "message" else "caption is empty")
    if len(plain) > limit:
        raise bad_request("message is too long" if kind == "message" else "message caption is too long")
    return plain, parsed


def validate_markup(markup: Any) -> dict[str, Any] | None:
    """``reply_markup`` checked as Telegram checks it (callback data 1-64 bytes, one action per button)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardMarkup must be an array")
        for row in rows:
            for button in row:
                if not isinstance(button, dict):
                    raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                if not isinstance(button.get("text"), str) or not button["text"]:
                    raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
                actions = [k for k in button if k != "text"]
                if not actions:
                    raise bad_request(
                        "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
                    )
                if "callback_data" in button:
                    data = button["callback_data"]
                    if (
                        not isinstance(data, str)
                        or not data
                        or len(data.encode("utf-8")) > MAX_CALLBACK_DATA_BYTES
                    ):
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and (not isinstance(button["url"], str) or ":" not in button["url"]):
                    raise bad_request("BUTTON_URL_INVALID")
    elif not any(k in markup for k in ("keyboard", "remove_keyboard", "force_reply")):
        raise bad_request("can't parse reply keyboard markup JSON object")
    return markup


def inline_rows(markup: dict[str, Any] | None) -> list[Any]:
    """The rows of an inline keyboard (``[]`` for none or another kind of markup)."""
    if not markup or "inline_keyboard" not in markup:
        return []
    return markup["inline_keyboard"]
