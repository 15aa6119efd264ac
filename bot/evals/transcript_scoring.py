"""Scoring transcripts against references: English by word (numbers spelled out, punctuation and fillers dropped, a
few spellings unified), Chinese by character (simplified, digits as numerals)."""

from __future__ import annotations

import contextlib
import re
import unicodedata


def normalise_zh(text: str) -> str:
    """Chinese scored by character: simplified characters, digits as Chinese numerals, no punctuation or spaces;
    the characters split by one space so the word-error count is a character-error count."""
    import cn2an

    from bot.understanding.lang.zh_words import to_simplified

    text = to_simplified(unicodedata.normalize("NFKC", text))
    with contextlib.suppress(ValueError, KeyError, IndexError):  # cn2an gives up on some mixes: keep the digits
        text = cn2an.transform(text, "an2cn")
    return " ".join(ch for ch in text if ch.isalnum())


# -- text normalisation ---------------------------------------------------------------------------------------------

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = [(10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred")]
_ORDINAL_WORDS = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_SPELLING = {  # British → American, applied to both sides (FLEURS and LJ Speech mix them; whisper mostly writes US)
    "colour": "color",
    "colours": "colors",
    "favourite": "favorite",
    "honour": "honor",
    "labour": "labor",
    "neighbour": "neighbor",
    "neighbours": "neighbors",
    "centre": "center",
    "centres": "centers",
    "theatre": "theater",
    "metre": "meter",
    "metres": "meters",
    "kilometre": "kilometer",
    "kilometres": "kilometers",
    "splendour": "splendor",
    "splendours": "splendors",
    "counselled": "counseled",
    "travelled": "traveled",
    "travelling": "traveling",
    "grey": "gray",
    "programme": "program",
    "realise": "realize",
    "realised": "realized",
    "organise": "organize",
    "organised": "organized",
    "recognise": "recognize",
    "recognised": "recognized",
    "defence": "defense",
    "licence": "license",
    "ok": "okay",
}
_FILLERS = {"uh", "um", "umm", "hmm", "mm", "er", "ah"}


def number_words(n: int) -> str:
    """Cardinal in words: 1995 → 'one thousand nine hundred ninety five' (no 'and'; hyphens as spaces)."""
    if n < 20:
        return _ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _TENS[tens] + (f" {_ONES[ones]}" if ones else "")
    for scale, name in _SCALES:
        if n >= scale:
            head, rest = divmod(n, scale)
            return f"{number_words(head)} {name}" + (f" {number_words(rest)}" if rest else "")
    raise AssertionError(n)


def ordinal_words(n: int) -> str:
    words = number_words(n).split()
    last = words[-1]
    if last in _ORDINAL_WORDS:
        words[-1] = _ORDINAL_WORDS[last]
    elif last.endswith("y"):
        words[-1] = last[:-1] + "ieth"
    else:
        words[-1] = last + "th"
    return " ".join(words)


def year_words(n: int) -> str:
    """1455 → 'fourteen fifty five', 1900 → 'nineteen hundred', 1905 → 'nineteen oh five' (as years are read)."""
    century, rest = divmod(n, 100)
    if rest == 0:
        return f"{number_words(century)} hundred"
    return f"{number_words(century)} {'oh ' if rest < 10 else ''}{number_words(rest)}"


def _is_year(match: re.Match[str]) -> bool:
    digits = match.group("int")
    return len(digits) == 4 and not match.group("frac") and (1100 <= int(digits) <= 1999 or 2010 <= int(digits) <= 2099)


def _spell_number(match: re.Match[str]) -> str:
    digits = match.group("int").replace(",", "")
    if len(digits) > 13:
        return " ".join(_ONES[int(d)] for d in digits)
    value = int(digits)
    if match.group("ord"):
        text = ordinal_words(value)
    elif _is_year(match):
        text = year_words(value)
    else:
        text = number_words(value)
    if match.group("frac"):
        text += " point " + " ".join(_ONES[int(d)] for d in match.group("frac"))
    if match.group("plural"):
        text += "s"
    return f" {text} "


_NUMBER = re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+|\d+)(?:\.(?P<frac>\d+))?(?:(?P<ord>st|nd|rd|th)|(?P<plural>s))?\b")


def normalise(text: str) -> str:
    """Lowercase, spell out numbers, drop punctuation and fillers, unify a few spellings; words split by one space."""
    text = unicodedata.normalize("NFKC", text).lower().replace("’", "'").replace("‘", "'")
    text = re.sub(r"\$\s?(\d[\d,.]*)", r"\1 dollars", text)
    text = text.replace("%", " percent").replace("&", " and ")
    text = _NUMBER.sub(_spell_number, text)
    text = text.replace("'", "")  # don't → dont on both sides
    text = re.sub(r"[^\w\s]|_", " ", text)
    words = [_SPELLING.get(w, w) for w in text.split() if w not in _FILLERS]
    return " ".join(words)


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + deletions + insertions, reference words) of two normalised texts."""
    ref, hyp = reference.split(), hypothesis.split()
    if not ref:
        return len(hyp), 0
    try:
        import jiwer
    except ImportError:
        return _edit_distance(ref, hyp), len(ref)
    out = jiwer.process_words(" ".join(ref), " ".join(hyp) if hyp else "")
    return out.substitutions + out.deletions + out.insertions, len(ref)


def _edit_distance(ref: list[str], hyp: list[str]) -> int:
    previous = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        current = [i]
        for j, h in enumerate(hyp, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (r != h)))
        previous = current
    return previous[-1]
