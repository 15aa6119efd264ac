"""Chat model providers: `rules` (offline, ours), `local` (llama.cpp, bot/local_llm.py) and `openai` (any OpenAI-compatible server)."""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from pathlib import Path

from langchain_core.language_models import BaseChatModel

from bot.config import ConfigError, LLMConfig
from bot.models.rules import RulesChatModel
from bot.understanding.vocabulary import Vocabulary

DEFAULT_MODELS_DIR = Path("~/.local/share/recbot/models").expanduser()


def make_chat_model(
    config: LLMConfig,
    vocabulary: Vocabulary,
    known_ids: Callable[[], Collection[str]],
    models_dir: Path | None = None,
    examples: Path | None = None,
) -> BaseChatModel:
    if config.provider == "rules":
        return RulesChatModel(vocabulary=vocabulary, known_ids=known_ids)
    if config.provider == "local":
        from bot.models.local.chat import LocalChatModel
        from bot.models.local.examples import examples_for

        model = LocalChatModel(
            vocabulary=vocabulary,
            known_ids=known_ids,
            config=config,
            models_dir=models_dir or DEFAULT_MODELS_DIR,
            examples=examples_for(examples, vocabulary),
        )
        model.start_loading()  # off the event loop, once per process; a turn arriving earlier waits or falls back
        return model
    if config.provider == "openai":
        from langchain_openai import ChatOpenAI

        key = os.environ.get("OPENAI_API_KEY")
        if not key and not config.base_url:
            raise ConfigError("llm.provider is 'openai' but OPENAI_API_KEY is not set (or set llm.base_url for a self-hosted server)")
        return ChatOpenAI(
            model=config.model,
            base_url=config.base_url,
            api_key=key or "not-needed",  # self-hosted servers (vLLM, llama-server) often need none
            temperature=config.temperature,
            timeout=config.turn_timeout_s,
            max_retries=2,
        )
    raise ConfigError(f"llm.provider: unknown provider {config.provider!r}")
