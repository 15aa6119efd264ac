"""The language of each turn: read from what the shopper wrote or said, the platform's hint breaking ties; a
conversation may switch at any message. A message with no words (a photo, a price, an emoji, a button) keeps the
conversation's last language."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Sequence

from bot.understanding.lang import DEFAULT, LANGUAGES, Language, base_code, language
from bot.understanding.lang.detect import detect

log = logging.getLogger(__name__)
_REMEMBERED = 10_000  # conversations whose last language is kept (the oldest are forgotten first)


class LanguagePicker:
    def __init__(self, supported: Sequence[str]) -> None:
        self.supported = [code for code in supported if code in LANGUAGES] or [DEFAULT.code]
        self._last: OrderedDict[str, str] = OrderedDict()

    def of_text(self, conversation: str, text: str, hint: str | None, heard: str | None = None) -> Language | None:
        """The language `text` is in (`heard`: the language speech recognition heard it in, which breaks ties first);
        None when it is in one the bot does not read (see `unsupported`)."""
        code = detect(text, heard or self._last.get(conversation) or hint, self.supported)
        if code is None:
            log.info("a message in a language the bot does not read: %r", text[:80])
            return None
        self._remember(conversation, code)
        return language(code)

    def of_conversation(self, conversation: str, hint: str | None) -> Language:
        """For a turn without words of its own: the conversation's last language, else the platform's, else the default."""
        code = self._last.get(conversation) or base_code(hint)
        return language(code if code in self.supported else self.supported[0])

    def warm_up(self, vocabulary: object) -> None:
        """Load what reading each language needs (Chinese: its segmenter and dictionary, about 2 s) at start-up."""
        for code in self.supported:
            language(code).warm_up(vocabulary)
        detect("bonjour je cherche une veste bleue", None, self.supported)

    def unsupported(self) -> str:
        """What a message in another language is answered with: in English, naming the languages the bot reads."""
        names = []
        for code in self.supported:
            own, english = LANGUAGES[code].name, DEFAULT.say(f"language.{code}")
            names.append(own if own == english else f"{own} ({english})")
        return DEFAULT.say("unsupported_language", languages=DEFAULT.listed(names, "or"))

    def _remember(self, conversation: str, code: str) -> None:
        self._last[conversation] = code
        self._last.move_to_end(conversation)
        while len(self._last) > _REMEMBERED:
            self._last.popitem(last=False)
