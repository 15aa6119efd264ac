"""A profile the shopper states: read from their words, kept across conversations and restarts, applied to searches,
shown by /profile, changed in words and erased by /forget; reactions to a card count as feedback."""

from __future__ import annotations

import re

import pytest

from adapters.cli import new_bot
from adapters.config import Config
from bot.learning.feedback import UserKey
from bot.messages import Command, Feedback, Incoming
from bot.profile.stated import Change, StatedProfile
from bot.service import BotService
from bot.understanding.lang import language
from bot.understanding.statements import attribute_words, reaction, read_statements
from tests.test_constraints import ITEMS, VOCAB

MATERIALS = attribute_words(ITEMS)
EN, ZH = language("en"), language("zh")


@pytest.mark.parametrize(
    ("text", "changes"),
    [
        ("I can't stand yellow", [Change("color", "Yellow", "never")]),
        ("I never wear orange or purple", [Change("color", "Orange", "never"), Change("color", "Purple", "never")]),
        ("yellow is fine now", [Change("color", "Yellow", None)]),
        ("I'm allergic to wool", [Change("word", "wool", "never")]),
        ("I'm not a fan of polyester", [Change("word", "polyester", "avoid")]),
        ("I love blue, show me hoodies", [Change("color", "Blue", "like")]),
        ("I take size M", [Change("size", "M")]),
        ("I wear 32", [Change("size", "32")]),
        ("my budget is usually under $50", [Change("budget", 50.0)]),
        ("I'm shopping for my husband", [Change("for", "Men", who="husband")]),
        ("I'm shopping for myself now", [Change("for", None)]),
        ("I hate running", []),  # not a colour or a material of this shop: nothing to note
        ("a blue hoodie under $50", []),
    ],
)
def test_statements(text: str, changes: list[Change]) -> None:
    assert read_statements(text, VOCAB, EN, MATERIALS)[0] == changes


@pytest.mark.parametrize(
    ("text", "changes"),
    [
        ("我受不了黄色", [Change("color", "Yellow", "never")]),
        ("黄色现在可以了", [Change("color", "Yellow", None)]),
        ("我不喜欢黑色", [Change("color", "Black", "avoid")]),
        ("我穿M码", [Change("size", "M")]),
        ("我在给老公买", [Change("for", "Men", who="老公")]),
        ("预算一般100以内", [Change("budget", 100.0)]),
    ],
)
def test_chinese_statements(text: str, changes: list[Change]) -> None:
    assert read_statements(text, VOCAB, ZH, MATERIALS)[0] == changes


def test_a_request_beside_a_statement_is_kept() -> None:
    assert read_statements("I love blue, show me hoodies", VOCAB, EN, MATERIALS)[1] == "show me hoodies"


def test_profile_updates_and_round_trip() -> None:
    profile = StatedProfile()
    profile.apply([Change("color", "Yellow", "never"), Change("size", "M"), Change("for", "Women", who="wife")])
    profile.apply([Change("color", "Yellow", None), Change("color", "Blue", "like"), Change("size", "32")])
    assert profile.colors == {"Blue": "like"} and profile.sizes == ["M", "32"] and profile.shops_for == "Women"
    assert StatedProfile.from_json(profile.to_json()) == profile
    prefs = profile.preferences({"Women": "Women", "Men": "Men"})
    assert prefs.like_colors == ("Blue",) and prefs.gender == "Women" and prefs.sizes == ("M", "32")
    profile.apply([Change("size", None), Change("for", None), Change("color", "Blue", None)])
    assert not profile


@pytest.mark.parametrize(("text", "action"), [("love it!", "like"), ("ugh, too flashy", "dislike"), ("a blue tee", None)])
def test_reactions(text: str, action: str | None) -> None:
    assert reaction(text, EN) == action
    assert reaction("太花了", ZH) == "dislike" and reaction("好看！", ZH) == "like"


async def test_a_stated_profile_outlives_conversations_and_restarts(config: Config) -> None:
    async def say(bot: BotService, text: str):
        return await bot.handle(Incoming(user_id="p1", text=text))

    bot = new_bot(config)
    await bot.start(progress=False)
    try:
        ack = await say(bot, "I can't stand yellow")
        assert not ack.items and ack.text.startswith("Noted: no yellow, ever")
        shorts = await say(bot, "shorts for women")
        assert shorts.items and all(i.color != "Yellow" for i in shorts.items) and "not yellow" in shorts.text
        await bot.handle(Incoming(user_id="p1", command=Command("reset")))
        tees = await say(bot, "a tee")
        assert tees.items and all(i.color != "Yellow" for i in tees.items)
        asked = await say(bot, "yellow shorts")  # asking for the colour itself wins for that search
        assert asked.items and all(i.color == "Yellow" for i in asked.items)
    finally:
        await bot.close()

    again = new_bot(config)
    await again.start(progress=False)
    try:
        shown = await again.handle(Incoming(user_id="p1", command=Command("profile")))
        assert "Never: yellow" in shown.text
        assert "haven't told me" in (await again.handle(Incoming(user_id="p2", command=Command("profile")))).text
        await say(again, "yellow is fine now")
        assert "haven't told me" in (await again.handle(Incoming(user_id="p1", command=Command("profile")))).text
        await say(again, "I'm shopping for my husband")
        hoodies = await say(again, "a warm hoodie")
        assert sum(i.categories[0].startswith("Men/") for i in hoodies.items) > len(hoodies.items) / 2
        await again.handle(Incoming(user_id="p1", command=Command("forget", "yes")))
        assert "haven't told me" in (await again.handle(Incoming(user_id="p1", command=Command("profile")))).text
    finally:
        await again.close()


