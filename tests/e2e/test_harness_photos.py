"""Self-test of the test server's ``sendPhoto`` (``sandbox.botapi.photos``): an upload from bytes (multipart) or a
re-send by ``file_id``, checked as Telegram checks it - an image it can read, within its limits, a photo's file id
(not a document's), an HTML caption of at most 1024 characters, a valid keyboard."""

from __future__ import annotations

import io
import re
import struct
import zlib
from collections.abc import AsyncIterator

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile
from telegram.error import BadRequest

from chat.payments import qr_png
from sandbox.botapi import FakeBotApi
from sandbox.botapi.photos import image_size


@pytest.fixture
async def api() -> AsyncIterator[FakeBotApi]:
    async with FakeBotApi() as server:
        yield server


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    async with Bot(api.token, base_url=api.base_url, base_file_url=api.base_file_url) as raw_bot:
        yield raw_bot


def png(width: int, height: int) -> bytes:
    """A real (blank, grey) PNG of that size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + body


def test_image_sizes_are_read_from_png_and_jpeg() -> None:
    assert image_size(png(3, 2)) == (3, 2)
    jpeg = b"\xff\xd8" + b"\xff\xe0\x00\x04\x00\x00" + b"\xff\xc0\x00\x11\x08\x00\x20\x00\x40" + b"\x00" * 12
    assert image_size(jpeg) == (64, 32)
    assert image_size(b"GIF89a....") is None and image_size(b"\x89PNG\r\n\x1a\nbroken") is None


async def test_a_photo_uploaded_from_bytes_with_a_caption_and_buttons(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    image = qr_png("upi://pay?pa=a1%40axl&am=1.00&cu=INR")
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("✅ I have paid", callback_data="pa:1:c")]])
    sent = await bot.send_photo(
        alice.id, InputFile(image, filename="upi.png", attach=True),
        caption="Pay <b>₹1</b> to <code>a1@axl</code>", parse_mode="HTML", reply_markup=markup,
    )  # fmt: skip
    [size] = sent.photo
    assert (size.width, size.height) == image_size(image) and size.file_size == len(image)
    assert sent.caption == "Pay ₹1 to a1@axl" and [e.type for e in sent.caption_entities] == ["bold", "code"]
    assert sent.reply_markup == markup
    shown = alice.last_bot_message()
    assert shown.photo is not None and shown.photo.content == image
    assert shown.buttons == ["✅ I have paid"] and shown.caption == "Pay ₹1 to a1@axl"
    [call] = api.calls_to("sendPhoto")
    assert call.content_type == "multipart/form-data"
    assert [name for name, _type, _size in call.files.values()] == ["upi.png"]
    telegram_file = await bot.get_file(size.file_id)
    assert bytes(await telegram_file.download_as_bytearray()) == image
    again = await bot.send_photo(alice.id, size.file_id, caption="again")  # re-sent by file_id, no upload
    assert again.photo[-1].file_unique_id == size.file_unique_id
    assert api.calls_to("sendPhoto")[-1].files == {}


async def test_what_telegram_refuses(api: FakeBotApi, bot: Bot) -> None:
    alice = api.user(101, started=True)
    document = await bot.send_document(alice.id, io.BytesIO(b"a,b\n"), filename="x.csv")
    assert document.document is not None
    refused = {
        "IMAGE_PROCESS_FAILED": dict(photo=InputFile(b"not an image", filename="x.png", attach=True)),
        "PHOTO_INVALID_DIMENSIONS": dict(photo=InputFile(png(1, 30), filename="thin.png", attach=True)),
        "type of file mismatch": dict(photo=document.document.file_id),
        "wrong file identifier/HTTP URL specified": dict(photo="AgACAgIAAxkDAAI-unknown"),
        "caption is too long": dict(photo=InputFile(png(4, 4), attach=True), caption="x" * 1025),
        "can't parse entities": dict(
            photo=InputFile(png(4, 4), attach=True), caption="<b>open", parse_mode="HTML"
        ),
    }
    for error, params in refused.items():
        with pytest.raises(BadRequest, match="(?i)" + re.escape(error)):
            await bot.send_photo(alice.id, **params)  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_photo(999, InputFile(png(4, 4), attach=True))
    assert [m for m in alice.bot_messages() if m.photo is not None] == []
    ok = await bot.send_photo(alice.id, InputFile(png(4, 4), attach=True), caption="x" * 1024)
    assert ok.caption == "x" * 1024
