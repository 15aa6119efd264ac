"""Updates python-telegram-bot cannot read are skipped, once, and the bot keeps serving everyone else.

An update PTB's `Update.de_json` rejects (a poll whose options lack `persistent_id`, as older self-hosted Bot API
servers send; a message without `date`) used to make the whole getUpdates batch fail: the offset never moved past
it, so the same batch was fetched again forever and no later user was answered. `GuardedBot` reads each update of a
batch on its own and stands in an empty update (only its `update_id`) for one it cannot read: the offset moves on,
no handler matches an empty update, and the skip is logged once. The webhook (adapters/telegram/webhook.py) reads
its updates with the same `read_update`.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from telegram import Bot, Message, Update
from telegram.ext import ExtBot

log = logging.getLogger(__name__)


def read_update(data: Any, bot: Bot) -> Update | None:
    """The update, or None (logged) when it is not one PTB can read."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        log.warning("skipped a Telegram update without an update_id")
        return None
    try:
        return Update.de_json(data, bot)
    except Exception as exc:  # PTB raises KeyError, TypeError, ValueError… for shapes it does not expect
        kinds = sorted(k for k in data if k != "update_id")
        log.warning("skipped Telegram update %s (%s) that python-telegram-bot cannot read: %s", data["update_id"], kinds, exc)
        return None


class GuardedBot(ExtBot):  # type: ignore[type-arg]
    """An ExtBot whose getUpdates never fails on one unreadable update."""

    async def _post(self, endpoint: str, data: Any = None, **kwargs: Any) -> Any:
        result = await super()._post(endpoint, data, **kwargs)
        if endpoint != "getUpdates" or not isinstance(result, list):
            return result
        readable = []
        for raw in result:
            if read_update(raw, self) is not None:
                readable.append(raw)
            elif isinstance(raw, dict) and isinstance(raw.get("update_id"), int):
                readable.append({"update_id": raw["update_id"]})  # an empty update: the offset moves past it
        return readable


# -- reading an update: who sent it, where to answer, what it says ----------------------------------------------
def sender_id(update: Update) -> int:
    """Who sent it: the user, or the chat a message was sent on behalf of (an anonymous group admin, a channel)."""
    sender = update.effective_user or update.effective_sender
    return sender.id if sender is not None else reply_chat(update) or 0


def reply_chat(update: Update) -> int | None:
    """Where to answer: the chat, or the user's private chat for a button on an inline message (no chat there)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


def without_mention(words: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", words, flags=re.IGNORECASE).strip() if username else words


def command_parts(words: str) -> tuple[str, str]:
    head, _, args = words.strip().partition(" ")
    return head[1:].split("@", 1)[0].lower(), args.strip()


def content_kind(message: Message) -> str:
    for kind in ("sticker", "location", "venue", "contact", "video", "video_note", "animation", "document", "poll", "dice"):
        if getattr(message, kind, None):
            return kind
    return "message"
