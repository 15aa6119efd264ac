"""A bot for adapter tests: it speaks the `bot.handler.Handler` protocol like `BotService` does, with no models, no
catalogue index and no memory, so a platform adapter can be driven end to end in a second.

It answers like the real bot in shape: text, photos and voice notes get two item cards (with the demo catalogue's own
photo files), a voice note's reply carries its transcript, 👍 / 👎 are acknowledged, an unknown item id is an error,
commands answer with the bot's own sentences and admin commands check the admin lists. Everything it was sent is kept
in `received`.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from bot.messages import Incoming, ItemCard, Reply
from bot.understanding.lang import language
from recsys.catalogue.items import DEMO_CATALOGUE

IMAGES = DEMO_CATALOGUE.parent / "images"
ITEMS = {
    "24-MB01": ItemCard("24-MB01", "Joust Duffle Bag", 34.0, None, ["Gear/Bags"], str(IMAGES / "mb01-blue-0.jpg"), "A close match"),
    "MH01-Black": ItemCard(
        "MH01-Black", "Chaz Kangeroo Hoodie", 52.0, "Black", ["Men/Tops/Hoodies & Sweatshirts"], str(IMAGES / "mh01-black_main.jpg"), "Warm"
    ),
}


class FakeHandler:
    def __init__(self, admins: Mapping[str, Collection[str]] | None = None, transcript: str = "a bag please") -> None:
        self.admins = {platform: set(ids) for platform, ids in (admins or {}).items()}
        self.transcript = transcript
        self.received: list[Incoming] = []
        self.deliveries: set[str] = set()  # in memory here; BotService keeps them in the event database
        self.started = self.closed = False

    async def start(self, progress: bool = True) -> None:
        self.started = True

    async def close(self) -> None:
        self.closed = True

    async def first_delivery(self, key: str) -> bool:
        first = key not in self.deliveries
        self.deliveries.add(key)
        return first

    def item_photo(self, item_id: str) -> str | None:
        item = ITEMS.get(item_id)
        return item.image if item is not None else None

    async def handle(self, incoming: Incoming) -> Reply:
        self.received.append(incoming)
        lang = language(incoming.language)
        if incoming.command is not None:
            name = incoming.command.name
            if name in {"stats", "retrain"} and incoming.user_id not in self.admins.get(incoming.platform, ()):
                return Reply(text=lang.say("admins_only"), error="not_allowed")
            if name in {"help", "start"}:
                return Reply(text=lang.say("help"))
            if name == "forget":
                return Reply(text=lang.say("forgot", events=0))
            return Reply(text=lang.unknown_command(name), error="unknown_command")
        if incoming.feedback is not None:
            item = ITEMS.get(incoming.feedback.item_id)
            if item is None:
                return Reply(text=lang.say("unknown_item", item_id=incoming.feedback.item_id, example="24-MB01"), error="unknown_item")
            if incoming.feedback.action == "more_like_this":
                return self._items(f"more like {item.name}")
            return Reply(text=lang.reaction(incoming.feedback.action, item.name, item.color))
        if incoming.voice is not None:
            reply = self._items(self.transcript)
            reply.transcript = self.transcript
            reply.text = f"{lang.say('heard', transcript=self.transcript)}\n{reply.text}"
            return reply
        return self._items("your photo" if incoming.photos else incoming.text)

    @staticmethod
    def _items(about: str) -> Reply:
        cards = list(ITEMS.values())
        lines = [f"Here are {len(cards)} results for “{about}”:"] + [f"{n}. {c.name} [{c.id}]" for n, c in enumerate(cards, 1)]
        return Reply(text="\n".join(lines), items=cards)
