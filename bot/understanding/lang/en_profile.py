"""English for what shoppers say about themselves ("I can't stand yellow", "I take size M", "I'm shopping for my
husband"), for how they react to an item ("love it", "ugh, too flashy"), and for showing their profile back.
`English` inherits these; another language overrides them (zh_profile.py)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.profile.stated import Change, StatedProfile

_WHAT = r"([a-z][a-z-]*(?:(?:\s*,\s*|\s+(?:and|or|nor)\s+)[a-z][a-z-]*){0,3})"  # "yellow", "wool and polyester"


_NEVER_WEAR = r"never wear|will never wear|don'?t ever wear|would never wear"


class ProfileWords:
    """Needs `price`, `listed` and `say` of the language it is mixed into."""

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

    def price(self, value: float | None, currency: str = "USD", exact: bool = False) -> str:
        raise NotImplementedError

    def listed(self, words: Sequence[str], joiner: str = "or") -> str:
        raise NotImplementedError

    def say(self, key: str, **data: Any) -> str:
        raise NotImplementedError

    def profile_change(self, change: Change, currency: str) -> str:
        """One change in words: "no yellow, ever", "you take M"."""
        what = str(change.value).lower() if change.value is not None else ""
        match change.topic, change.strength:
            case (("color" | "word"), "never"):
                return f"no {what}, ever"
            case (("color" | "word"), "always"):
                return f"{what} whenever there is"
            case (("color" | "word"), "avoid"):
                return f"less {what}"
            case (("color" | "word"), "like"):
                return f"more {what}"
            case (("color" | "word"), None):
                return f"{what} is fine again"
            case "size", _:
                return f"you take {change.value}" if change.value is not None else "no size noted"
            case "budget", _:
                return (
                    f"you usually spend up to {self.price(float(change.value), currency)}"
                    if change.value is not None
                    else "no usual budget"
                )
            case "for", _:
                return f"you're shopping for your {change.who}" if change.value is not None else "you're shopping for yourself"
        return ""

    def profile_noted(self, changes: Sequence[Change], currency: str) -> str:
        return self.say("profile.noted", changes="; ".join(self.profile_change(c, currency) for c in changes))

    def profile_view(self, profile: StatedProfile, currency: str) -> str:
        """What /profile shows: each thing the shopper said, and how to change it."""
        if not profile:
            return self.say("profile.empty")
        lines = [self.say("profile.head")]
        for strength, label in (("never", "Never"), ("always", "Always"), ("avoid", "Rather not"), ("like", "Likes")):
            said = [v.lower() for v, s in (*profile.colors.items(), *profile.words.items()) if s == strength]
            if said:
                lines.append(f"• {label}: {', '.join(said)}")
        if profile.sizes:
            lines.append(f"• Sizes: {', '.join(profile.sizes)}")
        if profile.budget is not None:
            lines.append(f"• Usual budget: up to {self.price(profile.budget, currency)}")
        if profile.shops_for:
            lines.append(f"• Shopping for: your {profile.shops_for_who} ({profile.shops_for.lower()})")
        lines.append(self.say("profile.how_to_change"))
        return "\n".join(lines)
