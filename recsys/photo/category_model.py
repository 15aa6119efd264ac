"""The kind of item a photo shows: multinomial logistic regression from image vector to the item's kind (not its
collections), fitted on the stored photos and their close-up crops — a second view of every item, so a customer's
close-up or back view is less foreign.

Fitted when the photos are indexed and stored beside them (`photo_categories.joblib`, with a fingerprint of the photos it
was fitted on), so the first photo after a start does not wait for it."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

import joblib
import numpy as np

from recsys.catalogue.kinds import cross_cutting, kind_of
from recsys.store.chroma import ImageRows

log = logging.getLogger(__name__)

FILE = "photo_categories.joblib"


def fingerprint(rows: ImageRows) -> str:
    """What the model depends on: the photos' vectors, their items' kinds and the encoder."""
    digest = hashlib.blake2b(digest_size=16)
    digest.update(rows.encoder.encode())
    for item in rows.items:
        digest.update(f"{item.id}\x1f{'|'.join(item.categories)}\x1e".encode())
    digest.update(np.ascontiguousarray(rows.vectors, dtype=np.float32).tobytes())
    if rows.details is not None:
        digest.update(np.ascontiguousarray(rows.details, dtype=np.float32).tobytes())
    return digest.hexdigest()


class CategoryModel:
    C = 4.0  # chosen with the close-ups on the benchmark's tuning half

    def __init__(self, item_labels: np.ndarray, model: object | None, fitted_on: str) -> None:
        self.item_labels = item_labels
        self.model = model
        self.fitted_on = fitted_on

    @classmethod
    def fit(cls, rows: ImageRows) -> CategoryModel:
        from sklearn.linear_model import LogisticRegression

        groups = cross_cutting(rows.items)
        labels = np.array([kind_of(i, groups) for i in rows.items])
        model = None
        if len(set(labels)) >= 2 and rows.vectors.ndim == 2 and len(rows.vectors):
            x, y = rows.vectors, labels
            if rows.details is not None and rows.details.shape == rows.vectors.shape:
                has_detail = np.linalg.norm(rows.details, axis=1) > 0
                x, y = np.vstack([x, rows.details[has_detail]]), np.concatenate([y, labels[has_detail]])
            model = LogisticRegression(C=cls.C, max_iter=3000).fit(x, y)
        return cls(labels, model, fingerprint(rows))

    @classmethod
    def for_rows(cls, rows: ImageRows, folder: Path | None) -> CategoryModel:
        """The stored model when it was fitted on exactly these photos; else fitted now (and stored)."""
        wanted = fingerprint(rows)
        path = folder / FILE if folder is not None else None
        if path is not None and path.is_file():
            try:
                stored = joblib.load(path)
                if isinstance(stored, CategoryModel) and stored.fitted_on == wanted:
                    return stored
            except Exception as exc:  # a file from another scikit-learn or cut short: fit again
                log.warning("photo category model at %s unreadable (%s); fitting it again", path, exc)
        model = cls.fit(rows)
        if path is not None:
            tmp = path.with_suffix(".tmp")
            joblib.dump(model, tmp)
            tmp.replace(path)  # never a half-written model for the next start
            log.info("photo category model fitted on %d photos and stored", len(rows.items))
        return model

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        if self.model is None:
            return {}
        probs = self.model.predict_proba(vector[None, :])[0]  # type: ignore[attr-defined]
        return {str(c): float(p) for c, p in zip(self.model.classes_, probs, strict=True)}  # type: ignore[attr-defined]

    def item_scores(self, vector: np.ndarray, confidence: float = 0.0) -> np.ndarray:
        """P(the item's category | photo) for every stored photo; zeros when no kind is at least `confidence` likely."""
        probs = self.probabilities(vector)
        if not probs or max(probs.values()) < confidence:
            return np.zeros(len(self.item_labels), dtype=np.float32)
        return np.array([probs.get(label, 0.0) for label in self.item_labels], dtype=np.float32)
