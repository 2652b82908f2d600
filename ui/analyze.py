"""The Analyze tab: score one text, show per-class confidence and the words that drove it.

Logged-in users' predictions are saved to their history. Without a login, and with
GUEST_MODE on, visitors get the same result as guests: nothing saved, rate-limited per IP.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import gradio as gr

from sentiment.language import name as language_name
from services import Services
from ui.common import client_key, current_account, request_token, shown_to_user

if TYPE_CHECKING:
    from sentiment import Prediction
    from sentiment.sentences import ScoredSentence

GUEST_NOTE = (
    "You are trying Sentiscope as a **guest**: nothing is saved. "
    "Create a free account on the **Account** tab to keep a history, score CSV batches "
    "and see insights."
)
SAVED_NOTE = "Saved to your history."
MIXED_NOTE = " **Mixed:** it has clearly positive and clearly negative sentences."
UNSUPPORTED_NOTE = (
    "**This looks like {language}; the model reads {languages} only — the label is not "
    "reliable**, so none is shown."
)
SENTENCE_COLORS = {"positive": "#16a34a", "neutral": "#9ca3af", "negative": "#dc2626"}
# HighlightedText colours numeric scores red (positive) and purple (negative) whatever
# the legend says, so words get named categories with an explicit colour each.
RAISES_STRONGLY, RAISES = "raises strongly", "raises"
LOWERS, LOWERS_STRONGLY = "lowers", "lowers strongly"
WORD_COLORS = {
    RAISES_STRONGLY: "#16a34a",
    RAISES: "#86efac",
    LOWERS: "#fca5a5",
    LOWERS_STRONGLY: "#dc2626",
}
STRONG, SHOWN = 0.5, 0.15  # shares of the strongest word's weight; below SHOWN: plain


def build(services: Services, session: gr.State) -> None:
    """Render the Analyze tab; `session` holds this browser session's access token."""
    scoring = services.scoring
    with gr.Tab("Analyze", id="analyze"):
        intro = "Score a text as negative, neutral or positive and see which words mattered."
        if scoring.guest_mode:
            intro += " No account yet? Try it as a guest."
        gr.Markdown(intro)
        text = gr.Textbox(
            label="Text",
            lines=4,
            max_length=services.settings.MAX_TEXT_CHARS,
            placeholder="The delivery was late but the support team was lovely.",
            elem_id="analyze-text",
        )
        button = gr.Button("Analyze", variant="primary", elem_id="analyze-button")
        note = gr.Markdown(elem_id="analyze-note")
        with gr.Row():
            confidence = gr.Label(label="Sentiment", num_top_classes=3, elem_id="analyze-label")
            words = gr.HighlightedText(
                label="Words that drove it (green raises, red lowers the predicted label)",
                combine_adjacent=False,
                show_legend=True,
                color_map=WORD_COLORS,
                elem_id="analyze-words",
            )
        sentences = gr.HighlightedText(
            label="Sentences (each one's label; the whole text's weighs them by length)",
            combine_adjacent=False,
            show_legend=True,
            color_map=SENTENCE_COLORS,
            visible=False,
            elem_id="analyze-sentences",
        )

        def analyze(value: str, token: str | None, request: gr.Request) -> dict[Any, Any]:
            """Explain the text; save it when logged in, else answer as a guest."""
            bearer = request_token(token, request)
            if bearer is None and not scoring.guest_mode:
                current_account(services, bearer, request)  # raises "log in"
            with shown_to_user():
                if bearer is not None:
                    account = current_account(services, bearer, request)
                    _, explanation = scoring.analyze(account.id, value)
                    message = SAVED_NOTE
                else:
                    explanation = scoring.analyze_as_guest(value, client_key(request))
                    message = GUEST_NOTE
            prediction = explanation.prediction
            parts = breakdown(value, prediction.sentences)
            shown = gr.update(value=parts, visible=len(prediction.sentences) > 1)
            if not prediction.language_supported:
                warning = unsupported_note(prediction, scoring.languages.describe())
                return {  # no label, and no sentence labels either
                    confidence: None,
                    words: None,
                    sentences: gr.update(value=None, visible=False),
                    note: f"{warning} {message}",
                }
            if prediction.mixed:
                message += MIXED_NOTE
            return {
                confidence: prediction.probabilities,
                words: highlight(explanation.spans),
                sentences: shown,
                note: message,
            }

        gr.on(
            [button.click, text.submit],
            analyze,
            [text, session],
            [confidence, words, sentences, note],
            api_visibility="private",
        )


def unsupported_note(prediction: Prediction, languages: str) -> str:
    """What Analyze says instead of a label the model cannot give."""
    language = language_name(prediction.language or "")
    return UNSUPPORTED_NOTE.format(language=language, languages=languages)


def breakdown(text: str, sentences: tuple[ScoredSentence, ...]) -> list[tuple[str, str | None]]:
    """The whole text for HighlightedText, each sentence tagged with its label."""
    parts: list[tuple[str, str | None]] = []
    cursor = 0
    for sentence in sentences:
        if sentence.start > cursor:
            parts.append((text[cursor : sentence.start], None))
        parts.append((sentence.text, sentence.label))
        cursor = sentence.end
    if cursor < len(text):
        parts.append((text[cursor:], None))
    return parts


def highlight(spans: list[tuple[str, float]]) -> list[tuple[str, str | None]]:
    """Each word's category for HighlightedText, relative to the strongest word.

    Weights are log-odds changes; scaling by the largest keeps the strongest word fully
    coloured, and words far weaker than it stay plain.
    """
    top = max((abs(w) for _, w in spans), default=0.0) or 1.0
    return [(segment, _category(w / top) if segment.strip() else None) for segment, w in spans]


def _category(share: float) -> str | None:
    if abs(share) < SHOWN:
        return None
    if share > 0:
        return RAISES_STRONGLY if share >= STRONG else RAISES
    return LOWERS_STRONGLY if share <= -STRONG else LOWERS
