"""Inference speed: plain transformers pipeline vs Sentiscope's torch and int8 paths.

Every configuration runs in its own fresh process (clean cold-load time and peak RSS) on
the same weights, rows and thread count. Run from the repository root:

    python -m sentiment benchmark            # or: python benchmarks/inference.py
    python benchmarks/inference.py --quick   # a smoke run: fewer rows, no accuracy
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA = Path(
    os.environ.get("SENTIMENT_DATA_DIR") or ROOT.parent / "shared" / "data" / "sentiment"
)
CONFIGS = ("pipeline-b1", "pipeline-b32", "torch", "onnx-int8")
csv.field_size_limit(2**31 - 1)


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t", quotechar='"'))


def workload(data: Path, short: int, long: int) -> dict[str, list[str]]:
    """~25-token SST-2 sentences and ~120-token Blitzer reviews, fixed by a seed."""
    rng = random.Random(13)
    sentences = [r["sentence"] for r in read_rows(data / "sst2" / "test.tsv")]
    reviews = [
        r["sentence"]
        for domain in sorted((data / "blitzer").iterdir())
        for r in read_rows(domain / "dev.tsv")
        if 70 <= len(r["sentence"].split()) <= 120
    ]
    return {
        "short": rng.sample(sentences, min(short, len(sentences))),
        "review": rng.sample(reviews, min(long, len(reviews))),
    }


# ---- worker: one configuration, in its own process --------------------------------------


def worker(config: str, args: argparse.Namespace) -> dict[str, object]:
    started = time.perf_counter()
    sys.path.insert(0, str(ROOT))
    from sentiment.evaluation import evaluate
    from sentiment.explanation import explain
    from sentiment.inference import predict
    from sentiment.model import build

    threads = args.threads
    rows = workload(args.data, args.short, args.long)
    loading = time.perf_counter()
    if config.startswith("pipeline"):
        import torch
        from transformers import pipeline

        from sentiment.weights import load_torch_model

        torch.set_num_threads(threads)
        model, tokenizer, _ = load_torch_model(args.model)
        pipe = pipeline("text-classification", model=model, tokenizer=tokenizer, device="cpu")
        batch = 1 if config == "pipeline-b1" else 32

        def score(texts: list[str]) -> None:
            pipe(texts, batch_size=batch, truncation=True)

        tokenize = tokenizer
    else:
        engine = build(args.model, backend=config, threads=threads, cache_dir=args.cache_dir)

        def score(texts: list[str]) -> None:
            predict(engine, texts)

        tokenize = engine.tokenizer
    # Cold load: from the driver spawning this process (interpreter, imports, weights) to ready.
    result: dict[str, object] = {
        "config": config,
        "load_s": time.time() - args.spawned_at
        if args.spawned_at
        else time.perf_counter() - started,
        "model_load_s": time.perf_counter() - loading,  # the loader alone, imports included
    }
    score(rows["short"][:32])  # warm-up
    for name, texts in rows.items():
        tokens = [len(ids) for ids in tokenize(texts, truncation=True)["input_ids"]]
        t0 = time.perf_counter()
        score(texts)
        result[f"{name}_rows_s"] = len(texts) / (time.perf_counter() - t0)
        result[f"{name}_tokens"] = statistics.mean(tokens)
    latencies = []
    for text in rows["short"][: args.latency_runs]:
        t0 = time.perf_counter()
        score([text])
        latencies.append((time.perf_counter() - t0) * 1000)
    result["p50_ms"] = statistics.median(latencies)
    result["p95_ms"] = statistics.quantiles(latencies, n=20)[-1]
    if not config.startswith("pipeline"):
        # The model alone on one text (tokenised beforehand): the "model time".
        import numpy as np

        from sentiment.inference import forward, pass_inputs, preprocess

        model_times = []
        for text in rows["short"][: args.latency_runs]:
            inputs = pass_inputs(preprocess(engine, [text]), np.array([0]))
            t0 = time.perf_counter()
            forward(engine, inputs)
            model_times.append((time.perf_counter() - t0) * 1000)
        result["model_p50_ms"] = statistics.median(model_times)
    if not config.startswith("pipeline"):
        # Analyze's word weights for ~100-word reviews: one batched pass of occlusions.
        hundred = [t for t in rows["review"] if 90 <= len(t.split()) <= 110][: args.explain_runs]
        explain(engine, hundred[0])
        times = []
        for text in hundred:
            t0 = time.perf_counter()
            explain(engine, text)
            times.append((time.perf_counter() - t0) * 1000)
        result["explain_p50_ms"] = statistics.median(times)
    if not config.startswith("pipeline") and not args.quick:
        test = read_rows(args.data / "sst2" / "test.tsv")
        report = evaluate(engine, [r["sentence"] for r in test], [r["label"] for r in test])
        result["sst2_test_acc"] = report.accuracy
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result["threads"] = threads
    result["torch_imported"] = "torch" in sys.modules
    return result


# ---- driver ------------------------------------------------------------------------------


def run_config(config: str, argv: list[str]) -> dict[str, object]:
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", config, *argv]
    command.append(f"--spawned-at={time.time()}")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    # Our own interpreter running this very file: no untrusted input.
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if done.returncode != 0:
        raise SystemExit(f"{config} failed:\n{done.stderr[-3000:]}")
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def table(results: list[dict[str, object]], default: str) -> str:
    plain = [r for r in results if str(r["config"]).startswith("pipeline")]
    best = {
        key: max((float(r[key]) for r in plain), default=float("nan"))  # type: ignore[arg-type]
        for key in ("short_rows_s", "review_rows_s")
    }
    lines = [
        "| path | short rows/s | x pipeline | review rows/s | x pipeline | p50 ms | p95 ms "
        "| model p50 ms | explain p50 ms | load s | model load s | torch | peak RSS MB "
        "| SST-2 test acc |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for r in results:
        name = str(r["config"]) + (" (default)" if r["config"] == default else "")
        acc = f"{float(r['sst2_test_acc']):.2%}" if "sst2_test_acc" in r else "-"  # type: ignore[arg-type]
        short, review = float(r["short_rows_s"]), float(r["review_rows_s"])  # type: ignore[arg-type]
        explained = f"{r['explain_p50_ms']:,.0f}" if "explain_p50_ms" in r else "-"
        alone = f"{r['model_p50_ms']:.2f}" if "model_p50_ms" in r else "-"
        lines.append(
            f"| {name} | {short:,.0f} | {short / best['short_rows_s']:.2f} | {review:,.0f} "
            f"| {review / best['review_rows_s']:.2f} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} "
            f"| {alone} | {explained} | {r['load_s']:.1f} | {r['model_load_s']:.2f} "
            f"| {'yes' if r['torch_imported'] else 'no'} | {r['peak_rss_mb']:,.0f} | {acc} |"
        )
    return "\n".join(lines)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model", default="bundled")
    parser.add_argument("--threads", type=int, default=None, help="default: physical cores")
    parser.add_argument("--cache-dir", type=Path, default=None, help="ONNX export cache")
    parser.add_argument("--short", type=int, default=1000, help="short rows")
    parser.add_argument("--long", type=int, default=300, help="review-length rows")
    parser.add_argument("--latency-runs", type=int, default=200)
    parser.add_argument("--explain-runs", type=int, default=10, help="~100-word reviews")
    parser.add_argument("--configs", default=",".join(CONFIGS))
    parser.add_argument("--quick", action="store_true", help="100/30 rows, no accuracy")
    parser.add_argument("--json", type=Path, help="also write the results here")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--spawned-at", type=float, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.quick:
        args.short, args.long, args.latency_runs, args.explain_runs = 100, 30, 30, 3
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # run_path adds no folder
    from machine import describe

    from sentiment.model import DEFAULT_BACKEND, DEFAULT_CACHE_DIR, available_cores

    args.threads = args.threads or available_cores()
    args.cache_dir = args.cache_dir or DEFAULT_CACHE_DIR
    if args.worker:
        print(json.dumps(worker(args.worker, args)))
        return 0
    passed = [
        f"--data={args.data}",
        f"--model={args.model}",
        f"--threads={args.threads}",
        f"--cache-dir={args.cache_dir}",
        f"--short={args.short}",
        f"--long={args.long}",
        f"--latency-runs={args.latency_runs}",
        f"--explain-runs={args.explain_runs}",
        *(["--quick"] if args.quick else []),
    ]
    configs = args.configs.split(",")
    if "onnx-int8" in configs:  # export outside the timed runs, so load_s is a cached load
        run_config("onnx-int8", [*passed, "--short=1", "--long=1", "--latency-runs=2", "--quick"])
    results = []
    for config in configs:
        print(f"running {config} ...", file=sys.stderr, flush=True)
        results.append(run_config(config, passed))
    print(describe(args.threads))
    print(
        f"model {args.model}; short rows {results[0]['short_tokens']:.0f} tokens"
        f" avg, review rows {results[0]['review_tokens']:.0f} tokens avg"
    )
    print(table(results, DEFAULT_BACKEND))
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"load average at the end: {load:.2f} (figures are only comparable on a quiet machine)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
