"""recbot on Telegram: describe what you want, send a photo or a voice note, get items back as photo cards.

Each card has 👍 / 👎 / "More like this" buttons; a press is recorded as feedback. /start and /help say
what the bot can do, /reset starts a new conversation, /forget erases the conversation and feedback after a
confirmation; /stats and /retrain are for the user ids in `telegram.admins`. In groups the bot answers only
when mentioned or replied to.

Run it:
    export TELEGRAM_BOT_TOKEN=123456:ABC...   # from @BotFather
    recbot serve telegram                     # long polling

Every handler turns an update into one `Incoming`, asks the bot (a `bot.handler.Handler`), and renders the `Reply`
(adapters/telegram/render.py). Nothing here knows how recommending works. Starting it: adapters/telegram/serve.py.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import dataclass
from typing import Any

from telegram import (
    Audio,
    BotCommand,
    BotCommandScopeChat,
    CallbackQuery,
    Document,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    MessageEntity,
    PhotoSize,
    Update,
    Voice,
)
from telegram.constants import ChatAction, ChatType, FileSizeLimit
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PersistenceInput,
    PicklePersistence,
    filters,
)
from telegram.request import HTTPXRequest

from adapters.config import Config
from adapters.telegram.render import Renderer, chat_action
from adapters.telegram.updates import GuardedBot, command_parts, content_kind, reply_chat, sender_id, without_mention
from bot.handler import Handler
from bot.messages import Command, Feedback, Incoming, Reply
from bot.understanding.lang import Language, language

log = logging.getLogger(__name__)

# the bot answers these as they are
PASS_THROUGH = ["start", "help", "reset", "profile", "link", "unlink", "like", "dislike", "stats", "retrain"]
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]  # edits and channel posts are not asked for
BUTTONS_KEPT = 10_000  # keyboards whose callback data is remembered (and persisted); older buttons say they expired


@dataclass(frozen=True)
class ForgetChoice:
    """The data of a /forget confirmation button: the choice, and who asked (only they may confirm)."""

    yes: bool
    asker: int


# -- which messages are for us ---------------------------------------------------------------------------
class _AddressedToBot(filters.MessageFilter):
    """Private chats: every message. Groups: only messages that mention the bot or reply to it."""

    def filter(self, message: Message) -> bool:
        if message.chat.type == ChatType.PRIVATE:
            return True
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied is not None and replied.from_user is not None and replied.from_user.id == bot.id:
            return True
        return _mentions(message, bot.username)


def _mentions(message: Message, username: str) -> bool:
    mentions = {**message.parse_entities([MessageEntity.MENTION]), **message.parse_caption_entities([MessageEntity.MENTION])}
    return any(text.lower() == f"@{username}".lower() for text in mentions.values())


NEW = filters.UpdateType.MESSAGE  # new messages only: edited messages and channel posts are ignored on purpose
FOR_US = NEW & _AddressedToBot()
# Content we cannot use but a person sent on purpose; service messages (members joining, pins) are ignored.
OTHER_CONTENT = (
    filters.Sticker.ALL
    | filters.LOCATION
    | filters.VENUE
    | filters.CONTACT
    | filters.VIDEO
    | filters.VIDEO_NOTE
    | filters.ANIMATION
    | filters.Document.ALL
    | filters.POLL
    | filters.Dice.ALL
    | filters.STORY
)


# -- the application ----------------------------------------------------------------------------------------
def build_application(config: Config, token: str, handler: Handler) -> Application:
    """The bot: `handler` started in post_init, one small handler per kind of update."""
    tg = config.telegram
    config.storage.root.mkdir(parents=True, exist_ok=True)
    # Only the buttons' callback data is persisted, so a button sent before a restart still works.
    persistence = PicklePersistence(
        config.storage.root / "telegram-buttons.pickle",
        store_data=PersistenceInput(bot_data=False, chat_data=False, user_data=False, callback_data=True),
        update_interval=10,
    )
    bot = GuardedBot(  # an update it cannot read is skipped, not refetched forever (adapters/telegram/updates.py)
        token,
        base_url=tg.base_url,
        base_file_url=tg.base_file_url,
        arbitrary_callback_data=BUTTONS_KEPT,
        rate_limiter=AIORateLimiter(max_retries=3),  # waits out 429s (retry_after) and keeps under flood limits
        request=HTTPXRequest(connection_pool_size=256),  # what ApplicationBuilder gives its own bot
        get_updates_request=HTTPXRequest(),
    )
    application = (
        ApplicationBuilder()
        .bot(bot)
        .persistence(persistence)
        .concurrent_updates(True)  # a slow turn in one chat never holds up another
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    application.bot_data["handler"] = handler
    application.bot_data["admins"] = [str(a) for a in tg.admins]
    application.bot_data["renderer"] = Renderer()

    application.add_handler(CommandHandler(PASS_THROUGH, command, filters=NEW))
    application.add_handler(CommandHandler("forget", forget, filters=NEW))
    application.add_handler(MessageHandler(NEW & filters.COMMAND, unknown_command))
    application.add_handler(CallbackQueryHandler(feedback_button, pattern=Feedback))
    application.add_handler(CallbackQueryHandler(forget_button, pattern=ForgetChoice))
    application.add_handler(CallbackQueryHandler(stale_button))
    application.add_handler(MessageHandler(FOR_US & filters.TEXT, text))
    application.add_handler(MessageHandler(FOR_US & (filters.PHOTO | filters.Document.IMAGE), photo))
    application.add_handler(MessageHandler(FOR_US & (filters.VOICE | filters.AUDIO | filters.Document.AUDIO), voice))
    application.add_handler(MessageHandler(FOR_US & OTHER_CONTENT, unsupported))
    application.add_error_handler(on_error)
    return application


def bot_commands(lang: Language, admin: bool = False) -> list[BotCommand]:
    return [BotCommand(name, description) for name, description in lang.commands(admin)]


async def post_init(application: Application) -> None:
    await _handler(application).start(progress=sys.stderr.isatty())
    lang = language(None)
    await application.bot.set_my_commands(bot_commands(lang))
    for admin in application.bot_data["admins"]:
        try:  # admins see the admin commands in their menu; fails for someone who never opened the bot
            await application.bot.set_my_commands(bot_commands(lang, admin=True), scope=BotCommandScopeChat(int(admin)))
        except (BadRequest, ValueError) as exc:
            log.warning("could not set the admin command menu for %s: %s", admin, exc)
    log.info("Telegram bot @%s is ready", application.bot.username)


async def post_shutdown(application: Application) -> None:
    await _handler(application).close()


# -- handlers ------------------------------------------------------------------------------------------------
async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    words = without_mention(message.text or "", context.bot.username)
    replied = message.reply_to_message
    item = _renderer(context).card_item(replied.chat.id, replied.message_id) if replied is not None else None  # "love it" on a card
    await _answer(update, context, _incoming(update, text=words, reply_to_items=(item,) if item else ()))


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (the largest size) or an image sent as a file; the caption refines the search."""
    message = update.effective_message
    media: PhotoSize | Document = message.photo[-1] if message.photo else message.document  # type: ignore[assignment]
    caption = without_mention(message.caption or "", context.bot.username)
    async with chat_action(context.bot, update.effective_chat.id, ChatAction.TYPING):
        data = await _download(media, _lang(update))
        if isinstance(data, Reply):
            reply = data
        else:
            reply = await _handler(context).handle(_incoming(update, text=caption, photos=[data]))
    await _send(update, context, reply)


