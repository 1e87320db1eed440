"""The server's errors: Bot API error answers, and a bounded wait that ran out."""

from __future__ import annotations

from typing import Any

__all__ = [
    "BLOCKED",
    "NOT_MODIFIED",
    "NOT_STARTED",
    "QUERY_TOO_OLD",
    "ApiError",
    "HarnessTimeout",
    "bad_request",
]


class HarnessTimeout(AssertionError):
    """A bounded wait of the server ran out; the message describes what was still missing."""


class ApiError(Exception):
    """Turns into ``{"ok": false, "error_code": ..., "description": ...}``."""

    def __init__(self, code: int, description: str, parameters: dict[str, Any] | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


def bad_request(message: str) -> ApiError:
    return ApiError(400, f"Bad Request: {message}")


NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
BLOCKED = "Forbidden: bot was blocked by the user"
NOT_STARTED = "Forbidden: bot can't initiate conversation with a user"
