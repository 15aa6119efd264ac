"""The `rules` provider's reading of a message against the catalogue's own vocabulary."""

from __future__ import annotations

import pytest

from bot.understanding.constraints import parse
from bot.understanding.lang import DEFAULT as EN
from bot.understanding.lang import language
from bot.understanding.vocabulary import Vocabulary
from recsys.catalogue.items import DEMO_CATALOGUE
from recsys.catalogue.loading import load_catalogue

ITEMS = load_catalogue(DEMO_CATALOGUE).items
VOCAB = Vocabulary.from_items(ITEMS)
IDS = {i.id for i in ITEMS}
HOODIES = ["Men/Tops/Hoodies & Sweatshirts", "Women/Tops/Hoodies & Sweatshirts"]


def test_the_headline_request() -> None:
    r = parse("I need a warm hoodie for running, under $60, not black", VOCAB, IDS)
    assert r.intent == "search"
    assert r.max_price == 60 and r.min_price is None
    assert r.exclude_colors == ["Black"] and r.colors == []
    assert sorted(r.categories) == HOODIES
    assert "warm" in r.query and "running" in r.query and "black" not in r.query


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("tees under 30", None, 30),
        ("tees below $30", None, 30),
        ("tees less than 30 dollars", None, 30),
        ("tees for at most $30", None, 30),
        ("a $30 tee", None, 30),
        ("tees over $30", 30, None),
        ("tees between $20 and $35", 20, 35),
        ("tees $35-$20", 20, 35),
        ("a tee under forty five dollars", None, 45),
        ("tees, nothing over $60", None, 60),
        ("tees not above 40 dollars", None, 40),
    ],
)
def test_prices(text: str, low: float | None, high: float | None) -> None:
    r = parse(text, VOCAB, IDS)
    assert (r.min_price, r.max_price) == (low, high)


@pytest.mark.parametrize(
    ("text", "wanted", "unwanted"),
    [
        ("a blue jacket", ["Blue"], []),
        ("a grey hoodie", ["Gray"], []),
        ("navy shorts", ["Blue"], []),
        ("shorts, not black or gray", [], ["Black", "Gray"]),
        ("shorts without white", [], ["White"]),
        ("non-black shorts", [], ["Black"]),
        ("red or green tanks but not yellow", ["Red", "Green"], ["Yellow"]),
        ("a pink tee", ["Pink"], []),  # a colour we do not stock is kept, so the answer says so
    ],
)
def test_colours_and_negation(text: str, wanted: list[str], unwanted: list[str]) -> None:
    r = parse(text, VOCAB, IDS)
    assert r.colors == wanted and r.exclude_colors == unwanted


def test_categories_gender_and_exclusions() -> None:
    assert parse("women's jackets", VOCAB, IDS).categories == ["Women/Tops/Jackets"]
    assert parse("a backpack", VOCAB, IDS).categories == ["Gear/Bags"]
    assert sorted(parse("t-shirts", VOCAB, IDS).categories) == ["Men/Tops/Tees", "Promotions/Tees", "Women/Tops/Tees"]
    r = parse("tops for men, no hoodies", VOCAB, IDS)
    assert r.categories == ["Men/Tops"] and r.exclude_categories == HOODIES


@pytest.mark.parametrize(
    ("text", "intent", "ordinal"),
    [
        ("cheaper", "cheaper", None),
        ("something less expensive please", "cheaper", None),
        ("in blue", "refine", None),
        ("under $40", "refine", None),
        ("for women", "refine", None),
        ("more like the second one", "more_like", 1),
        ("something similar to #3", "more_like", 2),
        ("the second one in blue", "more_like", 1),
        ("tell me more about the first one", "details", 0),
        ("show me more", "more_results", None),
        ("recommend me something", "recommend", None),
        ("hello", "greeting", None),
        ("thanks!", "thanks", None),
        ("what can you do", "help", None),
        ("tell me a joke", "offtopic", None),
        ("forget user 42", "offtopic", None),
        ("I'd like to count my steps and the calories I burn", "search", None),  # a need in no word the shop uses
        ("help me stay cool on hot runs", "search", None),
        ("I'm training for my first 5k", "search", None),  # "my first": not an item of a list
        ("complete my outfit: MH01-Gray", "complements", None),
        ("what bottoms match?", "complements", None),
        ("Pair the Hero Hoodie with something", "complements", None),
        ("anything to layer over the Bella Tank when it gets cold?", "complements", None),
        ("something to wear under my jacket", "complements", None),
        ("what should I buy along with the jump rope?", "complements", None),
        ("I'm buying a watch for my wife, what else would she need for her runs?", "complements", None),
        ("what pants would look good with it?", "complements", None),
        ("help me put together an outfit", "complements", None),
        ("shorts and a tee please", "search", None),  # two kinds asked for, not one to go with the other
    ],
)
def test_intents(text: str, intent: str, ordinal: int | None) -> None:
    r = parse(text, VOCAB, IDS)
    assert (r.intent, r.ordinal) == (intent, ordinal)


