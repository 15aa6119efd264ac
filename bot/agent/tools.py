"""The agent's tools. They act for the user of the current conversation, bound by the code (never an argument)."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import asdict, dataclass
from typing import Any

from langchain.tools import ToolRuntime, tool
from langchain_core.messages import HumanMessage
from langchain_core.tools import BaseTool

from bot.agent.photos import PhotoVectors
from bot.learning.feedback import FeedbackLog, UserKey
from bot.messages import ItemCard
from bot.models.base import LANG_KEY
from bot.profile.stated import StatedProfile
from bot.profile.store import ProfileStore
from bot.understanding.constraints import parse
from bot.understanding.lang import DEFAULT, Language, gender_meant, language
from bot.understanding.vocabulary import Vocabulary
from recsys.catalogue.items import Item, clean_description
from recsys.ranking.blender import Profile, Recommendation
from recsys.ranking.recommender import Recommender
from recsys.store.filters import Filters

ITEM_TOOLS = {"search_catalogue", "search_by_photo", "more_like", "goes_with", "recommend_for_me", "item_details"}


@dataclass
class TurnContext:
    """What the code binds for one turn: who is asking and how many items a reply holds."""

    user: UserKey
    k: int = 4
    lang: Language = DEFAULT  # the language of the message being answered


def item_card(i: Item, reason: str, currency: str) -> ItemCard:
    return ItemCard(i.id, i.name, i.price, i.color, list(i.categories), i.image, reason, currency, list(i.sizes))


def card(rec: Recommendation, lang: Language, currency: str) -> ItemCard:
    return item_card(rec.item, lang.reason(rec.reasons, currency), currency)


def describe(filters: Filters, lang: Language, currency: str = "USD") -> str:
    """The search's constraints in the shopper's words (the kinds by their catalogue names)."""
    kinds = list(dict.fromkeys(c.split("/")[-1] for c in filters.categories)) or [filters.audience] * bool(filters.audience)
    return lang.describe(
        {
            "kinds": kinds,
            "colors": list(filters.colors),
            "exclude_colors": list(filters.exclude_colors),
            "min_price": filters.min_price,
            "max_price": filters.max_price,
            "sizes": list(filters.sizes),
            "currency": currency,
        }
    )


def _result(
    recs: list[Recommendation], filters: Filters, title: str, lang: Language, currency: str, note: str = ""
) -> tuple[str, list[dict[str, Any]]]:
    """Compact JSON for the model; the full cards travel as the artifact for the reply. `note`: what the shopper should
    know about how the request was read."""
    cards = [card(r, lang, currency) for r in recs]
    content = {
        "title": title,
        "currency": currency,
        **({"note": note} if note else {}),
        "constraints": describe(filters, lang, currency),
        "items": [
            {
                "n": n,
                "id": c.id,
                "name": c.name,
                "color": c.color,
                "price": c.price,
                "category": c.categories[0].split("/")[-1] if c.categories else "",
                "reason": c.reason,
            }
            for n, c in enumerate(cards, start=1)
        ],
    }
    return json.dumps(content, ensure_ascii=False), [asdict(c) for c in cards]


def money_note(said: list[tuple[str, Language]], bounds: tuple[float | None, float | None], vocab: Vocabulary, lang: Language) -> str:
    """What to tell a shopper whose budget was in another currency than the shop's ("under 50 euros" in a shop in
    dollars): the number was taken in the shop's currency, since no exchange rate is known offline."""
    if not said:
        return ""
    read = parse(said[-1][0], vocab, (), said[-1][1])
    if not read.foreign_money or (read.max_price, read.min_price) != bounds:  # a model that converted it: nothing to say
        return ""
    return lang.say("foreign_money", written=read.foreign_money, currency=lang.currency_name(vocab.currency))


def _error(message: str) -> tuple[str, list[dict[str, Any]]]:
    """A tool result that says what went wrong, with no items."""
    return json.dumps({"error": message}, ensure_ascii=False), []


def shoppers_words(runtime: ToolRuntime[TurnContext], last: int = 10) -> list[tuple[str, Language]]:
    """What the shopper has typed in this conversation and in which language, latest last (a model's arguments are
    checked against it)."""
    state = runtime.state if isinstance(runtime.state, dict) else {}
    said = [m for m in state.get("messages", []) if isinstance(m, HumanMessage) and isinstance(m.content, str)]
    return [(str(m.content), language(m.additional_kwargs.get(LANG_KEY))) for m in said[-last:]]


