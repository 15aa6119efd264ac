"""Which language each message is read and answered in, and what a message in another language gets."""

from __future__ import annotations

import pytest

from bot.languages import LanguagePicker
from bot.understanding.lang.detect import detect


@pytest.mark.parametrize(
    ("text", "hint", "code"),
    [
        ("我想要一件蓝色的女士卫衣", None, "zh"),
        ("我想要一件藍色的女士衛衣", None, "zh"),  # traditional characters
        ("一件 hoodie，不要黑色", None, "zh"),  # mixed, mostly Chinese
        ("I need a warm hoodie for running, under $60, not black", None, "en"),
        ("I need a warm hoodie, the kind called 卫衣 in Chinese", None, "en"),  # English naming a Chinese word
        ("cheaper", None, "en"),
        ("hi", "zh-hans", "en"),  # a Latin word is English, whatever the platform says
        ("60", "zh-hans", "zh"),  # a price alone: the platform's language
        ("👍", None, "en"),
        ("red tank top for men under 35 dollars", None, "en"),
        ("Bonjour, je cherche une veste bleue", None, None),
        ("Hola, busco una chaqueta azul para mujer", None, None),
        ("Guten Tag, ich suche eine blaue Jacke", None, None),
        ("Привет, ищу синюю куртку", None, None),
        ("青いジャケットが欲しいです", None, None),  # Japanese: kana beside kanji
        ("파란 재킷을 찾고 있어요", None, None),
    ],
)
def test_the_language_of_a_message(text: str, hint: str | None, code: str | None) -> None:
    assert detect(text, hint, ("en", "zh")) == code


def test_languages_left_out_of_the_config_are_not_read() -> None:
    assert detect("我想要一件卫衣", None, ("en",)) == "en"  # read as English, which then finds nothing it knows
    assert detect("I want a hoodie", None, ("zh",)) == "zh"


def test_a_conversation_keeps_its_language_for_a_message_without_words() -> None:
    picker = LanguagePicker(["en", "zh"])
    assert picker.of_text("c1", "我想要一件卫衣", None).code == "zh"
    assert picker.of_conversation("c1", "en").code == "zh"  # a photo or a button in that chat: still Chinese
    assert picker.of_conversation("c2", "zh-TW").code == "zh"  # a new chat: the platform's language
    assert picker.of_conversation("c3", "fr").code == "en"  # one the bot does not speak: the default
    assert picker.of_text("c1", "actually, show me jackets", None).code == "en"  # it may switch at any message
    assert "English or 中文 (Chinese)" in picker.unsupported()
