"""Rendering a `Reply` in Telegram: a short text, then one photo card per item with 👍 / 👎 / "More like this".

Cards are separate photos rather than one media group because a media group cannot carry buttons.
Telegram's limits are kept here: 4096 characters per text, 1024 per caption.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, ReplyParameters
from telegram.constants import ChatAction, MessageLimit
from telegram.error import BadRequest, NetworkError, TelegramError, TimedOut

from bot.messages import Feedback, FeedbackAction, ItemCard, Reply
from bot.understanding.lang import Language, language

log = logging.getLogger(__name__)
T = TypeVar("T")

TEXT_LIMIT = MessageLimit.MAX_TEXT_LENGTH  # 4096
CAPTION_LIMIT = MessageLimit.CAPTION_LENGTH  # 1024
CHAT_ACTION_EVERY_S = 4.0  # Telegram shows an action for about 5 seconds


class Renderer:
    """Sends replies; remembers uploaded item photos (Telegram file ids) so each is uploaded once.

    Buttons carry a `Feedback` object: python-telegram-bot's arbitrary callback data keeps it (any item id, however
    long) and puts a short key in the 64-byte `callback_data`; its persistence keeps the keys across restarts."""

    def __init__(self, max_remembered: int = 10_000) -> None:
        self._photo_ids: OrderedDict[str, str] = OrderedDict()  # local image path → Telegram file_id
        self._cards: OrderedDict[str, str] = OrderedDict()  # "chat:message" of a card sent → its item id
        self._max = max_remembered

    # -- buttons -----------------------------------------------------------------------------------
    def keyboard(self, item_id: str, lang: Language, pressed: FeedbackAction | None = None) -> InlineKeyboardMarkup:
        def button(action: FeedbackAction) -> InlineKeyboardButton:
            return InlineKeyboardButton(lang.button(action, pressed=action == pressed), callback_data=Feedback(action, item_id))

        return InlineKeyboardMarkup([[button("like"), button("dislike")], [button("more_like_this")]])

    # -- sending -------------------------------------------------------------------------------------
    async def send(self, bot: Bot, chat_id: int, reply: Reply, reply_to: int | None = None) -> list[Message]:
        """Text first (split at 4096 characters), then the attachment, then one card per item."""
        sent: list[Message] = []
        quote = ReplyParameters(reply_to, allow_sending_without_reply=True) if reply_to else None
        text = reply.intro()  # the cards below show the items; the text keeps the words around them
        if reply.transcript and reply.transcript.strip() not in text:  # show what was heard, once
            text = f"{language(reply.language).say('heard', transcript=reply.transcript.strip())}\n{text}".strip()
        for n, chunk in enumerate(split_text(text)):
            first_quote = quote if n == 0 else None
            sent.append(await _retrying(lambda c=chunk, q=first_quote: bot.send_message(chat_id, c, reply_parameters=q)))
        if reply.attachment:
            sent.append(await self._send_attachment(bot, chat_id, reply))
        if reply.items:
            with contextlib.suppress(NetworkError):
                await bot.send_chat_action(chat_id, ChatAction.UPLOAD_PHOTO)
        for item in reply.items:
            card = await self._send_card(bot, chat_id, item, language(reply.language))
            _remember(self._cards, f"{chat_id}:{card.message_id}", item.id, self._max)
            sent.append(card)
        if not sent:
            log.warning("empty reply for chat %s: nothing to send", chat_id)
        return sent

    def card_item(self, chat_id: int, message_id: int) -> str | None:
        """The item of a card this process sent, so a reply to it ("love it") is feedback on that item."""
        return self._cards.get(f"{chat_id}:{message_id}")

    async def _send_card(self, bot: Bot, chat_id: int, item: ItemCard, lang: Language) -> Message:
        markup = self.keyboard(item.id, lang)
        photo = self._photo_source(item.image)
        if photo is not None:
            try:
                message = await _retrying(lambda: bot.send_photo(chat_id, photo, caption=caption(item, lang), reply_markup=markup))
            except BadRequest as exc:  # an image Telegram refuses (size, format, unreachable URL): the card still goes out
                log.warning("photo for %s refused (%s); sending the card as text", item.id, exc.message)
                self._photo_ids.pop(item.image or "", None)
            else:
                if message.photo and item.image and not item.image.startswith(("http://", "https://")):
                    _remember(self._photo_ids, item.image, message.photo[-1].file_id, self._max)
                return message
        return await _retrying(lambda: bot.send_message(chat_id, caption(item, lang), reply_markup=markup))

    def _photo_source(self, image: str | None) -> str | Path | None:
        """A cached file id, a URL for Telegram to fetch, or a local file to upload."""
        if not image:
            return None
        if image in self._photo_ids:
            return self._photo_ids[image]
        if image.startswith(("http://", "https://")):
            return image
        path = Path(image)
        return path if path.is_file() else None

    async def _send_attachment(self, bot: Bot, chat_id: int, reply: Reply) -> Message:
        name = reply.attachment_name or "attachment.png"
        data = reply.attachment or b""
        try:
            return await _retrying(lambda: bot.send_photo(chat_id, InputFile(data, filename=name)))
        except BadRequest:  # not a picture Telegram accepts as a photo: send it as a file
            return await _retrying(lambda: bot.send_document(chat_id, InputFile(data, filename=name)))


def caption(item: ItemCard, lang: Language) -> str:
    """Name and colour, price, sizes, why it was picked, and the id for /like ID; a long reason is cut to fit 1024."""
    title = f"{item.name} — {item.color}" if item.color else item.name
    price = lang.price(item.price, item.currency, exact=True)
    head = "\n".join(part for part in (title, price, lang.sizes_line(item.sizes)) if part)
    tail = lang.say("card_id", id=item.id)
    room = CAPTION_LIMIT - len(head) - len(tail) - 2
    reason = item.reason.strip()
    if len(reason) > room:
        reason = reason[: max(room - 1, 0)].rstrip() + "…"
    text = "\n".join(part for part in (head, reason, tail) if part)
    return text[:CAPTION_LIMIT]


def split_text(text: str, limit: int = TEXT_LIMIT) -> list[str]:
    """Chunks of at most `limit` characters, cut at line breaks where possible."""
    chunks: list[str] = []
    text = text.strip()
    while len(text) > limit:
        cut = text.rfind("\n", 0, limit)
        if cut <= 0:
            cut = text.rfind(" ", 0, limit)
        if cut <= 0:
            cut = limit
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    if text:
        chunks.append(text)
    return chunks


@contextlib.asynccontextmanager
async def chat_action(bot: Bot, chat_id: int | None, action: str = ChatAction.TYPING) -> AsyncIterator[None]:
    """Keep "typing…" (or another action) showing while the body runs (nothing to show without a chat)."""

    async def keep_showing() -> None:
        while chat_id is not None:
            try:
                await bot.send_chat_action(chat_id, action)
            except TelegramError as exc:  # a lost "typing…" is cosmetic
                log.debug("chat action failed: %s", exc)
            await asyncio.sleep(CHAT_ACTION_EVERY_S)

    task = asyncio.create_task(keep_showing())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _retrying(send: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """Retry a send on network errors (429s are retried by the rate limiter); not on timeouts, which may
    have been delivered, nor on bad requests, which would fail again."""
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except (BadRequest, TimedOut):
            raise
        except NetworkError as exc:
            if attempt == attempts:
                raise
            log.info("send failed (%s); retry %d of %d", exc.message, attempt, attempts - 1)
            await asyncio.sleep(0.5 * 2**attempt)
    raise AssertionError("unreachable")


def _remember(cache: OrderedDict[str, str], key: str, value: str, limit: int) -> None:
    cache[key] = value
    cache.move_to_end(key)
    while len(cache) > limit:
        cache.popitem(last=False)
