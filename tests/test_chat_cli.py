"""`recbot chat --json` driven as a user would: a real process, the real models, the bundled catalogue."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def chat(data_dir: Path, lines: list[str], user: str = "alice", **settings: str) -> list[dict]:
    # the deterministic provider (the default local LLM has its own tests in test_local_llm.py)
    env = {**os.environ, "RECBOT_STORAGE__DIR": str(data_dir), "RECBOT_LOGGING__LEVEL": "WARNING", "RECBOT_LLM__PROVIDER": "rules"}
    env |= {f"RECBOT_{key.upper()}": value for key, value in settings.items()}
    proc = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "chat", "--json", "--user", user],
        input="".join(line + "\n" for line in lines),
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    replies = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(replies) == len(lines), f"one JSON line per input line; stderr:\n{proc.stderr[-2000:]}"
    for reply in replies:
        assert set(reply) == {"text", "items", "transcript", "error"}
    noise = [line for line in proc.stderr.splitlines() if "Loading weights" in line or "Warning" in line]
    assert not noise, "libraries' progress bars and warnings stay off the chat's terminal"
    return replies


@pytest.fixture
def data_dir(tmp_path: Path, indexed_chroma: Path) -> Path:
    shutil.copytree(indexed_chroma, tmp_path / "chroma")
    return tmp_path


def test_a_conversation_honours_constraints_and_follow_ups(data_dir: Path) -> None:
    first, cheaper, blue, more_like = chat(
        data_dir,
        [
            "I need a warm hoodie for running, under $60, not black",
            "cheaper",
            "in blue",
            "more like the second one",
        ],
    )
    items = first["items"]
    assert 3 <= len(items) <= 5
    for item in items:
        assert item["price"] <= 60
        assert item["color"] != "Black"
        assert any("Hoodies & Sweatshirts" in c for c in item["categories"])
        assert item["name"] and item["reason"] and item["image"]
        assert item["id"] in first["text"]  # the text names what the cards show
    assert len({i["id"].split("-")[0] for i in items}) == len(items), "no two colour variants of one product"

    assert cheaper["items"], cheaper["text"]
    assert max(i["price"] for i in cheaper["items"]) < min(i["price"] for i in items)
    assert all(i["color"] != "Black" for i in cheaper["items"])

    # "in blue" keeps the hoodie and the price cap of the previous turn and asks for blue
    for item in blue["items"]:
        assert item["color"] == "Blue"
        assert item["price"] < min(i["price"] for i in items)
    if not blue["items"]:
        assert "couldn't find" in blue["text"]

    shown_before = cheaper["items"] if not blue["items"] else blue["items"]
    if len(shown_before) >= 2:
        anchor = shown_before[1]
        assert more_like["items"]
        products = [i["id"].split("-")[0] for i in more_like["items"]]
        assert anchor["id"].split("-")[0] not in products, "more like it means other products"
        assert not {i["id"] for i in shown_before} & {i["id"] for i in more_like["items"]}
        assert anchor["name"] in more_like["text"]


def test_likes_change_the_next_answer_and_survive_a_restart(data_dir: Path) -> None:
    before, _like, after = chat(data_dir, ["a jacket for women", "/like WJ12-Purple", "a jacket for women"])
    liked_name = "Chloe Compete Jacket"  # the WJ12 product
    assert _like["error"] is None and "like" in _like["text"].lower()
    reasons_after = " ".join(i["reason"] for i in after["items"])
    assert liked_name in reasons_after or any(i["id"].startswith("WJ12") for i in after["items"])
    assert [i["id"] for i in before["items"]] != [i["id"] for i in after["items"]]

    # A new process on the same data: the conversation and the like are remembered.
    cheaper, dislike, again = chat(data_dir, ["cheaper", f"/dislike {after['items'][0]['id']}", "a jacket for women"])
    floor = min(i["price"] for i in after["items"])
    if cheaper["items"]:
        assert max(i["price"] for i in cheaper["items"]) < floor
        assert all("Jackets" in " ".join(i["categories"]) for i in cheaper["items"])
    else:  # nothing cheaper exists, and the bot says so with the remembered constraints
        assert "jackets" in cheaper["text"] and f"${floor - 0.01:g}" in cheaper["text"]
    assert dislike["error"] is None
    assert after["items"][0]["id"] not in [i["id"] for i in again["items"]], "a disliked item never comes back"


def test_bad_input_gets_a_clear_reply_and_nothing_crashes(data_dir: Path) -> None:
    lines = [
        "",
        "   ",
        "x" * 100_000,
        "hoodie\x00\x07\x1b[31m under $50",
        "/frobnicate now",
        "/like NOT-AN-ITEM",
        "/like",
        "/photo /no/such/file.jpg",
        "cheaper",
        "tell me a joke",
        "/reset",
    ]
    replies = chat(data_dir, lines, user="bob")
    empty, blank, huge, control, unknown, like_bad, like_none, photo_missing, cheaper, joke, reset = replies
    assert empty["error"] == "empty" and blank["error"] == "empty"
    assert "long" in huge["text"] and huge["error"] is None
    assert control["items"] and all(i["price"] <= 50 for i in control["items"])
    assert unknown["error"] == "unknown_command" and "/frobnicate" in unknown["text"]
    assert like_bad["error"] == "unknown_item" and "NOT-AN-ITEM" in like_bad["text"]
    assert like_none["error"] == "missing_argument"
    assert photo_missing["error"] == "file_unreadable"
    assert cheaper["items"] and max(i["price"] for i in cheaper["items"]) < 50
    assert not joke["items"] and "catalogue" in joke["text"]
    assert reset["error"] is None


def test_hostile_lines_under_a_strict_locale_each_get_one_clear_reply(data_dir: Path) -> None:
    """Issue 17: an invalid UTF-8 byte under PYTHONIOENCODING=utf-8:strict ended the chat (and lost the lines before
    it); /photo /dev/zero read without a limit; /photo on a FIFO hung; /forget alice erased the caller's data."""
    fifo = data_dir / "pipe"
    os.mkfifo(fifo)
    lines = [
        b"a bag",
        b"a hood\xff\xfeie under $50",
        b"/photo /dev/zero",
        f"/photo {fifo}".encode(),
        f"/voice {data_dir}".encode(),
        b"/like 24-MB01",
        b"/forget alice",
        b"/forget",
        b"a tee",
    ]
    env = {**os.environ, "RECBOT_STORAGE__DIR": str(data_dir), "RECBOT_LOGGING__LEVEL": "WARNING", "RECBOT_LLM__PROVIDER": "rules"}
    env |= {"PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C"}
    proc = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "chat", "--json", "--user", "carol"],
        input=b"".join(line + b"\n" for line in lines),
        capture_output=True,
        env=env,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    replies = [json.loads(line) for line in proc.stdout.decode().splitlines()]
    assert len(replies) == len(lines), proc.stderr[-2000:]
    bag, bad_bytes, zero, pipe, folder, like, forget_alice, forget, tee = replies
    assert bag["items"] and tee["items"]
    assert bad_bytes["items"] and all(i["price"] <= 50 for i in bad_bytes["items"])
    assert zero["error"] == pipe["error"] == folder["error"] == "not_a_file" and "regular file" in zero["text"]
    assert like["error"] is None
    assert forget_alice["error"] == "confirm_needed" and "only erases your own" in forget_alice["text"]
    assert forget["error"] == "confirm_needed" and "/forget yes" in forget["text"]
    assert b"Traceback" not in proc.stderr


