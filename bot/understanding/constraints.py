"""Reading a shopper's message: what they want, their hard constraints, and follow-up intents."""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Literal

from bot.understanding.lang import DEFAULT, Language
from bot.understanding.typed_text import IMPLAUSIBLE, clean
from bot.understanding.vocabulary import Vocabulary

Intent = Literal[
    "search",
    "refine",
    "cheaper",
    "pricier",
    "more_like",
    "details",
    "more_results",
    "recommend",
    "complements",
    "greeting",
    "help",
    "catalogue",
    "thanks",
    "offtopic",
    "empty",
]


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
    sizes: list[str] = field(default_factory=list)  # the catalogue's size names
    ordinal: int | None = None  # 0-based position in the last list shown; -1 = the last one
    item_id: str | None = None
    foreign_money: str = ""  # a budget said in another currency than the catalogue's, as written ("50 euros", "£40")

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
                self.sizes,
            ]
        )


def parse(text: str, vocab: Vocabulary, item_ids: Collection[str] | None = None, lang: Language = DEFAULT) -> Request:
    """Read a message against the catalogue's vocabulary, with the language's words and patterns."""
    raw = " ".join(clean(text).split())
    if not raw:
        return Request("empty")
    low = lang.prepare(raw, vocab)
    sym, words = lang.money(vocab.currency)
    foreign_sign, foreign_words = lang.foreign_money(vocab.currency)
    amount = lang.amount.format(sym=sym, words=f"{words}|{foreign_words}")  # "100欧元以内" is a budget too
    foreign = re.compile(rf"{foreign_sign}\s*\d+(?:\.\d+)?|(?<![\d.])\d+(?:\.\d+)?\s*(?:{foreign_words})(?![a-z])")
    req = Request("search")

    # -- ids and positions ------------------------------------------------------------------
    for token in re.findall(r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]", raw):
        if item_ids and token in item_ids:
            req.item_id = token
            low = low.replace(token.lower(), " ")
            break
    ordinal = re.search(lang.ordinal_number, low) or re.search(r"\b(" + "|".join(lang.ordinals) + r")\b" + lang.ordinal_tail, low)
    if ordinal and not re.search(lang.not_ordinal_before, low[: ordinal.start()]):
        value = next(g for g in ordinal.groups() if g is not None)
        req.ordinal = int(value) - 1 if value.isdigit() else lang.ordinals[value]
        low = low[: ordinal.start()] + " " + low[ordinal.end() :]

    low = _read_sizes(low, req, vocab, lang)

    # -- price ------------------------------------------------------------------------------
    spans: list[str] = []  # the text each price was read from
    between = next((m for p in lang.between if (m := re.search(p.format(amount=amount, sym=sym), low))), None)
    if between:
        lo, hi = sorted([float(between.group(1)), float(between.group(2))])
        req.min_price, req.max_price = lo, hi
        spans.append(between.group(0))
        low = low[: between.start()] + " " + low[between.end() :]
    else:
        for pattern, attr in lang.price_bounds:
            m = re.search(pattern.format(amount=amount), low)
            if m and getattr(req, attr) is None:
                setattr(req, attr, float(m.group(1)))
                spans.append(m.group(0))
                low = low[: m.start()] + " " + low[m.end() :]
        if req.max_price is None and req.min_price is None:
            m = re.search(lang.bare_budget.format(sym=sym, words=f"{words}|{foreign_words}"), low)
            if m:  # a bare "$60 hoodie" is a budget
                req.max_price = float(m.group(1) or m.group(2))
                spans.append(m.group(0))
                low = low[: m.start()] + " " + low[m.end() :]
    if req.max_price is not None and req.max_price >= IMPLAUSIBLE:
        req.max_price = None  # "under 1e308 dollars": money is no object
    said_in = next((m.group(0) for span in spans if (m := foreign.search(span))), "")
    if said_in and (req.max_price is not None or req.min_price is not None):
        req.foreign_money = said_in  # the number is taken in the catalogue's currency, and the reply says so

    # -- colours: negated ones first, so "not black" never counts as asking for black ------------
    color_alt = "|".join(re.escape(c) for c in vocab.color_words(lang))
    neg = re.compile(rf"\b{lang.negation}\s+{lang.negated_color_lead}((?:{color_alt})(?:\s*{lang.color_list_joiner}\s*(?:{color_alt}))*)\b")
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
    for word in re.findall(lang.gender_word, low):
        if word in lang.genders:
            gender = lang.genders[word]
    phrases, excluded = [], []
    for key in vocab.category_keys():
        pattern = rf"\b{re.escape(key)}(?:e?s)?\b"
        m = re.search(pattern, low)
        if not m:
            continue
        negated = re.search(rf"\b{lang.negation}\s+{lang.negated_kind_lead}", low[: m.start()])
        (excluded if negated else phrases).append(key)
        low = low[: m.start()] + " " + ("" if negated else key) + " " + low[m.end() :]
        low = low.replace(key, "\x00")  # keep its place in the query, but do not match it again
    req.categories = vocab.resolve_categories(phrases, gender)
    req.exclude_categories = vocab.resolve_categories(excluded, None)
    low = low.replace("\x00", " ")

    query_words = [w for w in re.findall(lang.word, low) if w not in lang.filler]
    # Words the catalogue never uses add noise to the search and would be echoed back; keep the known ones.
    query_words = [w for w in query_words if vocab.knows(w)] or query_words
    req.query = " ".join(_query_phrase(raw, phrases, query_words))
    req.intent = _intent(lang.normalize(raw), req, query_words + phrases, vocab, lang)
    return req


