"""Photo → items: the image vector's cosine, re-ranked with what else the photo tells — the product's
colours (histogram of its pixels, not the backdrop or skin), the category the image suggests
(a small classifier fitted on the catalogue's own photos and category labels) and any text printed on
the product that spells out an item's name."""

from __future__ import annotations

import io
import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from recsys.catalogue.items import Item
from recsys.photo.category_model import CategoryModel
from recsys.photo.colors import COLOR_DIM, color_features, dominant_colors_of, histogram_similarity, name_similarity
from recsys.photo.names import NameMatcher
from recsys.photo.ocr import read_text, words
from recsys.photo.segment import cut_out
from recsys.ranking.weights import PhotoWeights
from recsys.store.chroma import ImageRows, ItemStore
from recsys.store.filters import Filters

if TYPE_CHECKING:
    from recsys.encoders.image import ClipImageEncoder, ImageEncoder

log = logging.getLogger(__name__)


@dataclass
class PhotoQuery:
    """What one photo tells: its image vector, its colour signature, which encoder made the vector, and the
    lines of text printed on it; `whole` is the same read of the whole photo when the product was cut out of it."""

    vector: np.ndarray
    colors: np.ndarray | None = None
    encoder: str = ""
    text: tuple[str, ...] = ()
    whole: PhotoQuery | None = None
    objects: tuple[PhotoQuery, ...] = ()  # each of several separate products in the photo

    @classmethod
    def of_image(cls, image: Image.Image, encoder: ImageEncoder | ClipImageEncoder) -> PhotoQuery:
        """Everything the photo search uses, read from one photo: the product cut out of wherever it was taken, and
        the photo as it is (a close-up filling the frame is better read whole); each product on its own when there
        are several; printed text from the whole photo."""
        product, separate = cut_out(image)
        text = tuple(read_text(image))
        if product is image:
            return cls(encoder.encode([image])[0], color_features(image), encoder.name, text)
        vectors = encoder.encode([product, image, *separate])
        whole = cls(vectors[1], color_features(image), encoder.name, text)
        objects = tuple(cls(v, color_features(p), encoder.name) for v, p in zip(vectors[2:], separate, strict=True))
        return cls(vectors[0], color_features(product), encoder.name, text, whole, objects)

    def dominant_colors(self) -> list[tuple[str, float]]:
        return dominant_colors_of(self.colors) if self.colors is not None else []

    def to_bytes(self) -> bytes:
        buf = io.BytesIO()
        empty = np.zeros(0, dtype=np.float32)

        def colors_of(query: PhotoQuery | None) -> np.ndarray:
            return query.colors.astype(np.float32) if query is not None and query.colors is not None else empty

        objects = self.objects
        np.savez(
            buf,
            vector=self.vector.astype(np.float32),
            colors=colors_of(self),
            encoder=np.array(self.encoder),
            text=np.array(self.text, dtype=str),
            whole_vector=self.whole.vector.astype(np.float32) if self.whole is not None else empty,
            whole_colors=colors_of(self.whole),
            object_vectors=np.stack([o.vector for o in objects]).astype(np.float32) if objects else empty,
            object_colors=np.stack([colors_of(o) for o in objects]) if objects else empty,  # each read by of_image
        )
        return buf.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> PhotoQuery:
        return cls.from_file(io.BytesIO(data))

    @classmethod
    def from_file(cls, path: Path | io.BytesIO) -> PhotoQuery:
        if isinstance(path, Path) and path.suffix == ".npy":  # saved before photo queries carried colours
            return cls(np.load(path))
        with np.load(path) as data:
            colors = data["colors"]
            text = tuple(str(line) for line in data["text"]) if "text" in data else ()  # saved before photos were read
            encoder = str(data["encoder"])
            whole = None
            if "whole_vector" in data and data["whole_vector"].size:  # saved before products were cut out: none
                whole_colors = data["whole_colors"]
                whole = cls(data["whole_vector"], whole_colors if whole_colors.size == COLOR_DIM else None, encoder, text)
            objects: tuple[PhotoQuery, ...] = ()
            if "object_vectors" in data and data["object_vectors"].size:
                objects = tuple(cls(v, c, encoder) for v, c in zip(data["object_vectors"], data["object_colors"], strict=True))
            return cls(data["vector"], colors if colors.size == COLOR_DIM else None, encoder, text, whole, objects)


