"""Secrets never reach the log (issue 17): whatever a library logs, at any level, tokens and passwords are masked."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from adapters import log_redaction

TOKEN = "123456:TEST-token_for-the-fake-api-0123456789"
SECRET = "s3cret-for_the-webhook"


@pytest.fixture
def redacted(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_WEBHOOK_SECRET", SECRET)
    monkeypatch.setenv("RECBOT_STORAGE__EVENTS_URL", "postgresql+psycopg://recbot:hunter2-pass@127.0.0.1/recbot")
    before = logging.getLogRecordFactory()
    log_redaction.install()
    yield
    logging.setLogRecordFactory(before)


def test_secret_values_and_token_shapes_are_masked_in_messages_arguments_and_tracebacks(
    redacted: None, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("telegram.ext.ExtBot")
    with caplog.at_level(logging.DEBUG):
        log.debug("Calling Bot API endpoint `setWebhook` with parameters `%s`", {"secret_token": SECRET, "url": "https://x"})
        logging.getLogger("httpx").info("HTTP Request: POST https://api.telegram.org/bot%s/getMe", TOKEN)
        logging.getLogger("sqlalchemy").warning("connect to postgresql+psycopg://recbot:hunter2-pass@127.0.0.1/recbot")
        logging.getLogger("slack").warning("token xoxb-1111-2222-abcdefghijkl and xapp-1-A111-222-abcdef sk-abcdefghijklmnopqrstuvwx")
        try:
            raise RuntimeError(f"failed for https://api.telegram.org/bot{TOKEN}/getUpdates")
        except RuntimeError:
            log.exception("polling failed")
    text = caplog.text
    for secret in (TOKEN, SECRET, "hunter2-pass", "xoxb-1111", "xapp-1-A111", "sk-abcdefghij"):
        assert secret not in text
    assert text.count(log_redaction.MASK) >= 7
    assert "setWebhook" in text and "getMe" in text and "polling failed" in text  # the rest of each line is kept


def test_ordinary_lines_are_left_as_they_are(redacted: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        logging.getLogger("recbot").info("turn for %s: %d items, 24-MB01 at 12:30:45", "telegram:42", 4)
    assert "turn for telegram:42: 4 items, 24-MB01 at 12:30:45" in caplog.text
