"""What kind of thing an item is, read from the catalogue's own category tree.

Shops file items twice: under what they are ("Men/Tops/Tees") and under cross-cutting groups that also stand at
the top of the tree ("Collections/Eco Friendly", or "Gear/Bags/Collections/Erin Recommends" linking back into one).
A top-level category that also appears further down some path is such a group, whatever the shop calls it, so a
path is cut where it enters one: what is left ends in the item's kind.
"""

from __future__ import annotations

from collections.abc import Iterable

from recsys.catalogue.items import Item


def cross_cutting(items: Iterable[Item]) -> frozenset[str]:
    """Top-level categories that also sit inside other paths: groupings, not kinds of item."""
    roots: set[str] = set()
    inner: set[str] = set()
    for item in items:
        for path in item.categories:
            parts = path.split("/")
            roots.add(parts[0])
            inner.update(parts[1:])
    return frozenset(roots & inner)


def kind_of(item: Item, groups: frozenset[str]) -> str:
    """The leaf of the item's first path that names a kind ("" when every path is a grouping)."""
    return kind_path(item, groups).split("/")[-1]


def kind_path(item: Item, groups: frozenset[str]) -> str:
    """The item's first path, cut where it enters a grouping: "Men/Tops/Jackets" ("" when every path is a grouping)."""
    for path in item.categories:
        kept = []
        for part in path.split("/"):
            if part in groups:
                break
            kept.append(part)
        if kept:
            return "/".join(kept)
    return ""


def kinds_by_size(items: list[Item], exclude: Iterable[str] = ()) -> list[tuple[str, list[Item]]]:
    """Each kind with its items, most items first (ties by name); `exclude` leaves out kinds that are not things,
    such as a gender standing alone."""
    groups = cross_cutting(items)
    skip = set(exclude)
    by_kind: dict[str, list[Item]] = {}
    for item in items:
        kind = kind_of(item, groups)
        if kind and kind not in skip:
            by_kind.setdefault(kind, []).append(item)
    return sorted(by_kind.items(), key=lambda kv: (-len(kv[1]), kv[0]))
