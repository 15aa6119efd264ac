"""English for what shoppers say about themselves ("I can't stand yellow", "I take size M", "I'm shopping for my
husband"), for how they react to an item ("love it", "ugh, too flashy"), and for showing their profile back.
`English` inherits these; another language overrides them (zh_profile.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.profile.stated import Change, StatedProfile

_WHAT = r"([a-z][a-z-]*(?:(?:\s*,\s*|\s+(?:and|or|nor)\s+)[a-z][a-z-]*){0,3})"  # "yellow", "wool and polyester"


_NEVER_WEAR = r"never wear|will never wear|don'?t ever wear|would never wear"


class ProfileWords:
    """Mixed into `English`, whose `say`, `price` and `series` it uses; every sentence is in the language's .toml."""

    # (pattern, strength): {what} is what the statement is about; strength None takes back what was said
    statements: tuple[tuple[str, str | None], ...] = (
        (
            rf"\bi (?:really |just )?(?:can'?t stand|cannot stand|hate|detest|loathe|{_NEVER_WEAR})\s+(?:the colou?r\s+)?{_WHAT}",
            "never",
        ),
        (rf"\bi'?m allergic to\s+{_WHAT}", "never"),
        (rf"\bi (?:always|only) wear\s+{_WHAT}", "always"),
        (rf"\b{_WHAT}\s+(?:is|are)\s+(?:fine|ok|okay|alright|all right)(?:\s+(?:now|again|after all|by me))?\b", None),
        (rf"\bi (?:don'?t|do not) mind\s+{_WHAT}", None),
        (rf"\bforget (?:what i said about|that i (?:hate|don'?t like))\s+{_WHAT}", None),
        (rf"\bi (?:don'?t|do not) (?:really |much )?(?:like|love|care for|wear)\s+{_WHAT}", "avoid"),
        (rf"\bi'?m not (?:a |really a |a big |much of a )?fan of\s+{_WHAT}", "avoid"),
        (rf"\b{_WHAT}\s+(?:doesn'?t|does not|don'?t) suit me\b", "avoid"),
        (rf"\bi (?:really )?(?:love|like|adore|prefer)\s+{_WHAT}", "like"),
        (rf"\b{_WHAT}\s+is my (?:favou?rite )?colou?r\b", "like"),
    )
    # {size}: any size (as in the size patterns); {amount}: a price
    size_statements: tuple[str, ...] = (
        r"\bi(?:'m| am)\s+(?:usually |normally )?(?:an?\s+)?(?:size\s+)?{size}(?![\w-])",
        r"\bi (?:usually |normally )?(?:take|wear)\s+(?:an?\s+)?(?:size\s+)?{size}(?![\w-])",
        r"\bmy (?:usual )?size is\s+{size}(?![\w-])",
    )
    forget_size = r"\b(?:forget|ignore) my sizes?\b"
    budget_statements: tuple[str, ...] = (
        r"\bmy (?:usual )?budget is (?:usually |normally |about |around |under |up to |below |at most )*{amount}",
        r"\bi (?:usually |normally |never )?(?:spend|pay) (?:no more than |more than |under |less than |up to |about |around )?{amount}",
    )
    forget_budget = r"\b(?:forget|ignore|no) (?:about )?my budget\b|\bbudget doesn'?t matter\b"
    for_statements: tuple[str, ...] = (
        r"\bi'?m (?:shopping|buying|looking) for my\s+([a-z]+)",
        r"\bi (?:usually |mostly )?(?:shop|buy) for my\s+([a-z]+)",
    )
    for_self = r"\bi'?m (?:shopping|buying|looking) for (?:myself|me)\b|\bfor myself (?:now|again)\b"
    # a reaction to one item shown
    liked_item = r"\b(love it|love this|love that|i love the|like it|like this|gorgeous|perfect|beautiful|awesome|great one|nice one)\b"
    disliked_item = (
        r"\b(ugh|ugly|hate it|hate this|hate that|too flashy|too loud|too bright|not for me|not my style|nope|meh|awful|horrible"
        r"|don'?t like it|don'?t like this|don'?t like that)\b"
    )

    def profile_change(self, change: Change, currency: str) -> str:
        """One change in words ("no yellow, ever", "you take M"), from the language's `profile.change.*` sentences."""
        if change.topic in ("color", "word"):
            return self.say(f"profile.change.{change.strength or 'fine'}", what=str(change.value).lower())
        if change.value is None:
            return self.say(f"profile.change.no_{change.topic}")
        price = self.price(float(change.value), currency) if change.topic == "budget" else ""
        return self.say(f"profile.change.{change.topic}", size=change.value, price=price, who=change.who)

    def profile_noted(self, changes: Sequence[Change], currency: str) -> str:
        said = self.say("profile.joiner").join(self.profile_change(c, currency) for c in changes)
        return self.say("profile.noted", changes=said)

    def profile_view(self, profile: StatedProfile, currency: str) -> str:
        """What /profile shows: each thing the shopper said, and how to change it."""
        say, series = self.say, self.series
        if not profile:
            return say("profile.empty")
        lines = [say("profile.head")]
        for strength in ("never", "always", "avoid", "like"):
            said = [v.lower() for v, s in (*profile.colors.items(), *profile.words.items()) if s == strength]
            if said:
                lines.append(say(f"profile.view.{strength}", what=series(said)))
        if profile.sizes:
            lines.append(say("profile.view.sizes", sizes=series(profile.sizes)))
        if profile.budget is not None:
            lines.append(say("profile.view.budget", price=self.price(profile.budget, currency)))
        if profile.shops_for:
            lines.append(say("profile.view.for", who=profile.shops_for_who, gender=profile.shops_for.lower()))
        lines.append(say("profile.how_to_change"))
        return "\n".join(lines)