class PhotoRanker:
    """Scores every stored photo against a `PhotoQuery`; the store's photos are scanned in memory."""

    def __init__(self, store: ItemStore, weights: PhotoWeights | None = None) -> None:
        self.store = store
        self.weights = weights or PhotoWeights()
        self._lock = threading.Lock()
        self._model_for: ImageRows | None = None
        self._model: CategoryModel | None = None
        self._names_for: ImageRows | None = None
        self._names: NameMatcher | None = None

    def category_model(self, rows: ImageRows | None = None) -> CategoryModel:
        """The model for the stored photos: read from the store's folder when it was fitted at index time."""
        rows = rows if rows is not None else self.store.image_rows()
        with self._lock:
            if self._model_for is not rows:  # the stored photos changed
                self._model = CategoryModel.for_rows(rows, self.store.path)
                self._model_for = rows
            assert self._model is not None
            return self._model

    def name_matcher(self, rows: ImageRows) -> NameMatcher:
        with self._lock:
            if self._names_for is not rows:
                self._names = NameMatcher(rows.items)
                self._names_for = rows
            assert self._names is not None
            return self._names

    def categories(self, query: PhotoQuery, top: int = 3) -> list[tuple[str, float]]:
        """The categories the photo suggests, most likely first."""
        rows = self.store.image_rows()
        if not self._vector_fits(query, rows):
            return []
        probs = self.category_model(rows).probabilities(query.vector)
        return sorted(probs.items(), key=lambda kv: -kv[1])[:top]

    def _vector_fits(self, query: PhotoQuery, rows: ImageRows) -> bool:
        same_kind = not query.encoder or query.encoder == rows.encoder
        return same_kind and rows.vectors.ndim == 2 and rows.vectors.shape[1:] == query.vector.shape

    def scores(self, query: PhotoQuery, rows: ImageRows) -> np.ndarray:
        """One score per stored photo: cosine + colour histogram and colour-name overlap + category probability
        (+ name words read on the photo, when it has any); the better of the cut-out product and the whole photo."""
        own = self._scores(query, rows)
        return own if query.whole is None else np.maximum(own, self._scores(query.whole, rows))

    def _scores(self, query: PhotoQuery, rows: ImageRows) -> np.ndarray:
        total = np.zeros(len(rows.items), dtype=np.float32)
        if not rows.items:
            return total
        if self._vector_fits(query, rows):
            vector = query.vector.astype(np.float32)
            cosine = rows.vectors @ vector
            if rows.details is not None and rows.details.shape == rows.vectors.shape:
                cosine = np.maximum(cosine, rows.details @ vector)  # a close-up query meets the close-up of the shot
            total += cosine
            if self.weights.category:
                total += self.weights.category * self.category_model(rows).item_scores(query.vector, self.weights.category_confidence)
        else:
            log.warning("photo vector from %r does not fit the store's %r; ranking by colour only", query.encoder, rows.encoder)
        if query.colors is not None and self.weights.color:
            total += self.weights.color * histogram_similarity(query.colors, rows.colors)
        if query.colors is not None and self.weights.color_name:
            total += self.weights.color_name * name_similarity(query.colors, rows.colors)
        scale = 1.0 + self.weights.color + self.weights.color_name + self.weights.category
        if query.text and self.weights.text:
            named = self.name_matcher(rows).scores(words(list(query.text)))
            if named.any():  # photos without legible names keep the same score scale as before
                total += self.weights.text * named
                scale += self.weights.text
        return total / scale

    def rank(self, query: PhotoQuery, filters: Filters, n: int) -> list[tuple[Item, float]]:
        """The n best items that pass the filters, with their scores (about 0..1)."""
        rows = self.store.image_rows()
        scores = self.scores(query, rows)
        out = []
        for index in np.argsort(-scores, kind="stable"):
            item = rows.items[index]
            if filters.matches(item):
                out.append((item, float(scores[index])))
                if len(out) == n:
                    break
        return out
