"""Loading a catalogue from JSONL or CSV, every row validated: a bad row is reported with its line number and
skipped, a doubtful one kept with a warning."""

from __future__ import annotations

import csv
import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError, field_validator

from recsys.catalogue.items import Item

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
}
_IGNORED = {"additional_images", "sizes"}


class _Row(BaseModel):
    id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    price: float = Field(ge=0)
    description: str = ""
    categories: list[str] = []
    color: str | None = None
    image: str | None = None
    parent_id: str | None = None
    attributes: dict[str, str] = {}

    @field_validator("id", "name", mode="before")
    @classmethod
    def _strip(cls, v: Any) -> Any:
        return v.strip() if isinstance(v, str) else v

    @field_validator("categories", mode="before")
    @classmethod
    def _split_categories(cls, v: Any) -> Any:
        if isinstance(v, str):
            return [c.strip() for c in re.split(r"[|;]", v) if c.strip()]
        return v or []

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


def load_catalogue(path: Path) -> LoadResult:
    """Read a JSONL or CSV catalogue; invalid rows are reported with their line number and skipped."""
    path = Path(path)
    items: list[Item] = []
    problems: list[RowProblem] = []
    seen: dict[str, int] = {}
    for line_no, raw in _rows(path, problems):
        try:
            row = _Row.model_validate(_normalise(raw))
        except ValidationError as exc:
            problems.append(RowProblem(line_no, _explain(exc)))
            continue
        image = _resolve_image(row.image, path.parent)
        if row.image and image is None:
            problems.append(RowProblem(line_no, f"image not found: {row.image}; item kept without a photo", False))
        if row.id in seen:
            problems.append(RowProblem(line_no, f"duplicate id {row.id!r} (first on line {seen[row.id]}); later row wins", False))
            items = [i for i in items if i.id != row.id]
        seen[row.id] = line_no
        items.append(
            Item(
                id=row.id,
                name=html.unescape(row.name),  # "HeatTech&trade;" → "HeatTech™"
                price=row.price,
                description=row.description,
                categories=tuple(row.categories),
                color=row.color.strip().title() if row.color else None,
                image=image,
                parent_id=row.parent_id,
                attributes=row.attributes,
            )
        )
    return LoadResult(items, problems)


def _rows(path: Path, problems: list[RowProblem]) -> Iterator[tuple[int, dict[str, Any]]]:
    if path.suffix.lower() == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            for row in reader:
                yield reader.line_num, {k.strip().lower(): v for k, v in row.items() if k}
        return
    with path.open(encoding="utf-8") as fh:
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


def _normalise(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    used: set[str] = set()
    for target, names in _ALIASES.items():
        for name in names:
            if name in raw and raw[name] not in (None, ""):
                out[target] = raw[name]
                used.add(name)
                break
        used.update(n for n in names if n in raw)
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
