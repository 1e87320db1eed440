"""What Telegram shows for the bot's HTML: the plain text and the formatting a message ends up with.

``handlers.common.show`` compares them with the pressed message to tell a screen that would not change (Telegram
refuses such an edit as "message is not modified"). Pure: no Telegram calls.
"""

from __future__ import annotations

import html
import re

from telegram import MessageEntity

# The formatting an HTML tag gives; Telegram adds other entities on its own (links, mentions, commands ...).
_TAG_FORMATTING = {
    "b": MessageEntity.BOLD,
    "strong": MessageEntity.BOLD,
    "i": MessageEntity.ITALIC,
    "em": MessageEntity.ITALIC,
    "u": MessageEntity.UNDERLINE,
    "ins": MessageEntity.UNDERLINE,
    "s": MessageEntity.STRIKETHROUGH,
    "strike": MessageEntity.STRIKETHROUGH,
    "del": MessageEntity.STRIKETHROUGH,
    "tg-spoiler": MessageEntity.SPOILER,
    "span": MessageEntity.SPOILER,
    "code": MessageEntity.CODE,
    "pre": MessageEntity.PRE,
    "a": MessageEntity.TEXT_LINK,
    "blockquote": MessageEntity.BLOCKQUOTE,
}
FORMATTING = frozenset(_TAG_FORMATTING.values())
_TAG = re.compile(r"""<(/?)([A-Za-z][A-Za-z-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>""")
_HREF = re.compile(r"""href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.IGNORECASE)

Formatting = frozenset[tuple[str, int, int, str | None]]  # (entity type, offset, length, url), UTF-16 units


def _utf16(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _href(attributes: str) -> str | None:
    found = _HREF.search(attributes)
    return html.unescape(next(value for value in found.groups() if value is not None)) if found else None


def as_shown(html_text: str) -> tuple[str, Formatting]:
    """What Telegram makes of ``html_text`` in HTML parse mode: the plain text (tags dropped, character references
    decoded, surrounding whitespace trimmed) and its formatting, as a message's ``text`` and ``entities`` give it.

    Named references other than ``&lt; &gt; &amp; &quot;`` are decoded too, where Telegram keeps them as text:
    the bot never writes them (``html.escape`` does not)."""
    parts: list[str] = []
    spans: set[tuple[str, int, int, str | None]] = set()
    opened: list[tuple[str, int, str | None]] = []
    length = position = 0
    for tag in _TAG.finditer(html_text):
        chunk = html.unescape(html_text[position : tag.start()])
        parts.append(chunk)
        length += _utf16(chunk)
        position = tag.end()
        closing, name = tag.group(1), tag.group(2).lower()
        if not closing:
            opened.append((name, length, _href(tag.group(3)) if name == "a" else None))
        elif opened:
            name, start, url = opened.pop()
            if name in _TAG_FORMATTING and length > start:
                spans.add((_TAG_FORMATTING[name], start, length - start, url))
    parts.append(html.unescape(html_text[position:]))
    text = "".join(parts)
    shown = text.strip()
    if shown == text:
        return text, frozenset(spans)
    lead, total = _utf16(text[: len(text) - len(text.lstrip())]), _utf16(shown)
    trimmed = set()
    for kind, start, size, url in spans:
        begin, end = max(start - lead, 0), min(start + size - lead, total)
        if end > begin:
            trimmed.add((kind, begin, end - begin, url))
    return shown, frozenset(trimmed)
