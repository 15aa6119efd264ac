"""The hostile-input suite: odd and hostile input on every surface, counted as cases, crashes, hangs and unclear replies.

    .venv/bin/python scripts/hostile_suite.py [--storage DIR] [--only service,terminal,slack,telegram,web]

- service: text, commands, feedback, photos and voice notes straight into `BotService.handle` (a crash is an exception
  or an "internal" error, a hang a turn over 60 s, unclear an empty reply);
- terminal: `recbot chat --json` under PYTHONIOENCODING=utf-8:strict, raw bytes in (one JSON line per input line, or
  the lines missing count as crashes; a traceback is a crash; over 600 s in all is a hang);
- slack: HTTP requests to the Bolt app on 127.0.0.1 in front of the bot (a 5xx is a crash; a valid DM must get exactly
  one answer, else it counts as unclear, and none in 60 s as a hang);
- telegram: raw updates through the fake Bot API and the real python-telegram-bot Application (an update not handled
  in 60 s is a hang, "something went wrong" or an ERROR log line is a crash; a readable message must get an answer);
- web: the web chat's API on 127.0.0.1 with the page's session: every text, photo, voice note and button press, and
  malformed bodies (a 5xx or a body that is not the reply JSON is a crash, an empty `text` unclear, over 60 s a hang).

The `rules` provider is used. Without --storage the catalogue is indexed into a fresh temporary folder first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

sys.path.insert(0, str(REPO / "scripts"))
from hostile_corpus import PHOTOS, SLACK_REQUESTS, TELEGRAM_UPDATES, TERMINAL_LINES, TEXTS, VOICES, commands  # noqa: E402

TURN_LIMIT_S = 60.0


@dataclass
class Tally:
    cases: Counter[str] = field(default_factory=Counter)
    crashes: Counter[str] = field(default_factory=Counter)
    hangs: Counter[str] = field(default_factory=Counter)
    unclear: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)

    def count(self, surface: str, outcome: str | None, what: str = "") -> None:
        self.cases[surface] += 1
        if outcome is not None:
            getattr(self, outcome)[surface] += 1
            self.notes.append(f"{surface}: {outcome}: {what[:120]!r}")


# -- service ---------------------------------------------------------------------------------------------------------
async def service_cases(bot: Any, tally: Tally) -> None:
    from bot.messages import Feedback, Incoming

    cases: list[tuple[str, Incoming]] = [(t, Incoming(user_id="h-text", text=t)) for t in TEXTS]
    cases += [(f"/{c.name} {c.args}", Incoming(user_id="h-cmd", command=c)) for c in commands()]
    cases += [
        (f"feedback {a} {i!r}", Incoming(user_id="h-fb", feedback=Feedback(a, i)))
        for a in ("like", "dislike", "more_like_this")
        for i in ("", " ", "NOPE", "x" * 5000, "24-MB01")
    ]  # type: ignore[arg-type]
    cases += [(f"photo {name}", Incoming(user_id="h-photo", photos=[data], text=caption)) for name, data, caption in PHOTOS]
    cases += [(f"voice {name}", Incoming(user_id="h-voice", voice=data, voice_mime=mime)) for name, data, mime in VOICES]
    cases += [("reply to an unknown card", Incoming(user_id="h-reply", text="love it", reply_to_items=("NOPE",)))]
    for what, incoming in cases:
        try:
            reply = await asyncio.wait_for(bot.handle(incoming), TURN_LIMIT_S)
        except TimeoutError:
            tally.count("service", "hangs", what)
            continue
        except Exception as exc:
            tally.count("service", "crashes", f"{what}: {exc!r}")
            continue
        outcome = "crashes" if reply.error == "internal" else "unclear" if not reply.text.strip() else None
        tally.count("service", outcome, what)


# -- terminal --------------------------------------------------------------------------------------------------------
def terminal_cases(storage: Path, tally: Tally) -> None:
    env = {**os.environ, "RECBOT_STORAGE__DIR": str(storage), "RECBOT_LLM__PROVIDER": "rules", "RECBOT_LOGGING__LEVEL": "WARNING"}
    env |= {"PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C", "PYTHONPATH": str(REPO)}
    with tempfile.TemporaryDirectory() as tmp:
        fifo = Path(tmp) / "pipe"
        os.mkfifo(fifo)
        lines = [line.replace(b"{fifo}", str(fifo).encode()).replace(b"{dir}", tmp.encode()) for line in TERMINAL_LINES]
        try:
            proc = subprocess.run(
                [sys.executable, "-m", "adapters.cli", "chat", "--json", "--user", "h-term"],
                input=b"".join(line + b"\n" for line in lines),
                capture_output=True,
                env=env,
                timeout=600,
            )
        except subprocess.TimeoutExpired:
            for line in lines:
                tally.count("terminal", "hangs", line.decode(errors="replace"))
            return
    replies = proc.stdout.decode(errors="replace").splitlines()
    crashed = proc.returncode != 0 or b"Traceback" in proc.stderr
    for n, line in enumerate(lines):
        if n >= len(replies):
            tally.count("terminal", "crashes", line.decode(errors="replace"))
            continue
        reply = json.loads(replies[n])
        outcome = "crashes" if reply.get("error") == "internal" else "unclear" if not reply["text"].strip() else None
        tally.count("terminal", outcome, line.decode(errors="replace"))
    if crashed:
        tally.notes.append(f"terminal: exit {proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}")


# -- slack -----------------------------------------------------------------------------------------------------------
async def slack_cases(bot: Any, storage: Path, tally: Tally) -> None:
    import aiohttp

    from adapters.config import Config
    from adapters.slack.app import build_app
    from adapters.slack.serve import make_client, start_http
    from tests.fakes.slack_api import BOT_TOKEN, FakeSlack

    secret = "hostile-suite-signing-secret-0123456789"
    fake = await FakeSlack().start()
    config = Config(storage={"dir": storage}, llm={"provider": "rules"})
    runner = await start_http(build_app(bot, make_client(BOT_TOKEN, fake.base_url), secret), config.slack, bot, secret, port=0)
    host, port = runner.addresses[0][:2]
    url = f"http://{host}:{port}{config.slack.path}"
    try:
        async with aiohttp.ClientSession() as http:
            for what, request in SLACK_REQUESTS(secret, fake):
                before = len(fake.calls_to("chat.postMessage"))
                try:
                    async with http.request(request["method"], url, data=request["body"], headers=request["headers"]) as response:
                        status = response.status
                except aiohttp.ClientError as exc:
                    tally.count("slack", "crashes", f"{what}: {exc!r}")
                    continue
                if status >= 500:
                    tally.count("slack", "crashes", f"{what}: HTTP {status}")
                    continue
                if not request.get("answers"):
                    tally.count("slack", None, what)
                    continue
                deadline = time.monotonic() + TURN_LIMIT_S
                while len(fake.calls_to("chat.postMessage")) == before and time.monotonic() < deadline:
                    await asyncio.sleep(0.05)
                await asyncio.sleep(0.3)
                posted = len(fake.calls_to("chat.postMessage")) - before
                tally.count("slack", "hangs" if posted == 0 else "unclear" if posted != 1 else None, what)
    finally:
        await runner.cleanup()
        await fake.stop()


# -- web -------------------------------------------------------------------------------------------------------------
async def web_cases(bot: Any, storage: Path, tally: Tally) -> None:
    import re

    import aiohttp

    from adapters.config import Config
    from adapters.web.serve import start
    from adapters.web.session import CSRF_HEADER

    config = Config(storage={"dir": storage}, llm={"provider": "rules"}, web={"rate_limit": "10000/minute"})
    runner = await start(config, bot, port=0)
    host, port = runner.addresses[0][:2]
    site = f"http://{host}:{port}"
    cases: list[tuple[str, str, Any]] = [(f"text {t[:40]!r}", "/api/messages", {"json": {"text": t}}) for t in TEXTS]
    cases += [(f"photo {name}", "/api/messages", {"data": _form(photo=data, text=caption)}) for name, data, caption in PHOTOS]
    cases += [(f"voice {name}", "/api/messages", {"data": _form(voice=(data, mime))}) for name, data, mime in VOICES]
    cases += [
        (f"feedback {a} {i[:20]!r}", "/api/feedback", {"json": {"action": a, "item_id": i}})
        for a in ("like", "dislike", "more_like_this", "", "DROP TABLE")
        for i in ("", "NOPE", "x" * 5000, "24-MB01", "../../etc/passwd")
    ]
    for what, body, kind in [
        ("not json", b"{oops", "application/json"),
        ("json null", b"null", "application/json"),
        ("nested", b'{"text": {"a": 1}}', "application/json"),
        ("deep", b"[" * 100_000 + b"]" * 100_000, "application/json"),
        ("torn multipart", b"--b\r\nContent-Disposition: form-data; name=photo\r\n\r\nabc", "multipart/form-data; boundary=b"),
        ("no boundary", b"abc", "multipart/form-data"),
        ("xml", b"<a/>", "application/xml"),
    ]:
        cases.append((what, "/api/messages", {"data": body, "headers": {"Content-Type": kind}}))
    try:
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            page = await (await http.get(site + "/")).text()
            token = re.search(r'csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
            for what, path, request in cases:
                headers = {CSRF_HEADER: token, **request.pop("headers", {})}
                try:
                    async with asyncio.timeout(TURN_LIMIT_S), http.post(site + path, headers=headers, **request) as response:
                        status, reply = response.status, await response.json(content_type=None)
                except TimeoutError:
                    tally.count("web", "hangs", what)
                    continue
                except (aiohttp.ClientError, ValueError) as exc:
                    tally.count("web", "crashes", f"{what}: {exc!r}")
                    continue
                if status >= 500 or not isinstance(reply, dict) or reply.get("error") == "internal":
                    tally.count("web", "crashes", f"{what}: HTTP {status}")
                    continue
                tally.count("web", "unclear" if not str(reply.get("text", "")).strip() else None, what)
    finally:
        await runner.cleanup()


def _form(photo: bytes | None = None, text: str = "", voice: tuple[bytes, str] | None = None) -> Any:
    import aiohttp

    form = aiohttp.FormData()
    if photo is not None:
        form.add_field("photo", photo, filename="photo.jpg", content_type="image/jpeg")
    if voice is not None:
        form.add_field("voice", voice[0], filename="voice", content_type=voice[1] or "application/octet-stream")
    form.add_field("text", text)
    return form


# -- telegram --------------------------------------------------------------------------------------------------------
async def telegram_cases(bot: Any, storage: Path, tally: Tally) -> None:
    from adapters.config import Config
    from adapters.telegram.app import build_application
    from tests.fakes.telegram_api import TOKEN, FakeTelegramAPI
    from tests.test_telegram import Harness, running

    errors: list[str] = []

    class Errors(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            errors.append(record.getMessage())

    watcher = Errors(level=logging.ERROR)
    logging.getLogger().addHandler(watcher)
    async with FakeTelegramAPI() as api:
        config = Config(
            storage={"dir": storage}, llm={"provider": "rules"}, telegram={"base_url": api.base_url, "base_file_url": api.base_file_url}
        )
        harness = Harness(build_application(config, TOKEN, bot), api)
        try:
            async with running(harness.app):
                for what, update, answered_in in TELEGRAM_UPDATES(api):
                    before, logged, answered_before = len(api.sent), len(errors), len(api.calls_to("answerCallbackQuery"))
                    try:
                        await harness.handled(await api.push(update), TURN_LIMIT_S)
                    except TimeoutError:
                        tally.count("telegram", "hangs", what)
                        continue
                    await asyncio.sleep(0.3)
                    sent = api.sent[before:]
                    if any("went wrong" in (m.get("text") or "") for m in sent) or len(errors) > logged:
                        tally.count("telegram", "crashes", f"{what}: {errors[logged:][:1]}")
                    elif not answer_seen(answered_in, sent, api.calls_to("answerCallbackQuery")[answered_before:]):
                        tally.count("telegram", "unclear", what)
                    else:
                        tally.count("telegram", None, what)
        finally:
            logging.getLogger().removeHandler(watcher)


def answer_seen(where: int | str | None, sent: list[dict[str, Any]], toasts: list[Any]) -> bool:
    """Whether the answer an update should get showed: a message in chat `where`, a button's toast, or nothing due."""
    if where == "toast":
        return bool(toasts)
    return where is None or any(m.get("chat", {}).get("id") == where for m in sent)


