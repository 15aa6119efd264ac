"""Slack: recbot on slack-bolt (async `AsyncApp`).

People DM the bot or @mention it in a channel (it answers in a thread); they can share a photo or an
audio clip; every answer is a Block Kit message with one card per item and 👍 / 👎 / "More like this"
buttons; `/recbot help|profile|link|forget|stats|retrain` runs commands (stats and retrain for `slack.admins` only).

Run it with `recbot serve slack` (adapters/slack/serve.py), tokens from the environment.

The Slack app needs the bot scopes app_mentions:read, chat:write, commands, files:read, im:history
(files:write to post charts), the events app_mention and message.im, interactivity, and /recbot.
"""

from __future__ import annotations

import logging
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

from slack_bolt.app.async_app import AsyncApp
from slack_bolt.response import BoltResponse
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack.blocks import ACTION_PATTERN, ACTIONS, card_items, escape, render, with_reaction
from adapters.slack.files import FileProblem, attach_files
from bot.handler import Handler
from bot.messages import Command, Feedback, Incoming, Reply
from bot.understanding.lang import language

log = logging.getLogger(__name__)

_USER_SUBTYPES = {None, "file_share", "thread_broadcast"}


# -- the Bolt app ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SlackBot:
    """What every Slack handler needs: the bot, where Slack can fetch the catalogue's local photos, and each user's
    locale (users.info, asked once per user) as the hint for which language to answer in."""

    handler: Handler
    public_url: str | None = None
    locales: OrderedDict[str, str | None] = field(default_factory=OrderedDict)

    async def locale_of(self, client: AsyncWebClient, user: str) -> str | None:
        if user not in self.locales:
            try:
                found = await client.users_info(user=user, include_locale=True)
                self.locales[user] = (found.get("user") or {}).get("locale")
            except SlackApiError as exc:  # a missing users:read scope: the text alone decides
                log.debug("users.info for %s: %s", user, exc.response.get("error"))
                self.locales[user] = None
            while len(self.locales) > 10_000:
                self.locales.popitem(last=False)
        return self.locales[user]


