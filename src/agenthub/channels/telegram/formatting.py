"""An agent's answer as Telegram messages.

Text goes out as plain text (no ``parse_mode``): Telegram shows it exactly as the agent
wrote it, ``*_[]()~`>#+-=|{}.!<&`` included, and nothing an agent writes can break a message
(MarkdownV2 refuses a message with one unescaped ``.``). The escaping is the absence of a
parse mode; nothing is dropped or rewritten.

A long answer is split into messages of at most :data:`MAX_MESSAGE` characters, counted as
Telegram counts them (UTF-16 code units), at the last paragraph break that fits, else the
last line break, else the last space, else wherever the limit falls: joined again, the
parts are the answer, character for character.

Buttons of an event (``buttons`` or ``widget.buttons``, as scenario bots send them) become
an inline keyboard: a list of buttons is one row each, a list of lists is rows of buttons;
a button is a string (its text is what a press sends back) or ``{"text", "data"|"value"|
"callback_data"?, "url"?}``. Telegram carries at most 64 bytes of ``callback_data``; a
longer value is sent as a short key that :class:`ButtonData` turns back into it.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from agenthub.channels.telegram.config import MAX_MESSAGE

BREAKS = ("\n\n", "\n", " ")
MAX_CALLBACK_BYTES = 64
LONG_DATA = "ah:"
"""The start of the key standing for a button value longer than Telegram carries."""


def utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _fitting(text: str, start: int, limit: int) -> int:
    """The end of the longest piece of ``text`` from ``start`` that is at most ``limit``
    UTF-16 code units."""
    units = 0
    for index in range(start, len(text)):
        units += 2 if ord(text[index]) > 0xFFFF else 1
        if units > limit:
            return index
    return len(text)


def split_message(text: str, limit: int = MAX_MESSAGE) -> list[str]:
    """``text`` as messages of at most ``limit`` UTF-16 code units, cut at paragraph, line or
    word boundaries where one falls in the second half of a message (a break is kept at the
    end of the part before it); ``"".join`` of the parts is ``text``. Parts that are only
    white space (Telegram refuses them) are left out; so is empty text."""
    parts: list[str] = []
    start = 0
    while start < len(text):
        end = _fitting(text, start, limit)
        if end < len(text):
            piece = text[start:end]
            for mark in BREAKS:
                at = piece.rfind(mark)
                if at >= len(piece) // 2:
                    end = start + at + len(mark)
                    break
        parts.append(text[start:end])
        start = end
    return [part for part in parts if part.strip()]


def event_buttons(event: dict[str, Any]) -> list[Any] | None:
    """The buttons an output event carries (``buttons`` or ``widget.buttons``), if any."""
    buttons = event.get("buttons")
    widget = event.get("widget")
    if not buttons and isinstance(widget, dict):
        buttons = widget.get("buttons")
    return buttons if isinstance(buttons, list) and buttons else None


def event_text(event: dict[str, Any]) -> str:
    """The text an event shows: its answer, content, or its widget's text."""
    widget = event.get("widget")
    widget = widget if isinstance(widget, dict) else {}
    for value in (event.get("response"), event.get("content"), event.get("text"), widget.get("text")):
        if isinstance(value, str) and value.strip():
            return value
    return ""


class ButtonData:
    """Button values too long for ``callback_data``, by the short key sent instead (the
    latest :data:`KEEP` of them, in this process)."""

    KEEP = 10_000

    def __init__(self) -> None:
        self._values: OrderedDict[str, str] = OrderedDict()

    def callback_data(self, value: str) -> str:
        if len(value.encode()) <= MAX_CALLBACK_BYTES and not value.startswith(LONG_DATA):
            return value
        key = LONG_DATA + hashlib.sha256(value.encode()).hexdigest()[:32]
        self._values[key] = value
        self._values.move_to_end(key)
        while len(self._values) > self.KEEP:
            self._values.popitem(last=False)
        return key

    def value(self, data: str) -> str | None:
        """What a press of a button with ``data`` says; None for a key no longer known."""
        if data.startswith(LONG_DATA):
            return self._values.get(data)
        return data

    def keyboard(self, buttons: list[Any]) -> InlineKeyboardMarkup | None:
        """The inline keyboard of ``buttons`` (see the module); None when none is usable."""
        rows = []
        for row in buttons:
            cells = [self._button(item) for item in (row if isinstance(row, list) else [row])]
            usable = [cell for cell in cells if cell is not None]
            if usable:
                rows.append(usable)
        return InlineKeyboardMarkup(rows) if rows else None

    def _button(self, item: Any) -> InlineKeyboardButton | None:
        if isinstance(item, str | int | float) and str(item).strip():
            text = str(item)
            return InlineKeyboardButton(text[:200], callback_data=self.callback_data(text))
        if not isinstance(item, dict):
            return None
        text = str(item.get("text") or item.get("label") or item.get("title") or "").strip()
        if not text:
            return None
        url = item.get("url")
        if isinstance(url, str) and url.startswith(("https://", "http://", "tg://")):
            return InlineKeyboardButton(text[:200], url=url)
        value = next((item[k] for k in ("callback_data", "data", "value", "payload") if item.get(k)), text)
        return InlineKeyboardButton(text[:200], callback_data=self.callback_data(str(value)))
