"""recbot on Telegram: describe what you want, send a photo or a voice note, get items back as photo cards.

Each card has 👍 / 👎 / "More like this" buttons; a press is recorded as feedback. /start and /help say
what the bot can do, /reset starts a new conversation, /forget erases the conversation and feedback after a
confirmation; /stats and /retrain are for the user ids in `telegram.admins`. In groups the bot answers only
when mentioned or replied to.

Run it:
    export TELEGRAM_BOT_TOKEN=123456:ABC...   # from @BotFather
    recbot serve telegram                     # long polling
Webhook mode: `telegram.mode: webhook`, `telegram.webhook.url` (the public URL Telegram posts to) and
TELEGRAM_WEBHOOK_SECRET; requests without that secret are refused. `telegram.base_url` and
`telegram.base_file_url` point the bot at any Bot API server (e.g. a self-hosted one).

Every handler turns an update into one `Incoming`, asks `BotService`, and renders the `Reply`
(adapters/telegram_render.py). Nothing here knows how recommending works.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import sys
from typing import Any

from telegram import (
    Audio,
    Bot,
    BotCommand,
    BotCommandScopeChat,
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
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from adapters.telegram_render import Renderer, chat_action
from bot.config import Config, ConfigError
from bot.messages import Command, Incoming, Reply
from bot.service import BotService

log = logging.getLogger(__name__)

PUBLIC_COMMANDS = [
    BotCommand("start", "What I can do"),
    BotCommand("help", "How to ask for things"),
    BotCommand("reset", "Start a new conversation (keeps your likes)"),
    BotCommand("forget", "Erase our conversation and your feedback"),
    BotCommand("like", "Like an item: /like ID"),
    BotCommand("dislike", "Dislike an item: /dislike ID"),
]
ADMIN_COMMANDS = [
    BotCommand("stats", "Users, messages, likes and top items (admins)"),
    BotCommand("retrain", "Retrain the recommender from feedback (admins)"),
]
PASS_THROUGH = ["start", "help", "reset", "like", "dislike", "stats", "retrain"]  # BotService answers these as they are
ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY]  # edits and channel posts are not asked for
_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")
UNSUPPORTED = (
    "I can read text, photos and voice notes. Tell me what you're looking for "
    "(e.g. “a blue tee under $30”) or send a photo of something you like."
)
DOWNLOAD_FAILED = "I couldn't fetch that file from Telegram. Could you send it again?"


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
def build_application(config: Config, token: str) -> Application:
    """The bot: BotService started in post_init, one small handler per kind of update."""
    tg = config.telegram
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(tg.base_url)
        .base_file_url(tg.base_file_url)
        .rate_limiter(AIORateLimiter(max_retries=3))  # waits out 429s (retry_after) and keeps under flood limits
        .concurrent_updates(True)  # a slow turn in one chat never holds up another
        .post_init(post_init)
        .post_shutdown(post_shutdown)
        .build()
    )
    service = application.bot_data["service"] = BotService(config)
    application.bot_data["renderer"] = Renderer(catalogue_ids=lambda: service.recommender.item_ids() if service.recommender else ())

    application.add_handler(CommandHandler(PASS_THROUGH, command, filters=NEW))
    application.add_handler(CommandHandler("forget", forget, filters=NEW))
    application.add_handler(MessageHandler(NEW & filters.COMMAND, unknown_command))
    application.add_handler(CallbackQueryHandler(feedback_button, pattern=r"^fb:"))
    application.add_handler(CallbackQueryHandler(forget_button, pattern=r"^forget:"))
    application.add_handler(CallbackQueryHandler(stale_button))
    application.add_handler(MessageHandler(FOR_US & filters.TEXT, text))
    application.add_handler(MessageHandler(FOR_US & (filters.PHOTO | filters.Document.IMAGE), photo))
    application.add_handler(MessageHandler(FOR_US & (filters.VOICE | filters.AUDIO | filters.Document.AUDIO), voice))
    application.add_handler(MessageHandler(FOR_US & OTHER_CONTENT, unsupported))
    application.add_error_handler(on_error)
    return application


async def post_init(application: Application) -> None:
    service: BotService = application.bot_data["service"]
    await service.start(progress=sys.stderr.isatty())
    await application.bot.set_my_commands(PUBLIC_COMMANDS)
    for admin in service.config.telegram.admins:
        try:  # admins see the admin commands in their menu; fails for someone who never opened the bot
            await application.bot.set_my_commands(PUBLIC_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(int(admin)))
        except (BadRequest, ValueError) as exc:
            log.warning("could not set the admin command menu for %s: %s", admin, exc)
    log.info("Telegram bot @%s is ready", application.bot.username)


async def post_shutdown(application: Application) -> None:
    await application.bot_data["service"].close()


# -- handlers ------------------------------------------------------------------------------------------------
async def text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    words = _without_mention(message.text or "", context.bot.username)
    await _answer(update, context, _incoming(update, text=words))


async def photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (the largest size) or an image sent as a file; the caption refines the search."""
    message = update.effective_message
    media: PhotoSize | Document = message.photo[-1] if message.photo else message.document  # type: ignore[assignment]
    caption = _without_mention(message.caption or "", context.bot.username)
    async with chat_action(context.bot, update.effective_chat.id, ChatAction.TYPING):
        data = await _download(media)
        if isinstance(data, Reply):
            reply = data
        else:
            reply = await _service(context).handle(_incoming(update, text=caption, photos=[data]))
    await _send(update, context, reply)