async def run(storage: Path, only: set[str]) -> Tally:
    from adapters.cli import new_bot
    from adapters.config import Config

    tally = Tally()
    config = Config(storage={"dir": storage}, llm={"provider": "rules"})
    bot = new_bot(config)
    await bot.start(progress=False)
    try:
        if "service" in only:
            await service_cases(bot, tally)
        if "slack" in only:
            await slack_cases(bot, storage, tally)
        if "web" in only:
            await web_cases(bot, storage, tally)
    finally:
        await bot.close()
    if "telegram" in only:  # the Application owns the bot's start and close
        await telegram_cases(new_bot(config), storage, tally)
    if "terminal" in only:
        await asyncio.to_thread(terminal_cases, storage, tally)
    return tally


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--storage", type=Path, default=None, help="recbot storage folder to reuse (default: a fresh temp folder)")
    parser.add_argument("--only", default="service,terminal,slack,telegram,web")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    only = set(args.only.split(","))
    with tempfile.TemporaryDirectory() as tmp:
        tally = asyncio.run(run(args.storage or Path(tmp), only))
    for note in tally.notes:
        print(note)
    surfaces = sorted(tally.cases)
    print(f"{'surface':<10} {'cases':>6} {'crashes':>8} {'hangs':>6} {'unclear':>8}")
    for s in surfaces:
        print(f"{s:<10} {tally.cases[s]:>6} {tally.crashes[s]:>8} {tally.hangs[s]:>6} {tally.unclear[s]:>8}")
    total = [sum(getattr(tally, k).values()) for k in ("cases", "crashes", "hangs", "unclear")]
    print(f"{'all':<10} {total[0]:>6} {total[1]:>8} {total[2]:>6} {total[3]:>8}")


if __name__ == "__main__":
    main()
