"""The `rules` provider reading Chinese against the English demo catalogue: the same contracts as English (budgets,
colours, genders, kinds from the catalogue's own categories, negations, follow-ups, small talk), and what a shopper
really types (traditional characters, full-width digits, mixed scripts, emoji)."""

from __future__ import annotations

import pytest

from bot.understanding.constraints import parse
from bot.understanding.lang import language
from bot.understanding.vocabulary import Vocabulary
from recsys.catalogue.items import DEMO_CATALOGUE
from recsys.catalogue.loading import load_catalogue

ITEMS = load_catalogue(DEMO_CATALOGUE).items
VOCAB = Vocabulary.from_items(ITEMS)
IDS = {i.id for i in ITEMS}
ZH = language("zh")


def read(text: str):  # type: ignore[no-untyped-def]
    return parse(text, VOCAB, IDS, ZH)


def leaves(request) -> set[str]:  # type: ignore[no-untyped-def]
    return {c.split("/")[-1] for c in request.categories}


def test_the_first_users_request() -> None:
    r = read("我想要一件蓝色的女士卫衣")
    assert r.intent == "search"
    assert r.colors == ["Blue"] and r.categories == ["Women/Tops/Hoodies & Sweatshirts"]


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("100元以下的夹克", None, 100),
        ("五十块以下的T恤", None, 50),
        ("一百二以内的短裤", None, 120),
        ("不超过八十美元的手表", None, 80),
        ("低于60刀的背包", None, 60),
        ("最多¥300的外套", None, 300),
        ("$40以内的裤子", None, 40),
        ("预算三百", None, 300),
        ("100元以上的夹克", 100, None),
        ("至少50块的裤子", 50, None),
        ("50到100元之间的卫衣", 50, 100),
        ("两百到三百元的外套", 200, 300),
        ("在30和60元之间的T恤", 30, 60),
        ("百元以下的包", None, 100),
    ],
)
def test_budgets(text: str, low: float | None, high: float | None) -> None:
    r = read(text)
    assert (r.min_price, r.max_price) == (low, high)


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("一件夹克", {"Jackets"}),
        ("外套", {"Jackets"}),
        ("T恤", {"Tees"}),
        ("卫衣", {"Hoodies & Sweatshirts"}),
        ("连帽衫", {"Hoodies & Sweatshirts"}),
        ("短裤", {"Shorts"}),
        ("裤子", {"Pants"}),
        ("背包", {"Bags"}),
        ("手表", {"Watches"}),
        ("健身器材", {"Fitness Equipment"}),
        ("运动背心", {"Tanks", "Bras & Tanks"}),
    ],
)
def test_kinds_map_to_the_catalogues_own_categories(text: str, kinds: set[str]) -> None:
    assert leaves(read(text)) == kinds


@pytest.mark.parametrize(
    ("text", "gender"),
    [
        ("男士夹克", "Men"),
        ("女款夹克", "Women"),
        ("女T恤", "Women"),
        ("男短裤", "Men"),
        ("男款外套", "Men"),
        ("女士的短裤", "Women"),
        ("男生穿的T恤", "Men"),
        ("给我老婆买条裤子", "Women"),
    ],
)
def test_genders(text: str, gender: str) -> None:
    assert {c.split("/")[0] for c in read(text).categories} == {gender}


@pytest.mark.parametrize(
    ("text", "wanted", "excluded"),
    [
        ("蓝色的T恤", ["Blue"], []),
        ("藏青色的外套", ["Blue"], []),  # the demo has no navy: the nearest colour it stocks
        ("黑色背包", ["Black"], []),
        ("T恤，不要黑色", [], ["Black"]),
        ("除了黑色和灰色的短裤", [], ["Black", "Gray"]),
        ("别要白色的", [], ["White"]),
        ("不是红色的夹克", [], ["Red"]),
        ("要蓝色的，不要黑色的", ["Blue"], ["Black"]),
    ],
)
def test_colours_and_negations(text: str, wanted: list[str], excluded: list[str]) -> None:
    r = read(text)
    assert r.colors == wanted and r.exclude_colors == excluded


def test_a_negated_kind_is_left_out() -> None:
    r = read("不要背包，要手表")
    assert leaves(r) == {"Watches"} and r.exclude_categories == ["Gear/Bags"]


@pytest.mark.parametrize(
    ("text", "intent", "ordinal"),
    [
        ("便宜一点", "cheaper", None),
        ("再便宜点", "cheaper", None),
        ("太贵了", "cheaper", None),
        ("贵一点的", "pricier", None),
        ("更多", "more_results", None),
        ("还有别的吗", "more_results", None),
        ("第二个", "details", 1),
        ("详细介绍一下第三个", "details", 2),
        ("最后一个", "details", -1),
        ("和第二个类似的", "more_like", 1),
        ("类似的", "more_like", None),
        ("你好", "greeting", None),
        ("您好！", "greeting", None),
        ("谢谢", "thanks", None),
        ("帮助", "help", None),
        ("你们卖什么", "catalogue", None),
        ("今天天气怎么样", "offtopic", None),
        ("推荐点东西给我", "recommend", None),
        ("我第一次跑马拉松，需要准备什么", "search", None),  # 第一次 is "the first time", not the first item
        ("我想记录每天走了多少步", "search", None),  # a need, not small talk
    ],
)
def test_follow_ups_and_small_talk(text: str, intent: str, ordinal: int | None) -> None:
    r = read(text)
    assert (r.intent, r.ordinal) == (intent, ordinal)


def test_a_colour_switch_is_a_refinement() -> None:
    r = read("换成蓝色")
    assert r.intent == "refine" and r.colors == ["Blue"]


def test_a_need_without_a_product_word_is_a_search_in_the_catalogues_words() -> None:
    r = read("冬天跑步很冷")
    assert r.intent == "search" and {"winter", "cold"} <= set(r.query.split())


@pytest.mark.parametrize(
    "text",
    [
        "我想要一件藍色的女士衛衣，價格不超過一百元",  # traditional characters
        "我想要一件蓝色的女士卫衣，价格不超过１００元",  # full-width digits
        "我想要一件蓝色的女士卫衣，价格不超过＄100",  # a full-width dollar sign
        "我想要一件蓝色的女士 hoodie，不超过100元 👍",  # mixed scripts and an emoji
    ],
)
def test_what_shoppers_really_type(text: str) -> None:
    r = read(text)
    assert r.colors == ["Blue"] and r.max_price == 100 and r.categories == ["Women/Tops/Hoodies & Sweatshirts"]


def test_a_follow_up_narrows_by_a_chinese_catalogues_own_gender_category() -> None:
    from pathlib import Path

    from bot.models.rules import _merge

    shop = load_catalogue(Path(__file__).parent / "fixtures" / "catalogues" / "zh_shop.jsonl").items
    vocab = Vocabulary.from_items(shop)
    follow = parse("女士的", vocab, {i.id for i in shop}, ZH)
    assert follow.categories == ["女装"]
    merged = _merge({"query": "卫衣 夹克", "categories": ["女装/卫衣", "男装/夹克"]}, follow, vocab)
    assert merged["categories"] == ["女装/卫衣"]


CHINESE_SIZES = [("M码的卫衣", ["M"]), ("我穿L号", ["L"]), ("尺码是XL的夹克", ["XL"]), ("32码的裤子", ["32"]), ("中号T恤", ["M"])]


@pytest.mark.parametrize(("text", "sizes"), CHINESE_SIZES)
def test_chinese_sizes(text: str, sizes: list[str]) -> None:
    assert parse(text, VOCAB, IDS, ZH).sizes == sizes