def _read_sizes(low: str, req: Request, vocab: Vocabulary, lang: Language) -> str:
    """Take the sizes out of the message into `req.sizes` (as the catalogue names them); a shop that lists no sizes has
    none to read."""
    if not vocab.sizes:
        return low
    own = sorted((re.escape(s.lower()) for s in vocab.sizes), key=len, reverse=True)
    said = sorted((re.escape(w) for w in lang.size_words), key=len, reverse=True)
    any_size = "(" + "|".join([*own, *said, lang.letter_sizes, r"\d{1,3}"]) + ")"

    def take(match: re.Match[str], explicit: bool) -> str:
        name = vocab.size(match.group(1), lang) or (match.group(1).upper() if explicit else None)
        if name is None:
            return match.group(0)
        if name not in req.sizes:
            req.sizes.append(name)
        return " "

    for patterns, explicit in ((lang.explicit_sizes, True), (lang.implied_sizes, False)):
        for pattern in patterns:
            low = re.sub(pattern.format(size=any_size), lambda m, e=explicit: take(m, e), low)
    return low


def _query_phrase(raw: str, phrases: list[str], words: list[str]) -> list[str]:
    return list(dict.fromkeys([*words, *phrases]))


def _intent(low: str, req: Request, words: list[str], vocab: Vocabulary, lang: Language) -> Intent:
    for intent, (how, pattern) in lang.intents.items():
        if (re.fullmatch if how == "fullmatch" else re.search)(pattern, low):
            return intent  # type: ignore[return-value]
    names_item = req.ordinal is not None or req.item_id is not None
    if re.search(lang.more_like, low) and (names_item or re.search(lang.pointing, low)):
        return "more_like"
    if names_item and re.search(lang.details, low):
        return "details"
    if names_item and (req.colors or req.has_constraints):
        return "more_like"  # "the second one in blue": that item's variant or its closest match
    if names_item and not words:
        return "details"
    if re.fullmatch(lang.more_results[0], low) or re.search(lang.more_results[1], low):
        return "more_results"
    if re.search(lang.recommend, low) and not (req.categories or any(vocab.knows(w) for w in words if w not in lang.recommend_words)):
        return "recommend"
    content = [w for w in words if len(w) > 1 and vocab.color(w) is None and w not in lang.genders]
    if not content and req.has_constraints:
        return "refine"
    if not req.has_constraints and not any(vocab.knows(w) for w in content) and not re.search(lang.wants, low):
        return "offtopic"
    return "search"
