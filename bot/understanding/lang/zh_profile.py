"""Chinese for what shoppers say about themselves (我受不了黄色, 我穿M码, 我在给老公买), for reactions to an item (太花了,
喜欢), and for showing their profile back. Patterns read the text as Chinese `prepare` leaves it: words cut apart by
spaces, colours and kinds in the catalogue's terms."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from bot.understanding.lang.en_profile import ProfileWords

if TYPE_CHECKING:
    from bot.profile.stated import Change, StatedProfile

_TOKEN = r"[a-z\u4e00-\u9fff][a-z\u4e00-\u9fff-]*"
_WHAT = rf"({_TOKEN}(?:\s*(?:,|，|、|和|或|或者)\s*{_TOKEN}){{0,3}})"


class ChineseProfileWords(ProfileWords):
    statements: tuple[tuple[str, str | None], ...] = (
        (rf"(?:讨厌|受不了|从不穿|从来不穿|绝不穿|绝对不穿)\s*{_WHAT}", "never"),
        (rf"对\s*{_WHAT}\s*过敏", "never"),
        (rf"(?:只|总是)\s*穿\s*{_WHAT}", "always"),
        (rf"{_WHAT}\s*(?:现在|其实)?\s*(?:也)?\s*(?:可以|行|没问题|没关系)", None),
        (rf"不\s*(?:太|怎么|大)?\s*喜欢\s*{_WHAT}", "avoid"),
        (rf"(?:很|最|比较|特别)?\s*喜欢\s*{_WHAT}", "like"),
    )
    size_statements: tuple[str, ...] = (r"我\s*(?:一般|平时|通常)?\s*穿\s*{size}(?![\w-])", r"我\s*的?\s*尺码\s*是\s*{size}(?![\w-])")
    forget_size = r"(?:忘掉|忘记|不用管)\s*我\s*的?\s*尺码"
    # "一般" reaches the patterns as "1 般" (numerals are read as digits before)
    budget_statements: tuple[str, ...] = (r"预算\s*(?:一般|1\s*般|通常|大概)?\s*(?:是|在)?\s*{amount}",)
    forget_budget = r"(?:忘掉|不用管)\s*我\s*的?\s*预算"
    for_statements: tuple[str, ...] = (r"(?:给|帮|替)\s*(?:我\s*)?(?:的\s*)?([\u4e00-\u9fff]{1,3}?)\s*(?:买|挑|选)",)
    for_self = r"(?:给|帮)\s*(?:我\s*)?自己\s*买"
    liked_item = r"喜欢|好看|漂亮|不错|完美|太棒|爱了"
    disliked_item = r"不喜欢|难看|丑|太花|太艳|太亮|不适合我|不要这个|一般般"

    def profile_change(self, change: Change, currency: str) -> str:
        what = str(change.value).lower() if change.value is not None else ""
        match change.topic, change.strength:
            case (("color" | "word"), "never"):
                return f"绝不推荐{what}"
            case (("color" | "word"), "always"):
                return f"尽量推荐{what}"
            case (("color" | "word"), "avoid"):
                return f"少推荐{what}"
            case (("color" | "word"), "like"):
                return f"多推荐{what}"
            case (("color" | "word"), None):
                return f"{what}又可以了"
            case "size", _:
                return f"你穿{change.value}" if change.value is not None else "不记尺码"
            case "budget", _:
                return f"预算一般在{self.price(float(change.value), currency)}以内" if change.value is not None else "不记预算"
            case "for", _:
                return f"你在给{change.who}买" if change.value is not None else "你在给自己买"
        return ""

    def profile_noted(self, changes: Sequence[Change], currency: str) -> str:
        return self.say("profile.noted", changes="；".join(self.profile_change(c, currency) for c in changes))

    def profile_view(self, profile: StatedProfile, currency: str) -> str:
        if not profile:
            return self.say("profile.empty")
        lines = [self.say("profile.head")]
        for strength, label in (("never", "绝不要"), ("always", "总是要"), ("avoid", "尽量不要"), ("like", "喜欢")):
            said = [v.lower() for v, s in (*profile.colors.items(), *profile.words.items()) if s == strength]
            if said:
                lines.append(f"• {label}：{'、'.join(said)}")
        if profile.sizes:
            lines.append(f"• 尺码：{'、'.join(profile.sizes)}")
        if profile.budget is not None:
            lines.append(f"• 平时预算：{self.price(profile.budget, currency)}以内")
        if profile.shops_for:
            lines.append(f"• 给谁买：{profile.shops_for_who}")
        lines.append(self.say("profile.how_to_change"))
        return "\n".join(lines)
