"""`BotService.handle(Incoming) -> Reply`: the one entry point every adapter calls."""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import threading
import unicodedata
from collections import defaultdict
from dataclasses import asdict
from typing import Any

import aiosqlite
from langchain_core.messages import AIMessage, HumanMessage, ToolMessage
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from bot.agent import build_agent
from bot.catalogue_setup import open_catalogue
from bot.charts import stats_chart
from bot.config import Config
from bot.demo_history import seed_for_config
from bot.feedback import FeedbackLog, Stats, UserKey
from bot.grounding import ground_text
from bot.llm import make_chat_model
from bot.messages import Command, Feedback, Incoming, ItemCard, Reply
from bot.rules_model import HELP, RulesChatModel, compose_reply
from bot.scheduler import TrainingScheduler
from bot.speech import SpeechError, SpeechToText
from bot.tools import ITEM_TOOLS, PhotoVectors, TurnContext, build_tools
from bot.training import GATE_METRIC, ModelRegistry, RetrainResult, Trainer, user_history
from bot.vocabulary import Vocabulary
from recsys.blender import Weights
from recsys.images import ImageError, decode_image
from recsys.recommender import Recommender, RecommenderSettings
from recsys.scorer import CFScorer

log = logging.getLogger(__name__)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f]")


class BotService:
    """Owns the recommender, the feedback log, the agent and its memory; answers one message at a time per conversation."""

    def __init__(self, config: Config) -> None:
        self.config = config
        self.root = config.storage.root
        self.log = FeedbackLog(config.storage.resolved_events_url())
        self.recommender: Recommender | None = None
        self.vocabulary: Vocabulary | None = None
        self._agent: Any = None
        self._conn: aiosqlite.Connection | None = None
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.photos = PhotoVectors(self.root / "photos")
        self.models = ModelRegistry(self.root / "models" / "cf", config.training.keep_versions)
        self.trainer = Trainer(self.log, config.training, self.models, self._known_items)
        self.serving_version: str | None = None
        self.scheduler: TrainingScheduler | None = None
        self._cf_lock = threading.Lock()  # instant updates, swaps and erasure touch the serving model one at a time
        self._train_lock = threading.Lock()  # /retrain and the schedule never train at the same time

    # -- life cycle ----------------------------------------------------------------------------
    async def start(self, progress: bool = True) -> None:
        """Index the catalogue on first run (reused afterwards), load or train CF, open memory, schedule retraining."""
        self.root.mkdir(parents=True, exist_ok=True)
        store, text_encoder, image_encoder = await asyncio.to_thread(open_catalogue, self.config, progress)
        rc = self.config.recommend
        settings = RecommenderSettings(
            candidates=rc.candidates,
            max_per_product=rc.max_per_product,
            weights=Weights(content=rc.weight_content, cf=rc.weight_cf, feedback=rc.weight_feedback),
        )
        scorer = CFScorer()
        self.recommender = Recommender(store, text_encoder, image_encoder, scorer, settings)
        await asyncio.to_thread(self._load_cf)
        self.vocabulary = Vocabulary.from_items(store.all_items().values())
        known = lambda: set(store.all_items())  # noqa: E731
        model = make_chat_model(self.config.llm, self.vocabulary, known, models_dir=self.root / "models")
        rules = RulesChatModel(vocabulary=self.vocabulary, known_ids=known)
        self._conn = await aiosqlite.connect(str(self.root / "memory.sqlite"))
        checkpointer = AsyncSqliteSaver(self._conn)
        await checkpointer.setup()
        tools = build_tools(self.recommender, self.log, self.vocabulary, self.photos)
        fallback = None if isinstance(model, RulesChatModel) else rules
        self._agent = build_agent(model, tools, checkpointer, self.config.llm.history_messages, fallback)
        self._checkpointer = checkpointer
        if self.config.training.enabled:
            self.scheduler = TrainingScheduler(self.config.training, self.scheduled_retrain)
            self.scheduler.start()

    async def close(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
            self.scheduler = None
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def __aenter__(self) -> BotService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the collaborative model ----------------------------------------------------------------------
    def _known_items(self) -> set[str]:
        assert self.recommender is not None
        return set(self.recommender.store.all_items())

    def _load_cf(self) -> None:
        """Seed the demo history once, then serve the newest stored model (training the first one if there is none)."""
        assert self.recommender is not None
        seed_for_config(self.config, self.log, self.recommender.store.all_items().values())
        loaded = self.models.load_latest()
        if loaded is None:
            self.retrain_cf()
            return
        scorer, version = loaded
        with self._cf_lock:
            self.recommender.scorer = scorer
            self.serving_version = version.name
        self._catch_up(version.trained_through)
        log.info("CF: serving %s", version.name)

    def retrain_cf(self) -> RetrainResult:
        """Gated retrain from the log; a model that is not worse replaces the serving one at once."""
        assert self.recommender is not None
        with self._train_lock:
            result, model = self.trainer.retrain()
        if model is not None:
            with self._cf_lock:
                self.recommender.scorer = model  # one reference swap: a request sees the old model or the new one
                self.serving_version = result.version
            self._catch_up(self.models.versions()[-1].trained_through)
        return result

    def _catch_up(self, trained_through: int) -> None:
        """Users with feedback newer than the model's training data get their rows recomputed now."""
        kinds = [*self.config.training.event_weights, "dislike"]
        users = {e.user for e in self.log.training_events(kinds, after_id=trained_through)}
        for user in users:
            platform, _, user_id = user.partition(":")
            self._refresh_user(UserKey(platform, user_id))

    async def scheduled_retrain(self) -> RetrainResult:
        return await asyncio.to_thread(self.retrain_cf)

    # -- the one entry point ---------------------------------------------------------------------
    async def handle(self, incoming: Incoming) -> Reply:
        """Answer one message; never raises for anything a user can send."""
        user = UserKey(incoming.platform, incoming.user_id)
        try:
            if incoming.command is not None:
                return await self._command(user, incoming)
            if incoming.feedback is not None:
                return await self._feedback(user, incoming)
            if incoming.photos:
                return await self._photo(user, incoming)
            if incoming.voice is not None:
                return await self._voice(user, incoming)
            return await self._text(user, incoming, incoming.text)
        except Exception:
            log.exception("turn failed for %s", user)
            return Reply(text="Sorry, something went wrong on my side. Please try again in a moment.", error="internal")

    def thread_id(self, incoming: Incoming) -> str:
        return f"{incoming.platform}:{incoming.conversation_id or incoming.user_id}:{incoming.user_id}"

    async def _text(self, user: UserKey, incoming: Incoming, text: str, note: str = "") -> Reply:
        text, cut = self._clean(text)
        if not text:
            return Reply(text="Your message was empty — tell me what you're looking for, e.g. “a blue tee under $30”.", error="empty")
        reply = await self._turn(user, incoming, text)
        if cut:
            reply.text = f"(Your message was long, so I read the first {self.config.chat.max_text_chars} characters.)\n{reply.text}"
        if note:
            reply.text = f"{note}\n{reply.text}"
        return reply

    def _clean(self, text: str) -> tuple[str, bool]:
        text = unicodedata.normalize("NFC", text or "")
        text = _CONTROL.sub(" ", text).strip()
        limit = self.config.chat.max_text_chars
        return (text[:limit], True) if len(text) > limit else (text, False)

    async def _turn(self, user: UserKey, incoming: Incoming, text: str) -> Reply:
        thread = self.thread_id(incoming)
        config = {"configurable": {"thread_id": thread}, "recursion_limit": self.config.llm.max_steps * 2 + 1}
        context = TurnContext(user=user, k=self.config.recommend.k)
        async with self._locks[thread]:  # one turn at a time per conversation; other users run concurrently
            await asyncio.to_thread(self.log.record, user, "message")
            try:
                result = await asyncio.wait_for(
                    self._agent.ainvoke({"messages": [HumanMessage(text)]}, config, context=context),
                    timeout=self.config.llm.turn_timeout_s,
                )
            except TimeoutError:
                log.warning("turn timed out after %ss for %s", self.config.llm.turn_timeout_s, user)
                return Reply(text="Sorry, that took too long. Please try again, perhaps with a shorter request.", error="timeout")
        reply = self._reply_from(result["messages"])
        if reply.items:
            await asyncio.to_thread(self.log.record, user, "shown", [i.id for i in reply.items])
        return reply

    def _reply_from(self, messages: list[Any]) -> Reply:
        start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        turn = messages[start + 1 :]
        tool_messages = [m for m in turn if isinstance(m, ToolMessage) and m.name in ITEM_TOOLS]
        items: list[ItemCard] = []
        for msg in reversed(tool_messages):
            if msg.artifact:
                items = [ItemCard(**card) for card in msg.artifact]
                break
        final = next((m for m in reversed(turn) if isinstance(m, AIMessage) and not m.tool_calls), None)
        text = final.content if final is not None and isinstance(final.content, str) else ""
        if not text.strip():
            text = compose_reply(tool_messages)
        assert self.recommender is not None
        shown = {c["id"] for m in messages if isinstance(m, ToolMessage) and m.artifact for c in m.artifact}
        text = ground_text(text, shown, self.recommender.store.all_items(), fallback=lambda: compose_reply(tool_messages))
        return Reply(text=text, items=items)

    # -- photos ------------------------------------------------------------------------------------
    async def _photo(self, user: UserKey, incoming: Incoming) -> Reply:
        assert self.recommender is not None
        data = incoming.photos[-1]  # platforms send sizes smallest first; the last is the largest
        try:
            image = await asyncio.to_thread(decode_image, data)
        except ImageError as exc:
            log.info("unusable photo from %s: %s", user, exc)
            return Reply(text=str(exc), error="bad_image")
        query = await asyncio.to_thread(self.recommender.encode_image, image)
        photo_id = hashlib.sha1(data).hexdigest()[:16]
        await asyncio.to_thread(self.photos.save, photo_id, query)
        text, _ = self._clean(incoming.text)
        return await self._turn(user, incoming, f"[photo:{photo_id}] {text}".strip())

    # -- voice ---------------------------------------------------------------------------------------
    async def _voice(self, user: UserKey, incoming: Incoming) -> Reply:
        """Transcribe off the event loop, then treat the words exactly as typed text."""
        assert incoming.voice is not None
        try:
            transcript = await asyncio.to_thread(SpeechToText.shared(self.config).transcribe, incoming.voice, incoming.voice_mime)
        except SpeechError as exc:
            return Reply(text=str(exc), error="bad_audio")
        reply = await self._text(user, incoming, transcript.text, note=f"🎙️ I heard: “{transcript.text}”")
        reply.transcript = transcript.text
        return reply

    # -- feedback ------------------------------------------------------------------------------------
    async def _feedback(self, user: UserKey, incoming: Incoming) -> Reply:
        assert self.recommender is not None and incoming.feedback is not None
        fb: Feedback = incoming.feedback
        item = self.recommender.item(fb.item_id.strip())
        if item is None:
            log.info("feedback %s on unknown item %r from %s", fb.action, fb.item_id, user)
            return Reply(
                text=f"I don't know an item with id “{fb.item_id}”. Use the id shown in brackets, e.g. /like MH01-Gray.",
                error="unknown_item",
            )
        await asyncio.to_thread(self.log.record, user, fb.action, [item.id])  # stored before we acknowledge
        await asyncio.to_thread(self._refresh_user, user)
        if fb.action == "more_like_this":
            return await self._turn(user, incoming, f"More like {item.name} [{item.id}]")
        if fb.action == "like":
            return Reply(text=f"👍 Noted: you like the {item.name} ({item.color or 'one colour'}). I'll suggest more in that spirit.")
        return Reply(text=f"👎 Noted: you don't like the {item.name} ({item.color or 'one colour'}). I won't show it again.")

    def _refresh_user(self, user: UserKey) -> None:
        """Recompute the user's CF row from their full weighted history; the next reply uses it."""
        assert self.recommender is not None
        history = user_history(self.log, user, self.config.training, self._known_items())
        with self._cf_lock:
            self.recommender.scorer.update_user(str(user), history)

    def _forget_cf(self, user: UserKey) -> None:
        assert self.recommender is not None
        with self._cf_lock:
            self.recommender.scorer.forget_user(str(user))
            self.models.forget_user(str(user))

    # -- commands --------------------------------------------------------------------------------------
    async def _command(self, user: UserKey, incoming: Incoming) -> Reply:
        command: Command = incoming.command  # type: ignore[assignment]
        match command.name:
            case "help" | "start":
                return Reply(text=HELP)
            case "reset":
                await self._checkpointer.adelete_thread(self.thread_id(incoming))
                return Reply(text="Started a new conversation. Your likes and dislikes are kept.")
            case "forget":
                await self._forget_conversations(user)
                removed = await asyncio.to_thread(self.log.forget, user)
                await asyncio.to_thread(self._forget_cf, user)
                return Reply(text=f"Done: I forgot our conversation and your feedback ({removed} events erased).")
            case "like" | "dislike":
                if not command.args.strip():
                    return Reply(text=f"Which item? Use /{command.name} ID, e.g. /{command.name} MH01-Gray.", error="missing_argument")
                return await self._feedback(
                    user, Incoming(**{**asdict(incoming), "command": None, "feedback": Feedback(command.name, command.args.split()[0])})
                )
            case "stats" | "retrain":
                if not self.is_admin(user):
                    log.warning("admin command /%s refused for %s", command.name, user)
                    return Reply(text="Sorry, that command is for admins only.", error="not_allowed")
                if command.name == "stats":
                    chart = await asyncio.to_thread(self.stats_chart)
                    text = self._stats_text(await asyncio.to_thread(self.log.stats))
                    return Reply(text=text, attachment=chart, attachment_name="stats.png")
                result = await asyncio.to_thread(self.retrain_cf)
                return Reply(text=f"Retrained the collaborative model from the feedback log: {result.summary()}")
            case _:
                return Reply(text=f"Unknown command /{command.name}. {HELP}", error="unknown_command")

    async def _forget_conversations(self, user: UserKey) -> None:
        """Every conversation of the user on this platform: DMs, channels and threads alike."""
        assert self._conn is not None
        async with self._conn.execute("SELECT DISTINCT thread_id FROM checkpoints") as cursor:
            threads = [row[0] async for row in cursor]
        for thread in threads:
            if thread.startswith(f"{user.platform}:") and thread.endswith(f":{user.user_id}"):
                await self._checkpointer.adelete_thread(thread)

    def is_admin(self, user: UserKey) -> bool:
        """Admins are listed per platform in config (`telegram.admins`, `slack.admins`)."""
        section = getattr(self.config, user.platform, None)
        return user.user_id in {str(a) for a in getattr(section, "admins", [])}

    def _stats_text(self, stats: Stats) -> str:
        assert self.recommender is not None
        top = ", ".join(f"{(item.name if (item := self.recommender.item(i)) else i)} ({n})" for i, n in stats.top_items) or "none yet"
        model = self.serving_version or "popularity only"
        return (
            f"Users: {stats.users}\nMessages: {stats.messages}\nLikes: {stats.likes}  Dislikes: {stats.dislikes}\nTop liked: {top}\n"
            f"Model: {model}"
        )

    def stats_chart(self) -> bytes:
        """PNG: likes and dislikes per day, and the held-out metric of each stored model version."""
        metric = f"{GATE_METRIC}@{self.config.training.k}"
        versions = [(v.name, (v.info.get("metrics") or {}).get(metric)) for v in self.models.versions()]
        return stats_chart(self.log.reactions_per_day(), versions, metric)
