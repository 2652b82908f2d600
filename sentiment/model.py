"""Load a sentiment classifier once per process: the bundled model, a local folder, a hub id.

Two backends: "torch" (fp32 PyTorch, ``sentiment.weights``) and "onnx-int8" (the same
weights as a fused int8 ONNX graph, ``sentiment.accelerated``). The int8 graph is exported
once per weights version; every later start opens it with the tokenizer and the config
alone, without importing torch.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from errors import ModelError
from sentiment.calibration import CONFIG_KEY, Calibration, from_config
from sentiment.labels import LabelMap, map_labels
from sentiment.runner import Runner
from sentiment.sources import (
    BUNDLED,
    BUNDLED_DIR,
    DELTA_FILE,
    Source,
    base_model_dir,
    fingerprint,
    load_tokenizer,
    read_config,
    resolve,
)

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)
BACKENDS = ("torch", "onnx-int8")
DEFAULT_BACKEND = "onnx-int8"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "sentiscope"
# Loaders that need torch; imported from sentiment.weights on first use.
_TORCH_NAMES = ("load_bundled", "load_pretrained", "load_torch_model", "torch_runner")
__all__ = [
    "BACKENDS",
    "BUNDLED",
    "BUNDLED_DIR",
    "DEFAULT_BACKEND",
    "DEFAULT_CACHE_DIR",
    "DELTA_FILE",
    "Runner",
    "SentimentModel",
    "available_cores",
    "base_model_dir",
    "build",
    "load_model",
    "max_length_of",
]


def __getattr__(name: str) -> Any:
    if name in _TORCH_NAMES:
        from sentiment import weights

        return getattr(weights, name)
    raise AttributeError(f"module 'sentiment.model' has no attribute {name!r}")


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
    # The neutral margin and temperature from the model's config.json (none: as it is).
    calibration: Calibration = field(default_factory=Calibration)


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


def _setting(config: Any, key: str) -> Any:
    config = getattr(config, "config", config)  # a model, its config, or config.json read
    return config.get(key) if isinstance(config, Mapping) else getattr(config, key, None)


def max_length_of(config: Any, tokenizer: PreTrainedTokenizerBase) -> int:
    """Longest input in tokens: the tokenizer's limit, capped by the position embeddings."""
    positions = _setting(config, "max_position_embeddings") or 0
    if _setting(config, "model_type") in {"roberta", "xlm-roberta", "camembert"}:
        positions -= (_setting(config, "pad_token_id") or 0) + 1  # reserved positions
    limits = [n for n in (int(tokenizer.model_max_length), positions) if 0 < n < 100_000]
    return min(limits, default=512)


def _id2label(config: Any) -> Mapping[int, str]:
    id2label = _setting(config, "id2label") or {}
    if not id2label:  # transformers' default for a config without one
        count = _setting(config, "num_labels") or 2
        id2label = {i: f"LABEL_{i}" for i in range(count)}
    return {int(k): str(v) for k, v in id2label.items()}


def _assemble(
    model_id: str, backend: str, tokenizer: Any, config: Any, threads: int, runner: Runner
) -> SentimentModel:
    names = ("input_ids", "attention_mask", "token_type_ids")
    return SentimentModel(
        model_id=model_id,
        backend=backend,
        tokenizer=tokenizer,
        label_map=map_labels(_id2label(config)),
        max_length=max_length_of(config, tokenizer),
        input_names=tuple(n for n in tokenizer.model_input_names if n in names),
        threads=threads,
        runner=runner,
        calibration=from_config(_setting(config, CONFIG_KEY)),
    )


def _export(name: str, source: Source | None, onnx_dir: Path) -> tuple[Path, Any, Any, str]:
    """Load ``name`` in PyTorch and export it unless already exported (the first start)."""
    from sentiment.accelerated import RECIPE
    from sentiment.export import export_int8, quiet_libraries, tensor_fingerprint
    from sentiment.weights import load_torch_model

    started = time.perf_counter()
    with quiet_libraries():  # transformers' progress bars
        model, tokenizer, model_id = load_torch_model(name)
    source = source or resolve(name)  # a hub model's files are now in the local cache
    key = fingerprint(source, RECIPE) if source else tensor_fingerprint(model, RECIPE)
    path = onnx_dir / f"{key}.onnx"
    if path.is_file():
        return path, tokenizer, model.config, model_id
    log.info("Exporting %s to a fused int8 ONNX graph at %s (once per weights version)", name, path)
    input_names = [n for n in tokenizer.model_input_names if n != "special_tokens_mask"]
    try:
        counts = export_int8(model, input_names, path)
    except ModelError:
        raise
    except ImportError as exc:
        raise ModelError(
            f"The onnx-int8 backend needs {exc.name or 'onnx'} to export the model: "
            "pip install -r requirements.txt, or use the torch backend."
        ) from exc
    except Exception as exc:  # exporters raise many kinds; the fix is the same
        raise ModelError(
            f"Cannot export the model to ONNX ({type(exc).__name__}: {exc}); "
            "use the torch backend for this model."
        ) from exc
    fused = ", ".join(f"{n} {op}" for op, n in sorted(counts.items())) or "nothing fused"
    log.info("Exported in %.1f s (%s)", time.perf_counter() - started, fused)
    return path, tokenizer, model.config, model_id


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
    if backend == "torch":
        from sentiment.weights import load_torch_model, torch_runner

        model, tokenizer, model_id = load_torch_model(name)
        runner = torch_runner(model, threads)
        return _assemble(model_id, backend, tokenizer, model.config, threads, runner)
    from sentiment.accelerated import RECIPE, onnx_runner

    onnx_dir = Path(cache_dir or DEFAULT_CACHE_DIR).expanduser() / "onnx"
    source = resolve(name)
    path = onnx_dir / f"{fingerprint(source, RECIPE)}.onnx" if source else None
    if source is not None and path is not None and path.is_file():
        try:
            tokenizer, config = load_tokenizer(source.tokenizer_dir), read_config(source)
        except (OSError, ValueError) as exc:
            raise ModelError(f"Cannot load the tokenizer of '{name}': {exc}") from exc
        model_id = source.model_id
    else:
        path, tokenizer, config, model_id = _export(name, source, onnx_dir)
    runner = onnx_runner(path, threads=threads)
    return _assemble(model_id, backend, tokenizer, config, threads, runner)


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
