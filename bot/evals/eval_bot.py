"""A bot started for a benchmark: on a private copy of the user's index and a temporary data dir, so an evaluation
never touches the user's memory or feedback, with the local LLM's assembled weights linked rather than joined again."""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import BotConfig

if TYPE_CHECKING:
    from bot.service import BotService


@asynccontextmanager
async def eval_bot(config: BotConfig, provider: str) -> AsyncIterator[tuple[BotService, float | None]]:
    """(the started bot, seconds until the local model was ready, None for other providers)."""
    from bot.service import BotService

    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        indexed = config.storage.root / "chroma"
        if indexed.is_dir():
            shutil.copytree(indexed, data / "chroma")  # reuse the user's index; the eval's state stays apart
        for weights in (config.storage.root / "models").glob("*.gguf*"):  # the assembled local LLM: link, don't join 1 GB again
            (data / "models").mkdir(exist_ok=True)
            (data / "models" / weights.name).symlink_to(weights.resolve())
        run_config = config.model_copy(
            update={
                "storage": config.storage.model_copy(update={"dir": data, "events_url": None}),
                "llm": config.llm.model_copy(update={"provider": provider}),
            }
        )
        service = BotService(run_config)
        await service.start(progress=True)
        ready_s = None
        try:
            if provider == "local":  # turn latency is measured on a started bot; the start-up is reported apart
                from bot.models.local.chat import LlamaRunner

                ready_s = await asyncio.to_thread(LlamaRunner.wait_ready, 900)
            yield service, ready_s
        finally:
            await service.close()
