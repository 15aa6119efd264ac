"""Which language a message is in: Chinese characters against Latin words, any other script, and for Latin text
py3langid (a pre-trained n-gram classifier, its model inside the wheel) to tell English from French or Spanish.

The platform's hint (Telegram's language_code, Slack's locale) breaks ties and answers a message with no words."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from bot.understanding.lang import base_code
from bot.understanding.lang.en import English
from bot.understanding.lang.glossary import HAN

_LATIN_WORD = re.compile(r"[A-Za-z\u00c0-\u024f]{2,}")
# scripts of languages the bot may not read, by the code it would name them with
_SCRIPTS = {
    "ja": re.compile(r"[\u3040-\u30ff]"),  # kana: Japanese, even beside kanji
    "ko": re.compile(r"[\uac00-\ud7af\u1100-\u11ff]"),
    "ru": re.compile(r"[\u0400-\u04ff]"),
    "ar": re.compile(r"[\u0600-\u06ff]"),
    "he": re.compile(r"[\u0590-\u05ff]"),
    "el": re.compile(r"[\u0370-\u03ff]"),
    "th": re.compile(r"[\u0e00-\u0e7f]"),
    "hi": re.compile(r"[\u0900-\u097f]"),
}
_ENGLISH_WORDS = English.filler | English.stop


@functools.cache
def _identifier() -> Any:
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect(text: str, hint: str | None = None, supported: Sequence[str] = ("en", "zh")) -> str | None:
    """The code of the language `text` is in, among `supported`; None when it is plainly in another language."""
    hinted = base_code(hint) if base_code(hint) in supported else None
    fallback = hinted or (supported[0] if supported else "en")
    han = len(HAN.findall(text))
    latin = _LATIN_WORD.findall(text)
    other = {code: len(pattern.findall(text)) for code, pattern in _SCRIPTS.items()}
    script, count = max(other.items(), key=lambda kv: kv[1])
    if count and count >= han and count >= sum(map(len, latin)) / 2:
        return script if script in supported else None
    if han and "zh" in supported:
        if not latin or han * 2 >= len(latin):  # "一件 hoodie" is Chinese; an English sentence naming 卫衣 is not
            return "zh"
        return hinted if hinted == "zh" and han >= len(latin) / 2 else "en" if "en" in supported else "zh"
    if not latin:
        return fallback  # digits, emoji, a price alone: the platform's language, or the default
    if "en" in supported and _foreign(text, latin, supported):
        return None
    return "en" if "en" in supported else fallback


def _foreign(text: str, latin: list[str], supported: Sequence[str]) -> bool:
    """A Latin-script message in another language: long enough to tell, without English's little words, and the
    classifier sure of a language the bot does not read."""
    if len(latin) < 4 or sum(w.lower() in _ENGLISH_WORDS for w in latin) >= 2:
        return False
    code, probability = _identifier().classify(text)
    return code not in supported and probability >= 0.5