def test_a_chinese_conversation_on_the_english_catalogue(data_dir: Path) -> None:
    hello, first, blue, details, similar, cheaper, french = chat(
        data_dir,
        [
            "你好",
            "我想要一件女士卫衣，100元以下，不要黑色",
            "换成蓝色",
            "详细介绍一下第一个",
            "和第二个类似的",
            "再便宜点",
            "Bonjour, je cherche une veste",
        ],
    )
    assert "你好" in hello["text"] and not hello["items"]
    assert first["items"] and first["text"].startswith("为你找到")
    for item in first["items"]:
        assert item["price"] <= 100 and item["color"] != "Black"
        assert "Women/Tops/Hoodies & Sweatshirts" in item["categories"]
    assert blue["items"] and all(i["color"] == "Blue" and "Women/Tops/Hoodies & Sweatshirts" in i["categories"] for i in blue["items"])
    assert details["text"].startswith(blue["items"][0]["name"]) and not details["error"]
    assert similar["items"] and blue["items"][1]["id"] not in [i["id"] for i in similar["items"]]
    assert similar["text"].startswith("为你找到") and blue["items"][1]["name"] in similar["text"]
    cheapest = min(i["price"] for i in similar["items"])
    assert all(i["price"] < cheapest for i in cheaper["items"]) and ("为你找到" in cheaper["text"] or "没有找到" in cheaper["text"])
    assert french["error"] == "unsupported_language" and "English or 中文" in french["text"]


def test_a_catalogue_written_in_chinese_answers_chinese_and_english(tmp_path: Path) -> None:
    shop = Path(__file__).parent / "fixtures" / "catalogues" / "zh_shop.jsonl"
    sell, hoodie, laptop, english = chat(
        tmp_path,
        ["你们卖什么", "我想要一件蓝色的女士卫衣，200元以下", "something to carry my laptop", "a men's jacket, not black"],
        catalogue__path=str(shop),
        catalogue__currency="CNY",
    )
    assert "卫衣" in sell["text"] and "背包" in sell["text"]
    assert hoodie["items"] and hoodie["text"].startswith("为你找到") and "¥" in hoodie["text"]
    assert all(i["color"] == "蓝色" and "女装/卫衣" in i["categories"] and i["price"] <= 200 for i in hoodie["items"])
    assert laptop["items"] and laptop["text"].startswith("Here") and laptop["items"][0]["categories"] == ["配件/背包"]
    assert english["items"] and all("男装/夹克" in i["categories"] and i["color"] != "黑色" for i in english["items"])
