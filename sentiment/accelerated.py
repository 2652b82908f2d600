"""The fast path: the same weights exported to ONNX and dynamically quantised to int8.

Exporting takes seconds, so the result is cached under ``cache_dir``, named by a
fingerprint of the weights and of the library versions: exported once, reused by every
later process, rebuilt when the weights change.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
import transformers
from transformers import PreTrainedModel

from errors import ModelError
from sentiment.model import Runner

log = logging.getLogger(__name__)

# Bump when the export recipe changes, so stale cache entries are not reused.
RECIPE = "int8-dynamic-v1"


def fingerprint(model: PreTrainedModel) -> str:
    """Hash of the config, every tensor and the versions that shape the exported graph."""
    digest = hashlib.blake2b(digest_size=16)
    versions = (RECIPE, torch.__version__, transformers.__version__, ort.__version__)
    digest.update(json.dumps(versions).encode())
    digest.update(model.config.to_json_string(use_diff=False).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()


def export_int8(model: PreTrainedModel, input_names: Sequence[str], target: Path) -> None:
    """Export ``model`` to ONNX, quantise its weights to int8, write ``target`` atomically."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    target.parent.mkdir(parents=True, exist_ok=True)
    example = torch.ones((2, 8), dtype=torch.long)
    args = tuple(
        example if n != "token_type_ids" else torch.zeros_like(example) for n in input_names
    )
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32 = Path(tmp) / "fp32.onnx"
        int8 = Path(tmp) / "int8.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence")
            torch.onnx.export(
                model,
                args,
                fp32,
                input_names=list(input_names),
                output_names=["logits"],
                dynamic_shapes=tuple({0: batch, 1: seq} for _ in input_names),
                dynamo=True,
                external_data=False,
                verbose=False,
            )
        quantize_dynamic(
            fp32,
            int8,
            weight_type=QuantType.QInt8,
            per_channel=True,
            extra_options={"DefaultTensorType": 1},  # float, for ops shape inference skips
        )
        os.replace(int8, target)


def session(path: Path, threads: int) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_int8_runner(
    model: PreTrainedModel, input_names: Sequence[str], *, threads: int, cache_dir: Path
) -> Runner:
    """A runner over the cached int8 ONNX export of ``model`` (exporting it if needed)."""
    path = Path(cache_dir).expanduser() / "onnx" / f"{fingerprint(model)}.onnx"
    if not path.is_file():
        log.info("Exporting the model to int8 ONNX at %s (once per weights version)", path)
        try:
            export_int8(model, input_names, path)
        except ImportError as exc:
            raise ModelError(
                f"The onnx-int8 backend needs {exc.name or 'onnx and onnxscript'} to export "
                "the model: pip install -r requirements.txt, or use the torch backend."
            ) from exc
        except Exception as exc:  # exporters raise many kinds; the fix is the same
            raise ModelError(
                f"Cannot export the model to ONNX ({type(exc).__name__}: {exc}); "
                "use the torch backend for this model."
            ) from exc
    sess = session(path, threads)
    names = [i.name for i in sess.get_inputs()]

    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        return sess.run(["logits"], {n: inputs[n] for n in names})[0]

    return run
