"""Reading what a shopper says about themselves out of a message: colours and materials they never, rather not, like
to or always wear; the sizes they take; a usual budget; whom they shop for. What is said of a thing the catalogue does
not know (a word that is neither one of its colours nor in its items' attributes) is not taken down."""

from __future__ import annotations

import re
from collections.abc import Iterable

from bot.profile.stated import Change
from bot.understanding.lang import Language, gender_meant
from bot.understanding.vocabulary import Vocabulary
from recsys.catalogue.items import Item


def attribute_words(items: Iterable[Item]) -> frozenset[str]:
    """Words of the catalogue's attribute values (materials, fabrics …): what a shopper may love or be allergic to."""
    return frozenset(w for i in items for v in i.attributes.values() for w in re.findall(r"[a-z]{3,}", str(v).lower()))


def read_statements(text: str, vocab: Vocabulary, lang: Language, materials: frozenset[str]) -> tuple[list[Change], str]:
    """(what the message says about the shopper, the message without those statements)."""
    low = lang.prepare(" ".join(text.split()), vocab)
    changes: list[Change] = []

    def things(match: re.Match[str], strength: str | None) -> str:
        found, rest = [], []
        for word in re.findall(lang.word, match.group(1)):
            color = vocab.color(word)
            if color is not None:
                found.append(Change("color", color, strength))  # type: ignore[arg-type]
            elif (word in materials or lang.singular(word) in materials) and not vocab.categories_for(word):
                found.append(Change("word", word, strength))  # type: ignore[arg-type]
            else:
                rest.append(word)
        changes.extend(found)
        return " " + " ".join(rest) + " " if found else match.group(0)

    for pattern, strength in lang.statements:
        low = re.sub(pattern, lambda m, s=strength: things(m, s), low)

    any_size = "(" + "|".join([*(re.escape(s.lower()) for s in vocab.sizes), *map(re.escape, lang.size_words), lang.letter_sizes]) + ")"
    for pattern in lang.size_statements if vocab.sizes else ():
        for m in list(re.finditer(pattern.format(size=any_size), low)):
            size = vocab.size(m.group(1), lang)
            if size is not None:
                changes.append(Change("size", size))
                low = low.replace(m.group(0), " ", 1)
    if re.search(lang.forget_size, low):
        changes.append(Change("size", None))
        low = re.sub(lang.forget_size, " ", low)

    sym, words = lang.money(vocab.currency)
    amount = lang.amount.format(sym=sym, words=words)
    for pattern in lang.budget_statements:
        if m := re.search(pattern.format(amount=amount), low):
            changes.append(Change("budget", float(m.group(1))))
            low = low.replace(m.group(0), " ", 1)
    if re.search(lang.forget_budget, low):
        changes.append(Change("budget", None))
        low = re.sub(lang.forget_budget, " ", low)

    said = lang.normalize(" ".join(text.split()))  # whom they shop for, in their own word ("husband", 老公)
    for pattern in lang.for_statements:
        if (m := re.search(pattern, said)) and (meant := gender_meant(m.group(1))):
            changes.append(Change("for", meant, who=m.group(1)))
            low = re.sub(pattern.replace("([a-z]+)", "[a-z]+"), " ", low, count=1)
    if re.search(lang.for_self, low):
        changes.append(Change("for", None))
        low = re.sub(lang.for_self, " ", low)
    return changes, " ".join(low.split())


def reaction(text: str, lang: Language) -> str | None:
    """ "like" or "dislike" when a short message reacts to an item ("love it", "ugh, too flashy"), else None."""
    low = lang.normalize(" ".join(text.split()))
    if len(low) > 80:
        return None
    if re.search(lang.disliked_item, low):
        return "dislike"
    if re.search(lang.liked_item, low):
        return "like"
    return None
