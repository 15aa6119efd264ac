"""Loading a catalogue: generic JSONL or CSV, Shopify's or WooCommerce's product export (detected from the header),
every row validated: a bad row is reported with its line number and skipped, a doubtful one kept with a warning,
unpublished products (drafts, archived, private) counted and left out."""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from recsys.catalogue import shopify, woocommerce
from recsys.catalogue.csv_files import read_csv
from recsys.catalogue.items import Item, category_path
from recsys.catalogue.sanitise import as_data

Format = Literal["auto", "generic", "shopify", "woocommerce"]
FORMATS: tuple[Format, ...] = ("auto", "generic", "shopify", "woocommerce")

# Columns a catalogue row may use for each field; anything else becomes a free attribute.
_ALIASES = {
    "id": ("id", "sku", "item_id"),
    "name": ("name", "title"),
    "description": ("description", "desc"),
    "price": ("price",),
    "categories": ("categories", "category"),
    "color": ("color", "colour"),
    "image": ("image", "image_url", "image_path", "photo"),
    "parent_id": ("parent_sku", "parent_id", "parent"),
    "links": ("links", "cross_sells", "cross-sells", "crosssell", "related", "goes_with"),
}
_IGNORED = {"additional_images"}
_LIST_SPLIT = re.compile(r"[|;]")  # several values in one cell; never a comma, which names use


