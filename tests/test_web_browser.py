"""The web chat in a real headless browser (Debian's chromium, driven by Playwright) against the real bot on the
indexed demo catalogue: what a shopper does on the page, and what they see."""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestClient, TestServer
from playwright.async_api import Browser, Page, async_playwright, expect
from sqlalchemy import select

from adapters.cli import new_bot
from adapters.config import Config
from adapters.web.serve import chat_app, start
from adapters.web.session import CSRF_HEADER
from bot.learning.feedback import events
from bot.service import BotService
from recsys.catalogue.items import DEMO_CATALOGUE
from tests.conftest import REPO, make_config
from tests.servers import free_port

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# as the browser should run on a closed machine: no sync, no component updates, no calls home
QUIET = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SPOKEN = "I need a backpack for hiking"


@pytest.fixture(scope="module")
def spoken_request(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the fake microphone says: a request spoken by espeak-ng, played to getUserMedia by chromium."""
    path = tmp_path_factory.mktemp("voice") / "request.wav"
    subprocess.run(["espeak-ng", "-v", "en-us", "-s", "140", "-w", str(path), SPOKEN], check=True)
    return path


@pytest.fixture
async def browser(spoken_request: Path) -> AsyncIterator[Browser]:
    assert Path(CHROMIUM).exists(), "chromium is not installed: scripts/install_system_deps.sh installs it"
    microphone = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={spoken_request}",
    ]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=QUIET + microphone)
        yield browser
        await browser.close()


@pytest.fixture
async def site(config: Config, service: BotService) -> AsyncIterator[str]:
    port = free_port()
    runner = await start(config, service, port=port)
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


async def open_chat(browser: Browser, site: str, locale: str = "en-US") -> Page:
    context = await browser.new_context(locale=locale, permissions=["microphone"])
    page = await context.new_page()
    await page.goto(site + "/")
    return page


async def images_loaded(page: Page, cards: str) -> list[int]:
    """The rendered width of each card's photo: 0 for one that did not load."""
    return await page.eval_on_selector_all(f"{cards} img", "images => images.map(i => i.complete ? i.naturalWidth : 0)")


async def test_typing_a_request_shows_cards_with_photos_prices_and_buttons(browser: Browser, site: str) -> None:
    page = await open_chat(browser, site)
    box = page.get_by_label("Your message")
    await box.fill("a backpack for hiking")
    await box.press("Enter")
    cards = page.locator(".msg.bot .card")
    await expect(cards.first).to_be_visible(timeout=30_000)
    assert await cards.count() >= 3
    await expect(page.locator("#typing")).to_be_hidden()
    first = cards.first
    assert "backpack" in (await first.locator("h3").text_content() or "").lower()
    assert (await first.locator(".price").text_content() or "").startswith("$")
    assert await first.locator(".reason").text_content()
    await page.wait_for_function("() => [...document.querySelectorAll('.card img')].every(i => i.complete)")
    assert all(width > 0 for width in await images_loaded(page, ".msg.bot"))
    for name in ("Like", "Dislike", "More like this"):
        await expect(first.get_by_role("button", name=name, exact=True)).to_be_visible()


async def test_pressing_like_is_recorded_acknowledged_and_still_shown_after_a_reload(
    browser: Browser, site: str, service: BotService
) -> None:
    page = await open_chat(browser, site)
    await page.get_by_label("Your message").fill("a yoga mat")
    await page.get_by_role("button", name="Send").click()
    first = page.locator(".msg.bot .card").first
    await expect(first).to_be_visible(timeout=30_000)
    item_id = await first.get_attribute("data-item")
    like = first.get_by_role("button", name="Like", exact=True)
    await like.click()
    await expect(like).to_have_attribute("aria-pressed", "true")
    name = await first.locator("h3").text_content()
    await expect(page.locator(".msg.bot .words").last).to_contain_text(name or "")
    with service.log.engine.connect() as conn:
        rows = conn.execute(select(events.c.item_id, events.c.platform).where(events.c.event == "like")).all()
    assert (item_id, "web") in [tuple(row) for row in rows]
    await page.reload()  # the tab's conversation is shown again, with the like
    await expect(page.locator(".msg.mine").first).to_contain_text("a yoga mat")
    again = page.locator(f'.msg.bot .card[data-item="{item_id}"]').first
    await expect(again.get_by_role("button", name="Like", exact=True)).to_have_attribute("aria-pressed", "true")


async def test_uploading_a_photo_finds_the_product_in_it(browser: Browser, site: str) -> None:
    page = await open_chat(browser, site)
    photo = DEMO_CATALOGUE.parent / "images" / "mb01-blue-0.jpg"
    await page.locator("#photo").set_input_files(str(photo))
    await expect(page.locator("#attachment")).to_be_visible()
    await page.get_by_role("button", name="Send").click()
    await expect(page.locator(".msg.mine img.sent")).to_be_visible()
    cards = page.locator(".msg.bot .card")
    await expect(cards.first).to_be_visible(timeout=60_000)
    ids = [await cards.nth(n).get_attribute("data-item") for n in range(await cards.count())]
    assert "24-MB01" in ids[:5]


async def test_a_recorded_voice_note_is_transcribed_and_answered(browser: Browser, site: str) -> None:
    page = await open_chat(browser, site)
    record = page.get_by_role("button", name="Record a voice note")
    await record.click()
    await expect(page.locator("#record")).to_have_attribute("aria-pressed", "true")
    await page.wait_for_timeout(4_000)  # the fake microphone plays the spoken request
    await page.locator("#record").click()
    transcript = page.locator(".msg.mine .transcript")
    await expect(transcript).to_be_visible(timeout=90_000)
    assert "backpack" in (await transcript.text_content() or "").lower()
    await expect(page.locator(".msg.bot .card").first).to_be_visible()


async def test_the_page_speaks_chinese_to_a_chinese_browser(browser: Browser, site: str) -> None:
    page = await open_chat(browser, site, locale="zh-CN")
    assert await page.get_attribute("html", "lang") == "zh"
    box = page.get_by_label("你的消息")
    await box.fill("我想要一个背包")
    await page.get_by_role("button", name="发送").click()
    reply = page.locator(".msg.bot").last
    await expect(reply.locator(".card").first).to_be_visible(timeout=30_000)
    assert await reply.get_attribute("lang") == "zh"
    await expect(reply.locator(".card").first.get_by_role("button", name="喜欢", exact=True)).to_be_visible()


async def test_keyboard_alone_reaches_every_control(browser: Browser, site: str) -> None:
    page = await open_chat(browser, site)
    reached = set()
    for _ in range(8):
        await page.keyboard.press("Tab")
        reached.add(await page.evaluate("document.activeElement.id || document.activeElement.className"))
    assert {"text", "add-photo", "record", "send"} <= reached


async def test_recbot_serve_web_serves_the_api_and_keeps_sessions_across_a_restart(config: Config, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO), "RECBOT_STORAGE__DIR": str(config.storage.dir), "RECBOT_WEB__PORT": str(port)}
    env["RECBOT_LLM__PROVIDER"] = "rules"
    env.pop("WEB_COOKIE_SECRET", None)
    site = f"http://127.0.0.1:{port}"
    jar = aiohttp.CookieJar(unsafe=True)  # keeps cookies of an IP address host, as a browser does
    async with aiohttp.ClientSession(cookie_jar=jar) as http:
        token = ""
        for round_ in range(2):
            log = tmp_path / f"serve{round_}.log"
            with log.open("wb") as out:
                process = await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "adapters.cli", "serve", "web", cwd=tmp_path, env=env, stdout=out, stderr=out
                )
            try:
                await wait_until_up(http, site, process, log)
                if not token:  # the first round opens the page, as a shopper would
                    token = re.search(r'csrf-token" content="([^"]+)"', await (await http.get(site + "/")).text()).group(1)  # type: ignore[union-attr]
                headers = {CSRF_HEADER: token}
                async with http.post(site + "/api/messages", json={"text": "a duffle bag"}, headers=headers) as response:
                    body = await response.json()
                assert response.status == 200 and body["items"], body
                liked = body["items"][0]["id"]
                async with http.post(site + "/api/feedback", json={"item_id": liked, "action": "like"}, headers=headers) as response:
                    assert response.status == 200 and (await response.json())["error"] is None
                process.send_signal(signal.SIGTERM)
                assert await asyncio.wait_for(process.wait(), 60) == 0, log.read_text()[-2000:]
            finally:
                if process.returncode is None:
                    process.kill()
                    await process.wait()
            assert "Traceback" not in log.read_text()
    service = new_bot(config)  # the same storage: both likes belong to one shopper, whose cookie outlived the restart
    with service.log.engine.connect() as conn:
        users = {row[0] for row in conn.execute(select(events.c.user_id).where(events.c.event == "like", events.c.platform == "web"))}
    assert len(users) == 1


