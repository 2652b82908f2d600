"""Which language a text is in, and whether the model reads it.

py3langid (a maintained fork of langid.py) ships its model in the wheel (4.5 MB installed,
97 languages, ~0.2 ms a sentence, loaded once in ~0.8 s). lingua-language-detector 2.1.1
(96 MB installed, 15.5 s to load every model) was no better where it matters: both named
all 14 test languages right on one-sentence reviews, and on one- or two-word reviews
lingua was right on 9 of 13, py3langid on 8; neither is reliable there, so those get no
language at all (`None`).

A language is given only when py3langid's normalised probability is at least CONFIDENT
and the text has MIN_LETTERS letters; otherwise the answer is "unsure" (None), which
never marks a text unsupported.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

CONFIDENT = 0.7  # probability from which a language counts as detected
MIN_LETTERS = 12  # fewer letters than this: too short to tell ("Sehr gut", "ok", "10/10")
POLICIES = ("flag", "skip")

NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan",
    "cs": "Czech", "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek",
    "en": "English", "eo": "Esperanto", "es": "Spanish", "et": "Estonian", "eu": "Basque",
    "fa": "Persian", "fi": "Finnish", "fr": "French", "ga": "Irish", "gl": "Galician",
    "he": "Hebrew", "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian",
    "is": "Icelandic", "it": "Italian", "ja": "Japanese", "ko": "Korean", "la": "Latin",
    "lt": "Lithuanian", "lv": "Latvian", "ms": "Malay", "nb": "Norwegian", "nl": "Dutch",
    "no": "Norwegian", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian", "ru": "Russian",
    "sk": "Slovak", "sl": "Slovenian", "sr": "Serbian", "sv": "Swedish", "sw": "Swahili",
    "ta": "Tamil", "th": "Thai", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "vi": "Vietnamese", "zh": "Chinese",
}  # fmt: skip

_lock = threading.Lock()
_identifier: Any = None  # the loaded py3langid model: read-only once built


def _model() -> Any:
    global _identifier
    with _lock:
        if _identifier is None:
            from py3langid.langid import MODEL_FILE, LanguageIdentifier

            _identifier = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        return _identifier


def detect(text: str) -> str | None:
    """ISO 639-1 code of the text's language, or None when unsure (short or ambiguous)."""
    if sum(c.isalpha() for c in text) < MIN_LETTERS:
        return None
    code, probability = _model().classify(text)
    return str(code) if probability >= CONFIDENT else None


def name(code: str) -> str:
    """A language's English name ("de" -> "German"); the code itself when unknown."""
    return NAMES.get(code, code)


@dataclass(frozen=True)
class LanguageRule:
    """The languages the model reads (None: any) and what to do with the others."""

    languages: frozenset[str] | None = frozenset({"en"})
    policy: str = "flag"  # flag: score and mark; skip: batch rows are not scored

    @property
    def skip(self) -> bool:
        return self.policy == "skip"

    def check(self, text: str) -> tuple[str | None, bool]:
        """(language or None, does the model read it?); unsure always counts as read."""
        if self.languages is None:
            return detect(text), True
        language = detect(text)
        return language, language is None or language in self.languages

    def describe(self) -> str:
        """The model's languages in words: "English", "English and German", "any"."""
        if self.languages is None:
            return "any language"
        names = sorted(name(code) for code in self.languages)
        return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
