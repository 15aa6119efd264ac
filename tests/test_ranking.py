"""Filters and the blender: constraints always hold, feedback moves the ranking, variants are spread out."""

from __future__ import annotations

import numpy as np

from bot.agent.tools import describe
from bot.understanding.lang import DEFAULT as EN
from recsys.catalogue.items import Item
from recsys.ranking.blender import Profile, blend
from recsys.store.chroma import Hit
from recsys.store.filters import Filters


def item(id_: str, price: float = 20.0, color: str | None = "Blue", parent: str | None = None, cats=("Men/Tops/Tees",)) -> Item:
    return Item(id=id_, name=f"Item {id_}", price=price, color=color, parent_id=parent, categories=tuple(cats))


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_filters_match_every_constraint() -> None:
    f = Filters(min_price=10, max_price=30, colors=("blue",), exclude_colors=("Black",), categories=("Men/Tops",))
    assert f.matches(item("a"))
    assert not f.matches(item("b", price=31))
    assert not f.matches(item("c", price=9.99))
    assert not f.matches(item("d", color="Red"))
    assert not f.matches(item("e", cats=("Women/Tops/Tees",)))
    assert not Filters(exclude_colors=("black",)).matches(item("f", color="Black"))
    assert Filters(exclude_colors=("black",)).matches(item("g", color=None))  # gear without a colour is not black
    assert not Filters(exclude_ids=("h",)).matches(item("h"))
    assert not Filters(exclude_categories=("Men/Tops/Tees",)).matches(item("i"))


def test_filters_describe_themselves_in_words() -> None:
    f = Filters(max_price=60, exclude_colors=("Black",), categories=("Men/Tops/Hoodies & Sweatshirts", "Women/Tops/Hoodies & Sweatshirts"))
    assert describe(f, EN) == "hoodies & sweatshirts, not black, up to $60"


def test_where_clause_is_none_without_constraints() -> None:
    assert Filters().to_where() is None
    assert Filters(max_price=5).to_where() == {"price": {"$lte": 5.0}}


def test_one_variant_per_product() -> None:
    hits = [
        Hit(item("P1-Blue", parent="P1"), 0.9, unit(1, 0, 0)),
        Hit(item("P1-Red", parent="P1", color="Red"), 0.89, unit(1, 0.01, 0)),
        Hit(item("P2-Blue", parent="P2"), 0.5, unit(0, 1, 0)),
        Hit(item("P3-Blue", parent="P3"), 0.4, unit(0, 0, 1)),
    ]
    recs = blend(hits, np.zeros(4), Profile("u"), Filters(), k=3)
    assert [r.item.id for r in recs] == ["P1-Blue", "P2-Blue", "P3-Blue"]


def test_a_like_pulls_similar_items_up_and_says_why() -> None:
    liked = item("L", parent="L")
    hits = [Hit(item("A", parent="A"), 0.60, unit(1, 0, 0)), Hit(item("B", parent="B"), 0.55, unit(0, 1, 0))]
    neutral = blend(hits, np.zeros(2), Profile("u"), Filters(), k=2)
    assert [r.item.id for r in neutral] == ["A", "B"]
    profile = Profile("u", liked=[liked], liked_vectors=np.stack([unit(0, 1, 0.05)]))
    tasted = blend(hits, np.zeros(2), profile, Filters(), k=2)
    assert [r.item.id for r in tasted] == ["B", "A"]
    assert "you liked" in EN.reason(tasted[0].reasons) and liked.name in EN.reason(tasted[0].reasons)


def test_a_disliked_product_sinks() -> None:
    disliked = item("P1-Red", parent="P1", color="Red")
    hits = [Hit(item("P1-Blue", parent="P1"), 0.9, unit(1, 0, 0)), Hit(item("P2-Blue", parent="P2"), 0.6, unit(0, 1, 0))]
    profile = Profile("u", disliked=[disliked], disliked_vectors=np.stack([unit(1, 0, 0)]))
    assert blend(hits, np.zeros(2), profile, Filters(), k=1)[0].item.id == "P2-Blue"


def test_cf_scores_break_ties() -> None:
    hits = [Hit(item("A", parent="A"), 0.5, unit(1, 0)), Hit(item("B", parent="B"), 0.5, unit(0, 1))]
    recs = blend(hits, np.array([0.0, 1.0]), Profile("u"), Filters(), k=2)
    assert recs[0].item.id == "B"
    assert "popular" in EN.reason(recs[0].reasons).lower()


def test_reasons_name_the_matched_words_and_the_budget() -> None:
    hit = Hit(Item("W", "Warm Running Hoodie", 40, color="Blue", categories=("Men/Tops/Hoodies & Sweatshirts",)), 0.7, unit(1, 0))
    filters = Filters(max_price=60, exclude_colors=("Black",))
    [rec] = blend([hit], np.zeros(1), Profile("u"), filters, k=1, terms=EN.query_terms("warm hoodie"))
    reason = EN.reason(rec.reasons)
    assert "“warm”" in reason and "“hoodie”" in reason and "$40, within your $60" in reason and "not black" in reason


def test_a_size_filter_keeps_items_that_come_in_that_size() -> None:
    shirt = Item("S1", "Linen Shirt", 40.0, sizes=("S", "M", "L"))
    assert Filters(sizes=("m",)).matches(shirt) and not Filters(sizes=("XL",)).matches(shirt)
    assert not Filters(sizes=("M",)).matches(item("no-sizes")), "an item that lists no sizes is not assumed to fit"
    assert Filters(sizes=("M", "L")).to_where() == {"$or": [{"sizes": {"$contains": "m"}}, {"sizes": {"$contains": "l"}}]}
