"""Which kinds of item a request that names none is most likely after: "something to keep me warm on winter runs" is
closer to the shop's jackets and hoodies, taken together, than to its bags. Each kind is the mean of its items' text
vectors; a request ranks the kinds by cosine, and the ranking is a soft preference in the blend (never a filter: the
shopper did not name a kind, so any item may still win on its own match)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from recsys.catalogue.items import Item
from recsys.catalogue.kinds import cross_cutting, kind_path

BATCH = 2000  # item vectors read from the store at a time while the centroids are built


@dataclass(frozen=True)
class KindPrior:
    paths: list[str]  # one per kind, as the tree files it: "Men/Tops/Jackets"
    centroids: np.ndarray  # (kinds, dim), unit length
    of_item: dict[str, str]  # item id → its kind's path
    temperature: float = 0.04

    @classmethod
    def build(cls, items: Sequence[Item], vectors_of: Callable[[list[str]], dict[str, np.ndarray]], temperature: float = 0.04) -> KindPrior:
        """`vectors_of(ids)` gives the stored text vector of each id."""
        groups = cross_cutting(items)
        of_item = {i.id: p for i in items if (p := kind_path(i, groups))}
        paths = sorted(set(of_item.values()))
        index = {p: n for n, p in enumerate(paths)}
        sums: np.ndarray | None = None
        counts = np.zeros(len(paths), dtype=np.float32)
        ids = list(of_item)
        for start in range(0, len(ids), BATCH):
            chunk = vectors_of(ids[start : start + BATCH])
            for item_id, vector in chunk.items():
                if sums is None:
                    sums = np.zeros((len(paths), len(vector)), dtype=np.float32)
                sums[index[of_item[item_id]]] += vector
                counts[index[of_item[item_id]]] += 1
        if sums is None:
            return cls([], np.zeros((0, 1), dtype=np.float32), {}, temperature)
        centroids = sums / np.maximum(np.linalg.norm(sums, axis=1, keepdims=True), 1e-12)
        return cls(paths, centroids, of_item, temperature)

    def names_a_kind(self, categories: Sequence[str]) -> bool:
        """Whether a filter's categories narrow to kinds ("Men/Tops/Jackets", "Bags"), not only to a top-level grouping
        such as a gender."""
        kinds = set(self.paths)
        return any("/" in c or c in kinds for c in categories)

    def ranked(self, query: np.ndarray, hinted: Sequence[str] = (), hint: float = 0.7) -> dict[str, float]:
        """Each kind's weight in (0, 1] for this request: 1 for the closest, falling off with the cosine gap; a kind
        a model hinted at (any path under `hinted`) weighs at least `hint`."""
        if not self.paths:
            return {}
        sims = self.centroids @ np.asarray(query, dtype=np.float32)
        weights = np.exp((sims - sims.max()) / self.temperature)
        out = {p: float(w) for p, w in zip(self.paths, weights, strict=True)}
        for path in self.paths:
            if any(path == h or path.startswith(h + "/") or h.startswith(path + "/") for h in hinted):
                out[path] = max(out[path], hint)
        return out
