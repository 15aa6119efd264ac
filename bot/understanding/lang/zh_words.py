"""Chinese word lists and the plain reading of Chinese text (simplified characters, words cut apart), shared by the
Chinese language (zh.py) and the catalogue's vocabulary."""

from __future__ import annotations

import functools
import logging
import unicodedata
from typing import Any

from bot.understanding.lang.glossary import has_han

# Chinese colour words → the English colour word they mean (the catalogue's own colour names are matched through it)
COLORS: dict[str, str] = {
    "红": "red", "红色": "red", "大红": "red", "橙": "orange", "橙色": "orange", "橘色": "orange", "黄": "yellow",
    "黄色": "yellow", "绿": "green", "绿色": "green", "蓝": "blue", "蓝色": "blue", "天蓝": "blue", "天蓝色": "blue",
    "浅蓝": "blue", "浅蓝色": "blue", "宝蓝": "blue", "湖蓝": "blue", "紫": "purple", "紫色": "purple", "黑": "black",
    "黑色": "black", "白": "white", "白色": "white", "灰": "gray", "灰色": "gray", "深灰": "gray", "浅灰": "gray",
    "粉": "pink", "粉色": "pink", "粉红": "pink", "粉红色": "pink", "棕": "brown", "棕色": "brown", "咖啡色": "brown",
    "褐色": "brown", "米色": "beige", "米白": "white", "卡其": "khaki", "卡其色": "khaki", "金色": "gold", "银色": "silver",
    "藏青": "navy", "藏青色": "navy", "海军蓝": "navy", "深蓝": "navy", "深蓝色": "navy", "青色": "cyan",
    "淡紫": "lavender", "淡紫色": "lavender", "薰衣草色": "lavender", "酒红": "burgundy", "酒红色": "burgundy",
    "橄榄绿": "olive", "军绿": "olive", "军绿色": "olive", "墨绿": "green", "玫红": "pink", "珊瑚色": "coral",
}  # fmt: skip

# Shoppers' words for kinds of item that CC-CEDICT lacks or glosses too loosely for a shop (its glosses cover the rest)
KIND_WORDS: dict[str, str] = {
    "卫衣": "hoodie", "连帽衫": "hoodie", "帽衫": "hoodie", "套头衫": "sweatshirt", "t恤": "tee", "体恤": "tee",
    "短袖": "tee", "背心": "tank", "吊带": "tank", "运动背心": "tank", "运动内衣": "sports bra", "文胸": "bra",
    "健身器材": "fitness equipment", "运动器材": "fitness equipment", "器材": "equipment", "瑜伽垫": "yoga mat",
    "水壶": "water bottle", "水杯": "bottle", "手表": "watch", "智能手表": "watch", "运动手表": "watch",
    "背包": "backpack", "双肩包": "backpack", "书包": "backpack", "包": "bag", "包包": "bag", "挎包": "bag",
    "手提包": "handbag", "健身包": "gym bag", "外套": "jacket", "夹克": "jacket", "风衣": "jacket", "冲锋衣": "jacket",
    "羽绒服": "jacket", "大衣": "coat", "裤子": "pants", "长裤": "pants", "运动裤": "pants", "打底裤": "leggings",
    "紧身裤": "leggings", "裤": "pants", "短裤": "shorts", "裙子": "skirt", "连衣裙": "dress", "鞋": "shoes", "鞋子": "shoes",
    "运动鞋": "sneakers", "跑鞋": "running shoes", "袜子": "socks", "帽子": "hat", "毛衣": "sweater", "衬衫": "shirt",
    "上衣": "top", "沙发": "sofa", "椅子": "chair", "桌子": "table", "台灯": "lamp", "灯": "lamp",
}  # fmt: skip

# What a shopper says they need, one character long or glossed loosely by CC-CEDICT
QUALITIES: dict[str, str] = {
    "冷": "cold", "热": "hot", "暖": "warm", "暖和": "warm", "保暖": "warm", "轻": "light", "轻便": "lightweight",
    "软": "soft", "透气": "breathable", "防水": "waterproof", "防风": "windproof", "舒服": "comfortable", "舒适": "comfortable",
    "速干": "quick dry", "弹力": "stretch", "宽松": "loose", "修身": "fitted",
}  # fmt: skip

GENDERS: dict[str, str] = {
    "女": "Women", "女士": "Women", "女款": "Women", "女式": "Women", "女生": "Women", "女性": "Women", "女装": "Women",
    "女人": "Women", "女孩": "Women", "妈妈": "Women", "老婆": "Women", "妻子": "Women", "女朋友": "Women", "姐姐": "Women",
    "妹妹": "Women", "男": "Men", "男士": "Men", "男款": "Men", "男式": "Men", "男生": "Men", "男性": "Men", "男装": "Men",
    "男人": "Men", "男孩": "Men", "爸爸": "Men", "老公": "Men", "丈夫": "Men", "男朋友": "Men", "哥哥": "Men", "弟弟": "Men",
}  # fmt: skip

FILLER = frozenset(
    "我 我们 你 你们 想 想要 要 需要 找 找找 给 给我 帮 帮我 请 请问 有 有没有 没有 吗 呢 吧 啊 呀 哦 嗯 了 的 地 得 和 与 "
    "或 或者 还是 跟 一 一件 一个 一双 一款 一条 一只 一套 件 个 款 条 只 双 套 些 一些 一点 点 看 看看 看一下 一下 能 可以 "
    "买 购买 推荐 什么 哪些 哪个 这 这个 那 那个 这些 那些 是 在 就 都 也 还 再 很 太 比较 更 最 色 颜色 价格 价钱 左右 "
    "多 更多 适合 用 用的 穿 穿的 东西 商品 产品 款式 类似 相似 其他 别的 换成 换 改成 不要 别 除了 不是".split()
)


@functools.cache
def _converter() -> Any:
    from opencc import OpenCC

    return OpenCC("t2s")


def to_simplified(text: str) -> str:
    return _converter().convert(text) if has_han(text) else text


@functools.cache
def _plain_tokenizer() -> Any:
    import jieba

    jieba.setLogLevel(logging.WARNING)
    return jieba.Tokenizer()


def han_words(text: str) -> set[str]:
    """The Chinese words of a text (two characters or more, not function words), for the catalogue's vocabulary."""
    if not has_han(text):
        return set()
    text = to_simplified(unicodedata.normalize("NFKC", text))
    return {w for w in _plain_tokenizer().cut(text) if len(w) >= 2 and has_han(w) and w not in FILLER}


def canonical_color(word: str) -> str:
    """The English colour word a Chinese one means (蓝色 → blue); any other word as it is."""
    w = word.lower()
    return COLORS.get(w) or COLORS.get(w.removesuffix("色")) or w if has_han(w) else w
