"""What the web chat gets about a message: its kind, text and entities (never HTML), keyboards and files.

The page renders each ``kind`` with a renderer of its own (``static/app.js``: ``MESSAGE_KINDS``) and each inline
button by its ``kind`` (``BUTTON_KINDS``); a new kind of message or button is one entry here and one renderer
there. Invoices come with Telegram's **Pay** button (``pay``: the page asks ``POST /api/chats/<id>/pay``, which
goes through the pre-checkout question and the payment as Telegram would); photos (the UPI QR code) link to
``/api/files/<file_id>``; a ``successful_payment`` is a service line.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sandbox.botapi import Button, ChatMessage, SentDocument

# Digits after the decimal point of a currency's smallest unit (Telegram's ``exp``), and how the page writes it.
CURRENCY_DIGITS = {"XTR": 0, "INR": 2}
CURRENCY_SIGNS = {"XTR": "⭐ ", "INR": "₹"}


def money(total: int, currency: str) -> str:
    """``total`` smallest units of ``currency`` as a person reads it: ``⭐ 300``, ``₹500.00``, ``12.50 EUR``."""
    digits = CURRENCY_DIGITS.get(currency, 2)
    amount = f"{Decimal(total).scaleb(-digits):,.{digits}f}"
    sign = CURRENCY_SIGNS.get(currency)
    return f"{sign}{amount}" if sign is not None else f"{amount} {currency}"


def file_url(document: SentDocument) -> str:
    return f"/api/files/{document.file_id}"


def button_view(button: Button) -> dict[str, Any]:
    if button.callback_data is not None:
        return {"kind": "callback", "text": button.text, "data": button.callback_data}
    if button.url is not None:
        return {"kind": "url", "text": button.text, "url": button.url}
    return {"kind": "unsupported", "text": button.text}


def message_view(message: ChatMessage) -> dict[str, Any]:
    """The message as the page shows it now (edits applied; ``deleted`` ones are taken away)."""
    view: dict[str, Any] = {
        "id": message.message_id,
        "chat_id": message.chat_id,
        "from_bot": message.from_bot,
        "date": message.date,
        "edited": message.edit_date is not None,
        "deleted": message.is_deleted,
    }
    if message.invoice is not None:
        invoice = message.invoice
        price = money(invoice["total_amount"], invoice["currency"])
        view.update(
            kind="invoice",
            invoice={"title": invoice["title"], "description": invoice["description"], "price": price},
            text="",
            entities=[],
        )
    elif message.successful_payment is not None:
        paid = message.successful_payment
        view.update(kind="payment", text=money(paid["total_amount"], paid["currency"]), entities=[])
    elif message.photo is not None:
        photo = message.photo
        view.update(
            kind="photo",
            photo={"url": file_url(photo), "width": photo.width, "height": photo.height},
            text=message.caption or "",
            entities=message.caption_entities,
        )
    elif message.document is not None:
        document = message.document
        view.update(
            kind="document",
            document={
                "name": document.file_name or "file",
                "mime_type": document.mime_type,
                "size": document.file_size,
                "url": file_url(document) if document.content is not None else None,
            },
            text=message.caption or "",
            entities=message.caption_entities,
        )
    else:
        view.update(kind="text", text=message.text or "", entities=message.entities)
    markup = message.raw_reply_markup or {}
    if message.keyboard:
        view["inline_keyboard"] = [[button_view(button) for button in row] for row in message.keyboard]
    if message.invoice is not None and not message.keyboard:  # Telegram's own Pay button, like its clients
        view["inline_keyboard"] = [[{"kind": "pay", "text": f"Pay {view['invoice']['price']}"}]]
    if "keyboard" in markup:
        view["reply_keyboard"] = {
            "rows": message.reply_keyboard,
            "one_time": bool(markup.get("one_time_keyboard")),
            "placeholder": markup.get("input_field_placeholder") or "",
        }
    elif markup.get("remove_keyboard"):
        view["remove_keyboard"] = True
    return view
