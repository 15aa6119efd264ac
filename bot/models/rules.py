"""`rules`: an offline chat model of our own. It reads intent and constraints, emits real tool calls
through the same agent as an LLM would, and words the reply from the tool results only."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Collection
from typing import Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from pydantic import ConfigDict

from bot.models.base import RespondingChatModel, message_language
from bot.models.replies import compose_reply, tool_json, turn_tool_messages
from bot.understanding.constraints import Request, parse
from bot.understanding.lang import Language
from bot.understanding.vocabulary import Vocabulary

PHOTO_MARKER = re.compile(r"^\[photo:([A-Za-z0-9_-]+)\]\s*")
SEARCH_TOOLS = ("search_catalogue", "search_by_photo", "more_like", "goes_with", "recommend_for_me")


class RulesChatModel(RespondingChatModel):
    """A deterministic chat model: parses the latest message, keeps context from the history."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    vocabulary: Vocabulary
    known_ids: Callable[[], Collection[str]]

    @property
    def _llm_type(self) -> str:
        return "recbot-rules"

    # -- deciding -------------------------------------------------------------------------------
    def respond(self, messages: list[BaseMessage]) -> AIMessage:
        last = messages[-1]
        lang = message_language(messages)
        if isinstance(last, ToolMessage):
            return self.after_tools(messages, lang)
        text = last.content if isinstance(last.content, str) else ""
        history = messages[:-1]
        photo = PHOTO_MARKER.match(text)
        if photo:
            req = parse(text[photo.end() :], self.vocabulary, self.known_ids(), lang)
            args = {"photo_id": photo.group(1), "query": req.query, **_constraints(req)}
            return _call("search_by_photo", args)
        req = parse(text, self.vocabulary, self.known_ids(), lang)
        return self._decide(req, text, history, lang)

    def after_tools(self, messages: list[BaseMessage], lang: Language) -> AIMessage:
        """The turn's reply from its tool results; "cheaper" or "pricier" said alone also says what changed, and when
        nothing is beyond what was shown, looks once more among what is beyond its other end."""
        results = turn_tool_messages(messages)
        start = max(i for i, m in enumerate(messages) if isinstance(m, HumanMessage))
        text = messages[start].content if isinstance(messages[start].content, str) else ""
        req = parse(text, self.vocabulary, self.known_ids(), lang)
        bound = req.max_price if req.intent == "cheaper" else req.min_price
        if PHOTO_MARKER.match(text) and req.intent in ("cheaper", "pricier") and bound is None and results:
            return self._beside_the_photo(req.intent, results, messages, lang)
        shown = _last_items(messages[:start])
        prices = [float(i["price"]) for i in shown if i.get("price") is not None]
        if req.intent not in ("cheaper", "pricier") or bound is not None or not prices or not results:
            return AIMessage(content=compose_reply(results, lang))
        currency = self.vocabulary.currency
        near, far = (min(prices), max(prices)) if req.intent == "cheaper" else (max(prices), min(prices))
        found = bool(tool_json(results[-1]).get("items"))
        call = _last_search_call(messages)
        if not found and len(results) == 1 and near != far and call is not None:
            name, args = call
            key = "max_price" if req.intent == "cheaper" else "min_price"
            args[key] = round(far - 0.01, 2) if req.intent == "cheaper" else round(far + 0.01, 2)
            args["exclude_ids"] = list(dict.fromkeys([*args.get("exclude_ids", []), *(i["id"] for i in shown)]))
            return _call(name, args)
        how = "below" if len(results) == 1 else "relaxed"
        note = lang.say(
            f"{req.intent}.{how if found else 'none'}",
            price=lang.price(near, currency, exact=True),
            dearest=lang.price(far, currency, exact=True),
            cheapest=lang.price(far, currency, exact=True),
        )
        return AIMessage(content=note + ("\n" + compose_reply(results, lang) if found else ""))

    def _beside_the_photo(self, intent: str, results: list[ToolMessage], messages: list[BaseMessage], lang: Language) -> AIMessage:
        """ "Like this, but cheaper" with a photo: cheaper than the product the photo shows (its closest match), not than
        an earlier list; the photo is searched once more below (or above) that match's price."""
        first = tool_json(results[0]).get("items") or []
        match = first[0] if first else None
        call = _last_search_call(messages)
        if match is None or match.get("price") is None or call is None:
            return AIMessage(content=compose_reply(results, lang))
        price = float(match["price"])
        if len(results) == 1:
            name, args = call
            args["max_price" if intent == "cheaper" else "min_price"] = round(price - 0.01 if intent == "cheaper" else price + 0.01, 2)
            args["exclude_ids"] = list(dict.fromkeys([*args.get("exclude_ids", []), match["id"]]))
            return _call(name, args)
        found = bool(tool_json(results[-1]).get("items"))
        note = lang.say(
            f"{intent}.photo{'' if found else '_none'}", name=match.get("name", ""), price=lang.price(price, self.vocabulary.currency)
        )
        return AIMessage(content=note + "\n" + compose_reply(results if found else results[:1], lang))

    def _decide(self, req: Request, text: str, history: list[BaseMessage], lang: Language) -> AIMessage:
        last_call = _last_search_call(history)
        shown = _last_items(history)
        match req.intent:
            case "empty":
                return AIMessage(content=lang.say("nothing_caught"))
            case "greeting":
                return AIMessage(content=lang.say("greeting", **self.vocabulary.shop_words(lang)))
            case "catalogue":
                return AIMessage(content=lang.say("we_sell", **self.vocabulary.shop_words(lang)))
            case "help":
                return AIMessage(content=lang.say("help"))
            case "thanks":
                return AIMessage(content=lang.say("welcome"))
            case "offtopic":
                return AIMessage(content=lang.say("offtopic", **self.vocabulary.shop_words(lang)))
            case "complements":
                listed = _last_items(history, lists_only=True) if req.ordinal is not None else shown
                said = self.vocabulary.name_said(text)
                named = self.vocabulary.variant_named(said, req.colors[0] if req.colors else None) if said else None
                pointed = re.search(lang.pointing, lang.normalize(text)) and len(shown) == 1
                target = req.item_id or named or (_pick(listed, req.ordinal) if req.ordinal is not None else None)
                target = target or (shown[0]["id"] if pointed else None)
                if target is None:  # "what else do I need for yoga": a need, answered from the kinds that serve it
                    return _call("search_catalogue", {"query": req.query or text, **_constraints(req)})
                if said:  # "what goes with the Vulcan Weightlifting Tank?": the tank is the item, not a kind asked for
                    rest = re.sub(re.escape(said), " ", " ".join(text.split()), flags=re.IGNORECASE)
                    req = parse(rest, self.vocabulary, self.known_ids(), lang)
                keep = {k: v for k, v in _constraints(req).items() if k != "colors" or not named}
                return _call("goes_with", {"item_id": target, **keep})
            case "recommend":
                args = {k: v for k, v in _constraints(req).items() if k in {"max_price", "colors", "categories", "sizes"}}
                return _call("recommend_for_me", args)
            case "cheaper" | "pricier":
                if not last_call or not shown:
                    return AIMessage(content=lang.say("nothing_to_refine"))
                name, args = last_call
                args = _merge(args, req, self.vocabulary)
                prices = [float(i["price"]) for i in shown if i.get("price") is not None]
                if not prices:
                    return AIMessage(content=lang.say("no_prices"))
                # a bound the shopper states in the same message ("cheaper, at most 70") wins over the one worked out
                if req.intent == "cheaper":
                    args["max_price"] = req.max_price if req.max_price is not None else round(min(prices) - 0.01, 2)
                    if req.min_price is None:
                        args.pop("min_price", None)
                else:
                    args["min_price"] = req.min_price if req.min_price is not None else round(max(prices) + 0.01, 2)
                    if req.max_price is None:
                        args.pop("max_price", None)
                return _call(name, args)
            case "refine":
                if not last_call:
                    return _call("search_catalogue", {"query": req.query or text, **_constraints(req)})
                name, args = last_call
                return _call(name, _merge(args, req, self.vocabulary))
            case "more_results":
                if not last_call:
                    return _call("recommend_for_me", {})
                name, args = last_call
                args = dict(args)
                args["exclude_ids"] = list(dict.fromkeys([*args.get("exclude_ids", []), *(i["id"] for i in shown)]))
                return _call(name, args)
            case "more_like" | "details":
                # "the second one" counts in the last list of results, even after the details of one of them
                listed = _last_items(history, lists_only=True) if req.ordinal is not None else shown
                target = req.item_id or _pick(listed, req.ordinal)
                if target is None and not listed and req.query:  # no list to point into: "my first 5k" was a request
                    return _call("search_catalogue", {"query": req.query, **_constraints(req)})
                if target is None:
                    if listed and req.ordinal is not None:
                        return AIMessage(content=lang.list_too_short(len(listed)))
                    return AIMessage(content=lang.say("which_item"))
                if req.intent == "details":
                    return _call("item_details", {"item_id": target})
                base = last_call[1] if last_call else {}
                keep = {k: v for k, v in base.items() if k in {"max_price", "min_price", "colors", "exclude_colors", "sizes"}}
                args = {"item_id": target, **_merge(keep, req, self.vocabulary)}
                if not req.colors:  # items of the list the user is looking at are not news
                    args["exclude_ids"] = [i["id"] for i in shown if i["id"] != target]
                return _call("more_like", args)
            case _:
                return _call("search_catalogue", {"query": req.query or text, **_constraints(req)})


