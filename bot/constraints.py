"""Reading a shopper's message: what they want, their hard constraints, and follow-up intents."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from bot.vocabulary import GENDERS, Vocabulary

Intent = Literal[
    "search",
    "refine",
    "cheaper",
    "pricier",
    "more_like",
    "details",
    "more_results",
    "recommend",
    "greeting",
    "help",
    "thanks",
    "offtopic",
    "empty",
]

_UNITS = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS = {"twenty": 20, "thirty": 30, "forty": 40, "fourty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90}
_ORDINALS = {
    "first": 0,
    "1st": 0,
    "second": 1,
    "2nd": 1,
    "third": 2,
    "3rd": 2,
    "fourth": 3,
    "4th": 3,
    "fifth": 4,
    "5th": 4,
    "sixth": 5,
    "6th": 5,
    "last": -1,
    "final": -1,
}
_NUM = r"\$?\s*(\d+(?:\.\d+)?)\s*(?:\$|dollars?|bucks|usd)?"
_MAX = (
    r"(?:under|below|less than|cheaper than|lower than|max(?:imum)?|at most|up to|no more than|not more than"
    r"|within|<=?|budget(?: is| of)?|for less than)"
)
_MIN = r"(?:over|above|more than|at least|min(?:imum)?|no less than|>=?|starting at|pricier than)"
_NEG = r"(?:not|no|non|except|excluding|without|avoid|anything but|but not|nothing|don'?t want|do not want|hate|never)"


@dataclass
class Request:
    """One message, read: its intent, its search words and its hard constraints."""

    intent: Intent
    query: str = ""
    min_price: float | None = None
    max_price: float | None = None
    colors: list[str] = field(default_factory=list)
    exclude_colors: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)  # category paths
    exclude_categories: list[str] = field(default_factory=list)
    ordinal: int | None = None  # 0-based position in the last list shown; -1 = the last one
    item_id: str | None = None

    @property
    def has_constraints(self) -> bool:
        return any(
            [
                self.min_price is not None,
                self.max_price is not None,
                self.colors,
                self.exclude_colors,
                self.categories,
                self.exclude_categories,
            ]
        )


def words_to_numbers(text: str) -> str:
    """ "forty five dollars" → "45 dollars": spoken requests arrive with numbers as words."""

    def convert(match: re.Match[str]) -> str:
        total = 0
        for word in re.split(r"[\s-]+", match.group(0).lower()):
            if word in _TENS:
                total += _TENS[word]
            elif word in _UNITS:
                total += _UNITS[word]
            elif word == "hundred":
                total = max(total, 1) * 100
        return str(total)

    words = "|".join([*_TENS, *_UNITS, "hundred"])
    return re.sub(rf"\b(?:(?:{words})(?:[\s-]+|\b))+(?=\s*(?:dollars?|bucks|usd)\b)", lambda m: convert(m) + " ", text, flags=re.I)


def parse(text: str, vocab: Vocabulary, item_ids: set[str] | None = None) -> Request:
    """Read a message against the catalogue's vocabulary."""
    raw = " ".join(text.split())
    if not raw:
        return Request("empty")
    low = words_to_numbers(raw.lower())
    req = Request("search")

    # -- ids and positions ------------------------------------------------------------------
    for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]", raw):
        if item_ids and token in item_ids:
            req.item_id = token
            low = low.replace(token.lower(), " ")
            break
    ordinal = re.search(r"(?:#|number\s+|no\.?\s*|item\s+|option\s+)(\d)\b", low) or re.search(
        r"\b(" + "|".join(_ORDINALS) + r")\b(?:\s+(?:one|item|option|choice|pick))?", low
    )
    if ordinal:
        value = ordinal.group(1)
        req.ordinal = int(value) - 1 if value.isdigit() else _ORDINALS[value]
        low = low[: ordinal.start()] + " " + low[ordinal.end() :]

    # -- price ------------------------------------------------------------------------------
    between = re.search(rf"between\s+{_NUM}\s+(?:and|to|-)\s+{_NUM}", low) or re.search(
        r"\$\s*(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*\$?\s*(\d+(?:\.\d+)?)", low
    )
    if between:
        lo, hi = sorted([float(between.group(1)), float(between.group(2))])
        req.min_price, req.max_price = lo, hi
        low = low[: between.start()] + " " + low[between.end() :]
    else:
        for pattern, attr in ((_MAX, "max_price"), (_MIN, "min_price")):
            m = re.search(rf"{pattern}\s*{_NUM}", low)
            if m:
                setattr(req, attr, float(m.group(1)))
                low = low[: m.start()] + " " + low[m.end() :]
        if req.max_price is None and req.min_price is None:
            m = re.search(r"\$\s*(\d+(?:\.\d+)?)|\b(\d+(?:\.\d+)?)\s*(?:dollars?|bucks|usd)\b", low)
            if m:  # a bare "$60 hoodie" is a budget
                req.max_price = float(m.group(1) or m.group(2))
                low = low[: m.start()] + " " + low[m.end() :]

    # -- colours: negated ones first, so "not black" never counts as asking for black ------------
    color_alt = "|".join(re.escape(c) for c in vocab.color_words())
    neg = re.compile(rf"\b{_NEG}\s+(?:in\s+|a\s+|any\s+|the\s+)?((?:{color_alt})(?:\s*(?:,|or|and|nor|/)\s*(?:{color_alt}))*)\b")
    for m in list(neg.finditer(low)):
        for word in re.findall(color_alt, m.group(1)):
            name = vocab.color(word)
            if name and name not in req.exclude_colors:
                req.exclude_colors.append(name)
    low = neg.sub(" ", low)
    low = re.sub(rf"\bnon-({color_alt})\b", lambda m: (req.exclude_colors.append(vocab.color(m.group(1)) or m.group(1)), " ")[1], low)
    for m in re.finditer(rf"\b({color_alt})(?:ish)?\b", low):
        name = vocab.color(m.group(1))
        if name and name not in req.colors and name not in req.exclude_colors:
            req.colors.append(name)

    # -- categories and gender ------------------------------------------------------------------
    gender = None
    for word in re.findall(r"[a-z']+", low):
        if word in GENDERS:
            gender = GENDERS[word]
    phrases, excluded = [], []
    for key in vocab.category_keys():
        pattern = rf"\b{re.escape(key)}(?:e?s)?\b"
        m = re.search(pattern, low)
        if not m:
            continue
        negated = re.search(rf"\b{_NEG}\s+(?:a\s+|any\s+)?$", low[: m.start()])
        (excluded if negated else phrases).append(key)
        low = low[: m.start()] + " " + ("" if negated else key) + " " + low[m.end() :]
        low = low.replace(key, "\x00")  # keep its place in the query, but do not match it again
    req.categories = vocab.resolve_categories(phrases, gender)
    req.exclude_categories = vocab.resolve_categories(excluded, None)
    low = low.replace("\x00", " ")

    query_words = [w for w in re.findall(r"[a-z][a-z'-]*", low) if w not in _FILLER]
    # Words the catalogue never uses add noise to the search and would be echoed back; keep the known ones.
    query_words = [w for w in query_words if vocab.knows(w)] or query_words
    req.query = " ".join(_query_phrase(raw, phrases, query_words))
    req.intent = _intent(raw.lower(), req, query_words + phrases, vocab)
    return req


