"""The fast path: the model as a fused int8 ONNX graph, run by ONNX Runtime.

No torch here: the graph is exported once (``sentiment.export``) into the cache, named
by a hash of the weights files and the library versions, and every later process only
opens it.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import onnxruntime as ort

from sentiment.priority import in_lowered_thread
from sentiment.runner import Runner


def signed_weights_exact(cpuinfo: str | None = None) -> bool:
    """Whether int8 weights (u8 activations x s8 weights) multiply exactly here.

    On x86 without VNNI, ONNX Runtime multiplies u8 x s8 with VPMADDUBSW, whose pairwise
    sums saturate at 16 bits: on an AVX2-only AMD EPYC that cost 0.92 point of SST-2 dev
    (89.91% against 90.83% fp32) where uint8 weights cost 0.23 (90.60%). VNNI (AVX-512
    or AVX) accumulates in 32 bits; other architectures have no such instruction."""
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text("utf-8", errors="replace")
        except OSError:
            return True
    flags = next((line for line in cpuinfo.splitlines() if line.startswith("flags")), None)
    if flags is None:  # not x86 (ARM lists "Features")
        return True
    found = set(flags.split(":", 1)[-1].split())
    return bool(found & {"avx512_vnni", "avx_vnni"}) or "avx2" not in found


# Read once: the export quantises with it, and the cache key below names it.
SIGNED_WEIGHTS = signed_weights_exact()
# Bump when the export recipe changes, so stale cache entries are not reused. The weights'
# sign is part of it: a cache shared by machines of both kinds keeps one graph for each.
RECIPE = "int8-fused-v9" + ("" if SIGNED_WEIGHTS else "-u8w")


def session_options(threads: int, *, spin: bool = False) -> ort.SessionOptions:
    """Options for a process that shares its cores with a web server and a database.

    Spinning keeps idle worker threads busy-waiting for the next pass: a little faster
    on an idle machine, but it burns the cores every request handler and the database
    need, and measured here it lost badly whenever anything else ran. Memory patterns
    are planned per input shape, and batch shapes vary, so they only cost memory; the
    arena stays on (off, scoring ran at half speed).
    """
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.enable_cpu_mem_arena = True
    options.enable_mem_pattern = False
    flag = "1" if spin else "0"
    options.add_session_config_entry("session.intra_op.allow_spinning", flag)
    options.add_session_config_entry("session.inter_op.allow_spinning", flag)
    options.log_severity_level = 3
    return options


# A pass of at most this many padded tokens (rows x width) runs on one thread: waking a
# second thread for each of the graph's ~100 operators costs more than it saves on small
# inputs. Measured on a 2-core Xeon (AVX-512 VNNI, AMX), ONNX Runtime sessions alone, p50:
# one 25-token text 2.32 ms on 1 thread against 3.20 ms on 2; 2 x 25 tokens 4.24 / 4.72;
# 4 x 25 8.33 / 8.01; one 120-token text 10.57 / 9.30.
SMALL_PASS_TOKENS = 96


# ONNX Runtime's own fusions left out at load: its SkipLayerNormalization kernel is ~3x
# slower than the Add + LayerNormalization it replaces (``sentiment.export``'s docstring).
# ONNX Runtime ignores a name it does not know, so tests check the optimised graph.
DISABLED_FUSIONS = ("SkipLayerNormFusion",)


def session(
    path: Path, threads: int, *, spin: bool = False, optimized_to: Path | None = None
) -> ort.InferenceSession:
    """A session whose thread pool runs below request handling (``sentiment.priority``).

    ``optimized_to``: also write the graph as ONNX Runtime optimised it (for tests)."""
    options = session_options(threads, spin=spin)
    if optimized_to is not None:
        options.optimized_model_filepath = str(optimized_to)
    return in_lowered_thread(
        lambda: ort.InferenceSession(
            str(path),
            options,
            providers=["CPUExecutionProvider"],
            disabled_optimizers=list(DISABLED_FUSIONS),
        )
    )


def onnx_runner(path: Path, *, threads: int, spin: bool = False) -> Runner:
    """A runner over the exported graph at ``path``: passes of up to SMALL_PASS_TOKENS
    run on a single-thread session of the same graph, larger ones on ``threads``."""
    large = session(path, threads, spin=spin)
    small = session(path, 1) if threads > 1 else large
    names = [i.name for i in large.get_inputs()]

    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        feed = {n: inputs[n] for n in names}
        rows, width = feed[names[0]].shape
        chosen = small if rows * width <= SMALL_PASS_TOKENS else large
        logits: np.ndarray = chosen.run(None, feed)[0]
        return logits

    return run
