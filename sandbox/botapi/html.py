"""Telegram's HTML parse mode: text with tags in, plain text and message entities out (modelled on tdlib).

:func:`parse_html` accepts what Telegram accepts and fails where it fails, with its error messages; the server
validates every HTML message with it, and the web chat renders from the entities it produces.
"""

from __future__ import annotations

import dataclasses
from typing import Any

__all__ = ["HtmlParseError", "parse_html", "trim_entities", "utf16_len"]


class HtmlParseError(ValueError):
    """Raised by :func:`parse_html`; the message is what Telegram puts after "can't parse entities: "."""


_HTML_TAGS = frozenset(
    {
        "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
        "code", "pre", "blockquote", "tg-emoji", "tg-time",
    }
)  # fmt: skip
_SIMPLE_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_NAMED_HTML_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _decode_html_entity(source: str, pos: int) -> tuple[str | None, int]:
    """Decode ``&...;`` at ``pos``; returns (character or None, position after the entity)."""
    n = len(source)
    if source.startswith("&#", pos):
        j = pos + 2
        is_hex = j < n and source[j] in "xX"
        if is_hex:
            j += 1
        start = j
        digits = "0123456789abcdefABCDEF" if is_hex else "0123456789"
        while j < n and source[j] in digits:
            j += 1
        if j == start or j - pos >= 10:
            return None, pos
        value = int(source[start:j], 16 if is_hex else 10)
        if value == 0 or value >= 0x10FFFF or 0xD800 <= value <= 0xDFFF:
            return None, pos
        char = chr(value)
    else:
        j = pos + 1
        while j < n and source[j].isascii() and source[j].isalpha():
            j += 1
        named = _NAMED_HTML_ENTITIES.get(source[pos + 1 : j])
        if named is None:  # unsupported named entity: the '&' is kept as text
            return None, pos
        char = named
    if j < n and source[j] == ";":
        j += 1
    return char, j


@dataclasses.dataclass
class _OpenTag:
    name: str
    start: int  # UTF-16 offset in the resulting text
    attrs: dict[str, str]
    byte_offset: int


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram-HTML into (plain text, message entities) or raise :class:`HtmlParseError`.

    Supported like Telegram: b/strong, i/em, u/ins, s/strike/del, tg-spoiler,
    ``span class="tg-spoiler"``, ``a href``, code, pre (with ``code class="language-x"``),
    blockquote (``expandable``), tg-emoji, tg-time, numeric character references and the named
    entities ``&lt; &gt; &amp; &quot;`` (any other ``&`` is literal text).  Entity offsets are in
    UTF-16 code units.  The text is *not* trimmed here.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    n = len(source)
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8", "surrogatepass"))

    while i < n:
        char = source[i]
        if char == "&":
            decoded, j = _decode_html_entity(source, i)
            if decoded is not None:
                out.append(decoded)
                pos16 += utf16_len(decoded)
                i = j
                continue
        if char != "<":
            out.append(char)
            pos16 += utf16_len(char)
            i += 1
            continue

        begin = i
        i += 1
        if i < n and source[i] == "/":  # end tag
            j = i + 1
            while j < n and not source[j].isspace() and source[j] != ">":
                j += 1
            end_name = source[i + 1 : j].lower()
            while j < n and source[j].isspace():
                j += 1
            if j >= n or source[j] != ">":
                raise HtmlParseError(f"Unclosed end tag at byte offset {byte_offset(begin)}")
            i = j + 1
            if not stack:
                raise HtmlParseError(f"Unexpected end tag at byte offset {byte_offset(begin)}")
            top = stack.pop()
            if end_name and end_name != top.name:
                raise HtmlParseError(
                    f'Unmatched end tag at byte offset {byte_offset(begin)}, expected "</{top.name}>", '
                    f'found "</{end_name}>"'
                )
            _close_tag(top, pos16 - top.start, out, entities)
            continue

        # start tag
        j = i
        while j < n and not source[j].isspace() and source[j] not in ">":
            j += 1
        if j >= n:
            raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
        name = source[i:j].lower()
        if name not in _HTML_TAGS:
            raise HtmlParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(begin)}')
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] == ">":
                j += 1
                break
            attr_begin = j
            while j < n and not source[j].isspace() and source[j] not in "=>":
                j += 1
            attr_name = source[attr_begin:j].lower()
            if not attr_name:
                raise HtmlParseError(
                    f'Empty attribute name in the tag "{name}" at byte offset {byte_offset(begin)}'
                )
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] != "=":  # attribute without value, e.g. <blockquote expandable>
                attrs[attr_name] = ""
                continue
            j += 1
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
            if source[j] in "'\"":
                quote = source[j]
                j += 1
                value_chars: list[str] = []
                while j < n and source[j] != quote:
                    if source[j] == "&":
                        decoded, k = _decode_html_entity(source, j)
                        if decoded is not None:
                            value_chars.append(decoded)
                            j = k
                            continue
                    value_chars.append(source[j])
                    j += 1
                if j >= n:
                    raise HtmlParseError(f"Unclosed start tag at byte offset {byte_offset(begin)}")
                j += 1
                value = "".join(value_chars)
            else:
                token_begin = j
                while j < n and (source[j].isalnum() or source[j] in ".-"):
                    j += 1
                value = source[token_begin:j].lower()
                if j < n and not source[j].isspace() and source[j] != ">":
                    raise HtmlParseError(f"Unexpected end of name token at byte offset {byte_offset(token_begin)}")
            attrs[attr_name] = value
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlParseError(f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(begin)}')
        if name == "tg-emoji" and not attrs.get("emoji-id"):
            raise HtmlParseError(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset(begin)}'
            )
        stack.append(_OpenTag(name, pos16, attrs, byte_offset(begin)))
        i = j

    if stack:
        raise HtmlParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    for entity in entities:
        entity.pop("_language", None)
    return "".join(out), entities


def _close_tag(tag: _OpenTag, length: int, out: list[str], entities: list[dict[str, Any]]) -> None:
    if length <= 0:
        return
    entity: dict[str, Any] = {"offset": tag.start, "length": length}
    if tag.name in _SIMPLE_ENTITY_TYPES:
        entity["type"] = _SIMPLE_ENTITY_TYPES[tag.name]
        if tag.name == "code" and tag.attrs.get("class", "").startswith("language-"):
            entity["_language"] = tag.attrs["class"][len("language-") :]
        if tag.name == "pre":
            # <pre><code class="language-x">...</code></pre> becomes one pre entity with a language
            for other in entities:
                if (
                    other["type"] == "code"
                    and other["offset"] == tag.start
                    and other["length"] == length
                    and other.get("_language")
                ):
                    entity["language"] = other["_language"]
                    entities.remove(other)
                    break
    elif tag.name == "a":
        url = tag.attrs.get("href")
        if not url:  # like Telegram: the link text is used as URL
            text = "".join(out)
            url = text.encode("utf-16-le")[tag.start * 2 :].decode("utf-16-le")
        entity.update(type="text_link", url=url)
    elif tag.name == "blockquote":
        entity["type"] = "expandable_blockquote" if "expandable" in tag.attrs else "blockquote"
    elif tag.name == "tg-emoji":
        entity.update(type="custom_emoji", custom_emoji_id=tag.attrs["emoji-id"])
    else:  # tg-time: allowed, but we do not emit the (newer) date_time entity
        return
    entities.append(entity)


def trim_entities(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace like Telegram does, keeping entities consistent."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    result = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            result.append({**entity, "offset": start, "length": end - start})
    return stripped, result
