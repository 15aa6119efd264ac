"""The base of our own chat models: each makes the next message with `respond(messages)`; the prompt or the code knows
the tools, so `bind_tools` returns the model itself."""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence
from typing import Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from langchain_core.outputs import ChatGeneration, ChatResult

from bot.understanding.lang import Language, language

LANG_KEY = "lang"  # a HumanMessage's additional_kwargs: the language the message is in (set by the service)


def message_language(messages: Sequence[BaseMessage]) -> Language:
    """The language of the latest human message in the conversation."""
    for msg in reversed(messages):
        if isinstance(msg, HumanMessage):
            return language(msg.additional_kwargs.get(LANG_KEY))
    return language(None)


class RespondingChatModel(BaseChatModel):
    """A chat model of ours whose `respond(messages)` makes the next message; the prompt or the code knows the tools."""

    def bind_tools(self, tools: Sequence[Any], **kwargs: Any) -> RespondingChatModel:  # type: ignore[override]
        return self

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return ChatResult(generations=[ChatGeneration(message=self.respond(messages))])

    @abstractmethod
    def respond(self, messages: list[BaseMessage]) -> AIMessage:
        """The next message of the conversation."""
