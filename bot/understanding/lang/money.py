"""Currencies as shoppers write them: the signs and names of the catalogue's own money, and of every other currency
(names from Babel's locale data, so nothing is listed by hand)."""

from __future__ import annotations

import functools
import re

from babel.numbers import get_currency_name, get_currency_symbol, list_currencies

SIGNS = "$€£¥＄￥₹₩₽"  # currency signs a shopper may type, whatever the catalogue's currency


@functools.cache
def money_patterns(locale: str, said: str, currency: str) -> tuple[str, str]:
    """(a regex class of signs, an alternation of names) a budget in the catalogue's `currency` may be written with:
    any sign a shopper types, the currency's own names and the language's words said of any money (`said`)."""
    names = {get_currency_name(currency, locale=locale), get_currency_name(currency, count=2, locale=locale), currency}
    words = [re.escape(w.lower().split()[-1]) for w in names if w] + [said]  # "US dollars" → "dollars"
    signs = sorted(set(SIGNS) | set(get_currency_symbol(currency, locale=locale)) - set("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    return "[" + re.escape("".join(signs)) + "]", "|".join(words)


@functools.cache
def foreign_money_patterns(locale: str, said: str, currency: str) -> tuple[str, str]:
    """(a regex class of signs, an alternation of names) of currencies other than the catalogue's: "50 euros" or "£40"
    in a shop priced in dollars. The catalogue's own names and money words said of any currency (`said`: "bucks", 块)
    are never foreign."""
    own = set(get_currency_symbol(currency, locale=locale))
    own |= {"＄"} if "$" in own else set()
    own |= {"￥"} if "¥" in own else set()
    generic = re.compile(rf"(?:{money_patterns(locale, said, currency)[1]})")  # "pounds" in a shop in pounds is not Egypt's
    names = set()
    for code in sorted(list_currencies() - {currency}):
        if code.startswith("X"):  # gold, special drawing rights, "unknown currency": not what a shopper pays in
            continue
        for name in (get_currency_name(code, locale=locale), get_currency_name(code, count=2, locale=locale)):
            word = name.lower().split()[-1] if name else ""  # "British pounds" → "pounds"; 欧元 stays whole
            if re.fullmatch(r"[^\W\d_]+", word) and not generic.fullmatch(word):
                names.add(re.escape(word))
    signs = "".join(sorted(set(SIGNS) - own))
    return (f"[{re.escape(signs)}]" if signs else r"(?!)"), "|".join(sorted(names, key=lambda w: (-len(w), w)))
