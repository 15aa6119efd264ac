"""The web chat's API end to end over real HTTP (aiohttp's test server on 127.0.0.1), on the fake bot: what a page or
an integration sends, what it gets back, and every request that must be refused with a 4xx a shopper can read."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from adapters.config import WebConfig
from adapters.web.app import WebChat
from adapters.web.session import COOKIE, CSRF_HEADER, Sessions, load_secret
from tests.fakes.handler import FakeHandler


@dataclass
class Web:
    client: TestClient
    bot: FakeHandler
    token: str = ""

    async def open_page(self, **headers: str) -> str:
        response = await self.client.get("/", headers=headers)
        assert response.status == 200
        page = await response.text()
        self.token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        return page

    async def say(self, text: str, **headers: str):  # type: ignore[no-untyped-def]
        return await self.client.post("/api/messages", json={"text": text}, headers={CSRF_HEADER: self.token, **headers})


async def serve(bot: FakeHandler, **settings: object) -> TestClient:
    config = WebConfig(**{"rate_limit": "100/minute", **settings})  # type: ignore[arg-type]
    chat = WebChat(bot, config, Sessions("a test secret"), ["en", "zh"], max_text_chars=2000)
    client = TestClient(TestServer(chat.app(), host="127.0.0.1"))
    await client.start_server()
    return client


@pytest.fixture
async def web() -> AsyncIterator[Web]:
    bot = FakeHandler()
    client = await serve(bot)
    yield Web(client, bot)
    await client.close()


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (20, 60, 200)).save(out, "JPEG")
    return out.getvalue()


async def test_the_page_opens_a_session_and_a_message_gets_cards_with_loadable_photos(web: Web) -> None:
    page = await web.open_page()
    assert 'id="text"' in page and '<label for="text"' in page and "/static/chat.js" in page
    assert COOKIE in {cookie.key for cookie in web.client.session.cookie_jar}
    response = await web.say("a bag for the gym")
    body = await response.json()
    assert response.status == 200 and body["error"] is None
    assert set(body) >= {"text", "items", "transcript", "error", "intro", "language"}
    assert [item["id"] for item in body["items"]] == ["24-MB01", "MH01-Black"]
    assert "[24-MB01]" in body["text"] and "[24-MB01]" not in body["intro"]  # the cards show the listing
    photo = await web.client.get(body["items"][0]["image"])
    assert photo.status == 200 and photo.content_type == "image/jpeg" and (await photo.read())[:2] == b"\xff\xd8"
    assert body["items"][0]["image"] == "/images/24-MB01"  # never this machine's file path
    sent = web.bot.received[-1]
    assert sent.platform == "web" and sent.text == "a bag for the gym" and sent.user_id.startswith("web-")


async def test_the_same_cookie_is_the_same_shopper_and_another_browser_is_another(web: Web) -> None:
    await web.open_page()
    await web.say("hello")
    await web.say("cheaper")
    first, second = web.bot.received[-2:]
    assert first.user_id == second.user_id
    other = Web(await serve(web.bot), web.bot)
    try:
        await other.open_page()
        await other.say("hello")
        assert web.bot.received[-1].user_id != first.user_id
    finally:
        await other.client.close()


async def test_a_photo_upload_reaches_the_bot_with_its_caption(web: Web) -> None:
    await web.open_page()
    form = FormData()
    form.add_field("photo", jpeg(), filename="mine.jpg", content_type="image/jpeg")
    form.add_field("text", "in red")
    response = await web.client.post("/api/messages", data=form, headers={CSRF_HEADER: web.token})
    body = await response.json()
    assert response.status == 200 and len(body["items"]) == 2
    sent = web.bot.received[-1]
    assert sent.photos == [jpeg()] and sent.text == "in red"


async def test_a_voice_note_reaches_the_bot_as_audio_and_the_reply_has_its_transcript(web: Web) -> None:
    await web.open_page()
    form = FormData()
    form.add_field("voice", b"\x1aE\xdf\xa3 webm bytes", filename="voice.webm", content_type="audio/webm;codecs=opus")
    response = await web.client.post("/api/messages", data=form, headers={CSRF_HEADER: web.token})
    body = await response.json()
    assert body["transcript"] == "a bag please" and body["items"]
    sent = web.bot.received[-1]
    assert sent.voice == b"\x1aE\xdf\xa3 webm bytes" and sent.voice_mime == "audio/webm;codecs=opus"


async def test_a_photo_and_a_voice_note_in_one_message_are_refused_not_half_read(web: Web) -> None:
    await web.open_page()
    form = FormData()
    form.add_field("photo", jpeg(), filename="mine.jpg", content_type="image/jpeg")
    form.add_field("voice", b"OggS....", filename="voice.ogg", content_type="audio/ogg")
    response = await web.client.post("/api/messages", data=form, headers={CSRF_HEADER: web.token})
    assert response.status == 400 and (await response.json())["error"] == "one_upload" and not web.bot.received


async def test_feedback_is_handed_to_the_bot_and_acknowledged(web: Web) -> None:
    await web.open_page()
    headers = {CSRF_HEADER: web.token}
    response = await web.client.post("/api/feedback", json={"item_id": "24-MB01", "action": "like"}, headers=headers)
    body = await response.json()
    assert response.status == 200 and "Joust Duffle Bag" in body["text"] and body["error"] is None
    assert web.bot.received[-1].feedback is not None and web.bot.received[-1].feedback.action == "like"
    more = await (await web.client.post("/api/feedback", json={"item_id": "24-MB01", "action": "more_like_this"}, headers=headers)).json()
    assert more["items"]
    unknown = await (await web.client.post("/api/feedback", json={"item_id": "NOPE", "action": "like"}, headers=headers)).json()
    assert unknown["error"] == "unknown_item"
    bad = await web.client.post("/api/feedback", json={"item_id": "24-MB01", "action": "explode"}, headers=headers)
    assert bad.status == 400 and (await bad.json())["error"] == "bad_action" and "like" in (await bad.json())["text"]


async def test_commands_are_commands_but_never_read_a_file_on_the_server(web: Web) -> None:
    await web.open_page()
    help_reply = await (await web.say("/help")).json()
    assert web.bot.received[-1].command is not None and web.bot.received[-1].command.name == "help" and help_reply["text"]
    count = len(web.bot.received)
    body = await (await web.say("/photo /etc/passwd")).json()
    assert body["error"] == "no_paths" and "📷" in body["text"] and len(web.bot.received) == count


async def test_a_request_riding_on_the_cookie_needs_the_pages_token(web: Web) -> None:
    await web.open_page()
    web.token = ""
    response = await web.say("hello")
    body = await response.json()
    assert response.status == 403 and body["error"] == "csrf" and "reload" in body["text"]
    web.token = "forged"
    assert (await web.say("hello")).status == 403
    assert not web.bot.received


async def test_another_site_is_refused_even_with_the_token(web: Web) -> None:
    await web.open_page()
    for headers in ({"Sec-Fetch-Site": "cross-site"}, {"Origin": "https://evil.example"}, {"Origin": "null"}):
        response = await web.say("hello", **headers)
        assert response.status == 403 and (await response.json())["error"] == "cross_origin"
    assert not web.bot.received
    assert (await web.say("hello", **{"Sec-Fetch-Site": "same-origin"})).status == 200


async def test_an_api_client_without_a_cookie_gets_a_session_to_go_on_with(web: Web) -> None:
    fresh = TestClient(TestServer(web.client.server.app, host="127.0.0.1"))  # type: ignore[arg-type]
    await fresh.start_server()
    try:
        first = await fresh.post("/api/messages", json={"text": "hello", "user": "mallory"})
        assert first.status == 200 and CSRF_HEADER in first.headers
        assert web.bot.received[-1].user_id != "mallory"  # the user field is not trusted by default
        again = await fresh.post("/api/messages", json={"text": "cheaper"}, headers={CSRF_HEADER: first.headers[CSRF_HEADER]})
        assert again.status == 200 and web.bot.received[-1].user_id == web.bot.received[-2].user_id
    finally:
        await fresh.close()


async def test_with_trust_user_field_the_user_field_names_the_shopper() -> None:
    bot = FakeHandler()
    client = await serve(bot, trust_user_field=True)
    try:
        response = await client.post("/api/messages", json={"text": "hello", "user": "crm-42"})
        assert response.status == 200 and bot.received[-1].user_id == "crm-42"
        form = FormData()
        form.add_field("user", "crm-42")
        form.add_field("text", "cheaper")
        await client.post("/api/messages", data=form)
        assert bot.received[-1].user_id == "crm-42"
        bad = await client.post("/api/messages", json={"text": "hi", "user": "x" * 500})
        assert bad.status == 400 and (await bad.json())["error"] == "bad_user"
    finally:
        await client.close()


async def test_an_upload_over_the_limit_is_a_413_in_the_shoppers_language() -> None:
    bot = FakeHandler()
    client = await serve(bot, max_upload_mb=1)
    shopper = Web(client, bot)
    try:
        await shopper.open_page()
        form = FormData()
        form.add_field("photo", b"\xff\xd8" + b"0" * (2 * 2**20), filename="big.jpg", content_type="image/jpeg")
        headers = {CSRF_HEADER: shopper.token, "Accept-Language": "zh-CN,zh;q=0.9"}
        response = await client.post("/api/messages", data=form, headers=headers)
        body = await response.json()
        assert response.status == 413 and body["error"] == "file_too_large" and "1 MB" in body["text"] and "照片" in body["text"]
        assert not bot.received
    finally:
        await client.close()


async def test_a_shopper_over_the_rate_is_told_when_to_come_back() -> None:
    bot = FakeHandler()
    client = await serve(bot, rate_limit="3/minute")
    shopper = Web(client, bot)
    try:
        await shopper.open_page()
        statuses = [(await shopper.say("hello")).status for _ in range(3)]
        over = await shopper.say("hello again")
        body = await over.json()
        assert statuses == [200, 200, 200] and over.status == 429
        assert body["error"] == "rate_limited" and 0 < int(over.headers["Retry-After"]) <= 60 and "seconds" in body["text"]
        assert len(bot.received) == 3
    finally:
        await client.close()


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        (b"{not json", "application/json", 400, "bad_json"),
        (b"\xff\xfe\x00", "application/json", 400, "bad_json"),
        (b'["a list"]', "application/json", 400, "bad_json"),
        (b'{"text": 5}', "application/json", 400, "bad_request"),
        (b'{"photo": "aGVsbG8="}', "application/json", 400, "bad_request"),
        (b"hello", "text/plain", 415, "unsupported_media_type"),
        (b"--x\r\nbroken", "multipart/form-data; boundary=x", 400, "bad_request"),
    ],
)
async def test_malformed_requests_get_a_4xx_with_a_readable_reason(
    web: Web, body: bytes, content_type: str, status: int, code: str
) -> None:
    await web.open_page()
    response = await web.client.post("/api/messages", data=body, headers={CSRF_HEADER: web.token, "Content-Type": content_type})
    answer = await response.json()
    assert response.status == status and answer["error"] == code and answer["text"] and answer["items"] == []
    assert not web.bot.received


async def test_a_chinese_message_refused_is_answered_in_chinese(web: Web) -> None:
    await web.open_page()
    web.token = "stale"
    body = await (await web.say("我想要一件卫衣")).json()
    assert body["error"] == "csrf" and "刷新" in body["text"]


async def test_images_only_of_catalogue_items_and_nothing_else(web: Web) -> None:
    for path in ("/images/NOPE", "/images/..%2F..%2Fetc%2Fpasswd", "/static/../app.py", "/static/"):
        response = await web.client.get(path)
        assert response.status in {403, 404}, path
    assert (await web.client.get("/static/chat.js")).status == 200


async def test_every_response_forbids_third_party_assets_and_framing(web: Web) -> None:
    response = await web.client.get("/")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    missing = await web.client.get("/nowhere")
    assert missing.status == 404 and "Content-Security-Policy" in missing.headers


def test_the_page_loads_nothing_from_another_host() -> None:
    static = Path(__file__).resolve().parent.parent / "adapters" / "web" / "static"
    for file in static.iterdir():
        assert not re.search(r"(src|href)=\"(https?:)?//", file.read_text(encoding="utf-8")), file.name
        assert "@import" not in file.read_text(encoding="utf-8")


def test_the_cookie_secret_is_kept_owner_only_and_the_environment_wins(tmp_path: Path) -> None:
    first = load_secret(tmp_path, env={})
    assert load_secret(tmp_path, env={}) == first and len(first) >= 32
    assert (tmp_path / "web_cookie_secret").stat().st_mode & 0o777 == 0o600
    assert load_secret(tmp_path, env={"WEB_COOKIE_SECRET": "from-env"}) == "from-env"


async def test_a_cookie_signed_elsewhere_starts_a_new_session(web: Web) -> None:
    web.client.session.cookie_jar.update_cookies({COOKIE: "eyJ1IjoiYWxpY2UifQ.forged"})
    response = await web.client.post("/api/messages", json={"text": "hi"})
    assert response.status == 200 and web.bot.received[-1].user_id != "alice"


async def test_behind_a_trusted_proxy_the_client_address_comes_from_x_forwarded_for() -> None:
    async def new_sessions(client: TestClient, addresses: list[str]) -> list[int]:
        statuses = []
        for address in addresses:  # cookieless API calls: each counts against its address
            client.session.cookie_jar.clear()
            response = await client.post("/api/messages", json={"text": "hi"}, headers={"X-Forwarded-For": address})
            statuses.append(response.status)
        return statuses

    addresses = ["203.0.113.9", "203.0.113.9", "203.0.113.10"]
    behind = await serve(FakeHandler(), rate_limit="1/minute", trusted_proxies=["127.0.0.1"])
    direct = await serve(FakeHandler(), rate_limit="1/minute")
    try:
        assert await new_sessions(behind, addresses) == [200, 429, 200]  # two shoppers, each with their own limit
        assert await new_sessions(direct, addresses) == [200, 429, 429]  # the header is not believed from anyone
        assert (await behind.get("/healthz")).status == 200
    finally:
        await behind.close()
        await direct.close()


async def test_with_a_proxy_in_front_a_direct_connection_is_refused_not_served() -> None:
    client = await serve(FakeHandler(), trusted_proxies=["10.9.9.9"])  # the tests connect from 127.0.0.1
    try:
        response = await client.post("/api/messages", json={"text": "hi"}, headers={"X-Forwarded-For": "203.0.113.9"})
        assert 400 <= response.status < 500
        assert (await client.get("/healthz")).status == 200  # the load balancer's check still answers
    finally:
        await client.close()


def test_a_trusted_proxy_must_be_an_address_or_network() -> None:
    with pytest.raises(ValueError, match="not an IP address"):
        WebConfig(trusted_proxies=["nginx"])
