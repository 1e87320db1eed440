"""Self-test of the fake Bot API server against a real, tiny python-telegram-bot Application."""

from __future__ import annotations

import asyncio
import html
import io
import logging
import time
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta

import httpx
import pytest
from aiohttp import web
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MenuButtonCommands,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
)
from telegram.ext import Application, ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from sandbox.botapi import WEBHOOK_SECRET_HEADER, FakeBotApi, HarnessTimeout, parse_html

KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Yes", callback_data="choice:yes"),
            InlineKeyboardButton("No", callback_data="choice:no"),
        ],
        [InlineKeyboardButton("Docs", url="https://example.com/docs")],
    ]
)


# ---------------------------------------------------------------------------------------------
# a tiny bot
# ---------------------------------------------------------------------------------------------


async def on_start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("start_args", []).append(list(context.args or []))
    assert update.effective_user is not None and update.effective_message is not None
    name = html.escape(update.effective_user.first_name)
    await update.effective_message.reply_text(
        f"Welcome, <b>{name}</b>!", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None and query.data is not None
    context.bot_data.setdefault("seen_data", []).append(query.data)
    await query.answer(f"Got {query.data}")
    choice = query.data.removeprefix("choice:")
    await query.edit_message_text(f"You chose <i>{html.escape(choice)}</i>", parse_mode=ParseMode.HTML)


async def on_slow(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    message = await update.effective_message.reply_text("Working…")
    await context.bot_data["gate"].wait()
    await message.edit_text("Done")


async def on_think(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await asyncio.sleep(0.3)  # e.g. a slow database; wait_idle must not return before the reply
    assert update.effective_message is not None
    await update.effective_message.reply_text("Thought it through")


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    context.bot_data.setdefault("errors", []).append(context.error)


def build_app(api: FakeBotApi) -> Application:
    app = api.configure(ApplicationBuilder()).build()
    app.add_handler(CommandHandler("start", on_start))
    app.add_handler(CommandHandler("slow", on_slow))
    app.add_handler(CommandHandler("think", on_think))
    app.add_handler(CommandHandler("think_bg", on_think, block=False))
    app.add_handler(CallbackQueryHandler(on_button, pattern=r"^(choice:|evil)"))
    app.add_error_handler(on_error)
    app.bot_data["gate"] = asyncio.Event()
    return app


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def app(api: FakeBotApi) -> AsyncIterator[Application]:
    application = build_app(api)
    async with api.running(application):
        yield application


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as raw_bot:
        yield raw_bot


# ---------------------------------------------------------------------------------------------
# flows through the real Application
# ---------------------------------------------------------------------------------------------


async def test_start_keyboard_press_and_edit(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101, "Alice <3", username="alice")
    await alice.send("/start")
    welcome = await alice.wait_for("Welcome")

    assert welcome.text == "Welcome, Alice <3!"
    assert welcome.source == "Welcome, <b>Alice &lt;3</b>!"
    assert welcome.entities == [{"offset": 9, "length": 8, "type": "bold"}]
    assert alice.buttons() == ["Yes", "No", "Docs"]
    assert welcome.reply_markup == [
        [("Yes", "choice:yes"), ("No", "choice:no")],
        [("Docs", "https://example.com/docs")],
    ]
    assert [(m.message_id, m.from_bot) for m in alice.chat] == [(1, False), (2, True)]

    query_id = await alice.press("Yes")
    edited = await alice.wait_for("You chose yes")
    await api.wait_idle()

    assert edited is welcome and edited.edit_date is not None
    assert edited.entities == [{"offset": 10, "length": 3, "type": "italic"}]
    assert edited.reply_markup == []  # editMessageText without reply_markup drops the keyboard
    assert edited.versions[0][0] == "Welcome, Alice <3!"
    assert [a.text for a in api.callback_answers] == ["Got choice:yes"]
    assert api.callback_queries[query_id].answers[0].query_id == query_id
    assert app.bot_data["start_args"] == [[]]
    api.assert_callbacks_answered_once()
    api.assert_no_errors()


async def test_command_entity_and_payload(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101)
    sent = await alice.send("/start booking_42")
    await alice.wait_for("Welcome")
    assert sent.entities == [{"type": "bot_command", "offset": 0, "length": 6}]
    assert app.bot_data["start_args"] == [["booking_42"]]


async def test_two_users_are_isolated(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101, "Alice")
    bob = api.user(202, "Bob", language_code="ru")
    await alice.send("/start")
    await bob.send("/start")
    await alice.wait_for("Welcome, Alice")
    await bob.wait_for("Welcome, Bob")

    await alice.press("Yes")
    await bob.press("No")
    await alice.wait_for("You chose yes")
    await bob.wait_for("You chose no")
    await api.wait_idle()

    assert [m.message_id for m in alice.chat] == [1, 2]
    assert [m.message_id for m in bob.chat] == [1, 2]
    assert "Bob" not in " ".join(m.shown_text for m in alice.chat)
    assert alice.last_bot_message().text == "You chose yes"
    assert bob.last_bot_message().text == "You chose no"
    assert alice.buttons() == [] and bob.buttons() == []
    with pytest.raises(HarnessTimeout, match="no bot message matching"):
        await alice.wait_for("You chose no", timeout=0.2)
    api.assert_callbacks_answered_once()
    api.assert_no_errors()


async def test_forged_callback_data_is_delivered(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101)
    await alice.send("/start")
    welcome = await alice.wait_for("Welcome")

    query_id = await alice.press_data(welcome.message_id, "evil:' OR 1=1 --")
    await alice.wait_for("You chose evil")
    await api.wait_idle()

    assert app.bot_data["seen_data"] == ["evil:' OR 1=1 --"]
    assert api.callback_queries[query_id].forged
    api.assert_callbacks_answered_once()


async def test_press_errors_are_clear(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101)
    with pytest.raises(AssertionError, match="no bot message with an inline keyboard"):
        await alice.press("Yes")
    await alice.send("/start")
    await alice.wait_for("Welcome")
    with pytest.raises(AssertionError, match="no button matching 'Maybe'"):
        await alice.press("Maybe")
    with pytest.raises(AssertionError, match="not a callback button"):
        await alice.press("Docs")
    query_id = await alice.press(lambda label: label.startswith("N"))
    await api.wait_idle()
    assert api.callback_queries[query_id].data == "choice:no"


async def test_wait_for_is_event_driven(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101)
    await alice.send("/slow")
    working = await alice.wait_for("Working")
    assert working.text == "Working…"

    app.bot_data["gate"].set()
    done = await alice.wait_for(lambda m: m.text == "Done" and m.edit_date is not None)
    assert done is working
    # the earlier state still matches: events are matched on snapshots taken when they happened
    assert await alice.wait_for("Working") is working

    started = time.monotonic()
    with pytest.raises(HarnessTimeout) as excinfo:
        await alice.wait_for("never", timeout=0.2)
    assert time.monotonic() - started < 1.0
    assert "#2 bot (edited): 'Done'" in str(excinfo.value)  # the transcript helps debugging
    await api.wait_idle()


async def test_wait_idle_waits_for_slow_handlers(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101)
    await alice.send("/think")
    await api.wait_idle()  # the handler sleeps 0.3 s before replying; quiet period is only 0.05 s
    assert alice.last_bot_message().text == "Thought it through"

    await alice.send("/think_bg")  # block=False: runs as a task created by the Application
    await api.wait_idle()
    assert [m.text for m in alice.bot_messages()] == ["Thought it through"] * 2


async def test_wait_idle_reports_unanswered_callbacks(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    message = await bot.send_message(alice.id, "Pick", reply_markup=KEYBOARD)
    query_id = await alice.press("Yes")
    updates = await bot.get_updates(timeout=0)
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)  # confirm, but never answer

    with pytest.raises(HarnessTimeout, match=f"callback queries not answered: {query_id}"):
        await api.wait_idle(timeout=0.3)
    await api.wait_idle(require_answers=False)
    query = updates[-1].callback_query
    assert query is not None and query.message is not None
    assert query.message.message_id == message.message_id


async def test_wait_idle_reports_unfetched_updates(api: FakeBotApi) -> None:
    alice = api.user(101)
    await alice.send("hello")
    with pytest.raises(HarnessTimeout, match=r"not yet confirmed by the bot \[1\] \(is the Updater polling\?\)"):
        await api.wait_idle(timeout=0.2)


# ---------------------------------------------------------------------------------------------
# fault injection
# ---------------------------------------------------------------------------------------------


async def test_faults_reach_the_application(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101)
    bob = api.user(202)
    forbidden = api.fail_next("sendMessage", 403, chat_id=bob.id)
    flood = api.fail_next("sendMessage", 429, retry_after=7, chat_id=alice.id)

    await alice.send("/start")
    await bob.send("/start")
    await api.wait_idle()

    errors = app.bot_data["errors"]
    assert len(errors) == 2
    by_type = {type(e): e for e in errors}
    assert by_type[RetryAfter].retry_after == timedelta(
        seconds=7
    )  # a timedelta (``bot.app.use_timedelta_periods``)
    assert "Retry in 0:00:07" in str(by_type[RetryAfter])
    assert str(by_type[Forbidden]) == "Forbidden: bot was blocked by the user"
    assert forbidden.hits == flood.hits == 1
    assert alice.bot_messages() == [] and bob.bot_messages() == []

    await alice.send("/start")  # rules are used up: the next call succeeds
    await alice.wait_for("Welcome")
    await api.wait_idle()
    assert all(e.injected for e in api.errors_returned)
    api.assert_no_errors()


async def test_fault_injection_on_raw_bot(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    api.fail_next("sendMessage", 500, times=2)
    for _ in range(2):
        with pytest.raises(NetworkError, match="Internal Server Error"):
            await bot.send_message(alice.id, "hi")
    await bot.send_message(alice.id, "hi")

    api.fail_next("*", 502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_chat_action(alice.id, "typing")

    await alice.block(notify=False)
    with pytest.raises(Forbidden, match="blocked by the user"):
        await bot.send_message(alice.id, "are you there?")
    await alice.unblock(notify=False)
    await bot.send_message(alice.id, "welcome back")

    api.fail_next("getUpdates", 502)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.get_updates(timeout=0)
    assert await bot.get_updates(timeout=0) == ()

    stranger = api.user(303)  # never talked to the bot
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(stranger.id, "hello")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "hello")
    assert [e.injected for e in api.errors_returned] == [True, True, True, True, True, False, False]


async def test_block_notifies_with_my_chat_member(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    await alice.block()
    (update,) = await bot.get_updates(timeout=0)
    member = update.my_chat_member
    assert member is not None
    assert member.new_chat_member.status == "kicked"
    assert member.from_user.id == alice.id


async def test_latency_is_applied(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    api.latency = 0.1
    started = time.monotonic()
    await bot.send_message(alice.id, "slow")
    assert time.monotonic() - started >= 0.1
    duration = api.calls_to("sendMessage")[0].duration
    assert duration is not None and duration >= 0.1


# ---------------------------------------------------------------------------------------------
# validation like Telegram
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markup", "error"),
    [
        ("<b>bold", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<foo>x</foo>", 'Unsupported start tag "foo" at byte offset 0'),
        ("a < b", 'Unsupported start tag "" at byte offset 2'),
        ("<br/>", 'Unsupported start tag "br/" at byte offset 0'),
        ('<span class="x">s</span>', 'Tag "span" must have class "tg-spoiler" at byte offset 0'),
        ("ü<b", "Unclosed start tag at byte offset 2"),
    ],
)
async def test_html_is_validated(api: FakeBotApi, bot: Bot, markup: str, error: str) -> None:
    alice = api.user(101, started=True)
    with pytest.raises(BadRequest) as excinfo:
        await bot.send_message(alice.id, markup, parse_mode=ParseMode.HTML)
    # PTB strips "Bad Request: " and capitalize()s the rest, which lower-cases everything else
    assert str(excinfo.value) == f"can't parse entities: {error}".capitalize()
    assert api.errors_returned[-1].description == f"Bad Request: can't parse entities: {error}"
    assert api.errors_returned[-1].error_code == 400
    assert alice.bot_messages() == []
    with pytest.raises(AssertionError, match="can't parse entities"):
        api.assert_no_errors()


async def test_allowed_html_and_escapes(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    source = (
        "<b>b</b><strong>s</strong><i>i</i><em>e</em><u>u</u><ins>n</ins><s>s</s><strike>k</strike>"
        '<del>d</del><tg-spoiler>p</tg-spoiler><span class="tg-spoiler">q</span>'
        '<a href="https://x.org/?a=1&amp;b=2">link</a><code>c</code><pre>pre</pre>'
        '<pre><code class="language-python">py</code></pre><blockquote>quote</blockquote>'
        " &lt;&gt;&amp;&quot; &#128512; &#x41; &copy; AT&T"
    )
    message = await bot.send_message(alice.id, source, parse_mode="HTML")
    assert message.text is not None and message.text.endswith(' <>&" 😀 A &copy; AT&T')
    types = [e.type for e in message.entities]
    assert types == [
        "bold", "bold", "italic", "italic", "underline", "underline", "strikethrough", "strikethrough",
        "strikethrough", "spoiler", "spoiler", "text_link", "code", "pre", "pre", "blockquote",
    ]  # fmt: skip
    assert message.entities[11].url == "https://x.org/?a=1&b=2"
    assert message.entities[14].language == "python"
    api.assert_no_errors()


def test_parse_html_unit() -> None:
    assert parse_html("😀 <b>x<i>y</i></b>") == (
        "😀 xy",
        [{"offset": 3, "length": 2, "type": "bold"}, {"offset": 4, "length": 1, "type": "italic"}],
    )
    assert parse_html("<blockquote expandable>q</blockquote>")[1][0]["type"] == "expandable_blockquote"
    assert parse_html("<b></b>x") == ("x", [])  # empty entities are dropped
    assert parse_html("<B>x</B>")[1][0]["type"] == "bold"


async def test_text_length_and_button_limits(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    await bot.send_message(alice.id, "x" * 4096)
    await bot.send_message(alice.id, "<b>" + "x" * 4096 + "</b>", parse_mode="HTML")  # counted after parsing
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(alice.id, "x" * 4097)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(alice.id, "   \n ")
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(
            alice.id, "k", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="é" * 33)]])
        )
    ok_markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="é" * 32)]])
    await bot.send_message(alice.id, "k", reply_markup=ok_markup)  # 64 bytes is fine
    async with httpx.AsyncClient() as client:  # a JSON body, as other clients send it
        response = await client.post(
            f"{api.base_url}{api.token}/sendMessage",
            json={"chat_id": str(alice.id), "text": "t", "reply_markup": {"inline_keyboard": [[{"text": "a"}]]}},
        )
    assert response.status_code == 400
    assert response.json() == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: can't parse inline keyboard button: "
        "Text buttons are unallowed in the inline keyboard",
    }
    message = await bot.send_message(alice.id, "  trimmed  ")
    assert message.text == "trimmed"


