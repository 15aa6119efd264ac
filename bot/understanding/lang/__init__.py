"""The languages the bot reads and speaks: one module each (en.py, zh.py), looked up by ISO 639-1 code.

`Language` is the shape every language has: English's. A new language subclasses it in its own module and is listed
in `LANGUAGES`; whatever it does not replace is said in English.
"""

from __future__ import annotations

from bot.understanding.lang.en import English
from bot.understanding.lang.glossary import glosses, has_han
from bot.understanding.lang.zh import Chinese
from bot.understanding.lang.zh_words import KIND_WORDS, canonical_color

Language = English
LANGUAGES: dict[str, type[Language]] = {"en": English, "zh": Chinese}
__all__ = ["DEFAULT", "LANGUAGES", "Language", "base_code", "canonical_color", "english_kind_names", "gender_meant", "language"]
_instances: dict[str, Language] = {}


def base_code(code: str | None) -> str:
    """ "en-GB", "zh_Hans", "ZH-hans" → "en", "zh" ("" for none)."""
    return (code or "").split("-")[0].split("_")[0].lower()


def gender_meant(word: str) -> str | None:
    """What a gender word of any language the bot reads means ("women", "女装", "男士" → "Women" / "Men")."""
    return next((meant for cls in LANGUAGES.values() if (meant := cls.genders.get(word.lower()))), None)


def english_kind_names(kind: str) -> list[str]:
    """The English a shopper may use for a catalogue's kind written in Chinese (卫衣 → hoodie, sweatshirt)."""
    return [w for w in (KIND_WORDS.get(kind), *glosses(kind)[:3]) if w] if has_han(kind) else []


def language(code: str | None) -> Language:
    """The language for an ISO 639-1 code (e.g. "en", "en-GB"); English for any code not supported."""
    cls = LANGUAGES.get(base_code(code) or "en", English)
    if cls.code not in _instances:
        _instances[cls.code] = cls()
    return _instances[cls.code]


DEFAULT = language("en")
