"""Example requests for the local model's tool prompt: what a shopper writes, and the search words and kinds of item the
assistant should pick. A shop may give its own (`catalogue.examples`, JSONL; the demo ships one); otherwise they are
written from the catalogue's own kinds, colours and prices, so the model only ever sees kinds this shop sells."""

from __future__ import annotations

import json
import logging
import math
import re
from dataclasses import dataclass
from pathlib import Path

from bot.understanding.vocabulary import Vocabulary

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Example:
    message: str
    query: str
    kinds: tuple[str, ...] = ()


def load_examples(path: Path, vocabulary: Vocabulary) -> list[Example]:
    """The file's examples whose kinds this catalogue has (a kind it lacks would teach the model to ask for nothing)."""
    out = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            example = Example(str(row["message"]), str(row["query"]), tuple(str(k) for k in row.get("kinds") or ()))
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s line %d: not an example (%s): skipped", path, number, exc)
            continue
        if unknown := [k for k in example.kinds if not vocabulary.categories_for(k)]:
            log.warning("%s line %d: the catalogue has no %s: skipped", path, number, ", ".join(unknown))
            continue
        out.append(example)
    return out


def written_examples(vocabulary: Vocabulary) -> list[Example]:
    """Examples from the catalogue itself: its commonest kinds, with a colour, a gender and a budget it stocks, and
    requests that name no kind (the model must learn to leave the kinds empty when the shopper names none)."""
    lang = vocabulary.lang
    genders = gender_words(vocabulary)
    kinds = vocabulary.kinds
    out = []
    if kinds:
        kind, color, price = kinds[0]
        wanted = " ".join(w for w in ("a", (color or "").lower(), noun(kind, vocabulary)) if w)
        if genders:
            wanted += f" for {genders[-1]}"
        if price:
            wanted += f" under {lang.price(math.ceil(price / 10) * 10, vocabulary.currency)}"
        others = [c.lower() for c in vocabulary.colors if c != color]
        if others:
            wanted += f", nothing {others[0]}"
        out.append(Example(wanted, noun(kind, vocabulary), (kind.lower(), *genders[-1:])))
    out.append(Example("something comfy to relax in", "comfortable", ()))
    out.append(Example("a present for my brother, he loves the outdoors", "outdoor gift", tuple(genders[:1])))
    if len(kinds) > 1:
        kind = kinds[1][0]
        out.append(Example(f"do you have any {kind.lower()}?", noun(kind, vocabulary), (kind.lower(),)))
    if len(kinds) > 3:
        first, second = kinds[2][0], kinds[3][0]
        out.append(
            Example(
                f"{noun(first, vocabulary)} or {noun(second, vocabulary)} for a weekend away",
                f"{noun(first, vocabulary)} {noun(second, vocabulary)}",
                (first.lower(), second.lower()),
            )
        )
    return out


def examples_for(path: Path | None, vocabulary: Vocabulary) -> list[Example]:
    """The shop's own examples when it gives a file and they fit, else examples written from the catalogue. Examples
    that all leave the kinds empty would teach the model never to name one, so they do not count as fitting."""
    given = load_examples(path, vocabulary) if path is not None and Path(path).is_file() else []
    if path is not None and not any(e.kinds for e in given):
        log.warning("no usable examples in %s: the local model's examples are written from the catalogue", path)
        return written_examples(vocabulary)
    return given or written_examples(vocabulary)


def gender_words(vocabulary: Vocabulary) -> list[str]:
    """The catalogue's gender categories as a shopper writes them ("men", "women"), when it has any."""
    return sorted(g.lower() for g in vocabulary.genders.values())


def noun(kind: str, vocabulary: Vocabulary) -> str:
    """The first kind a category name gives, in the singular: "Hoodies & Sweatshirts" → "hoodie"."""
    first = re.split(vocabulary.lang.kind_separators, kind.lower())[0]
    return " ".join(vocabulary.lang.singular(w) for w in first.split())
