"""Tolerant parsing of tool calls from a small model's raw text.

Small instruct models answer tool calls in several shapes; all of these are read as calls:
- Qwen's native `<tool_call>{"name": ..., "arguments": {...}}</tool_call>` blocks;
- a fenced ```json block (what Qwen2.5 does most often with its own template), holding one call or a list;
- a bare JSON object in the text;
- keys spelled `name`/`tool`/`function`, `arguments`/`args`/`parameters`/`input`, OpenAI's nested
  `{"function": {"name", "arguments": "<json string>"}}`, and JSON with Python literals or trailing commas.
Anything else is plain text.
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass, field
from typing import Any

_TOOL_CALL_TAG = re.compile(r"<tool_call>\s*(.*?)\s*(?:</tool_call>|$)", re.S)
_FENCE = re.compile(r"```[a-zA-Z0-9_-]*\s*\n?(.*?)(?:```|$)", re.S)
_NAME_KEYS = ("name", "tool", "tool_name", "function", "action")
_ARG_KEYS = ("arguments", "args", "parameters", "params", "input", "action_input")


@dataclass
class ParsedCall:
    name: str
    args: dict[str, Any] = field(default_factory=dict)


@dataclass
class Parsed:
    calls: list[ParsedCall]
    text: str  # what is left once the calls are taken out


def loads_lenient(raw: str) -> Any:
    """JSON, or JSON-ish: trailing commas, single quotes, Python's True/False/None. Raises ValueError."""
    raw = raw.strip()
    try:
        return json.loads(raw)
    except json.JSONDecodeError:
        pass
    fixed = re.sub(r",\s*([}\]])", r"\1", raw)
    try:
        return json.loads(fixed)
    except json.JSONDecodeError:
        pass
    try:
        return ast.literal_eval(re.sub(r"\btrue\b", "True", re.sub(r"\bfalse\b", "False", re.sub(r"\bnull\b", "None", fixed))))
    except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
        raise ValueError(f"not JSON: {raw[:80]!r}") from exc


def _first_json_value(text: str) -> tuple[Any, int, int] | None:
    """The first balanced {...} or [...] in `text` that parses, with its span."""
    for start, ch in enumerate(text):
        if ch not in "{[":
            continue
        depth, in_str, quote, escaped = 0, False, "", False
        for end in range(start, len(text)):
            c = text[end]
            if in_str:
                if escaped:
                    escaped = False
                elif c == "\\":
                    escaped = True
                elif c == quote:
                    in_str = False
                continue
            if c in "\"'":
                in_str, quote = True, c
            elif c in "{[":
                depth += 1
            elif c in "}]":
                depth -= 1
                if depth == 0:
                    try:
                        return loads_lenient(text[start : end + 1]), start, end + 1
                    except ValueError:
                        break
    return None


def _as_calls(value: Any) -> list[ParsedCall]:
    if isinstance(value, list):
        return [call for v in value for call in _as_calls(v)]
    if not isinstance(value, dict):
        return []
    if isinstance(value.get("tool_calls"), list):
        return _as_calls(value["tool_calls"])
    name: Any = None
    for key in _NAME_KEYS:
        if key in value:
            name = value[key]
            break
    args: Any = None
    for key in _ARG_KEYS:
        if key in value:
            args = value[key]
            break
    if isinstance(name, dict):  # OpenAI: {"type": "function", "function": {"name": ..., "arguments": "..."}}
        inner = _as_calls(name)
        return inner
    if not isinstance(name, str) or not name.strip():
        return []
    if isinstance(args, str):
        try:
            args = loads_lenient(args) if args.strip() else {}
        except ValueError:
            args = {}
    if args is None:
        args = {k: v for k, v in value.items() if k not in (*_NAME_KEYS, "type", "id")}
    return [ParsedCall(name.strip(), args if isinstance(args, dict) else {})]


def parse_tool_calls(raw: str) -> Parsed:
    """Tool calls in `raw` (native tags, fenced JSON or bare JSON) and the remaining text."""
    text = raw or ""
    calls: list[ParsedCall] = []
    for pattern in (_TOOL_CALL_TAG, _FENCE):
        found = False
        for match in pattern.finditer(text):
            value = _first_json_value(match.group(1))
            if value is not None:
                got = _as_calls(value[0])
                if got:
                    calls.extend(got)
                    found = True
        if found:
            text = pattern.sub("", text)
            return Parsed(calls, text.strip())
    value = _first_json_value(text)
    if value is not None:
        got = _as_calls(value[0])
        if got:
            return Parsed(got, (text[: value[1]] + text[value[2] :]).strip())
    return Parsed([], text.strip())