async def voice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A voice note, an audio file or audio sent as a file: the bytes and their type go to the bot."""
    message = update.effective_message
    media: Voice | Audio | Document = message.voice or message.audio or message.document  # type: ignore[assignment]
    mime = media.mime_type or ("audio/ogg" if message.voice else "application/octet-stream")
    async with chat_action(context.bot, update.effective_chat.id, ChatAction.TYPING):
        data = await _download(media)
        if isinstance(data, Reply):
            reply = data
        else:
            reply = await _service(context).handle(_incoming(update, voice=data, voice_mime=mime))
    await _send(update, context, reply)


async def unsupported(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, locations, contacts, videos, other files: say what works instead."""
    kind = _kind(update.effective_message)
    log.info("unsupported %s from %s", kind, update.effective_user.id if update.effective_user else "?")
    await _send(update, context, Reply(text=UNSUPPORTED, error="unsupported"))


async def command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start, /help, /reset, /like, /dislike, /stats, /retrain: BotService answers (and checks admins)."""
    name, args = _command_parts(update.effective_message.text or "")
    await _answer(update, context, _incoming(update, command=Command(name, args)))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    name, args = _command_parts(message.text or "")
    addressed = message.text.split()[0].lower().endswith(f"@{context.bot.username}".lower())
    if message.chat.type != ChatType.PRIVATE and not addressed:
        return  # in a group, a bare /something is probably meant for another bot
    await _answer(update, context, _incoming(update, command=Command(name, args)))


async def forget(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/forget asks first: it erases the conversation and every 👍/👎 for good."""
    user_id = update.effective_user.id
    buttons = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("Yes, forget everything", callback_data=f"forget:yes:{user_id}"),
                InlineKeyboardButton("No, keep it", callback_data=f"forget:no:{user_id}"),
            ]
        ]
    )
    await update.effective_message.reply_text(
        "This erases our conversation and all your likes and dislikes. Are you sure?", reply_markup=buttons
    )


async def forget_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    parts = (query.data or "").split(":", 2)
    choice, asker = (parts[1], parts[2]) if len(parts) == 3 else ("", "")
    if asker != str(query.from_user.id):
        await query.answer("Only the person who asked can confirm this.", show_alert=True)
        return
    if choice != "yes":
        await query.answer()
        await _edit_text(query.edit_message_text("Okay, I kept everything."))
        return
    await query.answer("Forgetting…")
    reply = await _service(context).handle(_incoming(update, command=Command("forget")))
    await _edit_text(query.edit_message_text(reply.text))


