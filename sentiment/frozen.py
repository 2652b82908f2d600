"""Cheap training trials: the lower layers frozen and their outputs computed once.

With ``--freeze-layers K`` the embeddings and the first K transformer layers do not
change, so their output for each training row is the same in every step: it is computed
once (inference mode, length-sorted passes) and kept in fp16, and each step runs only the
upper layers, the pooler and the classifier on it. A data-mix, class-weight or
calibration trial then costs a fraction of a full fine-tune; the winners get full ones.
Dev scores still come from the whole model (its lower layers are the same weights).
"""

from __future__ import annotations

import logging
import time

import torch
from transformers import BertForSequenceClassification
from transformers.masking_utils import create_bidirectional_mask

from sentiment.devscores import bf16, collate

log = logging.getLogger("sentiment.train")


def frozen_prefixes(layers: int) -> tuple[str, ...]:
    """Parameter name prefixes that stay frozen: the embeddings and the first layers."""
    return ("bert.embeddings.", *(f"bert.encoder.layer.{i}." for i in range(layers)))


def _mask(model: BertForSequenceClassification, hidden: torch.Tensor, mask: torch.Tensor):
    """The encoder's attention mask for `mask`, built as BertModel.forward builds it."""
    return create_bidirectional_mask(config=model.config, inputs_embeds=hidden, attention_mask=mask)


class LowerOutputs:
    """The first `layers` layers' output for each row, computed once."""

    def __init__(
        self,
        model: BertForSequenceClassification,
        ids: list[list[int]],
        layers: int,
        device: torch.device,
        rows_per_pass: int = 128,
    ) -> None:
        if not 0 < layers < len(model.bert.encoder.layer):
            raise ValueError(f"--freeze-layers must be 1..{len(model.bert.encoder.layer) - 1}")
        self.layers = layers
        self.rows: list[torch.Tensor] = [torch.empty(0)] * len(ids)
        started = time.monotonic()
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        was_training = model.training
        model.eval()
        with torch.inference_mode():
            for start in range(0, len(order), rows_per_pass):
                idx = order[start : start + rows_per_pass]
                inputs = collate([ids[i] for i in idx], device)
                with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16(device)):
                    hidden = model.bert.embeddings(input_ids=inputs["input_ids"])
                    attention = _mask(model, hidden, inputs["attention_mask"])
                    for layer in model.bert.encoder.layer[:layers]:
                        hidden = layer(hidden, attention)
                hidden = hidden.to(torch.float16).cpu()
                for row, i in enumerate(idx):
                    self.rows[i] = hidden[row, : len(ids[i])].clone()
        model.train(was_training)
        log.info(
            "lower %d layers' outputs for %d rows in %.0f s",
            layers,
            len(ids),
            time.monotonic() - started,
        )

    def logits(
        self, model: BertForSequenceClassification, batch: list[int], device: torch.device
    ) -> torch.Tensor:
        """The classifier's logits for `batch`, running only the upper layers."""
        width = max(len(self.rows[i]) for i in batch)
        hidden = torch.zeros(len(batch), width, self.rows[batch[0]].shape[-1])
        mask = torch.zeros(len(batch), width, dtype=torch.long)
        for row, i in enumerate(batch):
            hidden[row, : len(self.rows[i])] = self.rows[i].float()
            mask[row, : len(self.rows[i])] = 1
        hidden, mask = hidden.to(device), mask.to(device)
        attention = _mask(model, hidden, mask)
        for layer in model.bert.encoder.layer[self.layers :]:
            hidden = layer(hidden, attention)
        assert model.bert.pooler is not None  # BertForSequenceClassification has one
        pooled = model.bert.pooler(hidden)
        return model.classifier(model.dropout(pooled))