_FILLER = set(
    [
        "a",
        "an",
        "the",
        "i",
        "im",
        "i'm",
        "me",
        "my",
        "we",
        "our",
        "you",
        "your",
        "please",
        "can",
        "could",
        "would",
        "will",
        "show",
        "find",
        "get",
        "give",
        "want",
        "need",
        "looking",
        "look",
        "for",
        "some",
        "something",
        "anything",
        "any",
        "thing",
        "things",
        "is",
        "are",
        "be",
        "to",
        "of",
        "in",
        "on",
        "at",
        "with",
        "and",
        "or",
        "but",
        "it",
        "its",
        "that",
        "this",
        "those",
        "these",
        "one",
        "ones",
        "do",
        "does",
        "have",
        "has",
        "got",
        "like",
        "love",
        "also",
        "just",
        "really",
        "very",
        "much",
        "more",
        "less",
        "maybe",
        "perhaps",
        "hi",
        "hello",
        "hey",
        "thanks",
        "thank",
        "ok",
        "okay",
        "yes",
        "yeah",
        "so",
        "what",
        "which",
        "there",
        "here",
        "them",
        "they",
        "him",
        "her",
        "item",
        "items",
        "product",
        "products",
        "stuff",
        "please",
        "no",
        "not",
        "only",
        "ones",
        "one",
        "color",
        "colour",
        "version",
        "instead",
        "rather",
        "prefer",
    ]
)


def _query_phrase(raw: str, phrases: list[str], words: list[str]) -> list[str]:
    return list(dict.fromkeys([*words, *phrases]))


def _intent(low: str, req: Request, words: list[str], vocab: Vocabulary) -> Intent:
    if re.fullmatch(r"\W*(hi|hello|hey|yo|hiya|good (morning|afternoon|evening))\W*(there|bot)?\W*", low):
        return "greeting"
    if re.fullmatch(r"\W*(thanks|thank you|thx|ty|cheers|great|perfect|nice|cool|ok|okay)\W*(a lot|so much)?\W*", low):
        return "thanks"
    if re.fullmatch(r"\W*(help|what can you do|how does this work|commands)\W*", low):
        return "help"
    if re.search(r"\b(cheaper|less expensive|lower price|more affordable|too expensive|too pricey)\b", low):
        return "cheaper"
    if re.search(r"\b(pricier|more expensive|higher end|fancier|premium)\b", low):
        return "pricier"
    if re.search(r"\b(more like|similar to|like the|something like|others? like|more of)\b", low) and (
        req.ordinal is not None or req.item_id or re.search(r"\b(this|that|it)\b", low)
    ):
        return "more_like"
    if (req.ordinal is not None or req.item_id) and re.search(r"\b(tell me|details?|more about|info|describe|what is|about)\b", low):
        return "details"
    if (req.ordinal is not None or req.item_id) and (req.colors or req.has_constraints):
        return "more_like"  # "the second one in blue": that item's variant or its closest match
    if (req.ordinal is not None or req.item_id) and not words:
        return "details"
    if re.fullmatch(r"\W*(show me )?(more|other|different|else|another)( ones?| options?| items?| please)?\W*", low) or re.search(
        r"\b(something else|other options|show more|any others|anything else)\b", low
    ):
        return "more_results"
    if re.search(r"\b(recommend|suggest|surprise me|for me|what should i (buy|get)|what do you (have|suggest))\b", low) and not (
        req.categories or any(vocab.knows(w) for w in words if w not in {"recommend", "suggest", "surprise"})
    ):
        return "recommend"
    content = [w for w in words if len(w) > 1 and vocab.color(w) is None and w not in GENDERS]
    if not content and req.has_constraints:
        return "refine"
    if not req.has_constraints and not any(vocab.knows(w) for w in content):
        return "offtopic"
    return "search"