async def voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice note, an audio file or audio sent as a file: the bytes and their type go to the bot."""
    message = update.effective_message
    media: Voice | Audio | Document = message.voice or message.audio or message.document  # type: ignore[assignment]
    mime = media.mime_type or ("audio/ogg" if message.voice else "application/octet-stream")
    async with chat_action(context.bot, update.effective_chat.id, ChatAction.TYPING):
        data = await _download(media, _lang(update))
        if isinstance(data, Reply):
            reply = data
        else:
            reply = await _handler(context).handle(_incoming(update, voice=data, voice_mime=mime))
    await _send(update, context, reply)


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, locations, contacts, videos, other files: say what works instead."""
    kind = content_kind(update.effective_message)
    log.info("unsupported %s from %s", kind, update.effective_user.id if update.effective_user else "?")
    await _send(update, context, Reply(text=_lang(update).say("unsupported_content"), error="unsupported"))


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, /help, /reset, /profile, /link, /like, /dislike, /stats, /retrain: the bot answers (and checks admins)."""
    name, args = command_parts(update.effective_message.text or "")
    await _answer(update, context, _incoming(update, command=Command(name, args)))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    name, args = command_parts(message.text or "")
    addressed = message.text.split()[0].lower().endswith(f"@{context.bot.username}".lower())
    if message.chat.type != ChatType.PRIVATE and not addressed:
        return  # in a group, a bare /something is probably meant for another bot
    await _answer(update, context, _incoming(update, command=Command(name, args)))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget asks first: it erases the conversation and every 👍/👎 for good."""
    user_id, lang = sender_id(update), _lang(update)
    if update.effective_message.text.split(maxsplit=1)[1:]:  # "/forget alice": the bot says it only erases one's own
        await _answer(update, context, _incoming(update, command=Command(*command_parts(update.effective_message.text))))
        return
    choices = [
        InlineKeyboardButton(lang.say("forget.yes" if yes else "forget.no"), callback_data=ForgetChoice(yes, user_id))
        for yes in (True, False)
    ]
    await update.effective_message.reply_text(lang.say("forget_question"), reply_markup=InlineKeyboardMarkup([choices]))


