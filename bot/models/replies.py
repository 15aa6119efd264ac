"""A reply worded from the turn's tool results alone: every item it names came from a tool."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.messages import BaseMessage, HumanMessage, ToolMessage

from bot.understanding.lang import Language


def turn_tool_messages(messages: Sequence[BaseMessage]) -> list[ToolMessage]:
    """The tool results since the latest human message."""
    out: list[ToolMessage] = []
    for msg in reversed(messages):
        if isinstance(msg, HumanMessage):
            break
        if isinstance(msg, ToolMessage):
            out.insert(0, msg)
    return out


def tool_json(msg: ToolMessage) -> dict[str, Any]:
    """A tool result's JSON object; {} for anything else."""
    try:
        data = json.loads(msg.content) if isinstance(msg.content, str) else {}
    except json.JSONDecodeError:
        return {}
    return data if isinstance(data, dict) else {}


def compose_reply(tool_messages: Sequence[ToolMessage], lang: Language) -> str:
    """Word a reply from tool results only, in the shopper's language."""
    if not tool_messages:
        return lang.say("lookup_failed")
    data = tool_json(tool_messages[-1])
    if "error" in data:
        return lang.say("tool_error", error=data["error"])
    if "item" in data:
        item = data["item"]
        head = lang.item_line(None, item["name"], item.get("color"), item.get("price"), item["id"], item.get("currency", "USD"))
        lines = [head, item.get("description", "")]
        lines += [lang.attribute_line(k, v) for k, v in item.get("attributes", {}).items()]
        return "\n".join(line for line in lines if line)
    items = data.get("items", [])
    constraints = data.get("constraints") or ""
    note = [data["note"]] if data.get("note") else []  # e.g. a budget in another currency, taken in the shop's
    if not items:
        return "\n".join([*note, lang.nothing_fits(constraints)])
    lines = [*note, lang.results_head(len(items), data.get("title", ""), constraints)]
    for item in items:
        line = lang.item_line(item["n"], item["name"], item.get("color"), item.get("price"), item["id"], data.get("currency", "USD"))
        lines.append(f"{line}\n   {item['reason']}")
    return "\n".join(lines)
