"""What goes with what: the shop's own links, then co-occurrence, never the item itself or its own kind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.cli import new_bot
from adapters.config import Config
from bot.messages import Incoming
from bot.service import BotService
from tests.fakes.openai_api import FakeOpenAI, completion, tool_call
from tests.test_agent import openai_service  # noqa: F401  (fixture)


def kinds(categories: list[str]) -> set[str]:
    return {part for c in categories for part in c.split("/")}


async def test_what_goes_with_an_item_by_id(service: BotService) -> None:
    anchor = service.item("MH01-Black")
    assert anchor is not None and anchor.links  # the demo ships the store's cross-sell and related links
    reply = await service.handle(Incoming(user_id="g1", text="what goes with MH01-Black?"))
    assert len(reply.items) >= 3
    assert all(not i.id.startswith("MH01") and "Hoodies & Sweatshirts" not in kinds(i.categories) for i in reply.items)
    linked = {i.id for i in service.recommender._linked(anchor)}  # type: ignore[union-attr]
    assert linked & {i.id for i in reply.items}
    assert "goes with the chaz kangeroo hoodie" in reply.items[0].reason.lower()
    leaves = [i.categories[0].split("/")[-1] for i in reply.items]
    assert all(leaves.count(k) <= 2 for k in leaves)  # a look is several kinds


async def test_complete_the_look_for_an_item_shown_or_named(service: BotService) -> None:
    listed = await service.handle(Incoming(user_id="g2", text="a women's jacket"))
    second = listed.items[1]
    look = await service.handle(Incoming(user_id="g2", text="complete the look for the second one"))
    assert look.items and all(i.id != second.id and "Jackets" not in kinds(i.categories) for i in look.items)
    named = await service.handle(Incoming(user_id="g3", text="what would go well with the Chaz Kangeroo Hoodie in gray"))
    assert named.items and all(not i.id.startswith("MH01") and "Hoodies & Sweatshirts" not in kinds(i.categories) for i in named.items)


async def test_a_look_keeps_to_the_department_of_the_item(service: BotService) -> None:
    # the tank's baskets hold gear, and "Tank" in its name is not a kind asked for (it once gave women's bra tops)
    reply = await service.handle(Incoming(user_id="g5", text="what goes with the Vulcan Weightlifting Tank?"))
    assert len(reply.items) == 4
    assert all(i.categories[0].startswith("Men/") and "Tanks" not in kinds(i.categories) for i in reply.items)
    assert "vulcan weightlifting tank" in reply.text.lower() and "bras" not in reply.text.lower()


async def test_a_model_that_looks_the_item_up_by_name_still_gets_what_goes_with_it(openai_service) -> None:  # noqa: F811
    # a model often searches for the item's name and stops there: the shopper would see the hoodie they already have
    lookup = tool_call("search_catalogue", {"query": "Chaz Kangeroo Hoodie", "colors": ["Gray"], "categories": ["men", "hoodies"]})
    async with FakeOpenAI([lambda b: lookup, lambda b: completion({"content": "These go with it."})]) as fake:
        service = await openai_service(fake)
        reply = await service.handle(Incoming(user_id="g6", text="what pants would look good with the Chaz Kangeroo Hoodie in gray?"))
    assert len(reply.items) >= 2
    assert all(not i.id.startswith("MH01") and "Pants" in kinds(i.categories) for i in reply.items)  # the kind named beside it
    assert all(i.categories[0].startswith("Men/") for i in reply.items)
    async with FakeOpenAI([lambda b: lookup, lambda b: completion({"content": "Here it is."})]) as fake:
        service = await openai_service(fake)
        found = await service.handle(Incoming(user_id="g7", text="do you have the Chaz Kangeroo Hoodie in gray?"))
    assert found.items[0].id == "MH01-Gray"  # a plain look-up is still a look-up


@pytest.mark.slow
async def test_a_shop_without_links_answers_with_other_kinds(tmp_path: Path) -> None:
    rows = [
        {"id": "t1", "name": "Trail Tent", "categories": ["Camping/Tents"], "description": "A two-person tent for trail nights."},
        {"id": "t2", "name": "Ridge Tent", "categories": ["Camping/Tents"], "description": "A light tent for ridge camps."},
        {"id": "s1", "name": "Down Sleeping Bag", "categories": ["Camping/Sleeping Bags"], "description": "Warm for tent nights."},
        {"id": "l1", "name": "Camp Lantern", "categories": ["Camping/Lights"], "description": "Lights your tent at night."},
    ]
    path = tmp_path / "camp.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    config = Config(storage={"dir": tmp_path / "data"}, catalogue={"path": path}, llm={"provider": "rules"}, training={"enabled": False})
    service = new_bot(config)
    await service.start(progress=False)
    try:
        reply = await service.handle(Incoming(user_id="g4", text="what goes with the Trail Tent?"))
    finally:
        await service.close()
    assert {i.id for i in reply.items} == {"s1", "l1"}
