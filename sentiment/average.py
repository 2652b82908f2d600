"""Weight averaging of two saved runs: ``python -m sentiment average``.

Fine-tuning on new text (tweets) moves the model away from what it did well (reviews);
a point on the straight line between the two runs' weights often keeps most of both
(weight-space ensembling, as in WiSE-FT and model soups). For each given share of the
second run this averages the two ``delta.safetensors``, scores the dev sets with the
whole model (never a test set) and keeps the mix with the best selection score in --out,
with its dev scores in ``train_log.json``.

    python -m sentiment average sentiment/bundled runs/tweets --shares 0.25,0.5,0.75 \\
        --data-dir ../shared/data/sentiment --out runs/averaged --select all
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer

from sentiment import data
from sentiment.calibration import CONFIG_KEY
from sentiment.devscores import SELECTIONS, evaluate
from sentiment.train import build_model, default_base_dir

log = logging.getLogger("sentiment.average")
DELTA = "delta.safetensors"


def average(first: Path, second: Path, share: float) -> dict[str, torch.Tensor]:
    """(1 - share) x first + share x second, tensor by tensor, in fp32."""
    a, b = load_file(str(first / DELTA)), load_file(str(second / DELTA))
    if a.keys() != b.keys():
        raise SystemExit(f"{first} and {second} do not hold the same tensors")
    return {k: (1 - share) * a[k].float() + share * b[k].float() for k in a}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sentiment average", description=__doc__)
    p.add_argument("first", type=Path, help="a saved run's folder (share 0)")
    p.add_argument("second", type=Path, help="another saved run's folder (share 1)")
    p.add_argument("--shares", default="0.25,0.5,0.75", help="shares of the second run")
    p.add_argument("--data-dir", type=Path, default=Path("../shared/data/sentiment"))
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--select", choices=sorted(SELECTIONS), default="all")
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--limit", type=int, default=None, help="dev rows per set (smoke runs)")
    args = p.parse_args(argv)
    try:
        args.shares = [float(s) for s in args.shares.split(",")]
    except ValueError:
        p.error(f"--shares takes numbers between 0 and 1, like 0.25,0.5: not {args.shares!r}")
    if not all(0 <= s <= 1 for s in args.shares):
        p.error("--shares must each be between 0 and 1")
    for folder in (args.first, args.second):
        if not (folder / DELTA).is_file():
            p.error(f"{folder} holds no {DELTA}: give folders written by `sentiment train`")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = parse_args(argv)
    base = default_base_dir()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = build_model(base).eval()
    dev = data.dev_sets(args.data_dir)
    if args.limit:
        dev = {k: v[: args.limit] for k, v in dev.items()}
    device = torch.device("cpu")
    tried = []
    for share in args.shares:
        mixed = average(args.first, args.second, share)
        model.load_state_dict(mixed, strict=False)
        scores = evaluate(model, tokenizer, dev, device, args.max_length, SELECTIONS[args.select])
        tried.append({"share": share, "scores": scores})
        log.info("share %.2f: %s", share, json.dumps(scores))
    best = max(tried, key=lambda t: t["scores"]["selection"]["score"])
    args.out.mkdir(parents=True, exist_ok=True)
    kept = {k: v.to(torch.float16).contiguous() for k, v in average(
        args.first, args.second, best["share"]).items()}  # fmt: skip
    save_file(kept, str(args.out / DELTA), metadata={"format": "pt"})
    config = json.loads((args.second / "config.json").read_text())
    config.pop(CONFIG_KEY, None)  # a calibration fits one model: calibrate the mix anew
    (args.out / "config.json").write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")
    record = {"first": str(args.first), "second": str(args.second), "select": args.select}
    record |= {"best": best, "tried": tried}
    (args.out / "train_log.json").write_text(json.dumps(record, indent=2) + "\n")
    log.info("kept share %.2f -> %s", best["share"], args.out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
