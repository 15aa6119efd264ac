"""The languages the bot reads and speaks: one module each (en.py, zh.py), looked up by ISO 639-1 code.

`Language` is the shape every language has: English's. A new language subclasses it in its own module and is listed
in `LANGUAGES`; whatever it does not replace is said in English.
"""

from __future__ import annotations

from bot.understanding.lang.en import English
from bot.understanding.lang.zh import Chinese
from bot.understanding.lang.zh_words import canonical_color

Language = English
LANGUAGES: dict[str, type[Language]] = {"en": English, "zh": Chinese}
__all__ = ["DEFAULT", "LANGUAGES", "Language", "canonical_color", "language"]
_instances: dict[str, Language] = {}


def language(code: str | None) -> Language:
    """The language for an ISO 639-1 code (e.g. "en", "en-GB"); English for any code not supported."""
    base = (code or "en").split("-")[0].split("_")[0].lower()
    cls = LANGUAGES.get(base, English)
    if cls.code not in _instances:
        _instances[cls.code] = cls()
    return _instances[cls.code]


DEFAULT = language("en")