async def test_a_reaction_to_a_card_is_feedback(service: BotService) -> None:

    listed = await service.handle(Incoming(user_id="r1", text="a hoodie for men"))
    second = listed.items[1]
    reply = await service.handle(Incoming(user_id="r1", text="ugh, the second one is too flashy"))
    assert reply.text.startswith("👎") and second.name in reply.text
    loved = await service.handle(Incoming(user_id="r1", text="love it", reply_to_items=(listed.items[0].id,)))
    assert loved.text.startswith("👍")
    assert service.log.reactions(UserKey("terminal", "r1")) == ([listed.items[0].id], [second.id])
    again = await service.handle(Incoming(user_id="r1", text="a hoodie for men"))
    assert second.id not in {i.id for i in again.items}


def _code(reply_text: str) -> str:
    found = re.search(r"/link ([A-Z2-9]{8})", reply_text)
    assert found, reply_text
    return found[1]


async def test_linked_accounts_share_one_profile_until_unlinked(service: BotService) -> None:
    tg = dict(user_id="42", platform="telegram")
    slack = dict(user_id="U42", platform="slack")
    await service.handle(Incoming(**tg, text="I can't stand yellow"))
    await service.handle(Incoming(**slack, text="I take size M"))  # said on Slack before the link: kept
    offer = await service.handle(Incoming(**tg, command=Command("link")))
    code = _code(offer.text)
    stranger = await service.handle(Incoming(user_id="U7", platform="slack", command=Command("link", "WRONG123")))
    assert stranger.error == "bad_link_code"
    linked = await service.handle(Incoming(**slack, command=Command("link", code.lower())))
    assert "Telegram" in linked.text and not linked.error
    assert (await service.handle(Incoming(user_id="U8", platform="slack", command=Command("link", code)))).error == "bad_link_code"  # used
    for who in (tg, slack):
        shown = (await service.handle(Incoming(**who, command=Command("profile")))).text
        assert "Never: yellow" in shown and "Sizes: M" in shown
    tees = await service.handle(Incoming(**slack, text="a tee for women"))
    assert tees.items and all(i.color != "Yellow" for i in tees.items)  # what was said on Telegram applies on Slack
    await service.handle(Incoming(**slack, text="yellow is fine now"))
    assert "Never: yellow" not in (await service.handle(Incoming(**tg, command=Command("profile")))).text

    assert "no longer shares" in (await service.handle(Incoming(**slack, command=Command("unlink")))).text
    await service.handle(Incoming(**tg, text="I'm allergic to wool"))
    assert "wool" not in (await service.handle(Incoming(**slack, command=Command("profile")))).text
    assert "Sizes: M" in (await service.handle(Incoming(**slack, command=Command("profile")))).text  # its copy stays


async def test_forget_on_one_linked_account_erases_the_shared_profile(service: BotService) -> None:
    a, b = dict(user_id="a1", platform="telegram"), dict(user_id="b1", platform="slack")
    await service.handle(Incoming(**a, text="I never wear orange"))
    code = _code((await service.handle(Incoming(**a, command=Command("link")))).text)
    await service.handle(Incoming(**b, command=Command("link", code)))
    await service.handle(Incoming(**b, command=Command("forget", "yes")))
    for who in (a, b):
        assert "haven't told me" in (await service.handle(Incoming(**who, command=Command("profile")))).text
    assert "isn't linked" in (await service.handle(Incoming(**a, command=Command("unlink")))).text


async def test_a_link_code_is_never_shown_in_a_group(service: BotService) -> None:
    asked = Incoming(user_id="g1", platform="telegram", conversation_id="-100", private=False, command=Command("link"))
    group = await service.handle(asked)
    assert group.error == "not_private" and "/link " not in group.text
    zh = await service.handle(Incoming(user_id="g1", platform="telegram", language="zh", command=Command("link")))
    assert "共享" in zh.text and _code(zh.text)


async def test_a_dislike_on_one_linked_account_shapes_the_others_suggestions(service: BotService) -> None:
    tg, web = {"user_id": "71", "platform": "telegram"}, {"user_id": "web-71", "platform": "web"}
    code = _code((await service.handle(Incoming(**tg, command=Command("link")))).text)
    assert not (await service.handle(Incoming(**web, command=Command("link", code)))).error
    before = await service.handle(Incoming(**web, text="a duffle bag"))
    top = before.items[0]
    await service.handle(Incoming(**tg, feedback=Feedback("dislike", top.id)))
    await service.handle(Incoming(**web, command=Command("reset")))
    after = await service.handle(Incoming(**web, text="a duffle bag"))
    assert after.items and after.items[0].id != top.id, "the dislike given on Telegram did not reach the web account"
    assert service.log.reactions(UserKey("web", "web-71"), UserKey("telegram", "71")) == ([], [top.id])
