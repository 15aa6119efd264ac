"""What Whisper is told about the shop before it decodes a voice note: the catalogue's kinds and colours and its money
word, as the few words of a prompt. Whisper then writes "hoodies" rather than "hobbies" and "tees" rather than
"teasing" for a shop that sells them. Kept short: a long prompt costs decoding time and makes Whisper repeat it."""

from __future__ import annotations

import re

from babel.numbers import get_currency_name

from bot.understanding.vocabulary import Vocabulary

MAX_WORDS = 40


def catalogue_hints(vocabulary: Vocabulary) -> dict[str, str]:
    """{language code: prompt} for the language the catalogue is written in."""
    lang = vocabulary.lang
    kinds: list[str] = []
    for kind, _, _ in vocabulary.kinds:
        for part in re.split(lang.kind_separators, kind.lower()):
            if part and part not in kinds:
                kinds.append(part)
    colors = [c.lower() for c in vocabulary.colors]
    words = kinds[: MAX_WORDS * 2 // 3]
    words += colors[: MAX_WORDS - len(words)]
    if not words:
        return {}
    return {lang.code: ", ".join([*words, money_word(vocabulary)])}


def money_word(vocabulary: Vocabulary) -> str:
    """What a shopper says for the catalogue's money, in its language: "US dollars" → "dollars", "euros"."""
    return get_currency_name(vocabulary.currency, count=2, locale=vocabulary.lang.locale).lower().split()[-1]
