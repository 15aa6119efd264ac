"""What a shopper typed, as the bot reads it: one normal form for every platform, so hidden characters, full-width
letters and the ways people write numbers never change what a message means.

- Characters that only format text (zero-width spaces and joiners, bidi marks, soft hyphens) are dropped, so a
  word with one inside is still the word; terminal escape sequences and control characters become spaces.
- Full-width Latin letters, digits and signs (ａｂｃ, ６０, ＄) become their ASCII forms; Chinese punctuation
  (，！？：；（）) stays as the Chinese parser knows it.
- Numbers lose their thousands separators ("$1,000" → "$1000") and an exponent is written out
  ("1e3" → "1000"); an amount no shop could mean ("1e308") is capped at `IMPLAUSIBLE`, which the parser reads as
  no bound at all.
"""

from __future__ import annotations

import re
import unicodedata

IMPLAUSIBLE = 1e12  # an amount at or above this is no budget a shopper means: "under 1e308 dollars" bounds nothing
_KEPT_FULL_WIDTH = set("，！？：；（）～")  # Chinese punctuation the parser reads as it is
_FULL_WIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code) not in _KEPT_FULL_WIDTH} | {
    0x3000: 0x20
}  # the ideographic space
_ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)?|[@-Z\\-_])")  # terminal escape sequences
_NOT_A_NUMBER = re.compile(r"(?i)([$€£¥]\s*)(?:nan|[+-]?inf(?:inity)?)\b")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029]+")
_GROUPED = re.compile(r"(?<![\d.,])(\d{1,3}(?:,\d{3})+)(?:(\.\d+))?(?![\d,]|\.\d)")
_EXPONENT = re.compile(r"(?<![\w.,])(\d+(?:\.\d+)?)[eE]([+-]?\d{1,4})(?![\w.])")
_MINUS = re.compile(r"[\u2212\u2012\u2013\uFE63]")  # minus signs and dashes typed before a number


def clean(text: str) -> str:
    """The message in normal form: formatting characters gone, full width folded, controls as spaces, numbers plain."""
    text = unicodedata.normalize("NFC", text or "").translate(_FULL_WIDTH)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    text = _CONTROL.sub(" ", _ANSI.sub(" ", text))
    text = _NOT_A_NUMBER.sub(" ", text)  # "$NaN", "$inf": no amount at all
    return plain_numbers(text)


def plain_numbers(text: str) -> str:
    """ "$1,000" → "$1000", "1.5e3" → "1500", "1e308" → the implausible cap."""
    for _ in range(5):  # until nothing changes: writing one number out can complete another ("0E-0E0")
        before = text
        text = _GROUPED.sub(lambda m: m.group(1).replace(",", "") + (m.group(2) or ""), text)
        text = _EXPONENT.sub(lambda m: _written_out(float(m.group(1)) * 10.0 ** min(int(m.group(2)), 300)), text)
        if text == before:
            break
    return text


def _written_out(value: float) -> str:
    value = min(value, IMPLAUSIBLE)
    return f"{value:.0f}" if value >= 1 or value == 0 else f"{value:.2f}".rstrip("0").rstrip(".")


def negative_amount(text: str, sign: str, words: str) -> bool:
    """A price below zero ("under $-5", "under -5 dollars", "-$5"); `sign` and `words` are the language's money
    pattern pieces for the catalogue's currency (`Language.money`)."""
    text = _MINUS.sub("-", text.lower())
    return bool(
        re.search(rf"-\s*{sign}\s*\d", text)
        or re.search(rf"{sign}\s*-\s*\d", text)
        or re.search(rf"(?<![\w-])-\s*\d+(?:\.\d+)?\s*(?:{words})(?![a-z])", text)
    )


# Statements and markup no shopper types as a request: SQL, script tags, template and shell substitutions.
_CODE = re.compile(
    r"\bselect\s+(?:\*|[\w\s,.()]+?\s+from\s+\w+\s+where)\b|\bselect\b[^;]*\bfrom\b[^;]*;|\b(?:drop|truncate)\s+(?:table|database)\b"
    r"|\binsert\s+into\s+\w+|\bdelete\s+from\s+\w+|\bunion\s+(?:all\s+)?select\b|;\s*--|'\s*or\s+'?1'?\s*=\s*'?1"
    r"|<\s*/?\s*(?:script|iframe|svg|img|object)\b|\bjavascript\s*:|\$\{[^}]*\}|\{\{[^}]*\}\}|\$\([^)]*\)|`[^`]+`",
    re.IGNORECASE,
)


def looks_like_code(text: str) -> bool:
    """A message that is code (SQL, HTML script, template or shell syntax) rather than words about products."""
    return bool(_CODE.search(text))
