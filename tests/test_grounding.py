"""The grounding guard: a reply may name only items a tool returned, found by id or by name in any catalogue size."""

from __future__ import annotations

from bot.understanding.grounding import ungrounded_items
from recsys.catalogue.items import Item

CATALOGUE = {
    i.id: i
    for i in [
        Item("MH01-Black", "Chaz Kangeroo Hoodie", 52.0, parent_id="MH01"),
        Item("MH01-Gray", "Chaz Kangeroo Hoodie", 52.0, parent_id="MH01"),
        Item("24-MB01", "Joust Duffle Bag", 34.0),
        Item("WS12-Blue", "Radiant Tee", 22.0),
    ]
}


def test_an_item_named_by_id_or_name_that_no_tool_returned_is_caught() -> None:
    allowed = {"WS12-Blue"}
    assert ungrounded_items("Try the Radiant Tee [WS12-Blue].", allowed, CATALOGUE) == []
    assert ungrounded_items("Or the joust duffle bag!", allowed, CATALOGUE) == ["24-MB01"]
    assert ungrounded_items("See 24-MB01.", allowed, CATALOGUE) == ["24-MB01"]
    assert ungrounded_items("A radiant teepee, not an item.", allowed, CATALOGUE) == []


def test_another_colour_of_a_returned_product_may_share_its_name_but_not_its_id() -> None:
    allowed = {"MH01-Black"}
    assert ungrounded_items("The Chaz Kangeroo Hoodie in black.", allowed, CATALOGUE) == []
    assert ungrounded_items("The Chaz Kangeroo Hoodie, also as MH01-Gray.", allowed, CATALOGUE) == ["MH01-Gray"]


def test_a_large_catalogue_is_checked_by_the_replys_own_words() -> None:
    big = {f"SKU-{n}": Item(f"SKU-{n}", f"Product number {n}", 1.0) for n in range(100_000)}
    assert ungrounded_items("Here is Product number 99999 [SKU-99999].", {"SKU-5"}, big) == ["SKU-99999"]