async def forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query, lang = update.callback_query, _lang(update)
    choice: ForgetChoice = query.data  # type: ignore[assignment]
    if choice.asker != query.from_user.id:
        await _toast(query, lang.say("only_the_asker"), alert=True)
        return
    if not choice.yes:
        await _toast(query)
        await _edit_text(query.edit_message_text(lang.say("forget_kept")))
        return
    await _toast(query, lang.say("forgetting"))
    reply = await _handler(context).handle(_incoming(update, command=Command("forget", "yes")))
    await _edit_text(query.edit_message_text(reply.text))


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎 are recorded and acknowledged in place; "More like this" answers with new items."""
    query = update.callback_query
    feedback: Feedback = query.data  # type: ignore[assignment]
    incoming = _incoming(update, feedback=feedback)
    if feedback.action == "more_like_this":
        await _toast(query, _lang(update).say("looking_for_more"))
        await _answer(update, context, incoming)
        return
    reply = await _handler(context).handle(incoming)  # stored before it is acknowledged
    await _toast(query, reply.text, alert=reply.error is not None)
    if reply.error is None and query.message is not None:
        keyboard = _renderer(context).keyboard(feedback.item_id, language(reply.language), pressed=feedback.action)
        await _edit_text(query.edit_message_reply_markup(keyboard))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button whose data is gone (older than the last BUTTONS_KEPT keyboards, or lost with the buttons' file)."""
    await _toast(update.callback_query, _lang(update).say("button_expired"), alert=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log it; tell the user something went wrong rather than staying silent."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or reply_chat(update) is None:
        return
    if update.callback_query is not None:
        await _toast(update.callback_query)
    try:
        await context.bot.send_message(reply_chat(update), _lang(update).say("internal_error"))
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)


# -- helpers -----------------------------------------------------------------------------------------------------
def _handler(context: ContextTypes.DEFAULT_TYPE | Application) -> Handler:
    return context.bot_data["handler"]


def _lang(update: Update) -> Language:
    """For the adapter's own words: the user's Telegram language."""
    return language(update.effective_user.language_code if update.effective_user else None)


def _renderer(context: ContextTypes.DEFAULT_TYPE) -> Renderer:
    return context.bot_data["renderer"]


def _incoming(update: Update, **fields: Any) -> Incoming:
    chat = update.effective_chat
    user = update.effective_user
    return Incoming(
        user_id=str(sender_id(update)),
        platform="telegram",
        conversation_id=str(chat.id) if chat is not None else None,
        language=user.language_code if user is not None else None,
        private=chat is None or chat.type == ChatType.PRIVATE,
        **fields,
    )


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, incoming: Incoming) -> None:
    """Ask the bot with "typing…" showing, then render the reply."""
    async with chat_action(context.bot, reply_chat(update), ChatAction.TYPING):
        reply = await _handler(context).handle(incoming)
    await _send(update, context, reply)


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    chat, chat_id = update.effective_chat, reply_chat(update)
    if chat_id is None:
        log.warning("no chat to answer update %s in", update.update_id)
        return
    message = update.effective_message if update.callback_query is None else None
    in_group = chat is not None and chat.type != ChatType.PRIVATE
    quote = message.message_id if message is not None and in_group else None  # in groups, say whom we answer
    try:
        await _renderer(context).send(context.bot, chat_id, reply, reply_to=quote)
    except Forbidden as exc:  # "More like this" on an inline message from someone who never opened a chat with the bot
        log.info("cannot write to chat %s: %s", chat_id, exc.message)
        if update.callback_query is not None:
            await _toast(update.callback_query, _lang(update).say("open_a_chat"), alert=True)


async def _download(media: PhotoSize | Document | Voice | Audio, lang: Language) -> bytes | Reply:
    """The file's bytes, or a reply saying why not (too large for the Bot API, download failed)."""
    limit = FileSizeLimit.FILESIZE_DOWNLOAD
    if media.file_size and media.file_size > limit:
        size, most = media.file_size // 2**20, limit // 2**20
        return Reply(text=lang.say("file_too_large", megabytes=size, limit_mb=most), error="file_too_large")
    try:
        file = await media.get_file()
        return bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("download of %s failed: %s", media.file_id, exc)
        return Reply(text=lang.say("download_failed"), error="download_failed")


async def _edit_text(edit: Any) -> None:
    """Editing a message that is too old, deleted or unchanged fails; the answer was given anyway."""
    try:
        await edit
    except BadRequest as exc:
        log.debug("edit failed: %s", exc.message)


async def _toast(query: CallbackQuery, words: str | None = None, alert: bool = False) -> None:
    """Answer a button press (at most 200 characters show). A press answered late fails with "query is too old":
    what the press did is done and stored, so that is logged, never shown to the user as an error."""
    if words is not None and len(words) > 200:
        words = words[:199] + "…"
    try:
        await query.answer(words, show_alert=alert)
    except TelegramError as exc:
        log.info("could not answer button press %s: %s", query.id, exc.message)
