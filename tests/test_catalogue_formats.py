"""Catalogues as shops have them: Shopify's and WooCommerce's product exports (fixtures written from their documented
formats), and generic CSVs with a byte-order mark, semicolons, Windows line ends, no prices, commas inside category
names, duplicate ids or a header nobody told us about."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from recsys.catalogue.loading import load_catalogue, parse_price
from recsys.store.filters import Filters

FIXTURES = Path(__file__).parent / "fixtures" / "catalogues"


def by_id(result) -> dict:  # type: ignore[no-untyped-def]
    return {i.id: i for i in result.items}


def test_a_shopify_export_becomes_one_item_per_colour_with_its_sizes_and_prices() -> None:
    result = load_catalogue(FIXTURES / "shopify_products.csv")
    assert result.format == "shopify" and not [p for p in result.problems if p.skipped]
    items = by_id(result)
    assert set(items) == {"merino-crew-sweater-Navy", "merino-crew-sweater-Oatmeal", "FJ-TOTE"}
    navy, oatmeal = items["merino-crew-sweater-Navy"], items["merino-crew-sweater-Oatmeal"]
    assert (navy.name, navy.color, navy.sizes, navy.price) == ("Merino Crew Sweater", "Navy", ("S", "M", "L"), 89.0)
    assert (oatmeal.color, oatmeal.sizes, oatmeal.price) == ("Oatmeal", ("S", "M"), 94.0)
    assert navy.product_id == oatmeal.product_id == "merino-crew-sweater", "colours are grouped under their product"
    assert navy.image == "https://cdn.example.test/merino-navy.jpg" and oatmeal.image.endswith("merino-oatmeal.jpg")
    assert navy.attributes["vendor"] == "Fjellvik" and "wool" in navy.attributes["tags"] and navy.attributes["compare_at_price"] == "119"
    assert navy.categories == ("Apparel & Accessories/Clothing/Clothing Tops/Sweaters",)
    tote = items["FJ-TOTE"]  # one variant ("Default Title"): its SKU is the id, no colour, no sizes
    assert (tote.color, tote.sizes, tote.parent_id) == (None, (), None)
    assert tote.categories == ("Apparel & Accessories/Handbags, Wallets & Cases/Handbags",), "a comma inside a name is not a level"
    assert result.unpublished == {"draft": 1, "archived": 1}
    assert "1 draft product left out" in result.summary() and "1 archived product left out" in result.summary()


def test_a_woocommerce_export_groups_variations_under_their_parent() -> None:
    result = load_catalogue(FIXTURES / "woocommerce_products.csv")
    assert result.format == "woocommerce" and not [p for p in result.problems if p.skipped]
    items = by_id(result)
    assert set(items) == {"woo-hoodie-Blue", "woo-hoodie-Red", "woo-chair"}
    blue, red = items["woo-hoodie-Blue"], items["woo-hoodie-Red"]
    assert (blue.sizes, blue.price) == (("S", "M"), 45.0)
    assert (red.sizes, red.price, red.attributes["compare_at_price"]) == (("M",), 39.0, "45"), "the sale price counts"
    assert red.product_id == blue.product_id == "woo-hoodie"  # a Parent given by SKU and one given as id:101 alike
    assert blue.categories == ("Clothing/Hoodies", "Clothing/Sale")
    chair = items["woo-chair"]
    assert chair.name == "Garden Chair, in,outdoor" and chair.categories == ("Furniture/Chair, in,outdoor",)
    assert chair.attributes["material"] == "Teak" and chair.price == 129.5
    assert result.unpublished == {"draft": 1, "private": 1}


def test_a_generic_csv_with_semicolons_windows_line_ends_and_no_prices() -> None:
    result = load_catalogue(FIXTURES / "no_prices_semicolons.csv")
    items = by_id(result)
    assert set(items) == {"F-1", "F-2"}
    assert all(i.price is None for i in items.values()), "no price is not an error"
    assert items["F-1"].name == "Oak Dining Table (new photo)", "a duplicate id: the later row wins"
    assert any(p.line == 4 and "duplicate id 'F-1'" in str(p) and not p.skipped for p in result.problems)
    assert items["F-2"].categories == ("Chair, in,outdoor",)
    assert not Filters(max_price=1000).matches(items["F-2"]) and Filters().matches(items["F-2"]), "no price never fits a budget"


def test_a_byte_order_mark_european_prices_and_arrow_paths() -> None:
    items = by_id(load_catalogue(FIXTURES / "eur_bom.csv"))
    assert items["E-1"].price == 49.9 and items["E-2"].price == 1299.0
    assert items["E-2"].categories == ("Herren/Jacken & Mäntel",) and items["E-1"].attributes == {"brand": "Nordleinen"}


@pytest.mark.parametrize(
    ("text", "value"),
    [("12.50", 12.5), ("$1,299.00", 1299.0), ("12,50 €", 12.5), ("1.299,00", 1299.0), ("1,299", 1299.0), ("", None), ("  ", None)],
)
def test_prices_as_shops_write_them(text: str, value: float | None) -> None:
    assert parse_price(text) == value


def test_an_unknown_header_is_reported_and_nothing_is_loaded() -> None:
    result = load_catalogue(FIXTURES / "unknown_header.csv")
    assert not result.items
    [problem] = result.problems
    assert problem.line == 1 and "unknown header (Produkt, Preis)" in str(problem) and "Shopify" in str(problem)


def test_a_format_that_does_not_match_the_file_says_so() -> None:
    result = load_catalogue(FIXTURES / "shopify_products.csv", "woocommerce")
    assert not result.items and "not a woocommerce file" in str(result.problems[0]) and "looks like shopify" in str(result.problems[0])


def test_a_file_that_is_not_utf8_is_read_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "latin.csv"
    path.write_bytes("id,name,price\nc1,Café Crème Tasse,9\n".encode("cp1252"))
    result = load_catalogue(path)
    assert [i.name for i in result.items] == ["Café Crème Tasse"]
    assert any("Windows-1252" in str(p) and not p.skipped for p in result.problems)


def test_a_configured_separator_wins(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,category\nk1,Knife,Kitchen :: Cutlery\n")
    assert load_catalogue(path, category_separator="::").items[0].categories == ("Kitchen/Cutlery",)


# -- a shop that is not the demo, in the chat ------------------------------------------------------------------------


def chat(tmp_path: Path, lines: list[str], **env: str) -> list[dict]:
    import json
    import os
    import subprocess
    import sys

    environment = {
        **os.environ,
        "RECBOT_STORAGE__DIR": str(tmp_path / "data"),
        "RECBOT_LLM__PROVIDER": "rules",
        "RECBOT_CATALOGUE__PATH": str(FIXTURES / "eur_shop.jsonl"),
        "RECBOT_CATALOGUE__CURRENCY": "EUR",
        "RECBOT_MODELS__IMAGE_ENCODER": "efficientnet-lite0",
        "RECBOT_LOGGING__LEVEL": "WARNING",
        **env,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "chat", "--json", "--user", "shopper"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        env=environment,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [json.loads(line) for line in proc.stdout.splitlines()]


@pytest.mark.slow
def test_a_euro_shop_with_unpriced_items_speaks_its_own_catalogue(tmp_path: Path) -> None:
    lines = ["what do you sell?", "a shirt under 60 euros", "a brass lamp", "a lamp under 100", "something for reading"]
    sell, shirts, lamp, cheaper, reading = chat(tmp_path, lines)
    assert "shirts" in sell["text"] and "coats" in sell["text"], sell["text"]
    assert not any(word in sell["text"] for word in ("clothing", "watches", "fitness")), "nothing of the demo's wording"
    assert shirts["items"] and all(i["price"] <= 60 and i["currency"] == "EUR" for i in shirts["items"])
    assert "€" in shirts["text"] and "$" not in shirts["text"] and "up to €60" in shirts["text"]
    [found] = [i for i in lamp["items"] if i["id"] == "HL-1"]
    assert found["price"] is None and "€0" not in lamp["text"] and "Brass Reading Lamp — one colour [HL-1]" in lamp["text"]
    assert "HL-1" not in [i["id"] for i in cheaper["items"]], "an item without a price never matches a budget"
    assert "HL-1" in [i["id"] for i in reading["items"]], "a small shop's description words are understood"


def test_colours_listed_as_rows_without_a_parent_are_one_product(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("id,name,color,price\nc1,Oslo Chair,Oak,120\nc2,Oslo Chair,Walnut,130\nc3,Oslo Chair,Oak,125\nt1,Oslo Table,Oak,300\n")
    items = by_id(load_catalogue(path))
    assert items["c1"].product_id == items["c2"].product_id == items["c3"].product_id != items["t1"].product_id
    assert items["t1"].parent_id is None


@pytest.mark.slow
def test_a_200_mb_catalogue_loads_and_its_broken_last_line_is_reported_by_number(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    description = "A sturdy everyday product made of recycled materials, designed to last. " * 12
    rows = 220_000
    with path.open("w", encoding="utf-8") as fh:
        for n in range(rows):
            row = {"id": f"P{n}", "name": f"Thing {n}", "description": description, "price": 10 + n % 90, "categories": ["Home/Decor"]}
            fh.write(json.dumps(row) + "\n")
        fh.write('{"id": "broken", "name": \n')
    assert path.stat().st_size > 200 * 1024 * 1024
    loaded = load_catalogue(path)
    assert len(loaded.items) == rows and loaded.items[-1].id == f"P{rows - 1}"
    assert [(p.line, p.skipped) for p in loaded.problems] == [(rows + 1, True)]
    assert "not valid JSON" in loaded.problems[0].message


def test_links_are_read_from_any_format(tmp_path: Path) -> None:
    path = tmp_path / "linked.jsonl"
    rows = [
        {"id": "a", "name": "Tent", "links": ["b", "c"]},
        {"id": "b", "name": "Sleeping bag", "links": "a|c"},
        {"id": "c", "name": "Lamp", "links": {"cross_sell": ["a"], "related": "b", "up_sell": ["z"]}},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    items = {i.id: i for i in load_catalogue(path).items}
    assert items["a"].links == ("b", "c") and items["b"].links == ("a", "c") and items["c"].links == ("a", "b")
    woo = {i.id: i for i in load_catalogue(FIXTURES / "woocommerce_products.csv").items}
    assert woo["woo-chair"].links == ("woo-lamp", "woo-mug")  # cross-sells; the up-sell is an alternative, not a companion
