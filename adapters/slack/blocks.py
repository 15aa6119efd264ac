"""Block Kit for a `Reply`: a short text section, then one card per item with 👍 / 👎 / "More like this".

Pure functions from `Reply` to Slack JSON, so the layout can be read (and tested) without a network.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

from adapters.images import is_web_image
from bot.messages import FeedbackAction, ItemCard, Reply
from bot.understanding.lang import Language, language

# action_id → the feedback it records; the button's value is the item id.
ACTIONS: dict[str, FeedbackAction] = {
    "recbot_like": "like",
    "recbot_dislike": "dislike",
    "recbot_more": "more_like_this",
}
ACTION_PATTERN = re.compile(r"^recbot_(like|dislike|more)$")

SECTION_LIMIT = 3000  # characters in one section's text
FALLBACK_LIMIT = 3900  # Slack truncates a message's top-level text beyond 4,000 characters
_MAX_BLOCKS = 50


def escape(text: str) -> str:
    """Plain text → Slack mrkdwn: decode HTML entities the catalogue carries (&trade;), then escape &, <, >."""
    text = html.unescape(text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plain(text: str) -> str:
    """Plain text for places Slack shows verbatim (button labels, alt text)."""
    return html.unescape(text)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def card_image_url(item: ItemCard, public_url: str | None) -> str | None:
    """Slack fetches a card's image itself: a web photo as it is, a local one from the bot's own image route
    (`adapters/images.py`) when `slack.public_url` says where Slack can reach it, otherwise none."""
    if is_web_image(item.image):
        return item.image
    if item.image and public_url:
        return f"{public_url.rstrip('/')}/images/{quote(item.id, safe='')}"
    return None


def card_blocks(n: int, item: ItemCard, lang: Language, public_url: str | None = None) -> list[dict[str, Any]]:
    """One item: name, price, colour and reason (its photo as the accessory), then the three buttons."""
    details = " · ".join(
        part
        for part in (
            lang.price(item.price, item.currency, exact=True),
            item.color,
            item.categories[0].split("/")[-1] if item.categories else None,
        )
        if part
    )
    lines = [f"*{escape(item.name)}*", escape(details)]
    if item.sizes:
        lines.append(escape(lang.sizes_line(item.sizes)))
    if item.reason:
        lines.append(f"_{escape(item.reason)}_")
    lines.append(f"`{escape(item.id)}`")
    section: dict[str, Any] = {
        "type": "section",
        "block_id": f"item:{n}",
        "text": {"type": "mrkdwn", "text": _cut("\n".join(lines), SECTION_LIMIT)},
    }
    image_url = card_image_url(item, public_url)
    if image_url:
        section["accessory"] = {"type": "image", "image_url": image_url, "alt_text": _cut(plain(item.name), 2000)}
    buttons = [(action_id, lang.button(action)) for action_id, action in ACTIONS.items()]
    actions = {
        "type": "actions",
        "block_id": f"actions:{n}",
        "elements": [
            {"type": "button", "action_id": action, "text": {"type": "plain_text", "text": label, "emoji": True}, "value": item.id}
            for action, label in buttons
        ],
    }
    return [section, actions]


def render(reply: Reply, public_url: str | None = None) -> tuple[str, list[dict[str, Any]]]:
    """(fallback text for notifications, blocks) for one reply; `public_url` as in `card_image_url`."""
    blocks: list[dict[str, Any]] = []
    lang = language(reply.language)
    if reply.transcript:
        heard = {"type": "mrkdwn", "text": _cut(lang.say("heard", transcript=escape(reply.transcript)), SECTION_LIMIT)}
        blocks.append({"type": "context", "elements": [heard]})
    intro = reply.intro()
    if intro:
        blocks.append({"type": "section", "block_id": "text", "text": {"type": "mrkdwn", "text": _cut(escape(intro), SECTION_LIMIT)}})
    for n, item in enumerate(reply.items, start=1):
        if len(blocks) + 3 > _MAX_BLOCKS:
            break
        blocks.append({"type": "divider"})
        blocks.extend(card_blocks(n, item, lang, public_url))
    listing = [
        f"{n}. {escape(i.name)}" + (f" — {p}" if (p := lang.price(i.price, i.currency, exact=True)) else "")
        for n, i in enumerate(reply.items, start=1)
    ]
    # the top-level text is mrkdwn too (notifications, screen readers): escaped, so "<!channel>" a user typed stays text
    fallback = _cut("\n".join([escape(intro or reply.text), *listing]), FALLBACK_LIMIT)
    return fallback, blocks


def card_items(message: Any) -> tuple[str, ...]:
    """The items of the cards on one of our messages, in order (the value of their buttons); () for anything else."""
    blocks = message.get("blocks") if isinstance(message, dict) else None
    found: dict[str, None] = {}
    for block in blocks if isinstance(blocks, list) else []:
        if isinstance(block, dict) and block.get("type") == "actions" and isinstance(block.get("elements"), list):
            for element in block["elements"]:
                if isinstance(element, dict) and element.get("action_id") in ACTIONS and isinstance(element.get("value"), str):
                    found.setdefault(element["value"], None)
    return tuple(found)


def with_reaction(blocks: list[dict[str, Any]], item_id: str, note: str) -> list[dict[str, Any]]:
    """The same message with `note` (e.g. "👍 Noted…") under the card of `item_id`; the buttons stay so a user can change their mind."""
    card = next(
        (
            b.get("block_id", "").partition(":")[2]
            for b in blocks
            if b.get("type") == "actions" and any(e.get("value") == item_id for e in b.get("elements", []))
        ),
        None,
    )
    if card is None:
        return blocks
    out: list[dict[str, Any]] = []
    for block in blocks:
        if block.get("block_id") == f"reaction:{card}":
            continue  # an earlier reaction to the same item is replaced
        out.append(block)
        if block.get("block_id") == f"actions:{card}":
            out.append(
                {"type": "context", "block_id": f"reaction:{card}", "elements": [{"type": "mrkdwn", "text": _cut(escape(note), 3000)}]}
            )
    return out
