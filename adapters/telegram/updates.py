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
from typing import Any

from telegram import Bot, Update
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
