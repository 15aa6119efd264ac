"""What an adapter needs of the bot, and nothing more: adapters depend on this protocol, not on `BotService`."""

from __future__ import annotations

from typing import Protocol

from bot.messages import Incoming, Reply


class Handler(Protocol):
    """The bot as a platform sees it: started once, then one `Reply` for every `Incoming`."""

    async def start(self, progress: bool = True) -> None:
        """Open the catalogue, models and memory; the first `handle` may come right after."""

    async def close(self) -> None:
        """Release what `start` opened."""

    async def handle(self, incoming: Incoming) -> Reply:
        """Answer one message, button press or command; never raises for anything a user can send."""

    async def first_delivery(self, key: str) -> bool:
        """True the first time a platform delivery with this key (a request signature, an event or update id) arrives;
        False for a replay or a redelivery. Kept in the event database, so it holds across restarts and workers."""

    def item_photo(self, item_id: str) -> str | None:
        """The photo (a local path or a URL) of a catalogue item; None for an unknown item or one without a photo."""