def split_kinds(categories: list[str], said: list[tuple[str, Language]], vocab: Vocabulary) -> tuple[list[str], list[str]]:
    """(kinds the shopper named, kinds a model only guessed). A guessed kind is a preference, never a filter: a need
    such as "something to drink from on hikes" must not be answered with bags because a model thought of bags. A kind
    the shop lacks counts as named only when the shopper said it (the reply then says there is none); else it is dropped."""
    named_paths = {p for text, lang in said for p in parse(text, vocab, (), lang).categories}
    named_leaves = {p.split("/")[-1] for p in named_paths}
    words = " ".join(text for text, _ in said).lower()
    named, guessed = [], []
    for word in categories:
        paths = vocab.categories_for(word)
        if not paths:
            if word.lower() in words or vocab.lang.singular(word) in words:
                named.append(word)
            continue
        stated = any(p in named_paths or p.split("/")[-1] in named_leaves for p in paths)
        (named if stated else guessed).append(word)
    return named, guessed


def complement_asked(
    query: str, colors: list[str], said: list[tuple[str, Language]], vocab: Vocabulary
) -> tuple[str, list[str], list[str]] | None:
    """(the item, the colours left as constraints, the kinds the shopper asked for beside it) when a search names the
    item the shopper's message asks what goes with: the item itself is never the answer to "what goes with X", and a
    model often looks X up by name and stops there. A colour that names one of X's variants picks that variant."""
    if not said:
        return None
    text, lang = said[-1]
    name = vocab.name_said(query)
    if name is None or name not in " ".join(text.lower().split()) or parse(text, vocab, (), lang).intent != "complements":
        return None
    variant_colors = {c for _, c in vocab.names[name] if c}
    picked = next((c for c in (vocab.color(w) or w.title() for w in colors) if c in variant_colors), None)
    rest = re.sub(re.escape(name), " ", " ".join(text.split()), flags=re.IGNORECASE)
    kinds = list(dict.fromkeys(p.split("/")[-1] for p in parse(rest, vocab, (), lang).categories if not gender_meant(p.split("/")[-1])))
    left = [c for c in colors if (vocab.color(c) or c.title()) != picked]
    return vocab.variant_named(name, picked), left, kinds


def with_stated(filters: Filters, stated: StatedProfile) -> Filters:
    """The hard part of what the shopper said about themselves: colours never (unless this search asks for one) or
    always worn, words never wanted (a material they are allergic to)."""
    never = [c for c in stated.hard("never") if c.lower() not in {x.lower() for x in filters.colors}]
    always = stated.hard("always")
    return filters.with_(
        exclude_colors=tuple(dict.fromkeys([*filters.exclude_colors, *never])),
        colors=filters.colors or tuple(c for c in always if c not in filters.exclude_colors),
        exclude_words=tuple(dict.fromkeys([*filters.exclude_words, *stated.hard("never", "word")])),
    )


