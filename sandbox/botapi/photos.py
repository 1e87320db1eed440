"""``sendPhoto``, checked as Telegram checks it: the photo uploaded (multipart, ``photo`` or ``attach://``) or
re-sent by the ``file_id`` of a photo sent before; an upload must be an image Telegram can read (here: PNG or
JPEG, read for their size) within its limits; the caption (HTML or entities, 0-1024 characters) and
``reply_markup`` as for every message.

The message carries ``photo``: one ``PhotoSize`` (Telegram adds smaller thumbnails of large photos; a QR code is
small, and the bot reads only the largest).
"""

from __future__ import annotations

import struct
from typing import Any

from sandbox.botapi.errors import bad_request
from sandbox.botapi.records import SentDocument, Upload
from sandbox.botapi.state import BotApiState, Person
from sandbox.botapi.validation import MAX_CAPTION_LENGTH, format_text, validate_markup

MAX_PHOTO_BYTES = 10 * 1024 * 1024  # Telegram: at most 10 MB
MAX_SIDES = 10_000  # Telegram: width and height together at most 10000
MAX_RATIO = 20  # Telegram: the ratio of the sides at most 20
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def image_size(content: bytes) -> tuple[int, int] | None:
    """``(width, height)`` of a PNG or JPEG image; None for anything else (or a broken one)."""
    if content.startswith(PNG_SIGNATURE) and len(content) >= 24 and content[12:16] == b"IHDR":
        width, height = struct.unpack(">II", content[16:24])
        return (width, height) if width and height else None
    if content.startswith(b"\xff\xd8"):
        at = 2
        while at + 4 <= len(content):
            if content[at] != 0xFF:
                return None
            marker = content[at + 1]
            length = int.from_bytes(content[at + 2 : at + 4], "big")
            if marker in _JPEG_FRAMES and at + 9 <= len(content):
                height, width = struct.unpack(">HH", content[at + 5 : at + 9])
                return (width, height) if width and height else None
            at += 2 + length
    return None


class PhotoDesk:
    """``sendPhoto`` over one :class:`BotApiState` (chats are checked by the caller's ``require_chat``)."""

    def __init__(self, state: BotApiState, require_chat: Any) -> None:
        self.state = state
        self._require_chat = require_chat
        self.handlers = {"sendphoto": self.send_photo}

    def _photo(self, params: dict[str, Any], files: dict[str, Upload]) -> SentDocument:
        upload = files.get("photo")
        reference = params.get("photo")
        if upload is None and isinstance(reference, str) and reference.startswith("attach://"):
            upload = files.get(reference[len("attach://") :])
            if upload is None:
                raise bad_request("there is no photo in the request")
        if upload is not None:
            return self._store(upload)
        if not reference:
            raise bad_request("there is no photo in the request")
        stored = self.state.files.get(str(reference))
        if stored is None:
            raise bad_request("wrong file identifier/HTTP URL specified")
        if stored.width is None:
            raise bad_request("type of file mismatch")
        return stored

    def _store(self, upload: Upload) -> SentDocument:
        if len(upload.content) > MAX_PHOTO_BYTES:
            raise bad_request("file is too big")
        size = image_size(upload.content)
        if size is None:
            raise bad_request("IMAGE_PROCESS_FAILED")
        width, height = size
        if width + height > MAX_SIDES or max(width, height) > MAX_RATIO * min(width, height):
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        mime = "image/png" if upload.content.startswith(PNG_SIGNATURE) else "image/jpeg"
        return self.state.store_file(upload.filename, mime, upload.content, size=size)

    async def send_photo(self, params: dict[str, Any], files: dict[str, Upload]) -> Any:
        user: Person = self._require_chat(params)
        photo = self._photo(params, files)
        return send_with_caption(self.state, user, params, photo=photo)


def send_with_caption(state: BotApiState, user: Person, params: dict[str, Any], **media: Any) -> Any:
    """A bot's message carrying a file (``document=`` or ``photo=``): the caption formatted and checked as Telegram
    does, the keyboard validated, the message recorded as sent; its API form."""
    caption = ""
    caption_entities: list[dict[str, Any]] = []
    if params.get("caption"):
        caption, caption_entities = format_text(
            params.get("caption"), params.get("parse_mode"), params.get("caption_entities"),
            limit=MAX_CAPTION_LENGTH, kind="caption",
        )  # fmt: skip
    markup = validate_markup(params.get("reply_markup"))
    message = state.new_message(
        user.id,
        from_bot=True,
        sender=state.bot_user(),
        caption=caption,
        caption_entities=caption_entities,
        source=params.get("caption"),
        parse_mode=params.get("parse_mode"),
        raw_reply_markup=markup,
        **media,
    )
    state.record_event("sent", message)
    return message.to_api()
