"""What the local model is told about the shop comes from the catalogue being served: its kinds, its grouping
categories left out, its own examples when it ships them, and examples written from it otherwise."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from bot.models.local.examples import examples_for
from bot.models.local.prompts import tool_prompt
from bot.understanding.vocabulary import Vocabulary
from recsys.catalogue.items import DEMO_CATALOGUE, DEMO_EXAMPLES, Item
from recsys.catalogue.kinds import cross_cutting, kind_of
from recsys.catalogue.loading import load_catalogue

SHOPIFY = Path(__file__).parent / "fixtures" / "catalogues" / "shopify_products.csv"


def _item(item_id: str, *categories: str) -> Item:
    return Item(id=item_id, name=item_id, description="", price=10.0, categories=list(categories))


def test_a_kind_is_read_from_the_tree_not_from_the_groups_that_cut_across_it() -> None:
    items = [
        _item("a", "Home/Lighting/Lamps", "Sale/Summer Picks"),
        _item("b", "Sale/Summer Picks", "Home/Seating/Chairs"),  # filed under the grouping first
        _item("c", "Home/Seating/Sale/Summer Picks"),  # a path that links back into the grouping
        _item("d", "Chair, in,outdoor"),  # commas belong to the name
    ]
    groups = cross_cutting(items)
    assert groups == {"Sale"}
    assert [kind_of(i, groups) for i in items] == ["Lamps", "Chairs", "Seating", "Chair, in,outdoor"]


def test_the_demo_prompt_names_its_kinds_and_uses_its_own_examples() -> None:
    vocabulary = Vocabulary.from_items(load_catalogue(DEMO_CATALOGUE).items)
    prefix = tool_prompt(vocabulary, examples_for(DEMO_EXAMPLES, vocabulary)).prefix()
    assert '\\"hoodies & sweatshirts\\"' in prefix and '\\"watches\\"' in prefix and '\\"women\\"' in prefix
    assert "collection" not in prefix.lower() and "erin recommends" not in prefix.lower()  # groupings are not kinds
    assert "carry my laptop to work" in prefix


def test_another_shop_gets_its_own_kinds_and_examples_written_from_its_catalogue() -> None:
    vocabulary = Vocabulary.from_items(load_catalogue(SHOPIFY).items, currency="EUR")
    examples = examples_for(None, vocabulary)
    prefix = tool_prompt(vocabulary, examples).prefix().lower()
    kinds = [kind.lower() for kind, _, _ in vocabulary.kinds]
    assert kinds and all(json.dumps(kind) in prefix.replace('\\"', '"') for kind in kinds)
    for demo_word in ("sportswear", "jacket", "laptop", "hoodie", "gym", "marathon"):
        assert demo_word not in prefix
    # every kind an example teaches is one this catalogue resolves, and the budgets are in its currency
    assert all(vocabulary.categories_for(kind) for e in examples for kind in e.kinds)
    assert any(e.kinds for e in examples) and any(not e.kinds for e in examples)
    assert "€" in examples[0].message and "$" not in prefix


def test_a_shop_examples_file_keeps_what_fits_the_catalogue(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    vocabulary = Vocabulary.from_items(load_catalogue(DEMO_CATALOGUE).items)
    path = tmp_path / "examples.jsonl"
    path.write_text(
        '{"message": "something for the beach", "query": "beach", "kinds": ["shorts"]}\n'
        '{"message": "a sofa", "query": "sofa", "kinds": ["sofas"]}\n'
        "not json\n",
        encoding="utf-8",
    )
    with caplog.at_level(logging.WARNING):
        examples = examples_for(path, vocabulary)
    assert [e.message for e in examples] == ["something for the beach"]
    assert "line 2: the catalogue has no sofas" in caplog.text and "line 3" in caplog.text


def test_an_examples_file_that_fits_nothing_falls_back_to_written_ones(tmp_path: Path) -> None:
    vocabulary = Vocabulary.from_items(load_catalogue(SHOPIFY).items)
    examples = examples_for(DEMO_EXAMPLES, vocabulary)  # the demo's examples against another shop
    assert examples == examples_for(None, vocabulary)
    assert all(vocabulary.categories_for(kind) for e in examples for kind in e.kinds)