def build_app(handler: Handler, client: AsyncWebClient, signing_secret: str | None = None, public_url: str | None = None) -> AsyncApp:
    """The Bolt app: DMs, @mentions, file shares, the feedback buttons and `/recbot`, all answered by `handler`;
    `public_url` as in `adapters.slack.blocks.card_image_url`."""
    bot = SlackBot(handler, public_url)
    # Without a secret (Socket Mode) HTTP requests must still fail verification, so use one nobody knows.
    app = AsyncApp(client=client, signing_secret=signing_secret or secrets.token_hex(32), name="recbot")

    @app.middleware
    async def skip_redeliveries(body: dict[str, Any], request: Any, next: Any) -> BoltResponse | None:
        event_id = body.get("event_id")
        if isinstance(event_id, str) and event_id and not await handler.first_delivery(f"slack:event:{event_id}"):
            retry = request.headers.get("x-slack-retry-num", ["?"])[0]
            log.info("ignoring redelivery %s of event %s", retry, event_id)
            return BoltResponse(status=200, body="")
        return await next()

    @app.event("message")
    async def direct_message(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if event.get("channel_type") != "im" or not _from_a_person(event):
            return  # channel chatter, edits, deletions and other bots are not for us
        await answer(bot, client, event, context.bot_user_id, threaded=False)

    @app.event("app_mention")
    async def mention(event: dict[str, Any], context: Any, client: AsyncWebClient) -> None:
        if _text(event.get("channel")).startswith("D") or not _from_a_person(event):
            return  # a mention inside a DM arrives as a message too
        await answer(bot, client, event, context.bot_user_id, threaded=True)

    @app.action(ACTION_PATTERN)
    async def feedback_button(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient, respond: Any) -> None:
        await ack()
        await on_feedback(bot, client, respond, body, action)

    @app.command("/recbot")
    async def recbot_command(ack: Any, command: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()  # within Slack's 3 seconds; the work below continues after the acknowledgement
        await on_command(bot, client, respond, command)

    return app


def _from_a_person(event: dict[str, Any]) -> bool:
    return event.get("subtype") in _USER_SUBTYPES and not event.get("bot_id") and _text(event.get("user")) != ""


def _text(value: Any) -> str:
    """A payload field that should be a string: anything else (missing, a number, a list) reads as empty."""
    return value if isinstance(value, str) else ""


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


# -- Slack payload → Incoming: pure, and total (anything malformed is None, never an exception) ------------------------
@dataclass(frozen=True)
class Where:
    """Where a reply goes: the channel, and the thread to answer in (None: the channel itself)."""

    channel: str
    thread_ts: str | None = None


def message_incoming(event: Any, bot_user_id: str | None, threaded: bool, hint: str | None = None) -> tuple[Incoming, Where] | None:
    """A DM or an @mention → (the Incoming, where to answer); None for an event without a user, channel or ts."""
    if not isinstance(event, dict):
        return None
    channel, user, ts = _text(event.get("channel")), _text(event.get("user")), _text(event.get("ts"))
    if not (channel and user and ts):
        return None
    thread_ts = _text(event.get("thread_ts")) or None
    conversation = f"{channel}:{thread_ts or ts}" if threaded else channel
    text = clean_text(_text(event.get("text")), bot_user_id)
    incoming = Incoming(user_id=user, platform="slack", conversation_id=conversation, text=text, language=hint)
    return incoming, Where(channel, (thread_ts or ts) if threaded else thread_ts)


def action_incoming(body: Any, action: Any, hint: str | None = None) -> tuple[Incoming, Where, dict[str, Any]] | None:
    """A 👍 / 👎 / More like this press → (the Incoming, the card's thread, the card's message); None when malformed."""
    if not isinstance(body, dict) or not isinstance(action, dict) or _text(action.get("action_id")) not in ACTIONS:
        return None
    user = _text((body.get("user") or {}).get("id")) if isinstance(body.get("user"), dict) else ""
    channel = body.get("channel") if isinstance(body.get("channel"), dict) else {}
    container = body.get("container") if isinstance(body.get("container"), dict) else {}
    where = _text(channel.get("id")) or _text(container.get("channel_id"))
    item_id = _text(action.get("value")).strip()
    if not (user and where and item_id):
        return None
    message = body.get("message") if isinstance(body.get("message"), dict) else {}
    thread_ts = _text(message.get("thread_ts")) or _text(message.get("ts")) or None
    conversation = where if where.startswith("D") else f"{where}:{thread_ts}"
    feedback = Feedback(ACTIONS[action["action_id"]], item_id)
    incoming = Incoming(user_id=user, platform="slack", conversation_id=conversation, feedback=feedback, language=hint)
    return incoming, Where(where, thread_ts), message


def command_incoming(command: Any, hint: str | None = None) -> Incoming | None:
    """`/recbot NAME ARGS` → an Incoming with the Command; None without a user."""
    if not isinstance(command, dict) or not _text(command.get("user_id")):
        return None
    name, _, args = _text(command.get("text")).strip().partition(" ")
    name = name.lower().lstrip("/") or "help"
    channel = _text(command.get("channel_id")) or None
    user = command["user_id"]
    return Incoming(user_id=user, platform="slack", conversation_id=channel, command=Command(name, args.strip()), language=hint)


# -- handlers: Slack event → Incoming → the bot → Block Kit -------------------------------------------------
async def answer(bot: SlackBot, client: AsyncWebClient, event: dict[str, Any], bot_user_id: str | None, threaded: bool) -> None:
    """A DM or an @mention (with any shared files) → one `Incoming` → one reply, in a thread for mentions."""
    read = message_incoming(event, bot_user_id, threaded)
    if read is None:
        log.info("ignored a Slack message event without a user, channel or ts")
        return
    incoming, where = read
    user = incoming.user_id
    hint = incoming.language = await bot.locale_of(client, user)
    thread_ts = _text(event.get("thread_ts"))
    if thread_ts and thread_ts != _text(event.get("ts")):  # "love the second one" under a list is about that list
        incoming.reply_to_items = await thread_items(client, where.channel, thread_ts, bot_user_id)
    files = event.get("files")
    if files:
        try:
            await attach_files(incoming, _list(files), client)
        except FileProblem as exc:
            log.info("file from %s not used: %s", user, exc.code)
            problem = language(hint).file_problem(exc.code, exc.data)
            await post_reply(client, where.channel, Reply(text=problem, error=exc.code, language=language(hint).code), where.thread_ts)
            return
    reply = await bot.handler.handle(incoming)
    log.info(
        "slack %s from %s: %d items%s", "mention" if threaded else "DM", user, len(reply.items), f", {reply.error}" if reply.error else ""
    )
    await post_reply(client, where.channel, reply, where.thread_ts, bot.public_url)


async def thread_items(client: AsyncWebClient, channel: str, thread_ts: str, bot_user_id: str | None) -> tuple[str, ...]:
    """The items on our message that a thread reply answers; () when it is someone else's or cannot be read."""
    try:
        found = await client.conversations_replies(channel=channel, ts=thread_ts, limit=1, inclusive=True)
    except SlackApiError as exc:
        log.info("could not read the message a thread reply answers: %s", exc.response.get("error"))
        return ()
    messages = _list(found.get("messages"))
    parent = messages[0] if messages and isinstance(messages[0], dict) else {}
    ours = _text(parent.get("user")) == bot_user_id if bot_user_id else bool(parent.get("bot_id"))  # not another bot's
    return card_items(parent) if ours else ()


async def on_feedback(bot: SlackBot, client: AsyncWebClient, respond: Any, body: dict[str, Any], action: dict[str, Any]) -> None:
    """👍 / 👎 mark the card in place; "More like this" posts new items in the card's thread."""
    read = action_incoming(body, action)
    if read is None:
        log.info("ignored a malformed button press")
        return
    incoming, where, message = read
    assert incoming.feedback is not None
    feedback, user = incoming.feedback, incoming.user_id
    incoming.language = await bot.locale_of(client, user)
    reply = await bot.handler.handle(incoming)
    log.info("slack %s on %s from %s%s", feedback.action, feedback.item_id, user, f": {reply.error}" if reply.error else "")
    if reply.error or not message.get("ts"):
        await respond(text=escape(reply.text), response_type="ephemeral", replace_original=False)
    elif feedback.action == "more_like_this":
        await post_reply(client, where.channel, reply, where.thread_ts, bot.public_url)
    else:
        try:
            await client.chat_update(
                channel=where.channel,
                ts=message["ts"],
                text=_text(message.get("text")),
                blocks=with_reaction(_list(message.get("blocks")), feedback.item_id, reply.text),
            )
        except SlackApiError as exc:
            log.warning("chat.update failed (%s); answering ephemerally", exc.response.get("error"))
            await respond(text=escape(reply.text), response_type="ephemeral", replace_original=False)


async def on_command(bot: SlackBot, client: AsyncWebClient, respond: Any, command: dict[str, Any]) -> None:
    """`/recbot NAME ARGS` → `Command`; the answer is ephemeral (only the caller sees it)."""
    incoming = command_incoming(command)
    if incoming is None or incoming.command is None:
        log.info("ignored a slash command without a user")
        return
    name = incoming.command.name
    incoming.language = await bot.locale_of(client, incoming.user_id)
    reply = await bot.handler.handle(incoming)
    log.info("slack /recbot %s from %s%s", name, incoming.user_id, f": {reply.error}" if reply.error else "")
    if name in {"help", "start"} and not reply.error:
        reply.text = f"{reply.text}\n{language(reply.language).say('slack_help')}"
    text, blocks = render(reply, bot.public_url)
    await respond(text=text, blocks=blocks, response_type="ephemeral", replace_original=False)
    if reply.attachment and incoming.conversation_id:
        await upload_attachment(client, incoming.conversation_id, reply, None)


async def post_reply(client: AsyncWebClient, channel: str, reply: Reply, thread_ts: str | None, public_url: str | None = None) -> None:
    """chat.postMessage with Block Kit and a fallback text; Slack failures are logged, not raised into Bolt."""
    text, blocks = render(reply, public_url)
    try:
        await client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False
        )
    except SlackApiError as exc:
        log.error("chat.postMessage to %s failed: %s", channel, exc.response.get("error"))
        return
    if reply.attachment:
        await upload_attachment(client, channel, reply, thread_ts)


async def upload_attachment(client: AsyncWebClient, channel: str, reply: Reply, thread_ts: str | None) -> None:
    name = reply.attachment_name or "chart.png"
    try:
        await client.files_upload_v2(channel=channel, thread_ts=thread_ts, file=reply.attachment, filename=name, title=name)
    except SlackApiError as exc:
        log.warning("could not upload %s to %s: %s", name, channel, exc.response.get("error"))


_LINK = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")


def clean_text(text: str, bot_user_id: str | None) -> str:
    """Slack mrkdwn → what the person typed: the bot's mention removed, links and channels as their labels."""
    if bot_user_id:
        text = re.sub(rf"<@{re.escape(bot_user_id)}(\|[^>]*)?>", " ", text)

    def label(match: re.Match[str]) -> str:
        target, shown = match.group(1), match.group(2)
        if shown:
            return ("#" + shown) if target.startswith("#C") else shown
        return target

    text = _LINK.sub(label, text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]+", " ", text).strip()