async def feedback_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """👍 / 👎 are recorded and acknowledged in place; "More like this" answers with new items."""
    query = update.callback_query
    feedback = _renderer(context).feedback(query.data or "")
    if feedback is None:
        await query.answer("This button has expired. Ask me again for fresh suggestions.", show_alert=True)
        return
    incoming = _incoming(update, feedback=feedback)
    if feedback.action == "more_like_this":
        await query.answer("Looking for more like this…")
        await _answer(update, context, incoming)
        return
    reply = await _service(context).handle(incoming)
    await query.answer(_toast(reply.text), show_alert=reply.error is not None)
    if reply.error is None:
        await _edit_text(query.edit_message_reply_markup(_renderer(context).keyboard(feedback.item_id, pressed=feedback.action)))


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.callback_query.answer("This button no longer works. Ask me again for fresh suggestions.", show_alert=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log it; tell the user something went wrong rather than staying silent."""
    log.error("error while handling an update", exc_info=context.error)
    if not isinstance(update, Update) or update.effective_chat is None:
        return
    if update.callback_query is not None:
        with contextlib.suppress(TelegramError):  # already answered, or too old to answer
            await update.callback_query.answer()
    try:
        await context.bot.send_message(update.effective_chat.id, "Sorry, something went wrong on my side. Please try again in a moment.")
    except TelegramError as exc:
        log.warning("could not tell the user about the error: %s", exc)


# -- helpers -----------------------------------------------------------------------------------------------------
def _service(context: ContextTypes.DEFAULT_TYPE) -> BotService:
    return context.bot_data["service"]


def _renderer(context: ContextTypes.DEFAULT_TYPE) -> Renderer:
    return context.bot_data["renderer"]


def _incoming(update: Update, **fields: Any) -> Incoming:
    chat = update.effective_chat
    return Incoming(
        user_id=str(update.effective_user.id),
        platform="telegram",
        conversation_id=str(chat.id) if chat is not None else None,
        **fields,
    )


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, incoming: Incoming) -> None:
    """Ask the bot with "typing…" showing, then render the reply."""
    async with chat_action(context.bot, update.effective_chat.id, ChatAction.TYPING):
        reply = await _service(context).handle(incoming)
    await _send(update, context, reply)


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> None:
    chat = update.effective_chat
    message = update.effective_message if update.callback_query is None else None
    quote = message.message_id if message is not None and chat.type != ChatType.PRIVATE else None  # in groups, say whom we answer
    await _renderer(context).send(context.bot, chat.id, reply, reply_to=quote)


async def _download(media: PhotoSize | Document | Voice | Audio) -> bytes | Reply:
    """The file's bytes, or a reply saying why not (too large for the Bot API, download failed)."""
    limit = FileSizeLimit.FILESIZE_DOWNLOAD
    if media.file_size and media.file_size > limit:
        size, most = media.file_size // 2**20, limit // 2**20
        return Reply(text=f"That file is too large for me ({size} MB); please send one under {most} MB.", error="file_too_large")
    try:
        file = await media.get_file()
        return bytes(await file.download_as_bytearray())
    except TelegramError as exc:
        log.warning("download of %s failed: %s", media.file_id, exc)
        return Reply(text=DOWNLOAD_FAILED, error="download_failed")


async def _edit_text(edit: Any) -> None:
    """Editing a message that is too old, deleted or unchanged fails; the answer was given anyway."""
    try:
        await edit
    except BadRequest as exc:
        log.debug("edit failed: %s", exc.message)


def _without_mention(words: str, username: str) -> str:
    return re.sub(rf"@{re.escape(username)}\b", " ", words, flags=re.IGNORECASE).strip() if username else words


def _command_parts(words: str) -> tuple[str, str]:
    head, _, args = words.strip().partition(" ")
    return head[1:].split("@", 1)[0].lower(), args.strip()


def _toast(words: str) -> str:
    """Callback answers show at most 200 characters."""
    return words if len(words) <= 200 else words[:199] + "…"


def _kind(message: Message) -> str:
    for kind in ("sticker", "location", "venue", "contact", "video", "video_note", "animation", "document", "poll", "dice"):
        if getattr(message, kind, None):
            return kind
    return "message"


# -- running ----------------------------------------------------------------------------------------------------
def webhook_options(config: Config) -> dict[str, Any]:
    """`Updater.start_webhook` arguments from config and TELEGRAM_WEBHOOK_SECRET; refuses to run without a secret."""
    hook = config.telegram.webhook
    secret = os.environ.get("TELEGRAM_WEBHOOK_SECRET", "")
    if not hook.url:
        raise ConfigError("telegram.webhook.url is required in webhook mode: the public HTTPS URL Telegram posts updates to")
    if not _SECRET.fullmatch(secret):
        raise ConfigError(
            "TELEGRAM_WEBHOOK_SECRET must be set in webhook mode: 1-256 characters of A-Z, a-z, 0-9, _ and -; "
            "requests without it are refused"
        )
    return {
        "listen": hook.listen,
        "port": hook.port,
        "url_path": hook.path.lstrip("/"),
        "webhook_url": hook.url,
        "secret_token": secret,
        "allowed_updates": ALLOWED_UPDATES,
    }


def serve(config: Config) -> int:
    """`recbot serve telegram`: run until SIGTERM/SIGINT (exit 0); clear messages for start-up problems."""
    token = os.environ.get("TELEGRAM_BOT_TOKEN", "").strip()
    if not token:
        raise ConfigError("TELEGRAM_BOT_TOKEN is not set: create a bot with @BotFather and export its token")
    hook = webhook_options(config) if config.telegram.mode == "webhook" else None
    problem = asyncio.run(check_bot_api(config, token))
    if problem is not None:
        print(f"recbot: {problem}", file=sys.stderr)
        return 2
    application = build_application(config, token)
    if hook is not None:
        application.run_webhook(**hook)
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
    return 0


async def check_bot_api(config: Config, token: str) -> str | None:
    """One getMe before starting, so a bad token or an unreachable server is one clear line (PTB's own start-up
    failure logs a traceback that quotes the token)."""
    server = config.telegram.base_url
    bot = Bot(token, base_url=server, base_file_url=config.telegram.base_file_url)
    try:
        me = await bot.get_me()
    except InvalidToken as exc:
        return f"the Bot API at {server} rejected TELEGRAM_BOT_TOKEN (getMe: {exc.message}); check the token and telegram.base_url"
    except NetworkError as exc:
        return f"cannot reach the Telegram Bot API at {server}: {exc.message}"
    finally:
        await bot.shutdown()
    log.info("connected to %s as @%s", server, me.username)
    return None
