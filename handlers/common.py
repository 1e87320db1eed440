"""Plumbing every flow shares: who is asking, one unit of work per update, answering buttons, showing screens.

Handlers read: decode → ``async with ctx.uow() as uow`` → one use case → commit → render → show.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from telegram import ChatMember, InlineKeyboardMarkup, Message, Update
from telegram import User as TelegramUser
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationHandlerStop, CallbackContext, CallbackQueryHandler, ExtBot

from chat.i18n import _, pick_locale, set_locale
from chat.messages import edit_text, send_text
from chat.pressed import pressed_keyboard
from domain.errors import DomainError
from domain.mentee import DEFAULT_MAX_ACTIVE_PER_MENTOR
from domain.model import User
from domain.payments import PaymentSettings
from domain.people import Profile, same_profile
from domain.ports import Clock, UnitOfWork
from domain.reschedule import DEFAULT_MAX_RESCHEDULES
from domain.usecases.people import register_user
from handlers.callbacks import BadCallback, CallbackData
from handlers.errors import explain
from handlers.shown import FORMATTING, as_shown

log = logging.getLogger(__name__)

C = TypeVar("C", bound=CallbackData)


class CalendarReader(Protocol):
    """Reads a mentor's busy calendar now (``bot.calendar_sync.CalendarSync``), right after it was added."""

    async def refresh(self, calendar_id: int) -> object:
        """Fetch and read the calendar and save the outcome (its state is loaded again to show it)."""
        ...


class OutboxSender(Protocol):
    """What the handlers may ask of the outbox's sender (``bot.dispatcher.Dispatcher``)."""

    def wake(self, delay: float = 0.0) -> None:
        """Send what is due now (after a commit that wrote notifications due at once)."""
        ...


@dataclass(frozen=True, slots=True)
class Services:
    """What the handlers need from the outside world, put in ``bot_data`` by the wiring."""

    uow_factory: Callable[[], UnitOfWork]
    clock: Clock
    default_timezone: str
    default_locale: str
    # At most this many pending or upcoming bookings per mentee with one mentor (``usecases.booking.book_slot``).
    max_active_per_mentor: int = DEFAULT_MAX_ACTIVE_PER_MENTOR
    # At most this many moves per booking (``MAX_RESCHEDULES``, ``domain.reschedule``).
    max_reschedules: int = DEFAULT_MAX_RESCHEDULES
    # Sends the outbox; call ``dispatcher.wake()`` after committing notifications that are due now.
    dispatcher: OutboxSender | None = None
    # Units of work that only read (a screen that shows data): on SQLite they run beside the writer.
    read_factory: Callable[[], UnitOfWork] | None = None
    # How paid bookings are paid (``PAYMENTS``, ``STARS_PER_RUPEE``, ``PAYMENT_HOLD_MINUTES``).
    payments: PaymentSettings = PaymentSettings()
    # The payment provider's token from @BotFather (``PAYMENT_PROVIDER_TOKEN``): a secret, never shown.
    provider_token: str = field(default="", repr=False)
    # Calendar sync: where feeds are served (None: no feeds), how often busy calendars are read, and who reads one.
    public_url: str | None = None
    calendar_refresh_minutes: int = 15
    calendar_reader: CalendarReader | None = None


class AppContext(CallbackContext[ExtBot, dict, dict, dict]):
    """The per-update context, carrying the registered user once ``remember_user`` has run."""

    def __init__(self, application: Application, chat_id: int | None = None, user_id: int | None = None) -> None:
        super().__init__(application, chat_id=chat_id, user_id=user_id)
        self.me: User | None = None
        self.user_at_start: User | None = None  # as ``remember_user`` found them, before this update's changes
        self.press_answered = False  # ``answer_press`` answered this update's button press already

    @property
    def services(self) -> Services:
        return self.bot_data["services"]

    def uow(self) -> UnitOfWork:
        return self.services.uow_factory()

    def reader(self) -> UnitOfWork:
        """A unit of work for reading only (no commit): the screens that show data without changing any."""
        factory = self.services.read_factory or self.services.uow_factory
        return factory()

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def user(self) -> User:
        if self.me is None:
            raise RuntimeError("remember_user did not run for this update")
        return self.me

    @property
    def zone(self) -> str:
        """The asker's time zone, or the default until they pick one."""
        return self.user.timezone or self.services.default_timezone


async def remember_user(update: Update, context: AppContext) -> None:
    """Group -1: register or refresh the sender and switch ``_()`` to their language.

    When that fails (the database gives no connection within its pool's timeout under load, say), the update is
    answered once as failed and goes no further: every later handler would fail again for want of the sender.
    A payment's updates go on (they read what they need themselves, and a payment must be recorded). Telegram's
    pre-checkout question is left to its handler, which reads the payer with the booking in one unit of work: it
    must be answered within seconds, and changes nothing."""
    tg = update.effective_user
    if tg is None or tg.is_bot:
        return
    if update.pre_checkout_query is not None:
        return  # answered from one read, the payer's language with the booking (``handlers.payments``)
    try:
        await _remember(update, context, tg)
    except Exception:
        if update.effective_message is not None and update.effective_message.successful_payment is not None:
            log.exception("could not load the sender of a payment update; it goes on without them")
            return
        log.exception("could not load the sender of an update; it is answered as failed and goes no further")
        await _tell_failed(update)
        raise ApplicationHandlerStop from None


async def _tell_failed(update: Update) -> None:
    """ "Something went wrong" once: as the press's answer, or as a message in the chat."""
    text = _("Something went wrong. Please try again.")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_chat is not None and update.effective_message is not None:
            await update.effective_chat.send_message(text)
    except Exception:  # telling them failed too: logged, nothing more to do
        log.exception("could not tell the user about an error")