def _constraints(req: Request) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if req.max_price is not None:
        out["max_price"] = req.max_price
    if req.min_price is not None:
        out["min_price"] = req.min_price
    if req.colors:
        out["colors"] = list(req.colors)
    if req.exclude_colors:
        out["exclude_colors"] = list(req.exclude_colors)
    if req.categories:
        out["categories"] = list(req.categories)
    if req.sizes:
        out["sizes"] = list(req.sizes)
    return out


def _merge(args: dict[str, Any], req: Request, vocab: Vocabulary) -> dict[str, Any]:
    """Apply a follow-up's constraints on top of the previous search's."""
    out = {k: v for k, v in args.items() if k != "exclude_ids"}
    if req.max_price is not None:
        out["max_price"] = req.max_price
    if req.min_price is not None:
        out["min_price"] = req.min_price
    if req.colors:
        out["colors"] = list(req.colors)
        out["exclude_colors"] = [c for c in out.get("exclude_colors", []) if c not in req.colors]
    if req.exclude_colors:
        out["exclude_colors"] = list(dict.fromkeys([*out.get("exclude_colors", []), *req.exclude_colors]))
        out["colors"] = [c for c in out.get("colors", []) if c not in req.exclude_colors]
    if req.sizes:
        out["sizes"] = list(req.sizes)
    if req.categories:
        genders = set(vocab.genders.values())  # the catalogue's own gender categories: Women, 女装 …
        if all(c in genders for c in req.categories) and out.get("categories"):
            narrowed = [p for p in out["categories"] if p.split("/")[0] in req.categories]
            out["categories"] = narrowed or list(req.categories)
        else:
            out["categories"] = list(req.categories)
    return {k: v for k, v in out.items() if v not in ([], None)}


def _call(name: str, args: dict[str, Any]) -> AIMessage:
    return AIMessage(content="", tool_calls=[{"name": name, "args": args, "id": f"call_{uuid.uuid4().hex[:12]}"}])


def _last_search_call(history: list[BaseMessage]) -> tuple[str, dict[str, Any]] | None:
    for msg in reversed(history):
        if isinstance(msg, AIMessage):
            for call in reversed(msg.tool_calls):
                if call["name"] in SEARCH_TOOLS:
                    return call["name"], dict(call["args"])
    return None


def _last_items(history: list[BaseMessage], lists_only: bool = False) -> list[dict[str, Any]]:
    """The items of the last tool result: a list of results, or one item's details (unless `lists_only`)."""
    for msg in reversed(history):
        if isinstance(msg, ToolMessage):
            data = tool_json(msg)
            if data.get("items"):
                return data["items"]
            if data.get("item") and not lists_only:
                return [data["item"]]
    return []


def _pick(items: list[dict[str, Any]], ordinal: int | None) -> str | None:
    if not items:
        return None
    index = 0 if ordinal is None else ordinal
    if -len(items) <= index < len(items):
        return items[index]["id"]
    return None
