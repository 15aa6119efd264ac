"""Every ranking weight in one place. `recommend.*` in config feeds `Weights`; the rest are tuned constants, each with
where it was chosen."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Weights:
    """How a candidate's score is made: content match, collaborative score, the user's own feedback."""

    content: float = 1.0  # recommend.weight_content
    cf: float = 0.15  # recommend.weight_cf
    feedback: float = 0.35  # recommend.weight_feedback: closeness to likes minus closeness to dislikes
    disliked_product_penalty: float = 0.5  # another colour of a disliked product
    near_duplicate: float = 0.985  # text cosine above which two listings are the same thing shown twice
    liked_reason: float = 0.6  # cosine to a liked item above which the reason names that item
    cf_reason: float = 0.7  # collaborative score above which the reason says "popular with shoppers like you"
    caption: float = 0.25  # a photo's caption: its share of the score next to the photo's own (0.75)
    clip_photo: float = 0.1  # CLIP: how much the typed words' match to each photo adds to a text search
    # A request naming no kind of item: how much its likeliest kinds add (kind_prior.py), how sharply the weight falls
    # off with the cosine gap, and the least weight of a kind a model guessed. Chosen on the needs suite's tuning half.
    stated: float = 0.2  # what the shopper said of themselves (preferences.py), next to content 1.0
    audience: float = 0.1  # "for my girlfriend" with no kind: what her gender's items add over unisex ones (needs tuning half)
    kind: float = 0.15
    kind_temperature: float = 0.04
    kind_hint: float = 0.7


@dataclass(frozen=True)
class PhotoWeights:
    """How much colour, category and printed text add to a photo's vector cosine. Colour and category were chosen on all
    the Luma alternate views before the photo benchmark had a held-out half; colour names on its tuning half only."""

    color: float = 0.2
    color_name: float = 0.1
    category: float = 0.1
    # the category counts only when its likeliest kind is at least this probable: chosen on the tuning halves of the
    # photo benchmark and of a foreign catalogue (scripts/bench_photo_ood.py), where an unsure guess cost scenes
    category_confidence: float = 0.3
    text: float = 0.5  # an item's own name printed on the product is strong evidence; counted only when read