async def wait_until_up(http: aiohttp.ClientSession, site: str, process: asyncio.subprocess.Process, log: Path) -> None:
    for _ in range(600):
        assert process.returncode is None, log.read_text()[-2000:]
        try:
            async with http.get(site + "/healthz") as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.5)
    raise AssertionError("recbot serve web did not come up: " + log.read_text()[-2000:])


DROP = """async ([kind, data]) => {
  const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
  const files = new DataTransfer();
  files.items.add(new File([bytes], "mine.jpg", { type: "image/jpeg" }));
  if (kind === "drop") document.getElementById("chat").dispatchEvent(new DragEvent("drop", { dataTransfer: files, bubbles: true }));
  else document.getElementById("text").dispatchEvent(new ClipboardEvent("paste", { clipboardData: files, bubbles: true }));
}"""


async def test_a_photo_dropped_or_pasted_on_the_page_is_attached_and_sent(browser: Browser, site: str) -> None:
    page = await open_chat(browser, site)
    data = base64.b64encode((DEMO_CATALOGUE.parent / "images" / "mb01-blue-0.jpg").read_bytes()).decode()
    await page.evaluate(DROP, ["drop", data])
    await expect(page.locator("#attachment")).to_be_visible()
    await page.get_by_role("button", name="Remove photo").click()
    await expect(page.locator("#attachment")).to_be_hidden()
    await page.evaluate(DROP, ["paste", data])
    await expect(page.locator("#attachment-name")).to_have_text("mine.jpg")
    await page.get_by_label("Your message").press("Enter")
    cards = page.locator(".msg.bot .card")
    await expect(cards.first).to_be_visible(timeout=60_000)
    assert "24-MB01" in [await cards.nth(n).get_attribute("data-item") for n in range(await cards.count())]


async def test_a_web_admin_gets_stats_with_its_chart_and_a_shopper_does_not(tmp_path: Path, indexed_chroma: Path) -> None:
    config = make_config(tmp_path / "data", indexed_chroma, web={"trust_user_field": True, "admins": ["boss"]})
    service = new_bot(config)
    await service.start(progress=False)
    client = TestClient(TestServer(chat_app(config, service), host="127.0.0.1"))
    await client.start_server()
    try:
        await client.post("/api/feedback", json={"user": "shopper", "item_id": "24-MB01", "action": "like"})
        refused = await (await client.post("/api/messages", json={"user": "shopper", "text": "/stats"})).json()
        assert refused["error"] == "not_allowed" and "attachment" not in refused
        stats = await (await client.post("/api/messages", json={"user": "boss", "text": "/stats"})).json()
        assert stats["error"] is None and stats["attachment"]["url"].startswith("data:image/png;base64,")
        assert base64.b64decode(stats["attachment"]["url"].split(",", 1)[1])[:8] == b"\x89PNG\r\n\x1a\n"
    finally:
        await client.close()
        await service.close()
