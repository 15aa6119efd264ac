"""The two types every adapter speaks: `Incoming` (what a user sent) and `Reply` (what the bot answers)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

FeedbackAction = Literal["like", "dislike", "more_like_this"]


@dataclass(frozen=True)
class Feedback:
    """A button press or `/like ID`: a reaction to one item."""

    action: FeedbackAction
    item_id: str


@dataclass(frozen=True)
class Command:
    """A slash command, e.g. `/reset`, `/stats`; `args` is the rest of the line."""

    name: str
    args: str = ""


@dataclass
class Incoming:
    """One user message, whatever platform it came from."""

    user_id: str
    platform: str = "terminal"
    conversation_id: str | None = None  # a chat, channel or thread; None = the user's private chat
    text: str = ""
    photos: list[bytes] = field(default_factory=list)
    voice: bytes | None = None
    voice_mime: str | None = None
    feedback: Feedback | None = None
    command: Command | None = None
    # the items on the bot's message this one answers, in order: a reply to a Telegram card, a Slack thread reply
    reply_to_items: tuple[str, ...] = ()
    language: str | None = None  # the platform's hint (e.g. Telegram's language_code); the text itself decides first
    private: bool = True  # only this user sees the reply (a private chat, Slack's ephemeral answer); False in groups


@dataclass
class ItemCard:
    """An item as shown to a user: every field a card needs, and why it was picked."""

    id: str
    name: str
    price: float | None  # None: the catalogue gives no price
    color: str | None
    categories: list[str]
    image: str | None
    reason: str
    currency: str = "USD"  # ISO 4217, the catalogue's (catalogue.currency)
    sizes: list[str] = field(default_factory=list)  # the sizes it comes in, as the catalogue writes them


@dataclass
class Reply:
    """What the bot answers; adapters render it for their platform."""

    text: str
    items: list[ItemCard] = field(default_factory=list)
    transcript: str | None = None
    error: str | None = None  # a short machine-readable code when the request could not be served
    attachment: bytes | None = None  # e.g. a chart PNG for /stats
    attachment_name: str | None = None
    language: str = ""  # what the reply is written in (ISO 639-1), so an adapter labels its buttons to match

    def intro(self) -> str:
        """The reply's words without the item listing, for platforms that show the items as cards: lines naming an
        item's `[ID]` and the indented reason under each are left out."""
        if not self.items:
            return self.text.strip()
        ids = {f"[{item.id}]" for item in self.items}
        kept: list[str] = []
        skipping = False
        for line in self.text.splitlines():
            if any(i in line for i in ids):
                skipping = True
                continue
            if skipping and line[:1].isspace() and line.strip():
                continue
            skipping = False
            kept.append(line)
        return "\n".join(kept).strip() or "Here's what I found:"

    def to_json(self) -> dict[str, Any]:
        """The stable JSON shape of `recbot chat --json`."""
        return {
            "text": self.text,
            "items": [asdict(i) for i in self.items],
            "transcript": self.transcript,
            "error": self.error,
        }
