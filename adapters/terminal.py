"""The terminal chat: the embedded default, with no tokens and no network.

Interactive by default; with `--json`, every stdin line gets exactly one JSON line on stdout.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import shlex
import stat
import sys
from pathlib import Path
from typing import TextIO

from bot.handler import Handler
from bot.messages import Command, Incoming, Reply
from bot.understanding.lang import DEFAULT as LANG

log = logging.getLogger(__name__)
MAX_FILE_BYTES = 50 * 1024 * 1024


async def parse_line(line: str, user_id: str) -> Incoming | Reply:
    """A typed line → `Incoming`; `/photo` and `/voice` read their file here, at the platform edge (off the loop)."""
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
        path = Path(parts[0])
        with contextlib.suppress(RuntimeError):  # "~nosuchuser/photo.jpg": read as written, refused as a missing file
            path = path.expanduser()
        data = await asyncio.to_thread(read_file, path)
        if isinstance(data, Reply):
            return data
        if name == "photo":
            return Incoming(user_id=user_id, text=" ".join(parts[1:]), photos=[data])
        return Incoming(user_id=user_id, voice=data, voice_mime=_mime(path))
    return Incoming(user_id=user_id, command=Command(name, args.strip()))


def read_file(path: Path, limit: int = MAX_FILE_BYTES) -> bytes | Reply:
    """A regular file's bytes, at most `limit`; a device (/dev/zero), a FIFO or a directory is refused without reading,
    and opening never blocks (O_NONBLOCK: a FIFO with no writer would otherwise wait forever)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the path
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return Reply(text=LANG.say("path_unreadable", path=repr(str(path))[1:-1], why=why), error="file_unreadable")
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            log.info("refused %s: not a regular file", path)
            return Reply(text=LANG.say("path_not_a_file", path=str(path)), error="not_a_file")
        data = bytearray()
        while info.st_size <= limit and len(data) <= limit and (chunk := os.read(fd, min(2**20, limit + 1 - len(data)))):
            data += chunk
    except OSError as exc:
        return Reply(text=LANG.say("path_unreadable", path=str(path), why=str(exc.strerror or exc)), error="file_unreadable")
    finally:
        os.close(fd)
    if info.st_size > limit or len(data) > limit:  # the size it said, or what it grew to while being read
        megabytes = max(info.st_size, len(data)) // (1024 * 1024)
        return Reply(text=LANG.say("path_too_large", path=str(path), megabytes=megabytes), error="file_too_large")
    return bytes(data)


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
    for stream in (stdin, stdout):  # one bad byte (or a strict locale) must not end the chat or lose the lines around it
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="replace")
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
        try:
            parsed = await parse_line(line, user_id)
            reply = parsed if isinstance(parsed, Reply) else await bot.handle(parsed)
        except Exception:  # every line gets its one answer, whatever went wrong with it
            log.exception("could not answer a line")
            reply = Reply(text=LANG.say("internal_error"), error="internal")
        if as_json:
            stdout.write(json.dumps(reply.to_json(), ensure_ascii=False) + "\n")
        else:
            stdout.write(("bot> " if interactive else "") + render(reply) + "\n\n")
        stdout.flush()
