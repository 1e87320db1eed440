"""What the web chat gets about a message: its kind, text and entities (never HTML), keyboards and files.

The page renders each ``kind`` with a renderer of its own (``static/app.js``: ``MESSAGE_KINDS``) and each inline
button by its ``kind`` (``BUTTON_KINDS``); a new kind of message (an invoice) or button (Pay) is one entry here
and one renderer there.
"""

from __future__ import annotations

from typing import Any

from sandbox.botapi import Button, ChatMessage, SentDocument


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
    if message.document is not None:
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
    if "keyboard" in markup:
        view["reply_keyboard"] = {
            "rows": message.reply_keyboard,
            "one_time": bool(markup.get("one_time_keyboard")),
            "placeholder": markup.get("input_field_placeholder") or "",
        }
    elif markup.get("remove_keyboard"):
        view["remove_keyboard"] = True
    return view
