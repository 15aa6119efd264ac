"""Slash commands: /help, /reset, /forget, /like and /dislike for everyone; /stats and /retrain for the admins listed
per platform in config."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Collection, Mapping

from bot.admin.charts import stats_chart
from bot.learning.feedback import FeedbackLog, UserKey
from bot.learning.serving import ServingModel
from bot.learning.training import GATE_METRIC
from bot.memory import ConversationMemory
from bot.messages import Command, Feedback, Reply
from bot.profile.store import ProfileStore
from bot.understanding.lang import Language
from recsys.catalogue.items import Item

log = logging.getLogger(__name__)

FeedbackHandler = Callable[[UserKey, Feedback, Language], Awaitable[Reply]]
CONFIRM = frozenset({"yes", "y", "confirm", "确认", "确定", "是", "是的"})  # `/forget yes` in either language


class Commands:
    """Answers one command for one user; erasure and retraining go through the memory and the serving model."""

    def __init__(
        self,
        memory: ConversationMemory,
        feedback: FeedbackLog,
        cf: ServingModel,
        item: Callable[[str], Item | None],
        admins: Mapping[str, Collection[str]],
        on_feedback: FeedbackHandler,
        profiles: ProfileStore,
        currency: Callable[[], str],
    ) -> None:
        self.memory = memory
        self.feedback = feedback
        self.cf = cf
        self.item = item
        self.admins = admins
        self.on_feedback = on_feedback
        self.profiles = profiles
        self.currency = currency

    async def run(self, user: UserKey, command: Command, thread: str, lang: Language, example_id: str, private: bool = True) -> Reply:
        match command.name:
            case "help" | "start":
                return Reply(text=lang.say("help"))
            case "reset":
                await self.memory.delete(thread)
                return Reply(text=lang.say("reset_done"))
            case "forget":
                answer = command.args.strip().lower()
                if answer not in CONFIRM:  # erasure is for good: asked first, and only ever of the caller's own data
                    return Reply(text=lang.say("forget_own_only" if answer else "forget_confirm"), error="confirm_needed")
                await self.memory.forget(user)
                removed = await asyncio.to_thread(self.feedback.forget, user)
                await asyncio.to_thread(self.profiles.forget, user)
                await asyncio.to_thread(self.cf.forget, user)
                return Reply(text=lang.say("forgot", events=removed))
            case "profile":
                return Reply(text=lang.profile_view(await asyncio.to_thread(self.profiles.get, user), self.currency()))
            case "link" | "unlink":
                return await self.link(user, command, lang, private)
            case "like" | "dislike":
                if not command.args.strip():
                    return Reply(text=lang.say("which_item_for", command=command.name, example=example_id), error="missing_argument")
                return await self.on_feedback(user, Feedback(command.name, command.args.split()[0]), lang)
            case "stats" | "retrain":
                if not self.is_admin(user):
                    log.warning("admin command /%s refused for %s", command.name, user)
                    return Reply(text=lang.say("admins_only"), error="not_allowed")
                if command.name == "stats":
                    chart = await asyncio.to_thread(self.stats_chart)
                    return Reply(text=await asyncio.to_thread(self.stats_text, lang), attachment=chart, attachment_name="stats.png")
                result = await asyncio.to_thread(self.cf.retrain)
                return Reply(text=lang.say("retrained", summary=result.summary()))
            case _:
                return Reply(text=lang.unknown_command(command.name), error="unknown_command")

    async def link(self, user: UserKey, command: Command, lang: Language, private: bool) -> Reply:
        """/link → a one-time code; /link CODE on another account → both share one profile; /unlink → stop."""
        if command.name == "unlink":
            done = await asyncio.to_thread(self.profiles.unlink, user)
            return Reply(text=lang.say("link.unlinked" if done else "link.not_linked"))
        if code := command.args.strip():
            giver = await asyncio.to_thread(self.profiles.link, user, code)
            if giver is None:
                log.info("link code refused for %s", user)
                return Reply(text=lang.say("link.bad_code"), error="bad_link_code")
            log.info("linked %s to %s", user, giver)
            platform = lang.sentences.get(f"platform.{giver.platform}", giver.platform)
            return Reply(text=lang.say("link.done", platform=platform))
        if not private:
            return Reply(text=lang.say("link.private_only"), error="not_private")  # others in a group could use the code
        return Reply(text=lang.say("link.code", code=await asyncio.to_thread(self.profiles.links.issue, user)))

    def is_admin(self, user: UserKey) -> bool:
        return user.user_id in self.admins.get(user.platform, ())

    def stats_text(self, lang: Language) -> str:
        stats = self.feedback.stats()
        top = [((item.name if (item := self.item(i)) else i), n) for i, n in stats.top_items]
        return lang.stats(stats.users, stats.messages, stats.likes, stats.dislikes, top, self.cf.version)

    def stats_chart(self) -> bytes:
        """PNG: likes and dislikes per day, and the held-out metric of each stored model version."""
        metric = f"{GATE_METRIC}@{self.cf.config.k}"
        versions = [(v.name, (v.info.get("metrics") or {}).get(metric)) for v in self.cf.models.versions()]
        return stats_chart(self.feedback.reactions_per_day(), versions, metric)
