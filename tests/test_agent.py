"""The LangChain agent with the `openai` provider against a local fake server, and with a scripted model."""

from __future__ import annotations

import json

import pytest
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage
from langgraph.checkpoint.memory import InMemorySaver

from bot.agent.graph import build_agent
from bot.agent.tools import TurnContext
from bot.learning.feedback import UserKey
from bot.messages import Incoming
from bot.service import BotService
from tests.fakes.openai_api import FakeOpenAI, completion, tool_call


def last_tool_result(body: dict) -> dict:
    return json.loads(next(m for m in reversed(body["messages"]) if m["role"] == "tool")["content"])


@pytest.fixture
def openai_service(start_service, monkeypatch: pytest.MonkeyPatch):
    async def start(fake: FakeOpenAI) -> BotService:
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-not-a-secret")
        return await start_service(llm={"provider": "openai", "base_url": fake.base_url, "model": "fake-model"})

    return start


async def test_openai_provider_calls_tools_and_answers_from_their_results(openai_service) -> None:
    def answer(body: dict) -> dict:
        first = last_tool_result(body)["items"][0]
        return completion({"content": f"Try the {first['name']} ({first['color']}, ${first['price']:g})."})

    async with FakeOpenAI(
        [
            lambda b: tool_call(
                "search_catalogue", {"query": "warm hoodie", "max_price": 50, "exclude_colors": ["black"], "categories": ["hoodie"]}
            ),
            answer,
        ]
    ) as fake:
        service = await openai_service(fake)
        reply = await service.handle(Incoming(user_id="u1", text="a warm hoodie under $50, not black"))
    assert reply.error is None
    assert reply.items and all(i.price <= 50 and i.color != "Black" for i in reply.items)
    assert all("Hoodies & Sweatshirts" in " ".join(i.categories) for i in reply.items)
    assert reply.text.startswith(f"Try the {reply.items[0].name}")
    # the model saw the system prompt, the tools (without any user id argument) and the user's words
    first = fake.requests[0]
    assert first["messages"][0]["role"] == "system" and "catalogue" in first["messages"][0]["content"]
    tools = {t["function"]["name"]: t["function"]["parameters"] for t in first["tools"]}
    assert {"search_catalogue", "more_like", "recommend_for_me", "item_details"} <= set(tools)
    for params in tools.values():
        assert not any("user" in p for p in params.get("properties", {}))


async def test_a_reply_naming_an_item_no_tool_returned_is_replaced(openai_service) -> None:
    invented = completion({"content": "You will love the Chaz Kangeroo Hoodie [MH01-Gray]!"})
    async with FakeOpenAI(
        [lambda b: tool_call("search_catalogue", {"query": "tee", "colors": ["Blue"], "max_price": 30}), lambda b: invented]
    ) as fake:
        service = await openai_service(fake)
        reply = await service.handle(Incoming(user_id="u1", text="a blue tee under 30"))
    assert reply.items and "Chaz Kangeroo Hoodie" not in reply.text
    assert all(i.id in reply.text for i in reply.items)  # the grounded fallback lists the real results


async def test_a_failing_llm_falls_back_to_rules(openai_service) -> None:
    async with FakeOpenAI([lambda b: 500] * 10) as fake:
        service = await openai_service(fake)
        reply = await service.handle(Incoming(user_id="u1", text="a blue tee under $30"))
    assert reply.error is None
    assert reply.items and all(i.color == "Blue" and i.price <= 30 for i in reply.items)


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools, **kwargs):  # the fake models raise NotImplementedError here
        return self


async def test_tools_act_for_the_user_bound_by_the_code(service: BotService) -> None:
    alice, bob = UserKey("terminal", "alice"), UserKey("terminal", "bob")
    service.log.record(alice, "like", ["MH09-Blue"])
    from bot.agent.tools import build_tools

    tools = build_tools(service.recommender, service.log, service.vocabulary, service.photos)

    def script():
        return iter([AIMessage(content="", tool_calls=[{"name": "recommend_for_me", "args": {}, "id": "c1"}]), AIMessage(content="done")])

    replies = {}
    for user in (alice, bob):
        agent = build_agent(ScriptedModel(messages=script()), tools, InMemorySaver(), history_messages=30)
        result = await agent.ainvoke(
            {"messages": [{"role": "user", "content": "anything for me?"}]},
            {"configurable": {"thread_id": str(user)}},
            context=TurnContext(user=user),
        )
        replies[user.user_id] = json.loads(result["messages"][2].content)["items"]
    assert any("Abominable Hoodie you liked" in i["reason"] or i["id"] == "MH09-Blue" for i in replies["alice"])
    assert not any("you liked" in i["reason"] for i in replies["bob"])
