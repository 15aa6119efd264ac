"""Chinese for what shoppers say about themselves (我受不了黄色, 我穿M码, 我在给老公买), for reactions to an item (太花了,
喜欢), and for showing their profile back. Patterns read the text as Chinese `prepare` leaves it: words cut apart by
spaces, colours and kinds in the catalogue's terms. Its sentences are in zh.toml."""

from __future__ import annotations

from bot.understanding.lang.en_profile import ProfileWords

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
    budget_statements: tuple[str, ...] = (r"预算\s*(?:一般|通常|大概)?\s*(?:是|在)?\s*{amount}",)
    forget_budget = r"(?:忘掉|不用管)\s*我\s*的?\s*预算"
    for_statements: tuple[str, ...] = (r"(?:给|帮|替)\s*(?:我\s*)?(?:的\s*)?([\u4e00-\u9fff]{1,3}?)\s*(?:买|挑|选)",)
    for_self = r"(?:给|帮)\s*(?:我\s*)?自己\s*买"
    liked_item = r"喜欢|好看|漂亮|不错|完美|太棒|爱了"
    disliked_item = r"不喜欢|难看|丑|太花|太艳|太亮|不适合我|不要这个|一般般"