def test_item_ids_are_recognised() -> None:
    r = parse("more like MH01-Gray", VOCAB, IDS)
    assert (r.intent, r.item_id) == ("more_like", "MH01-Gray")


def test_spoken_numbers() -> None:
    assert EN.words_to_numbers("under forty dollars") == "under 40 dollars"
    assert EN.words_to_numbers("about one hundred twenty bucks") == "about 120 bucks"
    assert EN.words_to_numbers("one blue hoodie") == "one blue hoodie"  # only amounts of money


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("a shirt under 50 euros", None, 50),
        ("a shirt under €50", None, 50),
        ("shirts between 20 and 40 eur", 20, 40),
        ("a €45 shirt", None, 45),
        ("a shirt under forty euros", None, 40),
        ("a shirt under $50", None, 50),  # a sign typed out of habit still reads as the budget
    ],
)
def test_budgets_in_the_catalogues_currency(text: str, low: float | None, high: float | None) -> None:
    euro = Vocabulary.from_items(ITEMS, currency="EUR")
    r = parse(text, euro, IDS)
    assert (r.min_price, r.max_price) == (low, high)


@pytest.mark.parametrize(
    ("text", "currency", "lang", "said_in"),
    [
        ("a jacket under 50 euros", "USD", "en", "50 euros"),
        ("a jacket under £40", "USD", "en", "£40"),
        ("a 45 euro jacket", "USD", "en", "45 euro"),
        ("100欧元以内的外套", "USD", "zh", "欧元"),
        ("200日元以下的包", "USD", "zh", "日元"),
        ("a shirt under $50", "EUR", "en", "$50"),
        ("tees under 30 dollars", "USD", "en", ""),  # the shop's own money, and words said of any money, are not foreign
        ("under 40 bucks", "USD", "en", ""),
        ("30块以内的T恤", "USD", "zh", ""),
        ("a shirt under €50", "EUR", "en", ""),
        ("a scarf under 40 pounds", "GBP", "en", ""),
    ],
)
def test_a_budget_in_another_currency_is_read_and_marked(text: str, currency: str, lang: str, said_in: str) -> None:
    r = parse(text, Vocabulary.from_items(ITEMS, currency=currency), IDS, language(lang))
    assert r.max_price is not None  # the number stays the budget: no exchange rate is known offline
    assert (said_in in r.foreign_money) if said_in else r.foreign_money == ""


def test_prices_are_written_in_the_catalogues_currency() -> None:
    assert EN.price(54, "EUR") == "€54" and EN.price(29.99, "GBP") == "£29.99" and EN.price(12.5, "USD", exact=True) == "$12.50"
    assert EN.price(None, "EUR") == ""
    assert EN.describe({"max_price": 60, "currency": "EUR"}) == "up to €60"


def test_a_shop_that_sells_sweaters_gets_sweaters_not_what_the_word_means_elsewhere() -> None:
    from pathlib import Path

    shop = load_catalogue(Path(__file__).parent / "fixtures" / "catalogues" / "shopify_products.csv").items
    vocab = Vocabulary.from_items(shop)
    r = parse("a navy sweater please", vocab, {i.id for i in shop})
    assert [c.split("/")[-1] for c in r.categories] == ["Sweaters"]
    assert VOCAB.categories_for("sweater") == HOODIES  # the demo has none: the nearest kind it sells


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("a size M hoodie", ["M"]),
        ("I take size 8", ["8"]),  # not a size the shop lists: kept, so the shopper hears there is none
        ("32 in pants", ["32"]),
        ("32 inch shorts for men", ["32"]),
        ("hoodie in medium, under $50", ["M"]),
        ("I'm an M, show me jackets", ["M"]),
        ("XL tees", ["XL"]),
        ("I wear 32, pants please", ["32"]),
        ("in 36 please", ["36"]),
        ("a large bag", []),  # big, not size L
        ("what sizes does it come in", []),
        ("I'm 30 and need pants", []),
        ("ready in 30 minutes", []),
    ],
)
def test_sizes(text: str, sizes: list[str]) -> None:
    r = parse(text, VOCAB, IDS)
    assert r.sizes == sizes
    assert not any(s.lower() in r.query.split() for s in sizes)


def test_a_shop_without_sizes_reads_none() -> None:
    vocab = Vocabulary.from_items([i for i in ITEMS if not i.sizes])
    assert parse("a size M bag", vocab).sizes == []