class _Row(BaseModel):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    price: float | None = Field(None, ge=0)
    description: str = ""
    categories: list[str] = []
    color: str | None = None
    sizes: list[str] = []
    image: str | None = None
    parent_id: str | None = None
    links: list[str] = []
    attributes: dict[str, str] = {}

    @field_validator("id", "name", mode="before")
    @classmethod
    def _strip(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) else v

    @field_validator("categories", "sizes", mode="before")
    @classmethod
    def _split_list(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [c.strip() for c in _LIST_SPLIT.split(v) if c.strip()]
        return [str(x).strip() for x in v or [] if str(x).strip()]

    @field_validator("links", mode="before")
    @classmethod
    def _links(cls, v: Any) -> Any:
        """ids split like a list cell (or by commas: ids have none), or {"cross_sell": [...], "related": [...]} with
        up-sells (pricier alternatives, not companions) left out."""
        if isinstance(v, dict):
            v = [i for key, ids in v.items() if "up" not in key.lower() for i in (ids if isinstance(ids, list) else [ids])]
        if isinstance(v, str):
            return [c.strip() for c in re.split(r"[|;,\n]", v) if c.strip()]
        return [str(x).strip() for x in v or [] if str(x).strip()]

    @field_validator("price", mode="before")
    @classmethod
    def _price(cls, v: Any) -> Any:
        return parse_price(v) if isinstance(v, str) else v

    @field_validator("color", "image", "parent_id", "description", mode="before")
    @classmethod
    def _blank_is_none(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v


@dataclass
class RowProblem:
    """A catalogue line that was skipped (error) or ingested with a caveat (warning)."""

    line: int
    message: str
    skipped: bool = True

    def __str__(self) -> str:
        kind = "skipped" if self.skipped else "warning"
        return f"line {self.line}: {kind}: {self.message}"


@dataclass
class LoadResult:
    items: list[Item]
    problems: list[RowProblem]
    format: str = "generic"
    unpublished: Counter[str] = field(default_factory=Counter)  # status → products left out (draft, archived, …)

    def summary(self) -> str:
        """What was left out, in one line for the person running the ingest."""
        skipped = sum(p.skipped for p in self.problems)
        parts = [f"{skipped} rows skipped"]
        parts += [f"{n} {status} product{'s' * (n != 1)} left out" for status, n in sorted(self.unpublished.items())]
        return "; ".join(parts)


def parse_price(text: str) -> float | None:
    """A price as shops write it: "12.50", "$1,299.00", "12,50 €", "1.299,00"; blank is no price. ValueError otherwise."""
    cleaned = re.sub(r"[^\d.,\-]", "", text)
    if not cleaned:
        if text.strip():
            raise ValueError(f"not a price: {text.strip()[:40]!r}")
        return None
    if "," in cleaned and "." in cleaned:  # the later one is the decimal point
        cleaned = cleaned.replace(".", "").replace(",", ".") if cleaned.rfind(",") > cleaned.rfind(".") else cleaned.replace(",", "")
    elif "," in cleaned:
        head, _, tail = cleaned.rpartition(",")
        cleaned = f"{head.replace(',', '')}.{tail}" if len(tail) != 3 else cleaned.replace(",", "")
    return float(cleaned)


def _as_data(row: _Row) -> tuple[dict[str, Any], bool]:
    """The row's texts with every sentence that speaks to a model left out (recsys/catalogue/sanitise.py), and
    whether there was one; a category or attribute that was nothing else is dropped."""
    name, a = as_data(row.name)
    description, b = as_data(row.description)
    categories, spoke = [], a or b
    for path in row.categories:
        parts = [as_data(part) for part in path.split("/")]
        spoke = spoke or any(dropped for _, dropped in parts)
        if all(part for part, _ in parts):
            categories.append("/".join(part for part, _ in parts))
    attributes = {}
    for key, value in row.attributes.items():
        kept, dropped = as_data(value)
        spoke = spoke or dropped
        if kept:
            attributes[key] = kept
    text = {"name": name, "description": description, "categories": tuple(categories), "attributes": attributes}
    return text, spoke


def load_catalogue(path: Path, format: Format = "auto", category_separator: str | None = None) -> LoadResult:
    """Read a catalogue file in `format` (auto: JSONL by its suffix, a CSV by its header); invalid rows are reported
    with their line number and skipped."""
    path = Path(path)
    items: list[Item] = []
    problems: list[RowProblem] = []
    result = LoadResult(items, problems)
    seen: dict[str, int] = {}
    by_id: dict[str, Item] = {}
    for line_no, raw in _rows(path, format, category_separator, result):
        if raw.get("_problem"):
            problems.append(RowProblem(line_no, raw["_problem"]))
            continue
        if raw.get("_status", "active") != "active":
            result.unpublished[raw["_status"]] += 1
            continue
        try:
            row = _Row.model_validate(raw if result.format != "generic" else _normalise(raw, category_separator))
        except ValidationError as exc:
            problems.append(RowProblem(line_no, _explain(exc)))
            continue
        image = _resolve_image(row.image, path.parent)
        if row.image and image is None:
            problems.append(RowProblem(line_no, f"image not found: {row.image}; item kept without a photo", False))
        if row.id in seen:
            problems.append(RowProblem(line_no, f"duplicate id {row.id!r} (first on line {seen[row.id]}); later row wins", False))
            del by_id[row.id]
        text, spoke = _as_data(row)
        if not text["name"]:
            problems.append(RowProblem(line_no, "the name is instructions to a model, not a product name; row skipped"))
            continue
        if spoke:
            problems.append(RowProblem(line_no, "text that speaks to a model (instructions, not product words) was left out", False))
        seen[row.id] = line_no
        by_id[row.id] = Item(
            id=row.id,
            name=html.unescape(text["name"]),  # "HeatTech&trade;" → "HeatTech™"
            price=row.price,
            description=text["description"],
            categories=text["categories"],
            color=row.color.strip().title() if row.color else None,
            image=image,
            parent_id=row.parent_id,
            attributes=text["attributes"],
            sizes=tuple(dict.fromkeys(row.sizes)),
            links=tuple(i for i in dict.fromkeys(row.links) if i != row.id),
        )
    items.extend(_variants_by_name(by_id.values()) if result.format == "generic" else by_id.values())
    return result


def _variants_by_name(items: Iterable[Item]) -> list[Item]:
    """A generic catalogue that lists colours as separate rows without a parent id: rows with the same name and
    different colours are one product, so a reply shows one colour of it rather than all of them."""
    items = list(items)
    groups: dict[str, list[Item]] = {}
    for item in items:
        if item.parent_id is None and item.color:
            groups.setdefault(" ".join(item.name.lower().split()), []).append(item)
    parents = {i.id: f"{group[0].id}~product" for group in groups.values() if len({g.color for g in group}) > 1 for i in group}
    return [replace(i, parent_id=parents[i.id]) if i.id in parents else i for i in items]


def _rows(path: Path, format: Format, separator: str | None, result: LoadResult) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"} and format in {"auto", "generic"}:
        yield from _jsonl(path, result.problems)
        return
    table = read_csv(path)
    result.problems.extend(RowProblem(1, note, False) for note in table.notes)
    found = "shopify" if shopify.detect(table.header) else "woocommerce" if woocommerce.detect(table.header) else "generic"
    if format not in ("auto", found):
        expected = {"shopify": "Handle, Title, Variant Price", "woocommerce": "ID, Type, SKU, Name, Regular price", "generic": "id, name"}
        result.problems.append(RowProblem(1, f"not a {format} file: its header lacks {expected[format]} (it looks like {found})"))
        return
    result.format = found
    if found == "shopify":
        yield from shopify.rows(table.records, separator)
    elif found == "woocommerce":
        yield from woocommerce.rows(table.records, separator)
    else:
        columns = {h.strip().lower() for h in table.header}
        if not (columns & set(_ALIASES["id"]) and columns & set(_ALIASES["name"])):
            result.problems.append(
                RowProblem(
                    1,
                    f"unknown header ({', '.join(table.header[:8]) or 'empty'}): a catalogue needs id and name columns, "
                    "or a Shopify or WooCommerce product export",
                )
            )
            return
        for line, record in table.records:
            yield line, {k.strip().lower(): v for k, v in record.items()}


def _jsonl(path: Path, problems: list[RowProblem]) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open(encoding="utf-8", errors="replace") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(RowProblem(line_no, f"not valid JSON ({exc.msg})"))
                continue
            if not isinstance(data, dict):
                problems.append(RowProblem(line_no, "expected a JSON object"))
                continue
            yield line_no, data


def _normalise(raw: dict[str, Any], separator: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    used: set[str] = set()
    for target, names in _ALIASES.items():
        for name in names:
            if name in raw and raw[name] not in (None, ""):
                out[target] = raw[name]
                used.add(name)
                break
        used.update(n for n in names if n in raw)
    if "categories" in out:
        cats = out["categories"] if isinstance(out["categories"], list) else _LIST_SPLIT.split(str(out["categories"]))
        out["categories"] = [category_path(str(c), separator) for c in cats if str(c).strip()]
    if "sizes" in raw:
        out["sizes"] = raw["sizes"]
        used.add("sizes")
    attributes = raw.get("attributes") if isinstance(raw.get("attributes"), dict) else {}
    extra = {k: v for k, v in raw.items() if k not in used and k not in _IGNORED and k != "attributes"}
    out["attributes"] = {
        str(k): str(v) for k, v in {**extra, **attributes}.items() if v not in (None, "") and not isinstance(v, (dict, list))
    }
    return out


def _explain(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field_name = ".".join(str(p) for p in err["loc"]) or "row"
        msg = "missing" if err["type"] == "missing" else err["msg"]
        parts.append(f"{field_name}: {msg}")
    return "; ".join(parts)


def _resolve_image(image: str | None, base: Path) -> str | None:
    if not image:
        return None
    if re.match(r"^https?://", image):
        return image
    candidate = Path(image)
    if not candidate.is_absolute():
        candidate = base / candidate
    return str(candidate.resolve()) if candidate.is_file() else None