async def _remember(update: Update, context: AppContext, tg: TelegramUser) -> None:
    services = context.services
    profile = Profile(tg.id, tg.first_name, tg.last_name, tg.username)
    member = update.my_chat_member
    blocked = member is not None and member.new_chat_member.status == ChatMember.BANNED
    user: User | None = None
    if not blocked:  # the usual case - a known user, nothing changed - needs no write transaction
        async with context.reader() as reader:
            user = await reader.users.get(tg.id)
            if user is not None and (not same_profile(user, profile) or await reader.users.is_unreachable(tg.id)):
                user = None
    if user is None:
        async with context.uow() as uow:
            user, _created = await register_user(
                uow, profile, pick_locale(tg.language_code, services.default_locale)
            )
            if blocked:
                await uow.users.mark_unreachable(tg.id)  # they blocked the bot: hold their notifications
            else:
                await uow.users.mark_reachable(tg.id)  # they wrote to us: notifications reach them again
            await uow.commit()
    context.me = context.user_at_start = user
    set_locale(user.locale)


def already_shown(update: Update, text: str, markup: InlineKeyboardMarkup | None) -> bool:
    """True when the pressed message shows exactly ``text`` (HTML) with ``markup``: an edit would change nothing
    (and Telegram would refuse it as "message is not modified")."""
    query = update.callback_query
    message = query.message if query is not None else None
    if not isinstance(message, Message) or message.text is None:
        return False
    shown, formatting = as_shown(text)
    if shown != message.text:
        return False
    current = frozenset((e.type, e.offset, e.length, e.url) for e in message.entities if e.type in FORMATTING)
    if formatting != current:
        return False
    return _same_keyboard(pressed_keyboard(update), markup)


def _same_keyboard(one: InlineKeyboardMarkup | None, other: InlineKeyboardMarkup | None) -> bool:
    """No keyboard and an empty one are the same (Telegram shows neither)."""
    return (one.inline_keyboard if one else ()) == (other.inline_keyboard if other else ())


async def show(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the pressed message in place, or send a new message when the update is not a button press.

    A pressed message that already shows this screen is left as it is (the tab already selected, a stale menu
    button, a repeated press): the press is answered and nothing is edited."""
    query = update.callback_query
    if query is not None and query.message is not None:
        if already_shown(update, text, markup):
            return
        try:
            await edit_text(query.get_bot(), query.message.chat.id, query.message.message_id, text, markup)
        except BadRequest as error:
            # Two quick presses on one message: both carry the message as it was before the first edit.
            if "not modified" not in str(error).lower():
                raise
        return
    await say(update, text, markup)


async def show_keyboard(update: Update, markup: InlineKeyboardMarkup | None) -> None:
    """Replace only the pressed message's buttons (its text stays), unless it has these buttons already."""
    query = update.callback_query
    if query is None or query.message is None or _same_keyboard(pressed_keyboard(update), markup):
        return
    await query.edit_message_reply_markup(markup)


async def say(update: Update, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Always send a new message in the asker's chat."""
    chat = update.effective_chat
    if chat is not None:
        await send_text(chat.get_bot(), chat.id, text, markup)


async def answer_press(update: Update, context: AppContext) -> None:
    """Answer the button press now, before a slow part of its handler (an invoice, a QR code to send): the
    person's button stops spinning, and their next update - Telegram's pre-checkout question, which has 10
    seconds - no longer waits behind this answer. ``on_button`` then answers nothing more."""
    query = update.callback_query
    if query is not None and not context.press_answered:
        context.press_answered = True
        await query.answer()


ButtonCallback = Callable[[Update, AppContext, C], Awaitable[str | None]]


def on_button(kind: type[C]) -> Callable[[ButtonCallback[C]], CallbackQueryHandler]:
    """Turn ``async def f(update, context, data) -> toast | None`` into a handler that answers every press once.

    Bad data and rule violations are answered with a clear alert and change nothing. A handler that answered
    early (``answer_press``) gets no second answer; what would have been its alert or toast comes as a message.
    """

    def wrap(fn: ButtonCallback[C]) -> CallbackQueryHandler:
        async def handle(update: Update, context: AppContext) -> None:
            query = update.callback_query
            assert query is not None
            try:
                data = kind.unpack(query.data or "")
            except BadCallback:
                await query.answer(_("This button is no longer valid."), show_alert=True)
                return
            try:
                toast = await fn(update, context, data)
            except DomainError as error:
                await _answer_once(update, context, explain(error), alert=True)
                return
            except Exception:
                await _answer_once(update, context, _("Something went wrong. Please try again."), alert=True)
                raise
            await _answer_once(update, context, toast)

        handle.__name__ = fn.__name__
        return CallbackQueryHandler(handle, pattern=kind.pattern())

    return wrap


async def _answer_once(update: Update, context: AppContext, text: str | None, alert: bool = False) -> None:
    """The press's answer; after ``answer_press``, the text (if any) as a message instead."""
    query = update.callback_query
    assert query is not None
    if not context.press_answered:
        context.press_answered = True
        await query.answer(text, show_alert=alert)
    elif text:
        await say(update, text)


async def answer_stale_button(update: Update, context: AppContext) -> None:
    """Catch-all for presses no handler claimed (old or forged data)."""
    query = update.callback_query
    if query is not None:
        await query.answer(_("This button is no longer valid."), show_alert=True)


async def report_error(update: Any, context: AppContext) -> None:
    log.error("error while handling an update", exc_info=context.error)
    if isinstance(update, Update) and update.effective_chat is not None and update.callback_query is None:
        try:
            await update.effective_chat.send_message(_("Something went wrong. Please try again."))
        except Exception:  # the error handler must never raise
            log.exception("could not tell the user about an error")