async def test_edit_and_delete_rules(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    message = await bot.send_message(alice.id, "Pick", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text("Pick", chat_id=alice.id, message_id=message.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_reply_markup(alice.id, message.message_id, reply_markup=KEYBOARD)
    edited = await bot.edit_message_reply_markup(alice.id, message.message_id, reply_markup=None)
    assert isinstance(edited, Message) and edited.reply_markup is None and alice.buttons() == []
    await bot.edit_message_text("<b>Pick</b>", chat_id=alice.id, message_id=message.message_id, parse_mode="HTML")
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=99)
    user_message = await alice.send("mine")
    with pytest.raises(BadRequest, match="Message can't be edited"):
        await bot.edit_message_text("x", chat_id=alice.id, message_id=user_message.message_id)

    assert await bot.delete_message(alice.id, message.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(alice.id, message.message_id)
    assert alice.message(message.message_id).is_deleted
    assert alice.bot_messages() == []
    assert alice.last_bot_message(include_deleted=True).message_id == message.message_id


async def test_callback_answered_twice_is_rejected(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    await bot.send_message(alice.id, "Pick", reply_markup=KEYBOARD)
    query_id = await alice.press("No")
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query("12345")
    assert api.callback_queries[query_id].rejected_answers == 1
    assert [a.text for a in api.callback_answers] == ["ok"]
    with pytest.raises(AssertionError, match="answered 1x, rejected 1x"):
        api.assert_callbacks_answered_once()


async def test_unknown_method_is_recorded(api: FakeBotApi, bot: Bot) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("send_pigeon", api_kwargs={"chat_id": 1})
    assert [c.method for c in api.unknown_methods] == ["sendPigeon"]
    assert api.errors_returned[-1].error_code == 404 and api.errors_returned[-1].description == "Not Found"
    with pytest.raises(AssertionError, match="unknown method sendPigeon"):
        api.assert_no_errors()


async def test_wrong_token_is_unauthorized(api: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("42:wrong", base_url=api.base_url):
            pass  # pragma: no cover - initialize() (getMe) must fail


# ---------------------------------------------------------------------------------------------
# other methods
# ---------------------------------------------------------------------------------------------


async def test_commands_menu_actions_webhook(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    assert bot.username == "mentor_desk_test_bot" and bot.id == 1000000

    await bot.set_my_commands([BotCommand("start", "Start"), BotCommand("book", "Book a session")])
    await bot.set_my_commands([BotCommand("start", "Начать")], language_code="ru")
    await bot.set_my_commands([BotCommand("admin", "Admin")], scope=BotCommandScopeChat(alice.id))
    assert [c.command for c in await bot.get_my_commands()] == ["start", "book"]
    assert [c.description for c in await bot.get_my_commands(language_code="ru")] == ["Начать"]
    assert api.commands({"type": "chat", "chat_id": alice.id}) == [{"command": "admin", "description": "Admin"}]
    await bot.delete_my_commands(language_code="ru")
    assert await bot.get_my_commands(language_code="ru") == ()
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Bad-Command", "x")])

    await bot.set_chat_menu_button(chat_id=alice.id, menu_button=MenuButtonCommands())
    assert api.menu_buttons[alice.id] == {"type": "commands"}
    await bot.send_chat_action(alice.id, "typing")
    assert api.chat_actions == [(alice.id, "typing")]

    await bot.set_webhook("https://example.com/hook", secret_token="s3cret")
    assert api.webhook is not None
    assert api.webhook["url"] == "https://example.com/hook"
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    with pytest.raises(TelegramError, match="webhook is active"):
        await bot.get_updates(timeout=0)
    await bot.delete_webhook()
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.get_updates(timeout=0) == ()


async def test_send_document_multipart_and_download(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    payload = b"id,when\n1,2025-01-01 10:00\n" + bytes(range(256))
    message = await bot.send_document(
        alice.id, io.BytesIO(payload), filename="bookings.csv", caption="<b>Export</b>", parse_mode="HTML"
    )
    assert message.document is not None
    assert message.document.file_name == "bookings.csv"
    assert message.caption == "Export" and message.caption_entities[0].type == "bold"

    shown = alice.last_bot_message()
    assert shown.document is not None
    assert shown.document.content == payload and shown.document.mime_type == "text/csv"
    call = api.calls_to("sendDocument")[0]
    assert call.content_type == "multipart/form-data"
    assert call.files == {"document": ("bookings.csv", "text/csv", len(payload))}

    telegram_file = await bot.get_file(message.document.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == payload
    again = await bot.send_document(alice.id, message.document.file_id)  # re-send by file_id
    assert again.document is not None
    assert again.document.file_unique_id == message.document.file_unique_id


async def test_content_types_sent_by_ptb(api: FakeBotApi, app: Application) -> None:
    alice = api.user(101)
    await alice.send("/start")
    await alice.wait_for("Welcome")
    await alice.press("Yes")
    await alice.wait_for("You chose")
    await api.wait_idle()
    kinds = {c.method: c.content_type for c in api.calls}
    assert kinds["getMe"] == ""  # no parameters: empty POST body
    assert kinds["sendMessage"] == "application/x-www-form-urlencoded"
    assert kinds["answerCallbackQuery"] == "application/x-www-form-urlencoded"
    markup = api.calls_to("sendMessage")[0].params["reply_markup"]  # arrived as a JSON string
    assert markup["inline_keyboard"][0][0] == {"text": "Yes", "callback_data": "choice:yes"}
    assert api.last_get_updates_params is not None
    assert api.last_get_updates_params["timeout"] == 1


# ---------------------------------------------------------------------------------------------
# long polling and shutdown
# ---------------------------------------------------------------------------------------------


def message_texts(updates: Sequence[Update]) -> list[str | None]:
    """The text of each update's message (None: an update without a message, or a message without text)."""
    return [None if update.message is None else update.message.text for update in updates]


async def test_get_updates_offset_limit_semantics(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101)
    for text in ("one", "two", "three"):
        await alice.send(text)
    first = await bot.get_updates(timeout=0)
    assert message_texts(first) == ["one", "two", "three"]
    assert [u.update_id for u in await bot.get_updates(timeout=0)] == [u.update_id for u in first]
    assert message_texts(await bot.get_updates(offset=first[1].update_id, limit=1)) == ["two"]
    assert message_texts(await bot.get_updates(offset=-1, timeout=0)) == ["three"]
    assert await bot.get_updates(offset=first[-1].update_id + 1, timeout=0) == ()


async def test_long_poll_wakes_up_on_new_update(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101)
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await api.wait_until(lambda: api.polls_waiting, 2, lambda: "poll never arrived")
    started = time.monotonic()
    await alice.send("ping")
    (update,) = await poll
    assert message_texts([update]) == ["ping"] and time.monotonic() - started < 1


async def test_newer_poll_terminates_older_with_conflict(api: FakeBotApi) -> None:
    url = f"{api.base_url}{api.token}/getUpdates"
    async with httpx.AsyncClient() as client:
        older = asyncio.create_task(client.post(url, data={"timeout": "5"}))
        await api.wait_until(lambda: api.polls_waiting, 2, lambda: "poll never arrived")
        newer = await client.post(url, json={"timeout": 0})
        response = await older
    assert newer.json() == {"ok": True, "result": []}
    assert response.status_code == 409 and "terminated by other getUpdates" in response.json()["description"]


async def test_stop_releases_pending_long_poll_quickly() -> None:
    api = FakeBotApi()
    await api.start()
    url = f"{api.base_url}{api.token}/getUpdates"
    async with httpx.AsyncClient() as client:
        poll = asyncio.create_task(client.post(url, data={"timeout": "30"}))
        await api.wait_until(lambda: api.polls_waiting, 2, lambda: "poll never arrived")
        started = time.monotonic()
        await api.stop()
        response = await poll
    assert time.monotonic() - started < 1.0
    assert response.json() == {"ok": True, "result": []}


async def test_application_shutdown_is_quick_and_clean(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with FakeBotApi() as api:
        application = build_app(api)
        async with api.running(application, poll_timeout=10):
            alice = api.user(101)
            await alice.send("/start")
            await alice.wait_for("Welcome")
            await api.wait_idle()
            started = time.monotonic()
        assert time.monotonic() - started < 2.0  # the 10 s long poll did not delay shutdown
        assert application.updater is not None
        assert not application.running and not application.updater.running
    await asyncio.sleep(0)
    leftovers = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()]
    assert leftovers == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []


async def test_running_can_call_lifecycle_hooks(api: FakeBotApi) -> None:
    calls: list[str] = []

    def hook(name: str):
        async def record(application: Application) -> None:
            calls.append(name)
            if name == "post_init":
                await application.bot.set_my_commands([BotCommand("start", "Start")])

        return record

    application = (
        api.configure(ApplicationBuilder())
        .post_init(hook("post_init"))
        .post_stop(hook("post_stop"))
        .post_shutdown(hook("post_shutdown"))
        .build()
    )
    async with api.running(application):
        pass
    assert calls == []  # like `async with application`: hooks are run_polling's business
    async with api.running(application, run_hooks=True):  # an Application can be restarted
        assert calls == ["post_init"]
        assert api.commands() == [{"command": "start", "description": "Start"}]
    assert calls == ["post_init", "post_stop", "post_shutdown"]


# ---------------------------------------------------------------------------------------------
# webhook delivery
# ---------------------------------------------------------------------------------------------


class Receiver:
    """A stand-in webhook server: records what arrives; ``answers`` are the statuses to give, then 200."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str | None, dict]] = []  # (path, secret header, update)
        self.answers: list[int] = []
        self.gate: asyncio.Event | None = None  # when set up: each request waits for it
        self.in_flight: dict[int, int] = {}  # chat id -> requests of that chat being answered
        self.arrived = asyncio.Condition()  # notified whenever a request arrives
        self.peak_total = 0
        self.peak_per_chat = 0
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def stop(self) -> None:
        if self.gate is not None:
            self.gate.set()  # a failed test may leave requests held; let them finish
        if self._runner is not None:
            await self._runner.cleanup()

    async def handle(self, request: web.Request) -> web.Response:
        update = await request.json()
        chat = update["message"]["chat"]["id"]
        self.in_flight[chat] = self.in_flight.get(chat, 0) + 1
        self.peak_per_chat = max(self.peak_per_chat, self.in_flight[chat])
        self.peak_total = max(self.peak_total, sum(self.in_flight.values()))
        async with self.arrived:
            self.arrived.notify_all()
        try:
            if self.gate is not None:
                await self.gate.wait()
            self.received.append((request.path, request.headers.get(WEBHOOK_SECRET_HEADER), update))
            return web.Response(status=self.answers.pop(0) if self.answers else 200)
        finally:
            self.in_flight[chat] -= 1


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = Receiver()
    await server.start()
    yield server
    await server.stop()


def texts(receiver: Receiver) -> list[str]:
    return [update["message"]["text"] for _, _, update in receiver.received]


async def test_webhook_delivers_with_secret_and_path(api: FakeBotApi, bot: Bot, receiver: Receiver) -> None:
    alice = api.user(101)
    await alice.send("before the webhook")  # pending updates are delivered too, oldest first
    await bot.set_webhook("https://bot.example.test/tg/hook", secret_token="s3cret")
    await alice.send("hello")
    await asyncio.sleep(0.05)
    assert receiver.received == []  # no target yet: nothing delivered, nothing lost
    with pytest.raises(HarnessTimeout, match="no webhook_target"):
        await api.wait_idle(timeout=0.2)

    api.webhook_target = receiver.url
    await api.wait_idle()
    assert [(path, secret) for path, secret, _ in receiver.received] == [("/tg/hook", "s3cret")] * 2
    assert texts(receiver) == ["before the webhook", "hello"]
    assert [status for _, status in api.webhook_deliveries] == [200, 200]
    assert (await bot.get_webhook_info()).pending_update_count == 0


async def test_webhook_without_secret_sends_no_header(api: FakeBotApi, bot: Bot, receiver: Receiver) -> None:
    await bot.set_webhook("https://bot.example.test/")
    api.webhook_target = receiver.url
    await api.user(101).send("hi")
    await api.wait_idle()
    assert [(path, secret) for path, secret, _ in receiver.received] == [("/", None)]


async def test_webhook_retries_until_2xx_and_reports_errors(api: FakeBotApi, bot: Bot, receiver: Receiver) -> None:
    await bot.set_webhook("https://bot.example.test/hook", secret_token="s3cret")
    receiver.answers = [403, 500]
    api.webhook_target = receiver.url
    update_id = api.enqueue_update({"message": (await api.user(101).send("x")).to_api()})
    await api.wait_idle()
    first = update_id - 1  # send() enqueued one update itself
    assert api.webhook_deliveries[:3] == [(first, 403), (first, 500), (first, 200)]
    assert api.webhook_deliveries[3:] == [(update_id, 200)]
    info = await bot.get_webhook_info()
    assert info.last_error_message == "Wrong response from the webhook: 500 Internal Server Error"
    assert info.pending_update_count == 0


async def test_webhook_connection_errors_are_retried(api: FakeBotApi, bot: Bot, receiver: Receiver) -> None:
    await bot.set_webhook("https://bot.example.test/hook")
    closed = Receiver()
    await closed.start()
    api.webhook_target = closed.url
    await closed.stop()  # nothing listens there any more
    await api.user(101).send("x")
    await api.wait_until(lambda: len(api.webhook_deliveries) >= 2, 5, lambda: "no retries")
    assert {status for _, status in api.webhook_deliveries} == {None}
    error = (await bot.get_webhook_info()).last_error_message
    assert error is not None and error.startswith("Connection failed")
    api.webhook_target = receiver.url  # the bot is back: the update arrives, once
    await api.wait_idle()
    assert texts(receiver) == ["x"]


async def wait_in_flight(receiver: Receiver, count: int) -> None:
    """Until ``count`` requests are held at the receiver's gate, then a moment more for any extra to arrive."""
    async with asyncio.timeout(5), receiver.arrived:
        await receiver.arrived.wait_for(lambda: sum(receiver.in_flight.values()) >= count)
    await asyncio.sleep(0.05)


async def test_webhook_sends_one_update_per_chat_at_a_time(api: FakeBotApi, bot: Bot, receiver: Receiver) -> None:
    await bot.set_webhook("https://bot.example.test/hook")
    receiver.gate = asyncio.Event()
    api.webhook_target = receiver.url
    alice, bob = api.user(101), api.user(102)
    for number in range(4):
        await alice.send(f"{alice.id}:{number}")
    await bob.send(f"{bob.id}:0")
    await wait_in_flight(receiver, 2)
    assert receiver.in_flight == {101: 1, 102: 1}  # alice's later messages wait for her first one
    receiver.gate.set()
    await api.wait_idle()
    assert receiver.peak_per_chat == 1
    assert [t for t in texts(receiver) if t.startswith("101:")] == [f"101:{n}" for n in range(4)]


async def test_webhook_respects_max_connections(api: FakeBotApi, bot: Bot, receiver: Receiver) -> None:
    await bot.set_webhook("https://bot.example.test/hook", max_connections=2)
    receiver.gate = asyncio.Event()
    api.webhook_target = receiver.url
    for user_id in (101, 102, 103):
        await api.user(user_id).send("hi")
    await wait_in_flight(receiver, 2)
    assert sum(receiver.in_flight.values()) == 2  # though three chats wait
    receiver.gate.set()
    await api.wait_idle()
    assert receiver.peak_total == 2 and len(receiver.received) == 3


async def test_deleting_the_webhook_stops_delivery_and_polling_resumes(
    api: FakeBotApi, bot: Bot, receiver: Receiver
) -> None:
    await bot.set_webhook("https://bot.example.test/hook")
    receiver.answers = [500] * 1000
    api.webhook_target = receiver.url
    await api.user(101).send("kept")
    await api.wait_until(lambda: api.webhook_deliveries, 5, lambda: "never delivered")
    await bot.delete_webhook()
    updates = await bot.get_updates(timeout=0)
    assert message_texts(updates) == ["kept"]  # a failed delivery loses nothing
