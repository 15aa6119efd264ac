"""The needs and complements suites on the `openai` provider, answered by the fake OpenAI server on 127.0.0.1 with each
line's scripted tool call (what a strong model would call, written with the suite): what the bot makes of good calls.

    .venv/bin/python scripts/eval_scripted_openai.py --suite needs|complements [--storage DIR] [--json]

The storage folder's index is reused when it has one (RECBOT_STORAGE__DIR, default ~/.local/share/recbot).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adapters.config import Config, load_config
from bot.evals import kinds
from tests.fakes.openai_api import FakeOpenAI, completion, tool_call


def responder(suite: list[dict[str, Any]]):
    """A user message gets its line's scripted call; a tool result gets a short lead-in (the items are the tool's)."""
    by_message = {case["message"]: case["openai"] for case in suite}

    def answer(body: dict[str, Any]) -> dict[str, Any]:
        last = body["messages"][-1]
        if last["role"] == "user" and last.get("content") in by_message:
            call = by_message[last["content"]]
            return tool_call(call["name"], call["args"])
        return completion({"content": "Here are a few ideas from the shop."})

    return answer


async def main(args: argparse.Namespace) -> dict[str, Any]:
    suite = kinds.load_suite(args.suite)
    answer = responder(suite)
    config: Config = load_config(None)
    if args.storage:
        config = config.model_copy(update={"storage": config.storage.model_copy(update={"dir": args.storage})})
    async with FakeOpenAI([answer] * (len(suite) * 8)) as server:
        os.environ.setdefault("OPENAI_API_KEY", "scripted")
        config = config.model_copy(update={"llm": config.llm.model_copy(update={"base_url": server.base_url})})
        return await kinds.evaluate(config, "openai", args.suite)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["needs", "complements"], required=True)
    parser.add_argument("--storage", type=Path, default=None)
    parser.add_argument("--json", action="store_true")
    parsed = parser.parse_args()
    result = asyncio.run(main(parsed))
    print(json.dumps(result, indent=None if parsed.json else 2, ensure_ascii=False))
