"""Export once: the PyTorch model -> ONNX (checked against PyTorch) -> fused -> int8.

Imported only when an export is needed (the first start for a weights version), since it
imports torch. Fusion turns each layer's bias + GELU into one BiasGelu; the quantiser then
turns every MatMul into MatMulInteger.

Residual adds and layer norms are left as Add + LayerNormalization on purpose: ONNX
Runtime 1.32's SkipLayerNormalization kernel took ~49 us per call where the two plain
nodes take ~16 (one 24-token text, one thread, AMD EPYC Zen 4). Unfused, the int8 graph
scored one short text 17% faster, batches of 32 short texts 21-26% and of 8 reviews
15-22% faster, with the same accuracy (``sentiment.accelerated`` also keeps ONNX Runtime
from fusing them again when it loads the graph).

Attention is left unfused on purpose. Fused, it becomes one QAttention per layer whose
Q/K/V weights the quantiser rounds to 7 bits (``reduce_range``): measured on the bundled
model, SST-2 dev fell from 90.83% (fp32) to 90.25%, past the 0.5-point budget, for no
measurable speed over the unfused int8 MatMuls (91.06% on dev).
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import torch
from transformers import PreTrainedModel

from errors import ModelError

log = logging.getLogger(__name__)
_libraries = logging.getLogger("sentiment.export.libraries")
_FORWARD_ORDER = ("input_ids", "attention_mask", "token_type_ids")


class _ToDebug(logging.Filter):
    """Re-log a third-party record at DEBUG on our own logger instead of where it was sent."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("sentiment"):
            return True
        _libraries.debug("%s: %s", record.name, record.getMessage())
        return False


@contextmanager
def quiet_libraries() -> Iterator[None]:
    """The exporters', optimizer's and quantiser's logs, prints and warnings go to DEBUG.

    Process-wide while it lasts (logging, sys.stdout, warnings): it runs once, at start-up,
    before anything is served.
    """
    import onnxruntime.quantization
    import onnxruntime.transformers.optimizer  # noqa: F401  (creates their loggers)

    to_debug = _ToDebug()
    loggers = [logging.getLogger()] + [
        logger
        for name, logger in list(logging.root.manager.loggerDict.items())
        if isinstance(logger, logging.Logger) and not name.startswith("sentiment")
    ]
    for logger in loggers:
        logger.addFilter(to_debug)
    out = io.StringIO()
    try:
        with warnings.catch_warnings(record=True) as caught, redirect_stdout(out):
            warnings.simplefilter("always")
            with redirect_stderr(out):
                yield
    finally:
        for logger in loggers:
            logger.removeFilter(to_debug)
    for warning in caught:
        _libraries.debug("%s: %s", warning.category.__name__, warning.message)
    for line in out.getvalue().splitlines():
        _libraries.debug("%s", line)


def tensor_fingerprint(model: PreTrainedModel, recipe: str) -> str:
    """Cache key for a model whose files could not be located: config and every tensor."""
    digest = hashlib.sha256(json.dumps([recipe, torch.__version__, ort.__version__]).encode())
    digest.update(model.config.to_json_string(use_diff=False).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(f"{name}:{tensor.dtype}:{tuple(tensor.shape)}".encode())
        digest.update(tensor.detach().contiguous().cpu().numpy().tobytes())
    return digest.hexdigest()[:32]


class _TraceableBert(torch.nn.Module):
    """BertForSequenceClassification with the classic additive mask (1 - mask) * -10000.

    transformers 5 builds its masks through functions the TorchScript tracer cannot follow
    (it baked a wrong mask in); this is also the graph onnxruntime's BERT fusion expects.
    """

    def __init__(self, model: Any) -> None:
        super().__init__()
        self.model = model

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor | None = None,
    ) -> torch.Tensor:
        bert = self.model.bert
        hidden = bert.embeddings(input_ids=input_ids, token_type_ids=token_type_ids)
        mask = (1.0 - attention_mask.unsqueeze(1).unsqueeze(2).to(hidden.dtype)) * -10000.0
        for layer in bert.encoder.layer:
            out = layer(hidden, attention_mask=mask)
            hidden = out[0] if isinstance(out, tuple) else out
        logits: torch.Tensor = self.model.classifier(bert.pooler(hidden))
        return logits


def _is_plain_bert(model: PreTrainedModel) -> bool:
    bert = getattr(model, "bert", None)
    return (
        getattr(model.config, "model_type", "") == "bert"
        and type(model).__name__ == "BertForSequenceClassification"
        and bert is not None
        and bert.pooler is not None
    )


def _batch(model: PreTrainedModel, names: Sequence[str], rows: int, width: int, seed: int) -> Any:
    """Random token ids with padded rows: the shapes and masks real batches have."""
    generator = torch.Generator().manual_seed(seed)
    vocab = int(getattr(model.config, "vocab_size", 1000))
    ids = torch.randint(min(5, vocab - 1), vocab, (rows, width), generator=generator)
    mask = torch.ones_like(ids)
    for r in range(1, rows):
        mask[r, max(1, width - 3 * r) :] = 0
    batch = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    return {n: batch[n] for n in names}


