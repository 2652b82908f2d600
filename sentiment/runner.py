"""What inference needs of a backend: one encoded batch in, its logits out.

Its own module so that the backends (``sentiment.accelerated``) and the loader
(``sentiment.model``) both depend on it and not on each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import numpy as np


class Runner(Protocol):
    """Encoded batch (input name -> int64 array, rows x length) -> logits (rows x labels)."""

    def __call__(self, inputs: Mapping[str, np.ndarray], /) -> np.ndarray: ...
