"""Telegram's payment calls: sending an invoice, refunding a Stars payment, sending a UPI QR code.

An invoice asks for one price in the smallest unit of its currency (paise, or whole Stars for ``XTR``); Stars
invoices carry no provider token, provider invoices the one from @BotFather. Refunding a Stars payment that
Telegram already refunded answers ``CHARGE_ALREADY_REFUNDED``: the money is back with the payer, so that counts
as done (a refund retried after its first answer was lost must not be reported as failed).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import segno
from telegram import Bot, InlineKeyboardMarkup, InputFile, LabeledPrice
from telegram.error import BadRequest

from chat.outgoing import StarRefund
from chat.turns import settled

ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


@dataclass(frozen=True, slots=True)
class Invoice:
    chat_id: int
    title: str  # 1-32 characters
    description: str  # 1-255 characters
    payload: str  # 1-128 bytes: the booking and a nonce, nothing personal
    currency: str  # "XTR" for Stars, else ISO 4217
    label: str  # the one price's label
    amount: int  # smallest units
    provider_token: str = ""  # empty for Stars


TITLE_MAX = 32
DESCRIPTION_MAX = 255


def fit(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (an ellipsis marks a cut)."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


async def send_invoice(bot: Bot, invoice: Invoice) -> None:
    """Send ``invoice``. Whatever the update stored before is stored (handlers commit before they call Telegram):
    the payer's pre-checkout question need not wait for this call's answer (``chat.turns``)."""
    settled()
    await bot.send_invoice(
        chat_id=invoice.chat_id,
        title=fit(invoice.title, TITLE_MAX),
        description=fit(invoice.description, DESCRIPTION_MAX),
        payload=invoice.payload,
        currency=invoice.currency,
        prices=[LabeledPrice(fit(invoice.label, TITLE_MAX), invoice.amount)],
        # Stars: no token at all (the Bot API allows leaving it out). An empty string would do too, but with
        # ``Defaults`` set PTB 22 sends "" as "[]": ``ExtBot._insert_defaults`` reads any empty sequence as a
        # list of poll options.
        provider_token=invoice.provider_token or None,
    )


async def refund_stars(bot: Bot, refund: StarRefund) -> None:
    """Give the Stars back; an earlier refund of the same charge counts as this one."""
    try:
        await bot.refund_star_payment(refund.user_id, refund.telegram_charge_id)
    except BadRequest as error:
        if ALREADY_REFUNDED not in str(error).upper():
            raise


QR_SCALE = 8  # pixels per module: a UPI link's QR code comes out near 300 px, which every phone camera reads
QR_FILENAME = "upi.png"


def qr_png(text: str) -> bytes:
    """``text`` as a QR code PNG (error correction M at least: a photo of a screen still reads; a quiet zone)."""
    out = io.BytesIO()
    segno.make_qr(text, error="m").save(out, kind="png", scale=QR_SCALE, border=4)
    return out.getvalue()


async def send_qr(
    bot: Bot, chat_id: int, text: str, caption: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """A photo of ``text``'s QR code, uploaded from memory, with an HTML ``caption`` and buttons."""
    photo = InputFile(qr_png(text), filename=QR_FILENAME, attach=True)
    await bot.send_photo(chat_id, photo, caption=caption, reply_markup=markup)
