"""Secrets never reach a log line, whoever writes it: python-telegram-bot logs its request URLs (the bot token is part
of them) and setWebhook's parameters at DEBUG, httpx logs URLs at INFO, a database URL carries its password.

`install()` wraps the log record factory, so every record is redacted as it is made, before any handler, formatter or
test capture sees it: the values of the secret environment variables, and anything shaped like a token or a URL's
password, become `[redacted]`.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Mapping

MASK = "[redacted]"
_SECRET_NAME = re.compile(r"(TOKEN|SECRET|KEY|PASSWORD|PASSWD)$|_URL$")
_SHAPES = re.compile(
    r"\b\d{5,}:[A-Za-z0-9_-]{30,}"  # a Telegram bot token
    r"|\bxox[abposr]-[A-Za-z0-9-]{8,}|\bxapp-[A-Za-z0-9-]{8,}"  # Slack bot, user and app tokens
    r"|\bsk-[A-Za-z0-9_-]{16,}"  # OpenAI-style API keys
    r"|(?<=://)[^/\s:@]+:[^/\s@]+(?=@)"  # user:password@ in a URL
)


class Redactor:
    """Replaces known secret values and secret-shaped strings in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = sorted({s for s in secrets if len(s) >= 8}, key=len, reverse=True)

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ) -> Redactor:
        """The value of every variable named like a secret (…_TOKEN, …_SECRET, …_KEY, …_PASSWORD, a …_URL's password)."""
        values = []
        for name, value in env.items():
            if not _SECRET_NAME.search(name.upper()):
                continue
            if name.upper().endswith("_URL"):
                values += re.findall(r"://[^/\s:@]+:([^/\s@]+)@", value)
            else:
                values.append(value.strip())
        return cls(values)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, MASK)
        return _SHAPES.sub(MASK, text)


def install(redactor: Redactor | None = None) -> Redactor:
    """Redact every log record from now on (idempotent: a second call replaces the first redactor)."""
    redactor = redactor or Redactor.from_env()
    factory = logging.getLogRecordFactory()
    base = getattr(factory, "unredacted", factory)

    def make_record(*args: object, **kwargs: object) -> logging.LogRecord:
        record = base(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: the handler reports that when it emits
            return record
        clean = redactor(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            record.exc_text = redactor(logging.Formatter().formatException(record.exc_info))
        if record.stack_info:
            record.stack_info = redactor(record.stack_info)
        return record

    make_record.unredacted = base  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
    return redactor