def build_tools(
    recommender: Recommender, log: FeedbackLog, vocab: Vocabulary, photos: PhotoVectors, profiles: ProfileStore | None = None
) -> list[BaseTool]:
    """Tools closed over the recommender; the user comes from the runtime context."""

    def filters_from(
        max_price: float | None,
        min_price: float | None,
        colors: list[str] | None,
        exclude_colors: list[str] | None,
        categories: list[str] | None,
        exclude_ids: list[str] | None,
        sizes: list[str] | None = None,
    ) -> Filters:
        def color_names(words: list[str] | None) -> tuple[str, ...]:
            return tuple(dict.fromkeys(vocab.color(w) or w.title() for w in words or []))

        cats: list[str] = []
        others: list[str] = []
        genders = [c for c in categories or [] if gender_meant(c)]  # "women", "Women" or the catalogue's own 女装
        kinds = [c for c in categories or [] if c not in genders]
        gender = vocab.genders.get(gender_meant(genders[0]) or "") if genders else None
        if gender and not kinds:
            # "something for my girlfriend": not the other genders' clothes, but unisex gear is fine
            others = [p for p in vocab.genders.values() if p != gender]
        if (kinds or genders) and not others:
            cats = vocab.resolve_categories(kinds, gender_meant(genders[0]) if genders else None)
            if not cats:
                cats = ["(unknown category)"]  # a kind we do not stock: say so rather than ignore it
        return Filters(
            min_price=min_price,
            max_price=max_price,
            colors=color_names(colors),
            exclude_colors=color_names(exclude_colors),
            categories=tuple(cats),
            exclude_categories=tuple(others),
            audience=gender if others else "",
            sizes=tuple(dict.fromkeys(vocab.size(str(s)) or str(s).upper() for s in sizes or [])),
            exclude_ids=tuple(exclude_ids or ()),
        )

    async def profile_of(runtime: ToolRuntime[TurnContext], filters: Filters) -> tuple[Profile, Filters]:
        """The user's taste (feedback) and stated profile: its soft part ranks, its hard part joins the filters."""
        user = runtime.context.user
        linked = await asyncio.to_thread(profiles.links.linked, user) if profiles is not None else []
        liked, disliked = await asyncio.to_thread(log.reactions, user, *linked)  # a 👍 on any linked account counts
        profile = await asyncio.to_thread(recommender.profile, str(user), liked, disliked)
        stated = await asyncio.to_thread(profiles.get, user) if profiles is not None else StatedProfile()
        profile.stated = stated.preferences(vocab.genders)
        return profile, with_stated(filters, stated)

    @tool(response_format="content_and_artifact")
    async def search_catalogue(
        query: str,
        runtime: ToolRuntime[TurnContext],
        max_price: float | None = None,
        min_price: float | None = None,
        colors: list[str] | None = None,
        exclude_colors: list[str] | None = None,
        categories: list[str] | None = None,
        exclude_ids: list[str] | None = None,
        sizes: list[str] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Search the catalogue. `query` describes the item in words; the other arguments are hard
        constraints: prices in the catalogue's currency, colour names, the catalogue's kinds of item, the
        sizes the shopper wears, and item ids already shown that should not come back."""
        lang = runtime.context.lang
        said = shoppers_words(runtime)
        wanted = await asyncio.to_thread(complement_asked, query, colors or [], said[-1:], vocab)
        if wanted is not None:  # a model looked the item up by name when the shopper asked what goes with it
            anchor_id, colors, kinds = wanted
            anchor = recommender.item(anchor_id)
            if anchor is not None:
                genders = [c for c in categories or [] if gender_meant(c)]
                constraints = (max_price, min_price, colors, exclude_colors, [*genders, *kinds], exclude_ids, sizes)
                return await complements_of(anchor, runtime, *constraints)
        named, guessed = await asyncio.to_thread(split_kinds, categories or [], said, vocab)  # parses: off the loop
        filters = filters_from(max_price, min_price, colors, exclude_colors, named, exclude_ids, sizes)
        hinted = vocab.resolve_categories([c for c in guessed if not gender_meant(c)], next(filter(None, map(gender_meant, guessed)), None))
        profile, filters = await profile_of(runtime, filters)
        terms = lang.query_terms(query)
        recs = await asyncio.to_thread(recommender.search, query, filters, profile, runtime.context.k, terms, hinted)
        note = await asyncio.to_thread(money_note, said[-1:], (max_price, min_price), vocab, lang)
        return _result(recs, filters, lang.title("search", query=query), lang, vocab.currency, note)

    @tool(response_format="content_and_artifact")
    async def search_by_photo(
        photo_id: str,
        runtime: ToolRuntime[TurnContext],
        query: str = "",
        max_price: float | None = None,
        min_price: float | None = None,
        colors: list[str] | None = None,
        exclude_colors: list[str] | None = None,
        categories: list[str] | None = None,
        exclude_ids: list[str] | None = None,
        sizes: list[str] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Find items that look like a photo the user sent (its id appears as [photo:ID] in their
        message), optionally refined by words and the same hard constraints as search_catalogue."""
        photo = await asyncio.to_thread(photos.load, photo_id)
        filters = filters_from(max_price, min_price, colors, exclude_colors, categories, exclude_ids, sizes)
        lang = runtime.context.lang
        if photo is None:
            return _error(lang.say("no_photo", photo_id=photo_id))
        profile, filters = await profile_of(runtime, filters)
        k, terms = runtime.context.k, lang.query_terms(query)
        recs = await asyncio.to_thread(recommender.search_image_vector, photo, filters, profile, k, query, terms)
        return _result(recs, filters, lang.title("photo"), lang, vocab.currency)

    @tool(response_format="content_and_artifact")
    async def more_like(
        item_id: str,
        runtime: ToolRuntime[TurnContext],
        max_price: float | None = None,
        min_price: float | None = None,
        colors: list[str] | None = None,
        exclude_colors: list[str] | None = None,
        categories: list[str] | None = None,
        exclude_ids: list[str] | None = None,
        sizes: list[str] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Items similar to one catalogue item (by id), with optional hard constraints."""
        anchor = recommender.item(item_id)
        lang = runtime.context.lang
        if anchor is None:
            return _error(lang.say("no_item", item_id=item_id))
        filters = filters_from(max_price, min_price, colors, exclude_colors, categories, exclude_ids, sizes)
        profile, filters = await profile_of(runtime, filters)
        recs = await asyncio.to_thread(recommender.more_like, item_id, filters, profile, runtime.context.k)
        return _result(recs, filters, lang.title("more_like", name=anchor.name), lang, vocab.currency)

    async def complements_of(
        anchor: Item,
        runtime: ToolRuntime[TurnContext],
        max_price: float | None,
        min_price: float | None,
        colors: list[str] | None,
        exclude_colors: list[str] | None,
        categories: list[str] | None,
        exclude_ids: list[str] | None,
        sizes: list[str] | None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """What goes with the item, under `filters_from`'s constraints (in its order)."""
        # the item's own kind is not what goes with it, even when its name says it ("the Trail Tent")
        own = {p.split("/")[-1] for p in anchor.categories}
        kinds = [c for c in categories or [] if not {p.split("/")[-1] for p in vocab.categories_for(c)} & own]
        filters = filters_from(max_price, min_price, colors, exclude_colors, kinds, exclude_ids, sizes)
        profile, filters = await profile_of(runtime, filters)
        recs = await asyncio.to_thread(recommender.goes_with, anchor.id, filters, profile, runtime.context.k)
        lang = runtime.context.lang
        return _result(recs, filters, lang.title("goes_with", name=anchor.name), lang, vocab.currency)

    @tool(response_format="content_and_artifact")
    async def goes_with(
        item_id: str,
        runtime: ToolRuntime[TurnContext],
        max_price: float | None = None,
        min_price: float | None = None,
        colors: list[str] | None = None,
        exclude_colors: list[str] | None = None,
        categories: list[str] | None = None,
        exclude_ids: list[str] | None = None,
        sizes: list[str] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Items that go with one catalogue item (by id): to wear or use with it, never the item itself or its own
        kind unless `categories` asks for it; with optional hard constraints."""
        anchor = recommender.item(item_id)
        if anchor is None:
            return _error(runtime.context.lang.say("no_item", item_id=item_id))
        return await complements_of(anchor, runtime, max_price, min_price, colors, exclude_colors, categories, exclude_ids, sizes)

    @tool(response_format="content_and_artifact")
    async def recommend_for_me(
        runtime: ToolRuntime[TurnContext],
        max_price: float | None = None,
        colors: list[str] | None = None,
        categories: list[str] | None = None,
        exclude_ids: list[str] | None = None,
        sizes: list[str] | None = None,
    ) -> tuple[str, list[dict[str, Any]]]:
        """Personal picks for this user from their likes and what similar shoppers liked."""
        filters = filters_from(max_price, None, colors, None, categories, exclude_ids, sizes)
        profile, filters = await profile_of(runtime, filters)
        recs = await asyncio.to_thread(recommender.for_user, profile, filters, runtime.context.k)
        return _result(recs, filters, runtime.context.lang.title("for_you"), runtime.context.lang, vocab.currency)

    @tool(response_format="content_and_artifact")
    async def item_details(item_id: str, runtime: ToolRuntime[TurnContext]) -> tuple[str, list[dict[str, Any]]]:
        """Full details of one catalogue item by id: description, price, colour and the shop's attributes."""
        item = recommender.item(item_id)
        lang = runtime.context.lang
        if item is None:
            return _error(lang.say("no_item", item_id=item_id))

        details = {
            "currency": vocab.currency,
            "id": item.id,
            "name": item.name,
            "price": item.price,
            "color": item.color,
            "categories": list(item.categories),
            "description": clean_description(item.description)[:600],
            "attributes": item.details(),
        }
        reason = lang.say("asked_about")
        return json.dumps({"title": "details", "item": details}, ensure_ascii=False), [asdict(item_card(item, reason, vocab.currency))]

    named = ", ".join(json.dumps(kind.lower(), ensure_ascii=False) for kind, _, _ in vocab.kinds[:16])
    search_catalogue.description += f" Prices are in {vocab.currency}." + (f" Its kinds of item: {named}." if named else "")
    return [search_catalogue, search_by_photo, more_like, goes_with, recommend_for_me, item_details]
