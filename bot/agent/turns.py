"""One text turn through the agent: per-conversation ordering, a time limit, and the reply read back from what the
tools returned (never from what the model claims)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from langchain_core.messages import AIMessage, HumanMessage, ToolMessage

from bot.agent.ordering import ConversationOrder
from bot.agent.tools import ITEM_TOOLS, TurnContext
from bot.config import BotConfig
from bot.learning.feedback import FeedbackLog, UserKey
from bot.memory import ConversationMemory
from bot.messages import ItemCard, Reply
from bot.models.base import LANG_KEY
from bot.models.replies import compose_reply
from bot.understanding.grounding import ground_text
from bot.understanding.lang import Language
from recsys.catalogue.items import Item

log = logging.getLogger(__name__)


class TurnRunner:
    """Runs the agent for one message of one conversation; other conversations run concurrently."""

    def __init__(self, agent: Any, config: BotConfig, feedback: FeedbackLog, catalogue: Callable[[], dict[str, Item]]) -> None:
        self.agent = agent
        self.config = config
        self.feedback = feedback
        self.catalogue = catalogue
        self.order = ConversationOrder(feedback.engine)

    async def run(self, user: UserKey, thread: str, text: str, lang: Language) -> Reply:
        run_config = ConversationMemory.run_config(thread, user, self.config.llm.max_steps * 2 + 1)
        context = TurnContext(user=user, k=self.config.recommend.k, lang=lang)
        async with self.order.turn(thread):  # one turn at a time per conversation, across workers too
            await asyncio.to_thread(self.feedback.record, user, "message")
            try:
                result = await asyncio.wait_for(
                    self.agent.ainvoke(
                        {"messages": [HumanMessage(text, additional_kwargs={LANG_KEY: lang.code})]}, run_config, context=context
                    ),
                    timeout=self.config.llm.turn_timeout_s,
                )
            except TimeoutError:
                log.warning("turn timed out after %ss for %s", self.config.llm.turn_timeout_s, user)
                return Reply(text=lang.say("timeout"), error="timeout")
        reply = self.reply_from(result["messages"], lang)
        if reply.items:
            await asyncio.to_thread(self.feedback.record, user, "shown", [i.id for i in reply.items])
        return reply

    def reply_from(self, messages: list[Any], lang: Language) -> Reply:
        """The turn's items come from its last tool result with items; its words from the model, when grounded."""
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
            text = compose_reply(tool_messages, lang)
        shown = {c["id"] for m in messages if isinstance(m, ToolMessage) and m.artifact for c in m.artifact}
        # the item a tool was asked about ("what goes with MH01-Black") may be named too, as the list's title does
        shown |= {str(c["args"]["item_id"]) for m in turn if isinstance(m, AIMessage) for c in m.tool_calls if c["args"].get("item_id")}
        text = ground_text(text, shown, self.catalogue(), fallback=lambda: compose_reply(tool_messages, lang))
        return Reply(text=text, items=items, language=lang.code)
