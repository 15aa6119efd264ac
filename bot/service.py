"""`BotService`: the bot every adapter talks to (it implements `bot.handler.Handler`). It wires the catalogue, the
models, the agent and its memory at start, then answers each `Incoming` with one `Reply`: commands, feedback, photos
and voice notes are turned into text turns or answered directly."""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import Collection, Mapping

from langgraph.checkpoint.base import BaseCheckpointSaver
from PIL import Image

from bot.admin.commands import Commands
from bot.agent.graph import build_agent
from bot.agent.photos import PhotoVectors
from bot.agent.tools import build_tools
from bot.agent.turns import TurnRunner
from bot.catalogue_setup import open_catalogue
from bot.config import BotConfig
from bot.deliveries import Deliveries
from bot.languages import LanguagePicker
from bot.learning.demo_history import seed_for_config
from bot.learning.feedback import FeedbackLog, UserKey
from bot.learning.scheduler import FOLLOW_SECONDS, TrainingScheduler
from bot.learning.serving import ServingModel
from bot.media import read_photo, transcribe
from bot.memory import ConversationMemory
from bot.messages import Feedback, Incoming, Reply
from bot.models.providers import make_chat_model
from bot.models.rules import RulesChatModel
from bot.profile.store import ProfileStore
from bot.understanding.constraints import parse
from bot.understanding.lang import DEFAULT, Language
from bot.understanding.statements import attribute_words, reaction, read_statements
from bot.understanding.typed_text import clean, looks_like_code, negative_amount
from bot.understanding.vocabulary import Vocabulary
from bot.voice.errors import SpeechError
from bot.voice.hints import catalogue_hints
from bot.voice.speech import SpeechToText
from recsys.catalogue.items import DEMO_EXAMPLES, Item
from recsys.catalogue.sanitise import speaks_to_a_model
from recsys.cf.scorer import CFScorer
from recsys.encoders.image import ClipImageEncoder, ImageEncoder
from recsys.encoders.images import ImageError
from recsys.encoders.text import SentenceEncoder
from recsys.ranking.recommender import Recommender, RecommenderSettings
from recsys.ranking.weights import Weights
from recsys.store.chroma import ItemStore

log = logging.getLogger(__name__)
ASKS_FOR_ITEMS = {"search", "refine", "cheaper", "pricier", "more_like", "details", "more_results", "recommend"}


