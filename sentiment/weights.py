"""The model in PyTorch: for training, for the fp32 backend, and to export it once.

The bundled model is the pip-installed all-MiniLM-L6-v2 encoder plus the fine-tuned
weights kept in ``sentiment/bundled/`` (``config.json`` + ``delta.safetensors``: every
BertForSequenceClassification tensor except the embeddings, stored in fp16). Importing
this module imports torch; a serving process with the model exported never does.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load_file
from transformers import (
    AutoModelForSequenceClassification,
    AutoTokenizer,
    BertConfig,
    BertForSequenceClassification,
    PreTrainedModel,
    PreTrainedTokenizerBase,
)

from errors import ModelError
from sentiment.runner import Runner
from sentiment.sources import (
    BUNDLED,
    BUNDLED_DIR,
    DELTA_FILE,
    base_model_dir,
    bundled_id,
    looks_like_path,
)


def load_bundled(
    directory: Path = BUNDLED_DIR, base_dir: Path | None = None
) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, str]:
    """Base encoder + the fine-tuned delta in ``directory``; every parameter must be set."""
    base = base_model_dir() if base_dir is None else base_dir
    delta_path = directory / DELTA_FILE
    if not delta_path.is_file():
        raise ModelError(
            f"The bundled model weights are missing ({delta_path}). Train them with "
            "`python -m sentiment train`, or set SENTIMENT_MODEL to another model."
        )
    try:
        config = BertConfig.from_pretrained(directory)
        model = BertForSequenceClassification(config)
        weights = {
            f"bert.{key}": value
            for key, value in load_file(base / "model.safetensors").items()
            if key != "embeddings.position_ids"
        }
        weights.update({k: v.float() for k, v in load_file(delta_path).items()})
        expected = set(model.state_dict())
        missing, unexpected = expected - set(weights), set(weights) - expected
        if missing or unexpected:
            raise ModelError(
                f"The bundled weights in {directory} do not fit the model: "
                f"missing {sorted(missing)[:5]}, unexpected {sorted(unexpected)[:5]}."
            )
        model.load_state_dict(weights, strict=True)
        tokenizer = AutoTokenizer.from_pretrained(base)
    except (OSError, RuntimeError, ValueError) as exc:
        raise ModelError(f"Cannot load the bundled model from {directory}: {exc}") from exc
    return model, tokenizer, bundled_id(delta_path)


def _hub_unreachable(exc: BaseException) -> bool:
    seen: BaseException | None = exc
    while seen is not None:
        if type(seen).__name__ in {"LocalEntryNotFoundError", "ConnectError", "ConnectionError"}:
            return True
        seen = seen.__cause__ or seen.__context__
    return "couldn't connect to" in str(exc)


def load_pretrained(name: str) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, str]:
    """A local directory (bundled format or transformers format) or a hub id."""
    path = Path(name).expanduser()
    if path.is_dir() and (path / DELTA_FILE).is_file():
        return load_bundled(path)
    if not path.is_dir() and looks_like_path(name):
        raise ModelError(f"SENTIMENT_MODEL names the folder {name}, which does not exist.")
    source = str(path) if path.is_dir() else name
    try:
        tokenizer = AutoTokenizer.from_pretrained(source)
        model = AutoModelForSequenceClassification.from_pretrained(source)
    except (OSError, ValueError) as exc:
        if _hub_unreachable(exc):
            raise ModelError(
                f"Cannot reach the Hugging Face hub to fetch '{name}' and it is not cached; "
                "use SENTIMENT_MODEL=bundled to run offline."
            ) from exc
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError(f"Cannot load the model '{name}': {first_line}") from exc
    return model, tokenizer, name


def load_torch_model(name: str = BUNDLED) -> tuple[PreTrainedModel, PreTrainedTokenizerBase, str]:
    model, tokenizer, model_id = load_bundled() if name == BUNDLED else load_pretrained(name)
    model.eval()
    model.requires_grad_(False)
    return model, tokenizer, model_id


def torch_runner(model: PreTrainedModel, threads: int) -> Runner:
    # Process-wide on purpose: more threads than cores only adds contention.
    torch.set_num_threads(threads)

    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}
            logits = model(**tensors).logits
        return logits.float().numpy()

    return run
