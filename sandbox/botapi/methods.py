"""The Bot API methods the bot calls, each checking its parameters as Telegram does and changing the state."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any

from sandbox.botapi.errors import BLOCKED, NOT_MODIFIED, NOT_STARTED, QUERY_TOO_OLD, ApiError, bad_request
from sandbox.botapi.payments import PaymentDesk
from sandbox.botapi.photos import PhotoDesk, send_with_caption
from sandbox.botapi.records import CallbackAnswer, ChatMessage, SentDocument, Upload
from sandbox.botapi.state import BotApiState, Person
from sandbox.botapi.validation import (
    MAX_MESSAGE_LENGTH,
    as_bool,
    as_int,
    format_text,
    inline_rows,
    validate_markup,
)

__all__ = ["MAX_LONG_POLL", "WEBHOOK_MAX_CONNECTIONS", "BotApiMethods", "MethodHandler"]

MAX_LONG_POLL = 50.0
WEBHOOK_MAX_CONNECTIONS = 40  # Telegram's default for setWebhook

MethodHandler = Callable[[dict[str, Any], dict[str, Upload]], Awaitable[Any]]

_CHAT_ACTIONS = frozenset(
    {
        "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
        "upload_document", "choose_sticker", "find_location", "record_video_note",
        "upload_video_note",
    }
)  # fmt: skip


def _scope_chat(scope: Any) -> int | None:
    """The chat a command scope is for (None: a scope for many chats)."""
    if isinstance(scope, dict) and scope.get("type") == "chat" and isinstance(scope.get("chat_id"), int):
        return scope["chat_id"]
    return None


class BotApiMethods:
    """The method handlers over one :class:`BotApiState`; :attr:`handlers` maps lower-case method names to them."""

    def __init__(self, state: BotApiState) -> None:
        self.state = state
        self.handlers: dict[str, MethodHandler] = {
            "getme": self.get_me,
            "getupdates": self.get_updates,
            "setwebhook": self.set_webhook,
            "deletewebhook": self.delete_webhook,
            "getwebhookinfo": self.get_webhook_info,
            "logout": self.log_out,
            "close": self.close,
            "sendmessage": self.send_message,
            "editmessagetext": self.edit_message_text,
            "editmessagereplymarkup": self.edit_message_reply_markup,
            "deletemessage": self.delete_message,
            "answercallbackquery": self.answer_callback_query,
            "senddocument": self.send_document,
            "getfile": self.get_file,
            "setmycommands": self.set_my_commands,
            "getmycommands": self.get_my_commands,
            "deletemycommands": self.delete_my_commands,
            "setchatmenubutton": self.set_chat_menu_button,
            "getchatmenubutton": self.get_chat_menu_button,
            "sendchataction": self.send_chat_action,
            "setmydescription": self._bot_setting("description", "description"),
            "getmydescription": self._bot_getting("description", "description"),
            "setmyshortdescription": self._bot_setting("short_description", "short_description"),
            "getmyshortdescription": self._bot_getting("short_description", "short_description"),
            "setmyname": self._bot_setting("name", "name"),
            "getmyname": self._bot_getting("name", "name"),
        }
        self.payments = PaymentDesk(state, self._require_chat)  # sendInvoice, answerPreCheckoutQuery, refunds
        self.handlers.update(self.payments.handlers)
        self.photos = PhotoDesk(state, self._require_chat)  # sendPhoto
        self.handlers.update(self.photos.handlers)

    def _require_chat(self, params: dict[str, Any], *, for_sending: bool = True) -> Person:
        if "chat_id" not in params or params["chat_id"] in ("", None):
            raise bad_request("chat_id is empty")
        chat_id = params["chat_id"]
        user = self.state.people.get(chat_id) if isinstance(chat_id, int) else None
        if user is None:
            raise bad_request("chat not found")
        if user.blocked:
            raise ApiError(403, BLOCKED)
        if for_sending and not user.started:
            raise ApiError(403, NOT_STARTED)
        return user

    def _require_message(self, user: Person, params: dict[str, Any], action: str) -> ChatMessage:
        if params.get("message_id") in (None, ""):
            raise bad_request("message identifier is not specified")
        message_id = as_int(params["message_id"], "message_id")
        message = self.state.messages.get((user.id, message_id))
        if message is None or message.is_deleted:
            raise bad_request(f"message to {action} not found")
        return message

    def _snapshot_version(self, message: ChatMessage) -> None:
        message.versions.append((message.shown_text, message.reply_markup))

    async def get_me(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return {
            **self.state.bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def get_updates(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        if self.state.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = as_int(params.get("offset") or 0, "offset")
        limit = min(max(as_int(params.get("limit") or 100, "limit"), 1), 100)
        timeout = min(max(float(params.get("timeout") or 0), 0.0), MAX_LONG_POLL)
        self.state.confirm_updates(offset)
        self.state.poll_generation += 1
        generation = self.state.poll_generation
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        self.state.polls_waiting += 1
        self.state.notify(activity=False)  # wakes an older poll (-> Conflict) and anyone watching polls
        try:
            while True:
                if self.state.pending_updates:
                    batch = self.state.pending_updates[:limit]
                    for update in batch:
                        update.fetched += 1
                    return [json.loads(json.dumps(u.payload)) for u in batch]
                if self.state.closing:
                    return []
                if generation != self.state.poll_generation:
                    raise ApiError(
                        409,
                        "Conflict: terminated by other getUpdates request; "
                        "make sure that only one bot instance is running",
                    )
                remaining = deadline - loop.time()
                if remaining <= 0:
                    return []
                changed = self.state.changed
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(changed.wait(), remaining)
        finally:
            self.state.polls_waiting -= 1

    async def set_webhook(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        url = params.get("url") or ""
        if as_bool(params.get("drop_pending_updates", False)):
            self.state.drop_pending_updates()
        if not url:
            self.state.webhook = None
            return True
        if not str(url).startswith("https://"):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        self.state.webhook = {
            "url": url,
            "secret_token": params.get("secret_token"),
            "allowed_updates": params.get("allowed_updates"),
            "max_connections": params.get("max_connections"),
        }
        return True

    async def delete_webhook(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.state.webhook = None
        if as_bool(params.get("drop_pending_updates", False)):
            self.state.drop_pending_updates()
        return True

    async def get_webhook_info(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        info: dict[str, Any] = {
            "url": self.state.webhook["url"] if self.state.webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": len(self.state.pending_updates),
        }
        if self.state.webhook:
            info["max_connections"] = self.state.webhook.get("max_connections") or WEBHOOK_MAX_CONNECTIONS
            if self.state.webhook.get("last_error_date"):
                info["last_error_date"] = self.state.webhook["last_error_date"]
                info["last_error_message"] = self.state.webhook["last_error_message"]
            if self.state.webhook.get("allowed_updates"):
                info["allowed_updates"] = self.state.webhook["allowed_updates"]
        return info

    async def log_out(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.state.logged_out = True
        return True

    async def close(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        self.state.closed = True
        return True

    async def send_message(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        user = self._require_chat(params)
        text, entities = format_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"),
            limit=MAX_MESSAGE_LENGTH, kind="message",
        )  # fmt: skip
        markup = validate_markup(params.get("reply_markup"))
        message = self.state.new_message(
            user.id,
            from_bot=True,
            sender=self.state.bot_user(),
            text=text,
            entities=entities,
            source=params.get("text"),
            parse_mode=params.get("parse_mode"),
            raw_reply_markup=markup,
        )
        self.state.record_event("sent", message)
        return message.to_api()

    async def edit_message_text(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        user = self._require_chat(params, for_sending=False)
        message = self._require_message(user, params, "edit")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        if not message.text:
            raise bad_request("there is no text in the message to edit")
        text, entities = format_text(
            params.get("text"), params.get("parse_mode"), params.get("entities"),
            limit=MAX_MESSAGE_LENGTH, kind="message",
        )  # fmt: skip
        markup = validate_markup(params.get("reply_markup"))
        new_rows = inline_rows(markup)
        if (
            text == message.text
            and entities == message.entities
            and new_rows == inline_rows(message.raw_reply_markup)
        ):
            raise bad_request(NOT_MODIFIED)
        self._snapshot_version(message)
        message.text = text
        message.entities = entities
        message.source = params.get("text")
        message.parse_mode = params.get("parse_mode")
        # like Telegram: omitting reply_markup removes the inline keyboard
        message.raw_reply_markup = markup if new_rows else None
        message.edit_date = self.state.now()
        self.state.record_event("edited", message)
        return message.to_api()

    async def edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        user = self._require_chat(params, for_sending=False)
        message = self._require_message(user, params, "edit")
        if not message.from_bot:
            raise bad_request("message can't be edited")
        markup = validate_markup(params.get("reply_markup"))
        if markup is not None and "inline_keyboard" not in markup:
            raise bad_request("inline keyboard expected")
        new_rows = inline_rows(markup)
        if new_rows == inline_rows(message.raw_reply_markup):
            raise bad_request(NOT_MODIFIED)
        self._snapshot_version(message)
        message.raw_reply_markup = markup if new_rows else None
        message.edit_date = self.state.now()
        self.state.record_event("edited", message)
        return message.to_api()

    async def delete_message(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        user = self._require_chat(params, for_sending=False)
        message = self._require_message(user, params, "delete")
        message.is_deleted = True
        self.state.record_event("deleted", message)
        return True

    async def answer_callback_query(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        query_id = params.get("callback_query_id")
        record = self.state.callback_queries.get(str(query_id)) if query_id is not None else None
        if record is None:
            raise bad_request(QUERY_TOO_OLD)
        if record.answers:
            record.rejected_answers += 1
            raise bad_request(QUERY_TOO_OLD)
        text = params.get("text")
        if isinstance(text, str) and len(text) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        answer = CallbackAnswer(
            query_id=record.id,
            text="" if text is None else str(text),
            show_alert=as_bool(params.get("show_alert", False)),
            url=params.get("url"),
            cache_time=params.get("cache_time"),
            time=self.state.clock(),
        )
        record.answers.append(answer)
        self.state.callback_answers.append(answer)
        self.state.publish("answer", record.chat_id, answer)
        return True

    async def send_document(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        user = self._require_chat(params)
        upload = files.get("document")
        document: SentDocument
        if upload is not None:
            document = self.state.store_file(upload.filename, upload.content_type, upload.content)
        else:
            reference = params.get("document")
            if not reference:
                raise bad_request("there is no document in the request")
            reference = str(reference)
            if reference.startswith("attach://"):
                attached = files.get(reference[len("attach://") :])
                if attached is None:
                    raise bad_request("there is no document in the request")
                document = self.state.store_file(attached.filename, attached.content_type, attached.content)
            elif reference in self.state.files:
                document = self.state.files[reference]
            elif re.match(r"https?://", reference):
                document = self.state.store_file(reference.rsplit("/", 1)[-1] or None, None, None, url=reference)
            else:
                raise bad_request("wrong file identifier/HTTP URL specified")
        return send_with_caption(self.state, user, params, document=document)

    async def get_file(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        stored = self.state.files.get(str(params.get("file_id")))
        if stored is None:
            raise bad_request("invalid file_id")
        data: dict[str, Any] = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        if stored.file_size is not None:
            data["file_size"] = stored.file_size
            data["file_path"] = stored.file_path
        return data

    async def set_my_commands(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("can't parse commands JSON object")
        cleaned = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand JSON object")
            name, description = command.get("command"), command.get("description")
            if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not isinstance(description, str) or not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            cleaned.append({"command": name, "description": description})
        key = self.state.commands_key(params.get("scope"), params.get("language_code"))
        if cleaned:
            self.state.command_lists[key] = cleaned
        else:
            self.state.command_lists.pop(key, None)
        self.state.publish("commands", _scope_chat(params.get("scope")), None)
        return True

    async def get_my_commands(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        return self.state.commands(params.get("scope"), params.get("language_code") or "")

    async def delete_my_commands(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        key = self.state.commands_key(params.get("scope"), params.get("language_code"))
        self.state.command_lists.pop(key, None)
        self.state.publish("commands", _scope_chat(params.get("scope")), None)
        return True

    async def set_chat_menu_button(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat_id = params.get("chat_id")
        if chat_id not in (None, ""):
            self._require_chat(params, for_sending=False)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in ("default", "commands", "web_app"):
            raise bad_request("can't parse menu button JSON object")
        self.state.menu_buttons[chat_id if chat_id not in (None, "") else None] = button
        return True

    async def get_chat_menu_button(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        chat_id = params.get("chat_id")
        key = chat_id if chat_id not in (None, "") else None
        return self.state.menu_buttons.get(key) or self.state.menu_buttons.get(None) or {"type": "commands"}

    async def send_chat_action(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        user = self._require_chat(params)
        action = params.get("action")
        if action not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        self.state.chat_actions.append((user.id, action))
        return True

    def _bot_setting(self, kind: str, param: str) -> MethodHandler:
        async def handler(params: dict[str, Any], files: dict[str, Upload]) -> Any:
            self.state.bot_settings.setdefault(kind, {})[str(params.get("language_code") or "")] = str(
                params.get(param) or ""
            )
            return True

        return handler

    def _bot_getting(self, kind: str, param: str) -> MethodHandler:
        async def handler(params: dict[str, Any], files: dict[str, Upload]) -> Any:
            values = self.state.bot_settings.get(kind, {})
            language = str(params.get("language_code") or "")
            value = values.get(language, values.get("", self.state.bot_first_name if kind == "name" else ""))
            return {param: value}

        return handler
