"""A need with no product word: the kinds a model guesses are preferences, never filters, and the kinds the shopper
names are filters. Real models and store; the OpenAI-compatible model is the fake server with scripted calls."""

from __future__ import annotations

import json

import numpy as np
import pytest

from bot.messages import Incoming
from bot.service import BotService
from tests.fakes.openai_api import FakeOpenAI, completion, tool_call
from tests.test_agent import openai_service  # noqa: F401  (fixture)


async def test_a_guessed_kind_prefers_but_does_not_filter(openai_service) -> None:  # noqa: F811
    said = "I always forget to drink enough water when I work out"
    guess = tool_call("search_catalogue", {"query": "water bottle", "categories": ["bags"]})  # a poor guess
    async with FakeOpenAI([lambda b: guess, lambda b: completion({"content": "Some ideas."})]) as fake:
        service = await openai_service(fake)
        reply = await service.handle(Incoming(user_id="n1", text=said))
    assert reply.items
    assert any("Bottle" in i.name for i in reply.items)  # the bottle is not in Bags, and still comes first
    bags = [i for i in reply.items if any(c.startswith("Gear/Bags") for c in i.categories)]
    assert len(bags) == len(reply.items) - 1  # the guess still fills the rest of the list


async def test_a_guessed_kind_the_words_match_weakly_still_fills_the_list(openai_service) -> None:  # noqa: F811
    # "pace on long runs" is closer to running shorts and tees than to any watch's text; the model's kind still counts
    guess = tool_call("search_catalogue", {"query": "pace distance long runs", "categories": ["watches"]})
    async with FakeOpenAI([lambda b: guess, lambda b: completion({"content": "Some ideas."})]) as fake:
        service = await openai_service(fake)
        reply = await service.handle(Incoming(user_id="n1b", text="I'd like to know my pace on long runs"))
    watches = [i for i in reply.items if any(c.startswith("Gear/Watches") for c in i.categories)]
    assert len(reply.items) == 4 and len(watches) >= 3, [(i.name, i.categories) for i in reply.items]
    assert len({i.name for i in reply.items}) == len(reply.items)  # one product once, never two colours of it


async def test_a_kind_the_shopper_named_is_a_filter(openai_service) -> None:  # noqa: F811
    call = tool_call("search_catalogue", {"query": "bag for water bottles", "categories": ["bags"]})
    async with FakeOpenAI([lambda b: call, lambda b: completion({"content": "Bags."})]) as fake:
        service = await openai_service(fake)
        reply = await service.handle(Incoming(user_id="n2", text="a bag I can keep my water bottle in"))
    assert reply.items and all(any(c.startswith("Gear/Bags") for c in i.categories) for i in reply.items)


async def test_a_kind_the_shop_lacks_is_dropped_unless_the_shopper_said_it(openai_service) -> None:  # noqa: F811
    guess = tool_call("search_catalogue", {"query": "yoga", "categories": ["yoga mats"]})
    named = tool_call("search_catalogue", {"query": "socks", "categories": ["socks"]})
    async with FakeOpenAI(
        [lambda b: guess, lambda b: completion({"content": "Yoga."}), lambda b: named, lambda b: completion({"content": "x"})]
    ) as fake:
        service = await openai_service(fake)
        yoga = await service.handle(Incoming(user_id="n3", text="what do I need for yoga?"))
        socks = await service.handle(Incoming(user_id="n4", text="running socks please"))
    assert yoga.items  # "yoga mats" was the model's word, not the shopper's: not a filter on a kind we lack
    seen = json.loads(next(m for m in reversed(fake.requests[-1]["messages"]) if m["role"] == "tool")["content"])
    assert not socks.items and seen["items"] == []  # the shopper asked for a kind we lack: the model is told there is none


async def test_the_kind_closest_to_a_need_is_preferred(service: BotService) -> None:
    prior = service.recommender.kind_prior()  # type: ignore[union-attr]
    encoder = service.recommender.text_encoder  # type: ignore[union-attr]
    weights = prior.ranked(encoder.encode_one("a watch to time my laps"))
    assert max(weights, key=weights.__getitem__) == "Gear/Watches"
    assert all(0 < w <= 1 for w in weights.values())
    assert prior.names_a_kind(["Men/Tops/Jackets"]) and not prior.names_a_kind(["Women"])
    assert np.allclose(np.linalg.norm(prior.centroids, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("text", ["for my wife", "a present for my husband"])
async def test_who_it_is_for_is_a_gender(service: BotService, text: str) -> None:
    reply = await service.handle(Incoming(user_id="n5", text=f"a hoodie {text}"))
    meant = "Women/" if "wife" in text else "Men/"
    assert reply.items and all(i.categories[0].startswith(meant) for i in reply.items)


async def test_shopping_for_someone_without_a_kind_leaves_out_only_the_other_genders(service: BotService) -> None:
    reply = await service.handle(Incoming(user_id="n6", text="something to time my laps, for my girlfriend"))
    roots = {c.split("/")[0] for i in reply.items for c in i.categories}
    assert reply.items and "Men" not in roots
    assert "Gear" in roots  # a watch has no gender: the shopper's girlfriend can wear it
    assert "women" in reply.text.lower()  # and the reply says whom it searched for
