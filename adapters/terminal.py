"""The terminal chat: the embedded default, with no tokens and no network.

Interactive by default; with `--json`, every stdin line gets exactly one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shlex
import sys
from pathlib import Path
from typing import TextIO

from bot.handler import Handler
from bot.messages import Command, Incoming, Reply
from bot.understanding.lang import DEFAULT as LANG

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 50 * 1024 * 1024


def parse_line(line: str, user_id: str) -> Incoming | Reply:
    """A typed line → `Incoming`; `/photo` and `/voice` read their file here, at the platform edge."""
    stripped = line.strip()
    if not stripped.startswith("/"):
        return Incoming(user_id=user_id, text=line)
    name, _, args = stripped[1:].partition(" ")
    name = name.lower()
    if name in {"photo", "voice"}:
        try:
            parts = shlex.split(args)
        except ValueError:
            parts = args.split()
        if not parts:
            return Reply(text=LANG.usage(name), error="missing_argument")
        path = Path(parts[0]).expanduser()
        try:
            size = path.stat().st_size
            if size > MAX_FILE_BYTES:
                return Reply(text=LANG.say("path_too_large", path=str(path), megabytes=size // (1024 * 1024)), error="file_too_large")
            data = path.read_bytes()
        except OSError as exc:
            return Reply(text=LANG.say("path_unreadable", path=str(path), why=str(exc.strerror or exc)), error="file_unreadable")
        if name == "photo":
            return Incoming(user_id=user_id, text=" ".join(parts[1:]), photos=[data])
        return Incoming(user_id=user_id, voice=data, voice_mime=_mime(path))
    return Incoming(user_id=user_id, command=Command(name, args.strip()))


def _mime(path: Path) -> str:
    return {
        ".ogg": "audio/ogg",
        ".oga": "audio/ogg",
        ".opus": "audio/ogg",
        ".mp3": "audio/mpeg",
        ".m4a": "audio/mp4",
        ".wav": "audio/wav",
        ".flac": "audio/flac",
        ".webm": "audio/webm",
    }.get(path.suffix.lower(), "application/octet-stream")


def render(reply: Reply) -> str:
    return reply.text


async def run_chat(bot: Handler, user_id: str, as_json: bool, stdin: TextIO = sys.stdin, stdout: TextIO = sys.stdout) -> None:
    interactive = not as_json and stdin.isatty()
    if interactive:
        print(LANG.say("terminal_banner"), file=stdout)
    while True:
        if interactive:
            print("you> ", end="", file=stdout, flush=True)
        line = await asyncio.to_thread(stdin.readline)
        if not line:
            break
        line = line.rstrip("\n")
        if not as_json and line.strip() in {"/quit", "/exit"}:
            break
        parsed = parse_line(line, user_id)
        reply = parsed if isinstance(parsed, Reply) else await bot.handle(parsed)
        if as_json:
            stdout.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
        else:
            stdout.write(("bot> " if interactive else "") + render(reply) + "\n\n")
        stdout.flush()
