"""English: every word list the bot reads and every sentence it says.

Another language is one more module like this one: a subclass of `English` that replaces its words and sentences
(whatever it leaves out is said in English). The parser (bot/understanding/constraints.py) reads a message with the
word lists and patterns here; the catalogue's own colours and kinds come from its vocabulary, never from this file.
"""

from __future__ import annotations

import math
import re
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

from babel.numbers import format_currency, get_currency_name

from bot.understanding.lang.en_profile import ProfileWords
from bot.understanding.lang.en_service import ServiceWords
from bot.understanding.lang.money import foreign_money_patterns, money_patterns


def _sentences(code: str) -> dict[str, str]:
    """The message catalogue beside the language's module: `<code>.toml`, key = sentence."""
    return tomllib.loads((Path(__file__).with_name(f"{code}.toml")).read_text(encoding="utf-8"))


def _numbered(words: str, start: int = 0, step: int = 1) -> dict[str, int]:
    """ "twenty thirty" with start 2, step 10 → {"twenty": 20, "thirty": 30}."""
    return {w: (start + n) * step for n, w in enumerate(words.split())}


class English(ServiceWords, ProfileWords):
    code = "en"
    name = "English"

    # -- reading -------------------------------------------------------------------------------------------------
    units: ClassVar[dict[str, int]] = _numbered("zero one two three four five six seven eight nine ten eleven twelve thirteen")
    units |= _numbered("fourteen fifteen sixteen seventeen eighteen nineteen", start=14)
    tens: ClassVar[dict[str, int]] = _numbered("twenty thirty forty fifty sixty seventy eighty ninety", start=2, step=10) | {"fourty": 40}
    hundred = "hundred"
    locale = "en"  # for prices and currency names (Babel)
    money_words = r"dollars?|bucks|usd"  # said of any currency; the catalogue's own names are added (`money`)
    ordinals: ClassVar[dict[str, int]] = {
        "first": 0, "1st": 0, "second": 1, "2nd": 1, "third": 2, "3rd": 2, "fourth": 3, "4th": 3,
        "fifth": 4, "5th": 4, "sixth": 5, "6th": 5, "last": -1, "final": -1,
    }  # fmt: skip
    ordinal_number = r"(?:#|number\s+|no\.?\s*|item\s+|option\s+)(\d)\b"
    ordinal_tail = r"(?:\s+(?:one|item|option|choice|pick))?"
    not_ordinal_before = r"\b(?:my|his|her|our|their|your|its|a)\s+$"  # "my first 5k" is not the first item listed
    # {sym}: currency signs, {words}: money words (`money`), filled per catalogue currency
    amount = r"{sym}?\s*(\d+(?:\.\d+)?)\s*(?:{sym}|{words})?"
    at_most = (
        r"(?:under|below|less than|cheaper than|lower than|max(?:imum)?|at most|up to|no more than|not more than"
        r"|within|<=?|budget(?: is| of)?|for less than)"
    )
    at_least = r"(?:over|above|more than|at least|min(?:imum)?|no less than|>=?|starting at|pricier than)"
    between = (r"between\s+{amount}\s+(?:and|to|-)\s+{amount}", r"{sym}\s*(\d+(?:\.\d+)?)\s*(?:-|–|to)\s*{sym}?\s*(\d+(?:\.\d+)?)")
    # (pattern, Request field): a bound on the price; {amount} is filled in per catalogue currency
    price_bounds: ClassVar[tuple[tuple[str, str], ...]] = (
        (r"(?:nothing|none|not|no)\s+(?:over|above|more than|pricier than)\s*{amount}", "max_price"),  # "nothing over $60"
        (at_most + r"\s*{amount}", "max_price"),
        (at_least + r"\s*{amount}", "min_price"),
    )
    bare_budget = r"{sym}\s*(\d+(?:\.\d+)?)|\b(\d+(?:\.\d+)?)\s*(?:{words})\b"
    negation = (
        r"(?:not|no|non|except|excluding|without|avoid|anything but|but not|nothing|don'?t want|do not want|don'?t like"
        r"|do not like|dislike|can'?t stand|hate|never)"
    )
    negated_color_lead = r"(?:in\s+|a\s+|any\s+|the\s+)?"
    color_list_joiner = r"(?:,|or|and|nor|/)"
    negated_kind_lead = r"(?:a\s+|any\s+)?$"
    word = r"[a-z][a-z'-]*"
    gender_word = r"[a-z']+"

    filler = frozenset(
        "a an the i im i'm me my we our you your please can could would will show find get give want need looking look for "
        "some something anything any thing things is are be to of in on at with and or but it its that this those these "
        "one ones do does have has got like love also just really very much more less maybe perhaps hi hello hey thanks "
        "thank ok okay yes yeah so what which there here them they him her item items product products stuff no not only "
        "color colour version instead rather prefer take size sizes under below above over than".split()
    )
    # words that say nothing about an item, left out of "matches …" in a reason
    stop = frozenset(
        "a an and any are as at be but by can do for from get have i im in is it looking me my need of on or please show "
        "some something that the this to want with would you like under over below above less more than not no cheap "
        "cheaper dollars dollar usd".split()
    )
    genders: ClassVar[dict[str, str]] = {
        "men": "Men", "man": "Men", "mens": "Men", "men's": "Men", "male": "Men", "guy": "Men", "guys": "Men", "him": "Men",
        "women": "Women", "woman": "Women", "womens": "Women", "women's": "Women", "female": "Women", "ladies": "Women",
        "lady": "Women", "her": "Women", "girls": "Women",
        # who a shopper buys for: "for my wife" means women's things as surely as "for women" does
        "wife": "Women", "girlfriend": "Women", "mom": "Women", "mum": "Women", "mother": "Women", "daughter": "Women",
        "sister": "Women", "aunt": "Women", "grandma": "Women", "niece": "Women", "husband": "Men", "boyfriend": "Men",
        "dad": "Men", "father": "Men", "son": "Men", "brother": "Men", "uncle": "Men", "grandpa": "Men", "nephew": "Men",
    }  # fmt: skip
    # what people say → the catalogue colour it means (only applied when the catalogue has that colour)
    color_synonyms: ClassVar[dict[str, str]] = {
        "grey": "gray", "charcoal": "gray", "silver": "gray", "heather": "gray", "navy": "blue", "azure": "blue",
        "cobalt": "blue", "teal": "blue", "turquoise": "blue", "maroon": "red", "burgundy": "red", "crimson": "red",
        "scarlet": "red", "wine": "red", "violet": "purple", "plum": "purple", "lilac": "lavender", "mauve": "purple",
        "olive": "green", "lime": "green", "mint": "green", "khaki": "green", "tan": "brown", "beige": "brown",
        "camel": "brown", "chocolate": "brown", "gold": "yellow", "mustard": "yellow", "ivory": "white", "cream": "white",
    }  # fmt: skip
    spoken_colors: frozenset[str] = frozenset()  # colour words of this language that are not English (zh: 蓝色 …)
    # colour words that may have no item at all; asking for one must not be silently ignored
    known_colors = frozenset("pink magenta fuchsia cyan coral peach rose".split())
    # shopper words → the singular kind of item they stand for
    kind_synonyms: ClassVar[dict[str, str]] = {
        "t-shirt": "tee", "tshirt": "tee", "t shirt": "tee", "shirt": "tee", "hoody": "hoodie", "sweater": "hoodie",
        "pullover": "hoodie", "jumper": "hoodie", "trouser": "pant", "legging": "pant", "jogger": "pant", "tight": "pant",
        "sweatpant": "pant", "backpack": "bag", "duffel": "bag", "duffle": "bag", "tote": "bag", "rucksack": "bag",
        "pack": "bag", "coat": "jacket", "windbreaker": "jacket", "parka": "jacket", "shell": "jacket", "singlet": "tank",
        "sports bra": "bra", "smartwatch": "watch", "wristwatch": "watch", "knapsack": "bag", "handbag": "bag",
    }  # fmt: skip
    kind_separators = r"\s*(?:&|,| and )\s*"  # "Hoodies & Sweatshirts" names two kinds
    # Sizes: words → the letter size they mean; each pattern captures one size as group 1 of the prepared text, {size}
    # standing for any size (the catalogue's own, these words, letters, numbers). An explicit one ("size 8") holds even
    # for a size the shop lacks, so the shopper hears there is none; an implied one only when the catalogue lists it, so
    # "a large bag" stays a big bag.
    size_words: ClassVar[dict[str, str]] = {
        "extra small": "XS", "x-small": "XS", "small": "S", "medium": "M", "large": "L", "extra large": "XL",
        "x-large": "XL", "xx-large": "XXL", "extra extra large": "XXL",
    }  # fmt: skip
    letter_sizes = r"xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl"
    explicit_sizes: tuple[str, ...] = (
        r"\bsizes?\s+{size}(?![\w-])",  # "a size M hoodie", "I take size 8"
        r"\b(\d{{2}})\s*(?:in(?:ch(?:es)?)?\b|\"|w\b)\s*(?=(?:\w+\s+)?(?:pants?|trousers?|shorts?|jeans?|bottoms?|waist)\b)",
        r"\bwaist\s+(?:of\s+|size\s+)?(\d{{2}})\b",  # "waist 32"
    )
    implied_sizes: tuple[str, ...] = (
        r"\bin\s+(?:an?\s+)?(extra small|extra large|small|medium|large|xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl)(?![\w-])",
        r"\bin\s+(?:size\s+)?(\d{{1,3}})(?=\s*(?:please|pls|instead|too|then)?\s*(?:[,.!?;]|$))",  # "in 36 please"
        r"\bi (?:usually |normally )?(?:take|wear)\s+(?:an?\s+)?{size}(?![\w-])",  # "I wear 32", "I take a medium"
        r"\bi(?:'m| am)\s+(?:usually\s+)?an?\s+(xxs|xs|s|m|l|xl|xxl|xxxl|[2-5]xl)\b",  # "I'm an M"
        r"(?<![\w-])(xxs|xs|xl|xxl|xxxl|[2-5]xl)(?![\w-])",  # letter sizes nobody says for anything else
    )

    intents: ClassVar[Mapping[str, tuple[str, str]]] = {  # intent → (fullmatch | search, pattern) on the lower-cased message
        "greeting": ("fullmatch", r"\W*(hi|hello|hey|yo|hiya|good (morning|afternoon|evening))\W*(there|bot)?\W*"),
        "thanks": ("fullmatch", r"\W*(thanks|thank you|thx|ty|cheers|great|perfect|nice|cool|ok|okay)\W*(a lot|so much)?\W*"),
        "help": ("fullmatch", r"\W*(help|what can you do|how does this work|commands)\W*"),
        "catalogue": (
            "search",
            r"\b(what (do|can) you (sell|offer|stock)|what kinds? of (things|products|items|stuff)"
            r"|what('s| is) in (the|your) (shop|store|catalogue|catalog))\b",
        ),
        "complements": (  # what to wear or use with something: pairing, layering, completing, buying alongside
            "search",
            r"\b(go(?:es)? (?:really )?(?:well |nicely |great |good )?with|to go with|go(?:es)? together"
            r"|pair(?:s|ed)? (?:well |nicely )?with|pair (?:the|my|this|that|it|them|her|his) [^.?!]{0,60}?with"
            r"|(?:look|looks|go) (?:good|great|nice|best) with"
            r"|(?:complete|finish|put together|build|style) (?:the|my|this|her|his|our|an?) (?:look|outfit|set|kit)"
            r"|what (?:\w+ )?(?:would |will |could |might |should )?match(?:es)?|match (?:something |anything )?(?:to|with)"
            r"|match(?:es)? (?:with )?(?:it|this|that|them)|something to match"
            r"|what else (?:would|could|might|will) help"
            r"|(?:wear|layer|put on) (?:it |this |that |them )?(?:with|under|underneath|beneath|over|on top of)"
            r"|what else (?:do|would|should|could|will|might|does) (?:i|we|she|he|they|you|my \w+) (?:need|get|buy|bring|pack|pick up|want)"
            r"|what (?:should|do|can|could) (?:i|we|she|he) wear (?:on top|underneath|under|over|with)"
            r"|(?:buy|get|order|grab|pick up) along with|(?:usually|often|also|normally) (?:buy|get|order) with|bought together"
            r"|(?:pairing|outfit|styling) ideas|accessor(?:y|ies) (?:for|to go with|that go with))\b",
        ),
        "cheaper": ("search", r"\b(cheaper|less expensive|lower price|more affordable|too expensive|too pricey)\b"),
        "pricier": ("search", r"\b(pricier|more expensive|higher end|fancier|premium)\b"),
    }
    more_like = r"\b(more like|similar to|like the|something like|others? like|more of)\b"
    pointing = r"\b(this|that|it)\b"
    details = r"\b(tell me|details?|more about|info|describe|what is|about)\b"
    more_results = (
        r"\W*(show me )?(more|other|different|else|another)( ones?| options?| items?| please)?\W*",
        r"\b(something else|other options|show more|any others|anything else)\b",
    )
    recommend = r"\b(recommend|suggest|surprise me|for me|what should i (buy|get)|what do you (have|suggest))\b"
    recommend_words = frozenset("recommend suggest surprise".split())
    # a shopper asking for something, though in no word the shop uses ("I'd like to count my steps"): a need, not small talk
    wants = (
        r"\b(i'?d like to|i would like to|i want to|i wanna|i need|i'm looking for|i am looking for|looking for|help me"
        r"|(?:something|anything|stuff) (?:to|for|that)|what (?:should|do|can|could) i (?:wear|use|get|buy|bring|take)|a way to)\b"
    )

    def singular(self, word: str) -> str:
        """A crude English singular; "-ies" keeps its "ie" (hoodies → hoodie) and `variants` adds the "y" form."""
        word = word.lower()
        if word.endswith("ies") and len(word) > 4:
            return word[:-1]
        if word.endswith(("ches", "shes", "sses")):
            return word[:-2]
        if word.endswith("s") and not word.endswith("ss") and len(word) > 3:
            return word[:-1]
        return word

    def variants(self, phrase: str) -> list[str]:
        """Singular forms of a phrase: "accessories" → accessorie and accessory."""
        if not phrase.strip():
            return []
        words = phrase.lower().split()
        head = " ".join(self.singular(w) for w in words)
        last = words[-1]
        if last.endswith("ies") and len(last) > 4:
            return [head, " ".join([*(self.singular(w) for w in words[:-1]), last[:-3] + "y"])]
        return [head]

    def money(self, currency: str) -> tuple[str, str]:
        """(a regex class of currency signs, an alternation of money words) for a catalogue priced in `currency`: any
        sign a shopper may type, and the currency's own names ("euros", "EUR")."""
        return money_patterns(self.locale, self.money_words, currency.upper())

    def foreign_money(self, currency: str) -> tuple[str, str]:
        """(signs, names) of the currencies a shop priced in `currency` is not priced in ("£", "euros")."""
        return foreign_money_patterns(self.locale, self.money_words, currency.upper())

    def currency_name(self, currency: str) -> str:
        """The currency as a shopper would name it: "US dollars", 美元."""
        return get_currency_name(currency.upper(), count=2, locale=self.locale)

    def normalize(self, text: str) -> str:
        """The message as intents are read from it."""
        return text.lower()

    def prepare(self, text: str, vocab: Any) -> str:
        """The message as the parser reads it (`vocab`: the catalogue's Vocabulary): lower case, numbers as digits."""
        return self.words_to_numbers(text.lower(), vocab.currency)

    def warm_up(self, vocab: Any) -> None:
        """Load what reading this language needs, before the first shopper waits for it."""
        self.prepare("hello", vocab)

    def words_to_numbers(self, text: str, currency: str = "USD") -> str:
        """ "forty five dollars" → "45 dollars": spoken requests arrive with numbers as words."""

        def convert(match: re.Match[str]) -> str:
            total = 0
            for word in re.split(r"[\s-]+", match.group(0).lower()):
                if word in self.tens:
                    total += self.tens[word]
                elif word in self.units:
                    total += self.units[word]
                elif word == self.hundred:
                    total = max(total, 1) * 100
            return str(total)

        words = "|".join([*self.tens, *self.units, self.hundred])
        money = self.money(currency)[1]
        return re.sub(rf"\b(?:(?:{words})(?:[\s-]+|\b))+(?=\s*(?:{money})\b)", lambda m: convert(m) + " ", text, flags=re.I)

    def query_terms(self, query: str) -> list[str]:
        """The words of a search that a reason may say an item matches."""
        return [w for w in re.findall(r"[a-z][a-z'-]+", query.lower()) if w not in self.stop and len(w) > 2]

    # -- prices and lists --------------------------------------------------------------------------------------------
    def price(self, value: float | None, currency: str = "USD", exact: bool = False) -> str:
        """ "$54", "€29.99"; exact: cents whenever there are any ("$12.50"); "" for an item without a price."""
        if value is None:
            return ""
        pattern = "¤#,##0.##" if not exact else "¤#,##0" if float(value).is_integer() else "¤#,##0.00"
        return format_currency(value, currency, pattern, locale=self.locale, currency_digits=False)

    def color_name(self, color: str | None) -> str:
        return color or "one colour"

    def series(self, words: Sequence[str]) -> str:
        """ "a, b, c": a list that names what there is."""
        return ", ".join(words)

    def listed(self, words: Sequence[str], joiner: str = "or") -> str:
        """ "a or b", or with joiner "and", "a and b"."""
        return f" {joiner} ".join(words)

    def describe(self, constraints: Mapping[str, Any]) -> str:
        """The constraints of a search in words: kinds, colours wanted and not, price range."""
        bits = []
        if kinds := constraints.get("kinds"):
            bits.append(self.listed([k.lower() for k in kinds]))
        if colors := constraints.get("colors"):
            bits.append("in " + self.listed([c.lower() for c in colors]))
        if excluded := constraints.get("exclude_colors"):
            bits.append("not " + self.listed([c.lower() for c in excluded]))
        if sizes := constraints.get("sizes"):
            bits.append("size " + self.listed(sizes))
        low, high, currency = constraints.get("min_price"), constraints.get("max_price"), constraints.get("currency", "USD")
        if low is not None and high is not None:
            bits.append(f"{self.price(low, currency)}–{self.price(high, currency)}")
        elif high is not None:
            bits.append(f"up to {self.price(high, currency)}")
        elif low is not None:
            bits.append(f"from {self.price(low, currency)}")
        return ", ".join(bits)

    # -- why an item was picked (recsys gives reason codes and their data) ------------------------------------------
    def reason(self, parts: Sequence[tuple[str, Mapping[str, Any]]], currency: str = "USD") -> str:
        said = [self._reason_part(code, {"currency": currency, **data}) for code, data in parts]
        text = "; ".join(s for s in said if s)
        return text[:1].upper() + text[1:]

    def _reason_part(self, code: str, d: Mapping[str, Any]) -> str:
        match code:
            case "photo":
                colors = d.get("colors") or []
                return "looks like your photo" + (f" ({self.listed([c.lower() for c in colors], 'and')})" if colors else "")
            case "similar_to":
                return f"similar to {d['name']}"
            case "taste":
                return "picked for your taste"
            case "popular":
                return "popular right now"
            case "starter":
                return "a good place to start"
            case "matches":
                return "matches " + ", ".join(f"“{t}”" for t in d["terms"])
            case "close_to_liked":
                return f"close to the {d['name']} you liked"
            case "within_budget":
                return f"{self.price(d['price'], d['currency'])}, within your {self.price(d['max_price'], d['currency'])}"
            case "not_colors":
                return f"{d['color'].lower()}, not {'/'.join(c.lower() for c in d['excluded'])}"
            case "similar_shoppers":
                return "popular with shoppers like you"
            case "close_match":
                return f"a close match among our {(d.get('kind') or 'items').lower()}"
            case "your_size":
                return f"comes in your size ({', '.join(d['sizes'])})"
            case "goes_with":
                return f"goes with the {d['name']}"
            case "liked_color":
                return f"{d['color'].lower()}, a colour you like"
        return ""

    sentences: ClassVar[dict[str, str]] = _sentences("en")  # every plain sentence, by key (en.toml)

    def say(self, key: str, **data: Any) -> str:
        return self.sentences[key].format(**data)

    # -- replies ------------------------------------------------------------------------------------------------------
    def example_request(self, color: str | None, kind: str | None, price: float | None, currency: str) -> str:
        """A request this shop can answer, for hints: "blue tees under $30" (`kind` as the catalogue names it)."""
        budget = f" under {self.price(math.ceil(price / 10) * 10, currency)}" if price else ""
        return " ".join(w for w in ((color or "").lower(), kind or "a gift idea") if w) + budget

    def list_too_short(self, n: int) -> str:
        return f"The last list had only {n} item{'s' * (n > 1)}; which one do you mean?"

    def nothing_fits(self, constraints: str) -> str:
        wanted = f" ({constraints})" if constraints else ""
        return f"I couldn't find anything that fits{wanted}. Try a higher budget, another colour, or different words."

    def results_head(self, n: int, title: str, constraints: str) -> str:
        head = "Here is 1 of the" if n == 1 else f"Here are {n}"
        return f"{head} {title}" + (f" — {constraints}" if constraints else "") + ":"

    def item_line(self, n: int | None, name: str, color: str | None, price: float | None, item_id: str, currency: str = "USD") -> str:
        """One item of a list (numbered), or the head of an item's details (n None); an item without a price says none."""
        shown = self.price(price, currency)
        return ("" if n is None else f"{n}. ") + f"{name} — {self.color_name(color)}" + (f", {shown}" if shown else "") + f" [{item_id}]"

    def sizes_line(self, sizes: Sequence[str]) -> str:
        """What a card says of the sizes an item comes in; "" when the catalogue lists none."""
        return f"Sizes: {', '.join(sizes)}" if sizes else ""

    def attribute_line(self, key: str, value: str) -> str:
        return f"{key.replace('_', ' ').title()}: {value}"

    def title(self, kind: str, **data: Any) -> str:
        """What a list of results is: search, photo, more_like (an item), for_you."""
        return self.say(f"title.{kind}", **data)

    def more_like_request(self, name: str, item_id: str) -> str:
        """What a "More like this" press says in the conversation (the parser reads it like typed text)."""
        return f"More like {name} [{item_id}]"
