"""简体中文: the words the parser reads in a Chinese message and every sentence the bot says in Chinese.

A Chinese message is first made readable by the same parser as English: full-width forms folded (NFKC), traditional
characters made simplified (OpenCC), numerals made digits (cn2an: 五十 → 50, 一百二 → 120), and the text cut into
words (jieba, taught this catalogue's own words). Each word the catalogue does not use itself is then put in the
catalogue's terms where it can be: a colour by the table below, a kind of item by `kind_words` or CC-CEDICT's
glosses (卫衣 → hoodie, 背包 → rucksack → bag). The patterns below read prices, negations and positions in the
resulting text; intents are read from the message itself.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from bot.understanding.lang.en import English, _sentences
from bot.understanding.lang.glossary import glosses, has_han
from bot.understanding.lang.zh_profile import ChineseProfileWords
from bot.understanding.lang.zh_words import COLORS, FILLER, GENDERS, KIND_WORDS, QUALITIES, to_simplified

if TYPE_CHECKING:
    from bot.understanding.vocabulary import Vocabulary

_NEGATION = "不要|不想要|别要|别|除了|不是|非|不含|没有|排除|讨厌|不喜欢|不买"
_AT_MOST = "不超过|不高于|不到|低于|少于|小于|最多|最高|便宜于|预算|顶多|控制在"
_AT_MOST_AFTER = "以下|以内|之内|内|以下的|以内的"
_AT_LEAST = "至少|高于|超过|大于|不低于|起码|最少|最低"
_AT_LEAST_AFTER = "以上|起"
_STRUCTURE = frozenset(
    f"{_NEGATION}|{_AT_MOST}|{_AT_MOST_AFTER}|{_AT_LEAST}|{_AT_LEAST_AFTER}|之间|到|至|和|或|或者|还是|跟|第|个|件|款|的"
    "|元|块|块钱|美元|美金|刀|人民币|欧元|英镑|日元|色|颜色|便宜|便宜点|贵|更|再|一点|一些|点|换成|换|改成|要|想要".split("|")
)

_DEGREE = "很太超挺蛮"  # adverbs jieba leaves stuck to an adjective
_DIGITS = "零〇一二两三四五六七八九十百千万"
_AMOUNT_AFTER = "元|块|美元|美金|刀|欧元|英镑|日元|人民币|以下|以内|以上|之内|到|至|之间|左右|多块"
_AMOUNT_BEFORE = "第|到|至|和|不超过|不高于|不到|低于|少于|小于|最多|最高|至少|高于|超过|大于|不低于|最少|最低|预算"
_NUMERAL = re.compile(
    rf"(?<=第)[{_DIGITS}]+|[{_DIGITS}]+(?=\s*(?:{_AMOUNT_AFTER}))|(?<=到|至)[{_DIGITS}]+"
    + "|(?:"
    + "|".join(f"(?<={w})" for w in _AMOUNT_BEFORE.split("|"))
    + f")[{_DIGITS}]+(?!般)"  # 预算一般 is "a budget usually", not "a budget of one"
)


def _words_in(alternation: str) -> str:
    return "|".join(sorted(alternation.split("|"), key=len, reverse=True))


class Chinese(ChineseProfileWords, English):
    code = "zh"
    name = "中文"
    locale = "zh_Hans_CN"
    money_words = r"块钱|块|元|美元|美金|刀|人民币|rmb|dollars?|bucks|usd"

    # -- reading: the text as `prepare` leaves it (words cut apart by spaces, numerals as digits) ------------------
    amount = r"(?:{sym}\s*)?(\d+(?:\.\d+)?)\s*(?:{sym}|{words})?"
    between = (
        r"{amount}\s*(?:到|至|-|~|–|—)\s*{amount}(?:\s*之间)?",
        r"(?:在\s*)?{amount}\s*(?:和|与|跟)\s*{amount}\s*之间",
    )
    price_bounds: ClassVar[tuple[tuple[str, str], ...]] = (
        (rf"(?:{_words_in(_AT_MOST)})\s*{{amount}}", "max_price"),
        (rf"{{amount}}\s*(?:{_words_in(_AT_MOST_AFTER)})", "max_price"),
        (rf"(?:{_words_in(_AT_LEAST)})\s*{{amount}}", "min_price"),
        (rf"{{amount}}\s*(?:{_words_in(_AT_LEAST_AFTER)})", "min_price"),
    )
    bare_budget = r"{sym}\s*(\d+(?:\.\d+)?)|(?<![\d.])(\d+(?:\.\d+)?)\s*(?:{words})(?![a-z])"
    negation = rf"(?:{_words_in(_NEGATION)})"
    negated_color_lead = r"(?:要\s+|是\s+|穿\s+)?"
    color_list_joiner = r"(?:,|，|、|和|或|或者|还是|跟|/)"
    negated_kind_lead = r"(?:要\s+|是\s+|买\s+)?$"
    word = r"[a-z][a-z'-]*|[\u4e00-\u9fff]+"
    gender_word = r"[a-z']+|[\u4e00-\u9fff]+"
    filler = FILLER | English.filler
    stop = English.stop | FILLER
    genders: ClassVar[dict[str, str]] = {**English.genders, **GENDERS}
    spoken_colors = frozenset(COLORS)
    ordinals: ClassVar[dict[str, int]] = {"最后": -1, "最后1": -1, "头1": 0, **English.ordinals}
    # "第1次" / "第一天" (the first time / day) are not the first item listed
    ordinal_number = r"第\s*(\d+)\s*(?:个|件|款|条|双|只)?(?!\s*[次天周年名场届回趟\d])|(?:#|number\s+|no\.?\s*)(\d)\b"
    not_ordinal_before = r"(?:我的|他的|她的|我们的)\s*$"
    ordinal_tail = r"(?:\s*(?:个|件|款|条))?"

    # 码 and 号 after a size ("M码", "32码", "L号"), 尺码 before one; 小号/中号/大号 are S/M/L
    size_words: ClassVar[dict[str, str]] = {
        **English.size_words, "小号": "S", "中号": "M", "大号": "L", "加大": "XL", "加大号": "XL", "特大号": "XXL",
    }  # fmt: skip
    explicit_sizes = (
        *English.explicit_sizes,
        r"(?<![a-z0-9]){size}\s*码",
        rf"(?<![\w])({English.letter_sizes})\s*号",
        r"尺码\s*(?:是|为|要|穿)?\s*{size}(?![\w-])",
        r"(小号|中号|大号|加大号|加大|特大号)",  # taught to the segmenter whole, so 中号 is not 中 + 号
    )
    implied_sizes = (*English.implied_sizes, r"(?:我|平时)\s*(?:穿|要)\s*{size}(?![\w-])")

    intents: ClassVar[Mapping[str, tuple[str, str]]] = {
        "greeting": ("fullmatch", r"\W*(你好|您好|嗨|哈喽|哈啰|hi|hello|早上好|下午好|晚上好|在吗)\W*(啊|呀|呢)?\W*"),
        "thanks": ("fullmatch", r"\W*(谢谢|多谢|感谢|谢啦|谢了|好的|好|不错|太好了|完美|ok|okay)\W*(你|您)?\W*(啦|了)?\W*"),
        "help": ("fullmatch", r"\W*(帮助|怎么用|你能做什么|你会什么|你可以做什么|使用说明|help)\W*[?？]?\W*"),
        "catalogue": ("search", r"(你们|你)(卖|有)(什么|哪些)|有(什么|哪些)(商品|东西|产品)|卖(什么|啥)"),
        "complements": (
            "search",
            r"搭配|配什么|怎么搭|配套|还需要(?:买)?什么|还要(?:买)?什么|(?:一起|顺便)买什么|(?:里面|外面|上面|下面)穿什么|配得上",
        ),
        "cheaper": ("search", r"便宜|太贵|实惠|低价|贵了"),
        "pricier": ("search", r"贵一点|贵点|更贵|高档|高端|好一点的|档次高"),
    }
    more_like = r"类似|相似|差不多的|像这|一样的|同款|更多像"
    pointing = r"这个|那个|这件|那件|它|^\W*(?:类似|相似|差不多)的?\W*$"  # "类似的" alone: like what was shown
    details = r"详细|详情|介绍|说说|讲讲|是什么|多少钱|怎么样|参数|材质"
    more_results = (
        r"\W*(再来|还有|给我|显示)?\W*(更多|多一些|别的|其他的?|另外的|换一批|下一批)\W*(吗|的|推荐|选择)?\W*",
        r"换一批|还有别的|还有其他|看看别的|更多选择",
    )
    recommend = r"推荐|给我挑|帮我挑|帮我选|你觉得我该买"
    recommend_words = frozenset("推荐 挑 选".split())
    wants = r"我想|我要|我需要|想要|需要|有没有|帮我|适合|用来|用于"

    sentences: ClassVar[dict[str, str]] = {**English.sentences, **_sentences("zh")}

    def __init__(self) -> None:
        self._tokenizer: Any = None
        self._lock = threading.Lock()
        self._taught: set[str] = set()

    # -- making a message readable ----------------------------------------------------------------------------------
    def normalize(self, text: str) -> str:
        """Full-width forms folded (６０元 → 60元, ＄ → $), traditional characters made simplified, lower case."""
        text = unicodedata.normalize("NFKC", text)
        return to_simplified(text).lower()

    def words_to_numbers(self, text: str, currency: str = "USD") -> str:
        """五十 → 50, 一百二 → 120, 三十五刀 → 35刀, 百元 → 100元, 第三个 → 第3个; numerals only where they are an amount or a
        position, so 一下, 一点 and 一些 stay words."""
        import cn2an

        def convert(match: re.Match[str]) -> str:
            run = match.group(0)
            if run in ("百", "千"):
                return "100" if run == "百" else "1000"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # cn2an warns about a numeral it cannot read, then raises
                try:
                    return str(cn2an.cn2an(run, "smart")).removesuffix(".0")
                except (ValueError, KeyError, IndexError):
                    return run

        return _NUMERAL.sub(convert, text)

    def warm_up(self, vocab: Vocabulary) -> None:
        """jieba's dictionary, CC-CEDICT, cn2an and OpenCC load on first use (about 2 s on 2 cores): at start-up."""
        self.prepare("你好，五十块以下的藍色卫衣", vocab)
        glosses("冬天")

    def prepare(self, text: str, vocab: Vocabulary) -> str:
        """The message as the parser reads it: normalised, numerals as digits, cut into words, and each word the
        catalogue does not use itself put in the catalogue's terms where it can be."""
        text = self.words_to_numbers(self.normalize(text), vocab.currency)
        out = []
        for token in self._cut(text, vocab):
            token = token.strip()
            if not token:
                continue
            if len(token) > 1 and token[0] in _DEGREE and not vocab.knows(token):  # 很冷 → 很 冷: the adverb says little
                out.append(token[0])
                token = token[1:]
            token = self._catalogue_word(token, vocab)
            translatable = len(token) > 1 or token in COLORS or token in KIND_WORDS or token in QUALITIES  # else too vague
            if has_han(token) and translatable and token not in _STRUCTURE and token not in self.filler:
                if not vocab.knows(token):
                    token = self.in_catalogue_terms(token, vocab) or token
                elif token in KIND_WORDS and not vocab.categories_for(token) and vocab.categories_for(KIND_WORDS[token]):
                    out.append(token)  # a word its descriptions use for a kind it files under another name: 外套 → 夹克
                    token = KIND_WORDS[token]
            out.append(token)
        return " ".join(out)

    def _catalogue_word(self, token: str, vocab: Vocabulary) -> str:
        """A colour or a gender as a catalogue written in English names it (蓝色 → blue, 女士 → women), so the search
        words are in its language; a catalogue in Chinese keeps the shopper's word."""
        if token in COLORS and (name := vocab.color(token)) and not has_han(name):
            return name.lower()
        path = vocab.genders.get(GENDERS.get(token, ""))
        return path.lower() if path and not has_han(path) else token

    def in_catalogue_terms(self, word: str, vocab: Vocabulary) -> str | None:
        """A Chinese word in the words of a catalogue that does not use it: a colour, a kind of item it sells, or
        the first gloss whose words it knows."""
        if word in COLORS:
            return COLORS[word]
        if word in QUALITIES:
            return QUALITIES[word]
        kind = KIND_WORDS.get(word)
        if kind and vocab.categories_for(kind):
            return kind
        meanings = glosses(word)
        for gloss in meanings:
            if vocab.categories_for(gloss):
                return gloss
        if kind:
            return kind  # a kind this shop does not sell: still a word the search can use
        for cut in range(1, len(word)):  # Chinese compounds end in their head noun: 瑜伽裤 → yoga + 裤 (pants)
            tail = word[cut:]
            head = KIND_WORDS.get(tail) or next((g for g in glosses(tail) if vocab.categories_for(g)), None)
            if head and vocab.categories_for(head):
                said = next((g for g in glosses(word[:cut]) if all(vocab.knows(w) for w in g.split())), "")
                return f"{said} {head}".strip()
        for gloss in meanings:
            if all(vocab.knows(w) for w in gloss.split()):
                return gloss
        return None

    def _cut(self, text: str, vocab: Vocabulary) -> list[str]:
        import jieba

        with self._lock:
            if self._tokenizer is None:
                jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" lines are noise on a terminal
                self._tokenizer = jieba.Tokenizer()
                for word in (*COLORS, *KIND_WORDS, *GENDERS, *_STRUCTURE, *(w for w in self.size_words if has_han(w))):
                    self._tokenizer.add_word(word, freq=100_000)
            for word in vocab.han_words - self._taught:  # the catalogue's own words are cut whole
                self._taught.add(word)
                self._tokenizer.add_word(word, freq=50_000)
        return list(self._tokenizer.cut(text))

    def singular(self, word: str) -> str:
        return word if has_han(word) else super().singular(word)

    def variants(self, phrase: str) -> list[str]:
        return [phrase] if has_han(phrase) else super().variants(phrase)

    def query_terms(self, query: str) -> list[str]:
        return [w for w in re.findall(self.word, query.lower()) if w not in self.stop and (has_han(w) or len(w) > 2)]

    # -- saying ------------------------------------------------------------------------------------------------------
    def color_name(self, color: str | None) -> str:
        return color or "单色"

    def series(self, words: Sequence[str]) -> str:
        return "、".join(words)

    def listed(self, words: Sequence[str], joiner: str = "or") -> str:
        return ("、" if joiner == "and" else "或").join(words)

    def describe(self, constraints: Mapping[str, Any]) -> str:
        bits = []
        if kinds := constraints.get("kinds"):
            bits.append(self.listed([k.lower() for k in kinds]))
        if colors := constraints.get("colors"):
            bits.append(self.listed([c.lower() for c in colors]))
        if excluded := constraints.get("exclude_colors"):
            bits.append("不要" + self.listed([c.lower() for c in excluded]))
        if sizes := constraints.get("sizes"):
            bits.append("尺码" + self.listed(sizes))
        low, high, currency = constraints.get("min_price"), constraints.get("max_price"), constraints.get("currency", "USD")
        if low is not None and high is not None:
            bits.append(f"{self.price(low, currency)}–{self.price(high, currency)}")
        elif high is not None:
            bits.append(f"{self.price(high, currency)}以内")
        elif low is not None:
            bits.append(f"{self.price(low, currency)}起")
        return "，".join(bits)

    def _reason_part(self, code: str, d: Mapping[str, Any]) -> str:
        match code:
            case "photo":
                colors = d.get("colors") or []
                return "和你的照片很像" + (f"（{self.listed([c.lower() for c in colors], 'and')}）" if colors else "")
            case "similar_to":
                return f"和 {d['name']} 相似"
            case "taste":
                return "根据你的喜好挑选"
            case "popular":
                return "最近很受欢迎"
            case "starter":
                return "可以先从这件看起"
            case "matches":
                return "符合" + "、".join(f"“{t}”" for t in d["terms"])
            case "close_to_liked":
                return f"和你喜欢的 {d['name']} 相近"
            case "within_budget":
                return f"{self.price(d['price'], d['currency'])}，在你的预算 {self.price(d['max_price'], d['currency'])} 以内"
            case "not_colors":
                return f"{d['color'].lower()}，不是{'/'.join(c.lower() for c in d['excluded'])}"
            case "similar_shoppers":
                return "和你相似的顾客很喜欢"
            case "close_match":
                return f"是我们的{(d.get('kind') or '商品').lower()}里很接近的一件"
            case "your_size":
                return f"有你的尺码（{'、'.join(d['sizes'])}）"
            case "goes_with":
                return f"和 {d['name']} 很搭"
            case "liked_color":
                return f"{d['color'].lower()}，你喜欢的颜色"
        return ""

    def reason(self, parts: Sequence[tuple[str, Mapping[str, Any]]], currency: str = "USD") -> str:
        return "；".join(s for s in (self._reason_part(code, {"currency": currency, **data}) for code, data in parts) if s)

    def example_request(self, color: str | None, kind: str | None, price: float | None, currency: str) -> str:
        import math

        budget = f"{self.price(math.ceil(price / 10) * 10, currency)}以内的" if price else ""
        return f"{budget}{(color or '').lower()}{' ' if color and kind else ''}{kind or '礼物'}"

    def list_too_short(self, n: int) -> str:
        return f"上次只列出了 {n} 件商品，你指的是哪一件？"

    def nothing_fits(self, constraints: str) -> str:
        wanted = f"（{constraints}）" if constraints else ""
        return f"没有找到符合条件的商品{wanted}。可以提高预算、换个颜色或换个说法试试。"

    def results_head(self, n: int, title: str, constraints: str) -> str:
        return f"为你找到 {n} 件{title}" + (f"（{constraints}）" if constraints else "") + "："

    def item_line(self, n: int | None, name: str, color: str | None, price: float | None, item_id: str, currency: str = "USD") -> str:
        shown = self.price(price, currency)
        return ("" if n is None else f"{n}. ") + f"{name} — {self.color_name(color)}" + (f"，{shown}" if shown else "") + f" [{item_id}]"

    def sizes_line(self, sizes: Sequence[str]) -> str:
        return f"尺码：{'、'.join(sizes)}" if sizes else ""

    def attribute_line(self, key: str, value: str) -> str:
        return f"{key.replace('_', ' ').title()}：{value}"

    def more_like_request(self, name: str, item_id: str) -> str:
        return f"和 {name} [{item_id}] 类似的"

    def unknown_command(self, command: str) -> str:
        return f"没有 /{command} 这个命令。{self.say('help')}"

    def stats(self, users: int, messages: int, likes: int, dislikes: int, top: Sequence[tuple[str, int]], model: str | None) -> str:
        liked = "、".join(f"{name}（{n}）" for name, n in top) or "暂无"
        return f"用户：{users}\n消息：{messages}\n喜欢：{likes}  不喜欢：{dislikes}\n最受喜欢：{liked}\n模型：{model or '仅按热度'}"

    def duration(self, seconds: float) -> str:
        minutes, secs = divmod(round(seconds), 60)
        return (f"{minutes} 分钟" if minutes else "") + (f"{secs} 秒" if secs or not minutes else "")

    def speech_problem(self, code: str, data: Mapping[str, Any]) -> str:
        formats = "OGG/Opus、M4A/AAC、WebM、MP3、WAV 或 FLAC"
        match code:
            case "too_large":
                return self.say("speech.too_large", megabytes=data["megabytes"], limit=self.duration(data["limit_s"]))
            case "too_long":
                heard = f"有 {self.duration(data['seconds'])} 长" if data.get("seconds") else "太长了"
                return self.say("speech.too_long", heard=heard, limit=self.duration(data["limit_s"]))
            case "unsupported_codec":
                what = f"“{data['codec']}”编码的音频" if data.get("codec") else "这种音频"
                return self.say("speech.unsupported_codec", what=what, formats=formats)
        key = f"speech.{code}" if f"speech.{code}" in self.sentences else "speech.other"
        return self.say(key, formats=formats)

    def button(self, action: str, pressed: bool = False) -> str:
        labels = {"like": ("👍", "👍 已喜欢"), "dislike": ("👎", "👎 已记下"), "more_like_this": ("更多类似的", "更多类似的 ✓")}
        return labels[action][pressed]

    def commands(self, admin: bool = False) -> list[tuple[str, str]]:
        public = [
            ("start", "我能做什么"),
            ("help", "怎么提问"),
            ("reset", "开始新的对话（保留你的喜好）"),
            ("profile", "你告诉过我的关于你的事"),
            ("link", "和你在其他应用上的账号共享资料"),
            ("forget", "删除我们的对话和你的反馈"),
            ("like", "喜欢一件商品：/like ID"),
            ("dislike", "不喜欢一件商品：/dislike ID"),
        ]
        admins = [("stats", "用户、消息、喜欢数和热门商品（管理员）"), ("retrain", "根据反馈重新训练推荐模型（管理员）")]
        return public + admins if admin else public

    def file_problem(self, code: str, data: Mapping[str, Any]) -> str:
        match code:
            case "file_info_failed":
                return "我没法打开这个文件（Slack 没有提供它的信息）。"
            case "unsupported_file":
                return f"我能看照片、听音频，但没法处理 {'、'.join(data['names'])}。"
            case "file_too_large":
                size = f"（{data['megabytes']} MB）" if data.get("megabytes") is not None else ""
                return f"这个文件太大了{size}，我最多能读 {data['limit_mb']} MB 的文件。"
            case "download_forbidden":
                return "我没法下载这个文件（应用可能缺少 files:read 权限）。"
            case "download_retry":
                return "我没能下载这个文件，请再试一次。"
        status = f"（Slack 返回 {data['status']}）" if data.get("status") else ""
        return f"我没能下载这个文件{status}。"

    def usage(self, command: str) -> str:
        return f"用法：/{command} 路径" + ("［说明］" if command == "photo" else "")