class BotService:
    """Owns the recommender, the feedback log, the serving CF model, the agent and its memory."""

    def __init__(self, config: BotConfig, admins: Mapping[str, Collection[str]] | None = None) -> None:
        self.config = config
        self.root = config.storage.root
        self.log = FeedbackLog(config.storage.resolved_events_url())
        self.admins = {platform: {str(a) for a in ids} for platform, ids in (admins or {}).items()}
        self.recommender: Recommender | None = None
        self.vocabulary: Vocabulary | None = None
        self.photos = PhotoVectors(self.root / "photos", self.log.engine if config.storage.events_url else None)
        models = config.storage.models_dir.expanduser() if config.storage.models_dir else self.root / "models" / "cf"
        self.cf = ServingModel(config.training, self.log, models, self._known_items)
        self.memory = ConversationMemory(self.root / "memory.sqlite", config.storage.memory_url)
        self.profiles = ProfileStore(self.log.engine)
        self.deliveries = Deliveries(self.log.engine)
        self.materials: frozenset[str] = frozenset()  # the catalogue's attribute words, for "I'm allergic to wool"
        self.commands = Commands(self.memory, self.log, self.cf, self.item, self.admins, self._feedback, self.profiles, self._currency)
        self._turns: TurnRunner | None = None
        self._warming: asyncio.Task[None] | None = None
        self._following: asyncio.Task[None] | None = None
        self._saver: BaseCheckpointSaver | None = None
        self.languages = LanguagePicker(config.chat.languages)

    # -- life cycle ----------------------------------------------------------------------------
    async def start(self, progress: bool = True) -> None:
        """Index the catalogue on first run (reused afterwards), load or train CF, open memory, schedule retraining."""
        self.root.mkdir(parents=True, exist_ok=True)
        store, text_encoder, image_encoder = await asyncio.to_thread(open_catalogue, self.config, progress)
        self.recommender = self._recommender(store, text_encoder, image_encoder)
        await asyncio.to_thread(seed_for_config, self.config, self.log, store.all_items().values())
        await asyncio.to_thread(self.cf.serve, self.recommender)
        self._saver = await self.memory.open()
        await self._serve_catalogue()
        if self.config.training.enabled:
            self.cf.start_schedule()
        if self.config.storage.chroma_url:  # another worker may ingest into the shared store
            self._following = asyncio.create_task(self._follow_catalogue_forever())
        # the photos' vectors and category model in memory before the first photo arrives (not awaited: text turns
        # do not wait for it, and a photo that comes sooner simply does the same work itself)
        self._warming = asyncio.create_task(asyncio.to_thread(self._warm_photos))

    def _recommender(self, store: ItemStore, text_encoder: SentenceEncoder, image_encoder: ImageEncoder | ClipImageEncoder) -> Recommender:
        rc = self.config.recommend
        weights = Weights(content=rc.weight_content, cf=rc.weight_cf, feedback=rc.weight_feedback)
        settings = RecommenderSettings(candidates=rc.candidates, max_per_product=rc.max_per_product, weights=weights)
        return Recommender(store, text_encoder, image_encoder, CFScorer(), settings)

    async def _serve_catalogue(self) -> None:
        """Everything built from the catalogue's items: its words, the chat model's prompt, the tools and the agent."""
        assert self.recommender is not None and self._saver is not None
        items = self.recommender.store.all_items().values()
        self.vocabulary = Vocabulary.from_items(items, currency=self.config.catalogue.currency)
        self.materials = attribute_words(items)
        SpeechToText.shared(self.config).hints = catalogue_hints(self.vocabulary)  # Whisper hears the shop's own words
        await asyncio.to_thread(self.languages.warm_up, self.vocabulary)  # word lists and dictionaries, before a user waits
        catalogue = self.config.catalogue
        examples = catalogue.examples or (DEMO_EXAMPLES if catalogue.path is None else None)
        model = make_chat_model(self.config.llm, self.vocabulary, self._known_items, self.root / "models", examples)
        fallback = None if isinstance(model, RulesChatModel) else RulesChatModel(vocabulary=self.vocabulary, known_ids=self._known_items)
        tools = build_tools(self.recommender, self.log, self.vocabulary, self.photos, self.profiles)
        agent = build_agent(model, tools, self._saver, self.config.llm.history_messages, fallback)
        self._turns = TurnRunner(agent, self.config, self.log, self.recommender.store.all_items)

    async def follow_catalogue(self) -> bool:
        """Serve what another worker ingested into the shared item store since this one looked; True if it changed."""
        assert self.recommender is not None
        old = self.recommender
        if not await asyncio.to_thread(old.store.follow):
            return False
        fresh = self._recommender(old.store, old.text_encoder, old.image_encoder)  # its priors come from the new items
        self.cf.hand_over(fresh)
        self.recommender = fresh
        await self._serve_catalogue()
        log.info("catalogue changed on the item store: now serving %d items", len(self._known_items()))
        return True

    async def _follow_catalogue_forever(self) -> None:
        while True:
            await asyncio.sleep(FOLLOW_SECONDS)
            try:
                await self.follow_catalogue()
            except Exception:  # the server away for a moment: keep serving what we have, look again later
                log.exception("could not look for catalogue changes on the item store")

    def _warm_photos(self) -> None:
        assert self.recommender is not None
        try:
            if self.recommender.store.image_rows().items:
                self.recommender.photo_ranker.category_model()
                self.recommender.encode_image(Image.new("RGB", (64, 64), (128, 90, 60)))  # the encoder's and OCR's first run
        except Exception:  # a warm-up must never take the bot down; the first photo will say what is wrong
            log.exception("warming up the photo search failed")

    async def close(self) -> None:
        if self._following is not None:
            self._following.cancel()
        if self._warming is not None:
            await self._warming  # a thread cannot be cancelled: let it finish before the store goes
        self.cf.stop_schedule()
        await self.memory.close()

    async def __aenter__(self) -> BotService:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    @property
    def serving_version(self) -> str | None:
        return self.cf.version

    @property
    def scheduler(self) -> TrainingScheduler | None:
        return self.cf.scheduler

    def _known_items(self) -> Collection[str]:
        assert self.recommender is not None
        return self.recommender.store.all_items().keys()

    def item(self, item_id: str) -> Item | None:
        return self.recommender.item(item_id) if self.recommender is not None else None

    async def first_delivery(self, key: str) -> bool:
        return await asyncio.to_thread(self.deliveries.first_time, key)

    def item_photo(self, item_id: str) -> str | None:
        item = self.item(item_id)
        return item.image if item is not None else None

    def _example_id(self) -> str:
        """An id to show in "e.g. /like ID" hints: one of this catalogue's own."""
        return min(self._known_items(), default="ID")

    # -- the one entry point ---------------------------------------------------------------------------------
    async def handle(self, incoming: Incoming) -> Reply:
        """Answer one message; never raises for anything a user can send."""
        incoming = dataclasses.replace(incoming, text=clean(incoming.text))  # one normal form, whatever the platform
        user = UserKey(incoming.platform, incoming.user_id)
        conversation = self.thread_id(incoming)
        words = incoming.text if incoming.command is None and incoming.feedback is None and incoming.voice is None else ""
        found = self.languages.of_text(conversation, words, incoming.language) if words.strip() else None
        if words.strip() and found is None:
            return Reply(text=self.languages.unsupported(), error="unsupported_language", language=DEFAULT.code)
        lang = found or self.languages.of_conversation(conversation, incoming.language)
        try:
            reply = await self._dispatch(user, incoming, lang)
        except Exception:
            log.exception("turn failed for %s", user)
            reply = Reply(text=lang.say("internal_error"), error="internal")
        reply.language = reply.language or lang.code  # a voice note's reply is in the language it was spoken in
        return reply

    async def _dispatch(self, user: UserKey, incoming: Incoming, lang: Language) -> Reply:
        if incoming.command is None and not self._known_items():
            return Reply(text=lang.say("empty_catalogue"), error="empty_catalogue")
        if incoming.command is None:
            await asyncio.to_thread(self.cf.catch_up_user, user)  # a 👍 this user gave through another worker
        if incoming.command is not None:
            return await self.commands.run(user, incoming.command, self.thread_id(incoming), lang, self._example_id(), incoming.private)
        if incoming.feedback is not None:
            return await self._feedback(user, incoming.feedback, lang, incoming)
        if incoming.photos:
            return await self._photo(user, incoming, lang)
        if incoming.voice is not None:
            return await self._voice(user, incoming, lang)
        return await self._text(user, incoming, incoming.text, lang)

    def thread_id(self, incoming: Incoming) -> str:
        return f"{incoming.platform}:{incoming.conversation_id or incoming.user_id}:{incoming.user_id}"

    async def _text(self, user: UserKey, incoming: Incoming, text: str, lang: Language, note: str = "") -> Reply:
        text, cut = self._cut(text)
        assert self._turns is not None and self.vocabulary is not None
        if not text:
            return Reply(text=lang.say("empty_message", **self.vocabulary.shop_words(lang)), error="empty")
        if looks_like_code(text):
            log.info("code-like message from %s not searched", user)
            return Reply(text=lang.say("code_like", **self.vocabulary.shop_words(lang)), error="not_a_request")
        if speaks_to_a_model(text):  # "ignore all previous instructions…": a shop assistant just says what it does
            log.info("message from %s addressed to a model, not a shop", user)
            return Reply(text=lang.say("offtopic", **self.vocabulary.shop_words(lang)), error="not_a_request")
        if negative_amount(text, *lang.money(self.vocabulary.currency)):
            return Reply(text=lang.say("negative_price"), error="bad_price")
        reacted = await self._reaction(user, incoming, text, lang)
        if reacted is not None:
            return reacted
        changes, rest = read_statements(text, self.vocabulary, lang, self.materials)
        if changes:  # stored before it is acknowledged, like feedback
            await asyncio.to_thread(self.profiles.update, user, changes)
            ack = lang.profile_noted(changes, self.vocabulary.currency)
            log.info("stated profile of %s: %d change(s)", user, len(changes))
            if parse(rest, self.vocabulary, (), lang).intent not in ASKS_FOR_ITEMS:
                return Reply(text=ack)
            note = f"{ack}\n{note}".strip()
        reply = await self._turns.run(user, self.thread_id(incoming), text, lang)
        if cut:
            reply.text = f"{lang.say('cut_message', limit=self.config.chat.max_text_chars)}\n{reply.text}"
        if note:
            reply.text = f"{note}\n{reply.text}"
        return reply

    async def _reaction(self, user: UserKey, incoming: Incoming, text: str, lang: Language) -> Reply | None:
        """ "love it" in reply to a card, or "ugh, the second one is too flashy": feedback on that item."""
        action = reaction(text, lang)
        if action is None:
            return None
        answered = list(incoming.reply_to_items)
        target = answered[0] if len(answered) == 1 else None  # a reply to one card is about that card
        if target is None:
            ordinal = parse(text, self.vocabulary, (), lang).ordinal  # type: ignore[arg-type]
            if ordinal is not None and not answered:
                answered = await asyncio.to_thread(self.log.last_shown, user)  # "the second one": of the latest list
            target = answered[ordinal] if ordinal is not None and -len(answered) <= ordinal < len(answered) else None
        item = self.item(target) if target else None
        if item is None:
            return None
        await asyncio.to_thread(self.log.record, user, action, [item.id])  # type: ignore[arg-type]
        await asyncio.to_thread(self.cf.refresh, [user])
        return Reply(text=lang.say(f"reaction.noted_{action}", name=item.name, color=lang.color_name(item.color)))

    def _currency(self) -> str:
        return self.vocabulary.currency if self.vocabulary is not None else self.config.catalogue.currency

    def _cut(self, text: str) -> tuple[str, bool]:
        text = clean(text).strip()
        limit = self.config.chat.max_text_chars
        return (text[:limit], True) if len(text) > limit else (text, False)

    async def _photo(self, user: UserKey, incoming: Incoming, lang: Language) -> Reply:
        assert self.recommender is not None and self._turns is not None
        try:  # platforms send sizes smallest first; the last is the largest
            tag = await read_photo(incoming.photos[-1], self.recommender, self.photos)
        except ImageError as exc:
            log.info("unusable photo from %s: %s", user, exc.code)
            return Reply(text=lang.image_problem(exc.code, exc.data), error="bad_image")
        caption, cut = self._cut(incoming.text)
        if looks_like_code(caption) or negative_amount(caption, *lang.money(self._currency())):
            caption = ""  # the photo alone is the request; what the caption said gets no say in it
        reply = await self._turns.run(user, self.thread_id(incoming), f"{tag} {caption}".strip(), lang)
        if cut:
            reply.text = f"{lang.say('cut_caption', limit=self.config.chat.max_text_chars)}\n{reply.text}"
        return reply

    async def _voice(self, user: UserKey, incoming: Incoming, lang: Language) -> Reply:
        """Transcribe off the event loop, then treat the words exactly as typed text."""
        assert incoming.voice is not None
        try:
            transcript = await transcribe(self.config, incoming.voice, incoming.voice_mime)
        except SpeechError as exc:
            return Reply(text=lang.speech_problem(exc.reason, exc.data), error="bad_audio")
        spoken = self.languages.of_text(self.thread_id(incoming), transcript.text, incoming.language, transcript.language)
        if spoken is None:
            return Reply(text=self.languages.unsupported(), error="unsupported_language", transcript=transcript.text, language="en")
        reply = await self._text(user, incoming, transcript.text, spoken, note=spoken.say("heard", transcript=transcript.text))
        reply.transcript, reply.language = transcript.text, spoken.code
        return reply

    async def _feedback(self, user: UserKey, fb: Feedback, lang: Language, incoming: Incoming | None = None) -> Reply:
        item = self.item(fb.item_id.strip())
        if item is None:
            log.info("feedback %s on unknown item %r from %s", fb.action, fb.item_id, user)
            return Reply(text=lang.say("unknown_item", item_id=fb.item_id, example=self._example_id()), error="unknown_item")
        await asyncio.to_thread(self.log.record, user, fb.action, [item.id])  # stored before we acknowledge
        await asyncio.to_thread(self.cf.refresh, [user])
        if fb.action == "more_like_this":
            assert self._turns is not None
            thread = self.thread_id(incoming or Incoming(user_id=user.user_id, platform=user.platform))
            return await self._turns.run(user, thread, lang.more_like_request(item.name, item.id), lang)
        return Reply(text=lang.reaction(fb.action, item.name, item.color))
