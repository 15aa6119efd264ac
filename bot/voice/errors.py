"""What can go wrong with a voice note: `SpeechError` for what a user sent (a code and its numbers; the bot words it in
the shopper's language), `SpeechUnavailable` for a missing or broken model (an operator problem)."""

from __future__ import annotations

from typing import Any


class SpeechError(Exception):
    """A voice note we cannot turn into text: `reason` is a short code (empty, too_large, too_long, not_audio,
    unsupported_codec, undecodable, silence, unavailable), `data` the numbers a message quotes; `str()` is the English
    message, for logs and tests."""

    def __init__(self, reason: str = "bad_audio", **data: Any) -> None:
        from bot.understanding.lang import DEFAULT

        super().__init__(DEFAULT.speech_problem(reason, data))
        self.reason = reason
        self.data = data


class SpeechUnavailable(SpeechError):
    """The speech model itself is missing or broken (an operator problem; the user just hears 'not now')."""

    def __init__(self, detail: str) -> None:
        super().__init__("unavailable")
        self.detail = detail
