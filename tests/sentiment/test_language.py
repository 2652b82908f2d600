"""The language check: a dozen languages named, short texts unsure, English-only rules."""

from __future__ import annotations

import pytest

from sentiment.language import LanguageRule, detect, name

REVIEWS = {
    "en": "The food was cold and the waiter ignored us for twenty minutes.",
    "de": "Das Essen war kalt und der Kellner hat uns zwanzig Minuten ignoriert.",
    "fr": "La nourriture était froide et le serveur nous a ignorés pendant vingt minutes.",
    "es": "La comida estaba fría y el camarero nos ignoró durante veinte minutos.",
    "it": "Il cibo era freddo e il cameriere ci ha ignorato per venti minuti.",
    "pt": "A comida estava fria e o garçom nos ignorou por vinte minutos.",
    "nl": "Het eten was koud en de ober negeerde ons twintig minuten lang.",
    "pl": "Jedzenie było zimne, a kelner ignorował nas przez dwadzieścia minut.",
    "ru": "Еда была холодной, а официант игнорировал нас двадцать минут.",
    "tr": "Yemek soğuktu ve garson bizi yirmi dakika boyunca görmezden geldi.",
    "sv": "Maten var kall och servitören ignorerade oss i tjugo minuter.",
    "ja": "料理は冷たくて、ウェイターは二十分間私たちを無視しました。",
    "zh": "饭菜是凉的，服务员二十分钟都没理我们。",
    "el": "Το φαγητό ήταν κρύο και ο σερβιτόρος μας αγνόησε για είκοσι λεπτά.",
}
SHORT = ["ok", "Great!", "meh", "Gut", "Super", "10/10", "Sehr gut", "Très bien", "Muy bueno"]
ENGLISH = [
    "The staff were lovely.",
    "Great product, fast delivery!",
    "Terrible customer service, never again.",
    "It arrived on Tuesday at 3 pm.",
    "I love this phone, the battery lasts all day.",
]


@pytest.mark.parametrize(("code", "text"), REVIEWS.items())
def test_a_sentence_gets_its_language(code: str, text: str) -> None:
    assert detect(text) == code


@pytest.mark.parametrize("text", SHORT)
def test_very_short_texts_are_unsure(text: str) -> None:
    assert detect(text) is None
    assert LanguageRule().check(text) == (None, True)  # unsure never means unsupported


def test_english_only_flags_other_languages_and_never_english() -> None:
    english_only = LanguageRule()
    for text in ENGLISH:
        assert english_only.check(text)[1], text
    assert english_only.check(REVIEWS["de"]) == ("de", False)
    assert english_only.describe() == "English"
    assert name("de") == "German"


def test_a_multilingual_model_reads_what_it_is_told() -> None:
    assert LanguageRule(frozenset({"en", "de"})).check(REVIEWS["de"]) == ("de", True)
    assert LanguageRule(frozenset({"en", "de"})).check(REVIEWS["fr"]) == ("fr", False)
    assert LanguageRule(None).check(REVIEWS["fr"]) == ("fr", True)
    assert LanguageRule(frozenset({"en", "de"})).describe() == "English and German"
