"""Dev-set scores while training, and the rules that pick the kept checkpoint."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch

from sentiment import data

# Each rule averages these (dev set, metric) pairs equally; the best checkpoint is kept.
SELECTIONS: dict[str, tuple[tuple[str, str], ...]] = {
    # The reviews-only run (issue 3): SST-2 dev and the mean over Blitzer's five domains.
    "reviews": (("sst2/dev", "accuracy"), ("blitzer/mean", "accuracy")),
    # Also each three-class set's headline: SST-3 macro-F1, SemEval macro-recall.
    "all": (
        ("sst2/dev", "accuracy"),
        ("blitzer/mean", "accuracy"),
        ("sst3/dev", "macro_f1"),
        ("semeval/dev", "macro_recall"),
    ),
}


@functools.cache
def bf16(device: torch.device) -> bool:
    """bf16 autocast on a GPU, and on a CPU with bf16 instructions (AMX tiles or AVX-512
    BF16): a training step of 32 rows ran 1.5x faster there (Xeon with AMX) and 1.5-2x
    (EPYC with AVX-512 BF16, no AMX)."""
    if device.type == "cuda":
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def collate(ids: list[list[int]], device: torch.device) -> dict[str, torch.Tensor]:
    width = max(map(len, ids))
    input_ids = torch.zeros(len(ids), width, dtype=torch.long)
    mask = torch.zeros(len(ids), width, dtype=torch.long)
    for row, seq in enumerate(ids):
        input_ids[row, : len(seq)] = torch.tensor(seq)
        mask[row, : len(seq)] = 1
    return {"input_ids": input_ids.to(device), "attention_mask": mask.to(device)}


@torch.inference_mode()
def probabilities(model, tokenizer, texts: list[str], device, max_length: int) -> np.ndarray:
    model.eval()
    enc = tokenizer(texts, truncation=True, max_length=max_length)["input_ids"]
    order = sorted(range(len(texts)), key=lambda i: len(enc[i]))
    out = np.zeros((len(texts), len(data.LABELS)), dtype=np.float32)
    for start in range(0, len(order), 128):
        idx = order[start : start + 128]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16(device)):
            logits = model(**collate([enc[i] for i in idx], device)).logits
        out[idx] = torch.softmax(logits.float(), -1).cpu().numpy()
    model.train()
    return out


def score(probs: np.ndarray, gold: list[int]) -> dict[str, float]:
    """Accuracy (binary sets compare negative vs positive) and 3-class macro-F1."""
    y = np.array(gold)
    if set(gold) <= {data.NEGATIVE, data.POSITIVE}:
        pred = np.where(probs[:, data.POSITIVE] > probs[:, data.NEGATIVE], 2, 0)
        return {"accuracy": float((pred == y).mean())}
    pred = probs.argmax(-1)
    f1s, recalls = [], []
    for c in range(len(data.LABELS)):
        tp = float(((pred == c) & (y == c)).sum())
        denom = float((pred == c).sum() + (y == c).sum())
        f1s.append(2 * tp / denom if denom else 0.0)
        recalls.append(tp / float((y == c).sum()) if (y == c).any() else 0.0)
    return {
        "accuracy": float((pred == y).mean()),
        "macro_f1": float(np.mean(f1s)),
        "macro_recall": float(np.mean(recalls)),
    }


def evaluate(model, tokenizer, dev: dict[str, list[data.Example]], device, max_length, selection):
    scores = {
        name: score(
            probabilities(model, tokenizer, [e.text for e in rows], device, max_length),
            [e.label for e in rows],
        )
        for name, rows in dev.items()
    }
    blitzer = [v["accuracy"] for k, v in scores.items() if k.startswith("blitzer/")]
    scores["blitzer/mean"] = {"accuracy": float(np.mean(blitzer))}
    scores["selection"] = {"score": float(np.mean([scores[k][m] for k, m in selection]))}
    return scores
