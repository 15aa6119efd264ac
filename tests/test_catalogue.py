"""Loading catalogues (JSONL, CSV) with per-line reports, and `recbot ingest` being idempotent by id."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from recsys.catalogue.items import DEMO_CATALOGUE
from recsys.catalogue.loading import load_catalogue

PHOTO = DEMO_CATALOGUE.parent / "images" / "mh01-gray_main.jpg"


def test_the_bundled_demo_catalogue_is_complete_and_small() -> None:
    result = load_catalogue(DEMO_CATALOGUE)
    assert len(result.items) == 461 and result.problems == []
    hoodie = next(i for i in result.items if i.id == "MH01-Gray")
    assert (hoodie.color, hoodie.price, hoodie.parent_id) == ("Gray", 52.0, "MH01")
    assert "Men/Tops/Hoodies & Sweatshirts" in hoodie.categories
    assert sum(1 for i in result.items if i.image) == 449
    size = sum(f.stat().st_size for f in DEMO_CATALOGUE.parent.rglob("*") if f.is_file())
    assert size < 8 * 1024 * 1024
    assert (DEMO_CATALOGUE.parent / "LICENSE.txt").is_file() and (DEMO_CATALOGUE.parent / "SOURCE.md").is_file()


def test_the_demo_keeps_its_photos_when_the_checkout_moves(indexed_chroma: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from recsys.catalogue import items as catalogue
    from recsys.store.chroma import ItemStore

    before = ItemStore(indexed_chroma).get("MH01-Gray")
    assert before is not None and before.image == str(PHOTO)
    fingerprint = before.fingerprint()
    moved = tmp_path / "elsewhere" / "recsys" / "demo_catalogue"
    (moved / "images").mkdir(parents=True)
    (moved / "images" / PHOTO.name).write_bytes(PHOTO.read_bytes())
    monkeypatch.setattr(catalogue, "DEMO_CATALOGUE", moved / "catalog.jsonl")  # the index was built at the old place
    after = ItemStore(indexed_chroma).get("MH01-Gray")
    assert after is not None and after.image == str(moved / "images" / PHOTO.name) and Path(after.image).is_file()
    assert after.fingerprint() == fingerprint  # a re-ingest from the new place re-encodes nothing


def test_jsonl_rows_are_validated_with_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"
    rows = [
        json.dumps({"id": "a", "name": "Alpha Tee", "price": 10, "color": "red", "categories": "Men/Tops|Sale", "image": str(PHOTO)}),
        "{not json",
        json.dumps({"id": "b", "name": "Beta"}),  # no price
        json.dumps({"id": "c", "name": "Gamma", "price": -3}),
        json.dumps({"id": "d", "name": "Delta", "price": "12.5", "image": "nope.jpg", "material": "wool"}),
        "",
        json.dumps(["a list"]),
    ]
    path.write_text("\n".join(rows) + "\n")
    result = load_catalogue(path)
    assert [i.id for i in result.items] == ["a", "b", "d"]  # a price is optional: "b" is kept without one
    assert result.items[0].categories == ("Men/Tops", "Sale") and result.items[0].color == "Red"
    assert result.items[1].price is None
    assert result.items[2].image is None and result.items[2].attributes == {"material": "wool"}
    report = {p.line: str(p) for p in result.problems}
    assert "not valid JSON" in report[2]
    assert 3 not in report
    assert "price" in report[4] and "skipped" in report[4]
    assert "image not found: nope.jpg" in report[5] and "warning" in report[5]
    assert "expected a JSON object" in report[7]


def test_csv_with_colour_spelling_and_free_attributes(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["SKU", "Title", "Price", "Colour", "Category", "Image_URL", "Fabric"])
        w.writerow(["x1", "Trail Pack", "49.99", "green", "Gear/Bags", "https://example.invalid/x1.jpg", "nylon"])
        w.writerow(["x2", "", "5", "", "", "", ""])
    result = load_catalogue(path)
    [item] = result.items
    assert (item.id, item.name, item.price, item.color) == ("x1", "Trail Pack", 49.99, "Green")
    assert item.image == "https://example.invalid/x1.jpg" and item.attributes == {"fabric": "nylon"}
    assert [p.line for p in result.problems] == [3] and "name" in str(result.problems[0])


@pytest.mark.slow
def test_recbot_ingest_reports_and_is_idempotent(tmp_path: Path) -> None:
    path = tmp_path / "c.jsonl"

    def write(price: float) -> None:
        rows = [
            {"id": "t1", "name": "Cloud Tee", "price": price, "color": "White", "categories": ["Men/Tops/Tees"], "image": str(PHOTO)},
            {"id": "t2", "name": "Storm Jacket", "price": 80, "color": "Black", "categories": ["Men/Tops/Jackets"]},
            {"id": "t3", "name": "No Price Shorts"},
        ]
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))

    env = {**os.environ, "RECBOT_STORAGE__DIR": str(tmp_path / "data"), "RECBOT_LOGGING__LEVEL": "ERROR"}

    def ingest() -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "adapters.cli", "ingest", str(path)], capture_output=True, text=True, env=env, timeout=600
        )

    write(20)
    first = ingest()
    assert first.returncode == 0, first.stderr
    assert "3 added, 0 updated, 0 unchanged; 0 rows skipped" in first.stdout  # a price is optional
    again = ingest()
    assert "0 added, 0 updated, 3 unchanged" in again.stdout
    write(15)
    changed = ingest()
    assert "0 added, 1 updated, 2 unchanged" in changed.stdout

    from recsys.store.chroma import ItemStore

    store = ItemStore(tmp_path / "data" / "chroma")
    assert store.count() == 3 and store.get("t1").price == 15 and store.get("t3").price is None
    assert [i.id for i in store.image_rows().items] == ["t1"]


def test_ingest_of_a_missing_file_says_so(tmp_path: Path) -> None:
    env = {**os.environ, "RECBOT_STORAGE__DIR": str(tmp_path / "data")}
    proc = subprocess.run(
        [sys.executable, "-m", "adapters.cli", "ingest", str(tmp_path / "nope.csv")], capture_output=True, text=True, env=env
    )
    assert proc.returncode == 2 and "no such file" in proc.stderr
