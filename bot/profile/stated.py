"""A shopper's stated profile: what they told the bot about themselves, kept across conversations until they change it
in words ("yellow is fine now") or erase it with /forget. Strengths: "never" and "always" are hard (filters), "avoid"
and "like" are soft (the ranking's preferences)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from recsys.ranking.preferences import Preferences

Strength = Literal["never", "avoid", "like", "always"]
Topic = Literal["color", "word", "size", "budget", "for"]


@dataclass(frozen=True)
class Change:
    """One thing a shopper said about themselves; `strength` None takes back what was said of `value`."""

    topic: Topic
    value: str | float | None
    strength: Strength | None = None
    who: str = ""  # for "for": the shopper's own word ("husband")


@dataclass
class StatedProfile:
    colors: dict[str, Strength] = field(default_factory=dict)  # the catalogue's colour names
    words: dict[str, Strength] = field(default_factory=dict)  # materials and other words of the catalogue
    sizes: list[str] = field(default_factory=list)
    budget: float | None = None
    shops_for: str | None = None  # the gender meant ("Women")
    shops_for_who: str = ""  # their word for whom ("wife")

    def __bool__(self) -> bool:
        return bool(self.colors or self.words or self.sizes or self.budget is not None or self.shops_for)

    def apply(self, changes: list[Change]) -> None:
        for c in changes:
            match c.topic:
                case "color" | "word":
                    kept = self.colors if c.topic == "color" else self.words
                    if c.strength is None:
                        kept.pop(str(c.value), None)
                    else:
                        kept[str(c.value)] = c.strength
                case "size":
                    if c.value is None:
                        self.sizes = []
                    elif str(c.value) not in self.sizes:
                        self.sizes = [*self.sizes, str(c.value)][-3:]  # a top size and a waist, say
                case "budget":
                    self.budget = float(c.value) if c.value is not None else None
                case "for":
                    self.shops_for = str(c.value) if c.value is not None else None
                    self.shops_for_who = c.who if c.value is not None else ""

    def merged_over(self, other: StatedProfile) -> StatedProfile:
        """This profile, with what `other` says of the things this one leaves unsaid."""
        return StatedProfile(
            colors={**other.colors, **self.colors},
            words={**other.words, **self.words},
            sizes=self.sizes or other.sizes,
            budget=self.budget if self.budget is not None else other.budget,
            shops_for=self.shops_for or other.shops_for,
            shops_for_who=self.shops_for_who if self.shops_for else other.shops_for_who,
        )

    def hard(self, strength: Strength, topic: Literal["color", "word"] = "color") -> list[str]:
        kept = self.colors if topic == "color" else self.words
        return [v for v, s in kept.items() if s == strength]

    def preferences(self, gender_paths: dict[str, str]) -> Preferences:
        """The soft part for the ranking; `gender_paths` maps a gender meant to the catalogue's path ("Women" → "女装")."""
        return Preferences(
            like_colors=tuple(v for v, s in self.colors.items() if s in ("like", "always")),
            avoid_colors=tuple(v for v, s in self.colors.items() if s == "avoid"),
            sizes=tuple(self.sizes),
            budget=self.budget,
            gender=gender_paths.get(self.shops_for) if self.shops_for else None,
            genders=tuple(gender_paths.values()),
            like_words=tuple(v for v, s in self.words.items() if s in ("like", "always")),
            avoid_words=tuple(v for v, s in self.words.items() if s == "avoid"),
        )

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> StatedProfile:
        if not text:
            return cls()
        data = json.loads(text)
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
