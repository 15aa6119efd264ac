"""The recommender: vector search in the store, then blending with CF and the user's feedback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from recsys.catalogue.items import Item
from recsys.cf.scorer import CFScorer
from recsys.encoders.image import ClipImageEncoder, ImageEncoder
from recsys.encoders.text import SentenceEncoder
from recsys.photo.search import PhotoQuery, PhotoRanker
from recsys.ranking.blender import Profile, Reason, Recommendation, blend
from recsys.ranking.kind_prior import KindPrior
from recsys.ranking.weights import Weights
from recsys.store.chroma import Hit, ItemStore
from recsys.store.filters import Filters


@dataclass
class RecommenderSettings:
    candidates: int = 60  # over-fetch before blending and diversity
    kinds_searched: int = 3  # a request that names no kind also fetches candidates from this many likeliest kinds
    max_per_product: int = 1
    weights: Weights = field(default_factory=Weights)


class Recommender:
    """`search`, `search_image_vector`, `more_like` and `for_user`, each returning ranked recommendations."""

    def __init__(
        self,
        store: ItemStore,
        text_encoder: SentenceEncoder,
        image_encoder: ImageEncoder | ClipImageEncoder,
        scorer: CFScorer,
        settings: RecommenderSettings | None = None,
    ) -> None:
        self.store = store
        self.text_encoder = text_encoder
        self.image_encoder = image_encoder
        self.scorer = scorer
        self.settings = settings or RecommenderSettings()
        self.photo_ranker = PhotoRanker(store)
        self._kind_prior: KindPrior | None = None
        self._kind_prior_size = -1

    def profile(self, user: str, liked_ids: list[str], disliked_ids: list[str]) -> Profile:
        """A taste profile from feedback; ids no longer in the catalogue are ignored."""
        liked = [i for i in (self.store.get(x) for x in liked_ids) if i]
        disliked = [i for i in (self.store.get(x) for x in disliked_ids) if i]
        vectors = self.store.text_vectors([i.id for i in liked + disliked])
        liked_v = np.stack([vectors[i.id] for i in liked]) if liked else None
        disliked_v = np.stack([vectors[i.id] for i in disliked]) if disliked else None
        return Profile(user, liked, disliked, liked_v, disliked_v)

    def item(self, item_id: str) -> Item | None:
        return self.store.get(item_id)

    def search(
        self, query: str, filters: Filters, profile: Profile, k: int, terms: Sequence[str] = (), kinds: Sequence[str] = ()
    ) -> list[Recommendation]:
        """Items matching the words; `terms` are the words a reason may say an item matches. When the filters name no
        kind of item, the kinds closest to the request (and `kinds`, category paths a model guessed) are preferred."""
        vector = self.text_encoder.encode_one(query) if query.strip() else None
        if vector is None:
            return self.for_user(profile, filters, k)
        excluded = self._exclusions(filters, profile)
        hits = self.store.search_text(vector, excluded, self.settings.candidates)
        if getattr(self.image_encoder, "supports_text", False):
            hits = self._with_photo_match(query, hits, excluded)
        prior = self.kind_prior()
        if prior.names_a_kind(filters.categories):
            return self._blend(hits, profile, filters, k, terms)
        hits = self._with_kind_prior(vector, hits, excluded, prior, kinds)
        if not kinds:
            return self._blend(hits, profile, filters, k, terms)
        # A model's guess of the kinds fills most of the list (ranked among themselves, so a guessed kind the words
        # match weakly still gets its places); the best match of any other kind keeps one
        of_guess = [h for h in hits if any(_under(prior.of_item.get(h.item.id, ""), p) for p in kinds)]
        guessed = self._blend(of_guess, profile, filters, max(k - 1, 1), terms)
        shown = {r.item.product_id for r in guessed}
        rest = self._blend([h for h in hits if h.item.product_id not in shown], profile, filters, k - len(guessed), terms)
        return sorted([*guessed, *rest], key=lambda r: r.score, reverse=True)[:k]

    def kind_prior(self) -> KindPrior:
        """The kinds' centroids, built on first use and again when the catalogue changes."""
        items = self.store.all_items()
        if self._kind_prior is None or self._kind_prior_size != len(items):
            self._kind_prior = KindPrior.build(list(items.values()), self.store.text_vectors, self.settings.weights.kind_temperature)
            self._kind_prior_size = len(items)
        return self._kind_prior

    def _with_kind_prior(self, vector: np.ndarray, hits: list[Hit], filters: Filters, prior: KindPrior, hinted: Sequence[str]) -> list[Hit]:
        """Candidates from the likeliest kinds join the search's own, and every candidate gains its kind's weight."""
        weights = prior.ranked(vector, hinted, self.settings.weights.kind_hint)
        likeliest = sorted(weights, key=weights.__getitem__, reverse=True)[: self.settings.kinds_searched]
        likeliest += [p for p in prior.paths if p not in likeliest and any(_under(p, h) for h in hinted)]  # a model's guesses too
        by_id = {h.item.id: h for h in hits}
        for path in likeliest:
            if filters.categories and not any(path == c or path.startswith(c + "/") for c in filters.categories):
                continue  # a kind outside the gender or grouping the shopper asked for
            for hit in self.store.search_text(vector, filters.with_(categories=(path,)), self.settings.candidates // 4):
                by_id.setdefault(hit.item.id, hit)
        w = self.settings.weights.kind
        return [Hit(h.item, h.similarity + w * weights.get(prior.of_item.get(h.item.id, ""), 0.0), h.vector) for h in by_id.values()]

    def _with_photo_match(self, query: str, hits: list[Hit], filters: Filters) -> list[Hit]:
        """Cross-modal (CLIP): the words are also compared with every photo, so an item whose picture fits
        the request ranks up, and one found only by its picture joins the candidates."""
        rows = self.store.image_rows()
        text_in_image_space = self.image_encoder.encode_texts([query])[0]
        if not rows.items or rows.vectors.shape[1:] != text_in_image_space.shape:
            return hits
        sims = rows.vectors @ text_in_image_space
        # CLIP's text-image cosines sit in a narrow band: compare them with each other, not with text cosines
        spread = float(sims.std()) or 1.0
        photo_score = {item.id: float((s - sims.mean()) / spread) for item, s in zip(rows.items, sims, strict=True)}
        by_id = {h.item.id: h for h in hits}
        extra = [rows.items[i] for i in np.argsort(-sims)[: self.settings.candidates // 2] if rows.items[i].id not in by_id]
        extra = [i for i in extra if filters.matches(i)]
        vectors = self.store.text_vectors([i.id for i in extra])
        merged = [*hits, *(Hit(i, 0.0, vectors[i.id]) for i in extra if i.id in vectors)]
        w = self.settings.weights.clip_photo
        return [Hit(h.item, h.similarity + w * photo_score.get(h.item.id, 0.0), h.vector) for h in merged]

    def encode_image(self, image: Image.Image) -> PhotoQuery:
        """What a photo tells: its image vector, the colour signature of the product in it and any text printed on it."""
        return PhotoQuery.of_image(image, self.image_encoder)

    def search_image_vector(
        self, query: PhotoQuery | np.ndarray, filters: Filters, profile: Profile, k: int, caption: str = "", terms: Sequence[str] = ()
    ) -> list[Recommendation]:
        """Items that look like a photo (vector, colours, category), refined by an optional caption."""
        if not isinstance(query, PhotoQuery):
            query = PhotoQuery(np.asarray(query, dtype=np.float32))
        if query.objects:  # several products in the photo: the best matches of each, in turn
            each = [self.search_image_vector(o, filters, profile, k, caption, terms) for o in query.objects]
            return in_turn(each, k)
        ranked = self.photo_ranker.rank(query, self._exclusions(filters, profile), self.settings.candidates)
        # Blend on the items' text vectors so taste and diversity work the same way as for text.
        text_vectors = self.store.text_vectors([item.id for item, _ in ranked])
        hits = [Hit(item, score, text_vectors[item.id]) for item, score in ranked if item.id in text_vectors]
        if caption.strip():
            caption_vector = self.text_encoder.encode_one(caption)
            w = self.settings.weights.caption
            hits = [Hit(h.item, (1 - w) * h.similarity + w * float(h.vector @ caption_vector), h.vector) for h in hits]
        basis: Reason = ("photo", {"colors": [name for name, _ in query.dominant_colors()]})
        return self._blend(hits, profile, filters, k, terms, basis=basis)

    def more_like(self, item_id: str, filters: Filters, profile: Profile, k: int) -> list[Recommendation]:
        anchor = self.store.get(item_id)
        if anchor is None:
            return []
        vector = self.store.text_vectors([item_id])[item_id]
        # "More like this" means other products; with a colour asked for ("the second one in blue")
        # the anchor's own variants are exactly what is wanted.
        siblings = [] if filters.colors else self.store.variants(anchor.product_id)
        excluded = self._exclusions(filters, profile).with_(exclude_ids=(*filters.exclude_ids, item_id, *siblings))
        hits = self.store.search_text(vector, excluded, self.settings.candidates)
        return self._blend(hits, profile, filters, k, basis=("similar_to", {"name": anchor.name, "id": anchor.id}))

    def goes_with(self, item_id: str, filters: Filters, profile: Profile, k: int) -> list[Recommendation]:
        """What goes with an item: the shop's own links first, then what shoppers had in the same baskets, then the
        closest items of other kinds. Never the item, its other colours or its own kind, unless the filters ask for it."""
        anchor = self.store.get(item_id)
        if anchor is None:
            return []
        prior = self.kind_prior()
        own_kind = prior.of_item.get(anchor.id, "").split("/")[-1]
        siblings = set(self.store.variants(anchor.product_id)) | {anchor.id}
        excluded = self._exclusions(filters, profile).with_(exclude_ids=(*filters.exclude_ids, *siblings))
        if own_kind and not prior.names_a_kind(filters.categories):  # its kind for anyone: women's shorts with men's
            own = tuple(p for p in prior.paths if p.split("/")[-1] == own_kind)
            excluded = excluded.with_(exclude_categories=(*excluded.exclude_categories, *own))
        scored: dict[str, float] = {}
        for rank, linked in enumerate(self._linked(anchor)):
            scored.setdefault(linked.id, 1.0 - 0.01 * rank)
        for rank, (other, weight) in enumerate(self.scorer.bought_with(anchor.id, self.settings.candidates)):
            scored.setdefault(other, 0.6 * weight - 0.001 * rank)
        candidates = [i for i in (self.store.get(x) for x in scored) if i is not None and excluded.matches(i)]
        vectors = self.store.text_vectors([i.id for i in candidates])
        hits = [Hit(i, scored[i.id], vectors[i.id]) for i in candidates if i.id in vectors]
        # A look stays in the anchor's department of the shop's tree (a men's hoodie: men's bottoms and tees before the
        # gear a basket also held); a shop whose kinds sit at the top of its tree has no departments to keep to
        path = prior.of_item.get(anchor.id, "")
        department = path.split("/")[0] + "/" if "/" in path else ""
        within = [h for h in hits if department and prior.of_item.get(h.item.id, "").startswith(department)]
        if len(hits) < k or (department and len(within) < k):  # few links or baskets: the nearest things of other kinds
            vector = self.store.text_vectors([anchor.id])[anchor.id]
            near = self.store.search_text(vector, excluded.with_(exclude_ids=(*excluded.exclude_ids, *scored)), self.settings.candidates)
            hits += [Hit(h.item, 0.3 * h.similarity, h.vector) for h in near]
        ranked = self._blend(hits, profile, filters, len(hits), basis=("goes_with", {"name": anchor.name, "id": anchor.id}))
        if department:  # stable: within the department and outside it, links, baskets and closeness keep their order
            ranked.sort(key=lambda r: not prior.of_item.get(r.item.id, "").startswith(department))
        picked: list[Recommendation] = []
        per_kind: dict[str, int] = {}
        for rec in ranked:  # a look is several kinds: at most two of one
            kind = prior.of_item.get(rec.item.id, "").split("/")[-1]
            if per_kind.get(kind, 0) < 2:
                per_kind[kind] = per_kind.get(kind, 0) + 1
                picked.append(rec)
        return (picked + [r for r in ranked if r not in picked])[:k]

    def _linked(self, anchor: Item) -> list[Item]:
        """The anchor's links as items: a linked product stands for its variant in the anchor's colour, or its first."""
        out = []
        for link in anchor.links:
            item = self.store.get(link)
            if item is None:
                variants = [v for v in (self.store.get(i) for i in self.store.variants(link)) if v is not None]
                item = next((v for v in variants if v.color and v.color == anchor.color), variants[0] if variants else None)
            if item is not None:
                out.append(item)
        return out

    def for_user(self, profile: Profile, filters: Filters, k: int) -> list[Recommendation]:
        """No query: lean on taste (liked items), then on what is popular."""
        excluded = self._exclusions(filters, profile)
        if profile.liked_vectors is not None:
            centre = profile.liked_vectors.mean(axis=0)
            centre /= max(float(np.linalg.norm(centre)), 1e-12)
            hits = self.store.search_text(centre, excluded, self.settings.candidates)
            return self._blend(hits, profile, filters, k, basis=("taste", {}))
        items = [i for i in self.store.all_items().values() if excluded.matches(i)]
        popularity = self.scorer.scores(profile.user, [i.id for i in items])
        order = np.argsort(-popularity, kind="stable")[: self.settings.candidates]
        chosen = [items[n] for n in order]
        vectors = self.store.text_vectors([i.id for i in chosen])
        hits = [Hit(i, 0.0, vectors[i.id]) for i in chosen]
        return self._blend(hits, profile, filters, k, basis=("popular", {}) if popularity.any() else ("starter", {}))

    def _exclusions(self, filters: Filters, profile: Profile) -> Filters:
        # Disliked items never come back.
        return filters.with_(exclude_ids=tuple(dict.fromkeys([*filters.exclude_ids, *(i.id for i in profile.disliked)])))

    def _blend(
        self, hits: list[Hit], profile: Profile, filters: Filters, k: int, terms: Sequence[str] = (), basis: Reason | None = None
    ) -> list[Recommendation]:
        cf = self.scorer.scores(profile.user, [h.item.id for h in hits])
        return blend(
            hits,
            cf,
            profile,
            filters,
            k,
            self.settings.weights,
            terms=terms,
            max_per_product=self.settings.max_per_product,
            basis=basis,
        )


def _under(path: str, category: str) -> bool:
    return bool(path) and (path == category or path.startswith(category + "/") or category.startswith(path + "/"))


def in_turn(lists: Sequence[list[Recommendation]], k: int) -> list[Recommendation]:
    """The first of each list, then the second of each, …: k in all, no product twice."""
    out: list[Recommendation] = []
    products: set[str] = set()
    for rank in range(max((len(x) for x in lists), default=0)):
        for recs in lists:
            if rank < len(recs) and recs[rank].item.product_id not in products and len(out) < k:
                out.append(recs[rank])
                products.add(recs[rank].item.product_id)
    return out
