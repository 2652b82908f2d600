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
RECIPE = "int8-fused-v8" + ("" if SIGNED_WEIGHTS else "-u8w")


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


def session(path: Path, threads: int, *, spin: bool = False) -> ort.InferenceSession:
    options = session_options(threads, spin=spin)
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def onnx_runner(path: Path, *, threads: int, spin: bool = False) -> Runner:
    """A runner over the exported graph at ``path``."""
    sess = session(path, threads, spin=spin)
    names = [i.name for i in sess.get_inputs()]

    def run(inputs: Mapping[str, np.ndarray]) -> np.ndarray:
        logits: np.ndarray = sess.run(None, {n: inputs[n] for n in names})[0]
        return logits

    return run