def _export_graph(model: PreTrainedModel, names: Sequence[str], target: Path) -> None:
    sample = _batch(model, names, 3, 12, seed=0)
    if _is_plain_bert(model):
        # The TorchScript exporter: its graph is the one the BERT fusion was written for.
        # Through torch.export, the same fusions ran 13% slower (short rows, int8).
        previous = model.config._attn_implementation
        model.set_attn_implementation("eager")  # plain MatMul/Softmax, no SDPA kernel
        try:
            torch.onnx.export(
                _TraceableBert(model).eval(),
                (),
                str(target),
                kwargs=sample,
                # Named in the order of forward()'s parameters, which is how they bind.
                input_names=[n for n in _FORWARD_ORDER if n in names],
                output_names=["logits"],
                dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names},
                dynamo=False,
                opset_version=17,
            )
        finally:
            model.set_attn_implementation(previous)
        return
    # Other architectures: torch.export (non-strict) first; handing the module straight to
    # torch.onnx.export produced a graph with wrong outputs for BERT here.
    positions = getattr(model.config, "max_position_embeddings", None) or 512
    batch, seq = torch.export.Dim("batch"), torch.export.Dim("sequence", max=positions)
    program = torch.export.export(
        model, (), sample, dynamic_shapes={n: {0: batch, 1: seq} for n in names}, strict=False
    )
    onnx_program = torch.onnx.export(
        program, (), kwargs=sample, output_names=["logits"], dynamo=True, verbose=False
    )
    assert onnx_program is not None
    onnx_program.save(str(target), external_data=False)


def check_against_torch(model: PreTrainedModel, names: Sequence[str], path: Path) -> None:
    """Raise ModelError unless the graph at ``path`` gives PyTorch's logits (fp32)."""
    positions = getattr(model.config, "max_position_embeddings", None) or 512
    options = ort.SessionOptions()
    options.log_severity_level = 3
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    # A shape other than the traced sample's, so that no traced size passes unnoticed.
    for batch in (_batch(model, names, 3, 12, 0), _batch(model, names, 4, min(29, positions), 1)):
        with torch.inference_mode():
            expected = model(**batch).logits.float().numpy()
        feed = {i.name: batch[i.name].numpy() for i in session.get_inputs()}
        got = session.run(None, feed)[0]
        if not np.allclose(got, expected, atol=1e-3, rtol=1e-3):
            raise ModelError(
                f"The ONNX export disagrees with PyTorch (max difference "
                f"{np.abs(got - expected).max():.3g}); use the torch backend."
            )


def export_fp32(model: PreTrainedModel, input_names: Sequence[str], target: Path) -> None:
    """Export ``model`` to ONNX with dynamic batch and sequence axes, checked against torch."""
    with quiet_libraries():
        _export_graph(model, input_names, target)
    check_against_torch(model, input_names, target)


def fuse(model: PreTrainedModel, source: Path, target: Path) -> dict[str, int]:
    """onnxruntime's BERT fusion; returns the fused operator counts."""
    from onnxruntime.transformers import optimizer
    from onnxruntime.transformers.fusion_options import FusionOptions

    config = model.config
    options = FusionOptions("bert")
    options.enable_attention = False  # see the module's docstring
    options.enable_skip_layer_norm = False  # likewise
    with quiet_libraries():
        fused = optimizer.optimize_model(
            str(source),
            model_type="bert",
            num_heads=int(getattr(config, "num_attention_heads", 0) or 0),
            hidden_size=int(getattr(config, "hidden_size", 0) or 0),
            opt_level=0,
            optimization_options=options,
        )
        counts = {k: v for k, v in fused.get_fused_operator_statistics().items() if v}
        fused.save_model_to_file(str(target))
    return counts


def expected_counts(model: PreTrainedModel) -> Mapping[str, int]:
    layers = int(getattr(model.config, "num_hidden_layers", 0) or 0)
    if not _is_plain_bert(model):
        return {}
    return {"LayerNormalization": 2 * layers + 1, "BiasGelu": layers}


def export_int8(model: PreTrainedModel, input_names: Sequence[str], target: Path) -> dict[str, int]:
    """Export, fuse, check, quantise to int8; write ``target`` atomically; the fused counts.

    Weights int8 per output channel (uint8 on x86 without VNNI, where int8 saturates:
    sentiment.accelerated.SIGNED_WEIGHTS); activations uint8 per tensor, scaled at
    run time.
    Keeping the feed-forward down projections in fp32 moved accuracy by a few sentences
    either way but ran 1.6x slower, so every MatMul is int8.
    """
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from sentiment.accelerated import SIGNED_WEIGHTS

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        fp32, fused, int8 = (Path(tmp) / f"{n}.onnx" for n in ("fp32", "fused", "int8"))
        export_fp32(model, input_names, fp32)
        counts = fuse(model, fp32, fused)
        check_against_torch(model, input_names, fused)
        missing = {k: n for k, n in expected_counts(model).items() if counts.get(k, 0) < n}
        if missing:
            log.warning("The graph fused only partly (%s; short of %s): slower", counts, missing)
        with quiet_libraries():
            quantize_dynamic(
                fused,
                int8,
                weight_type=QuantType.QInt8 if SIGNED_WEIGHTS else QuantType.QUInt8,
                per_channel=True,
                extra_options={"DefaultTensorType": 1},  # float, for ops shape inference skips
            )
        os.replace(int8, target)
    return counts
