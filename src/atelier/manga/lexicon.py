# ruff: noqa: RUF001  (Chinese punctuation is what this module handles)
"""Word lists of the offline writer: places, roles (characters without a name), words that
are capitalised without being names, and the vocabulary of stable looks.

A character nobody describes gets a look drawn from its name's SHA-256, so the same name always
wears the same clothes, in every panel and every run.
"""

from __future__ import annotations

import hashlib
from typing import Final


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: Chinese place -> English. Longer entries win where two match.
PLACES_ZH: Final[dict[str, str]] = {
    "森林": "forest", "树林": "woods", "村子": "village", "村庄": "village", "城市": "city",
    "街道": "street", "街上": "street", "房间": "room", "卧室": "bedroom", "厨房": "kitchen",
    "客厅": "living room", "学校": "school", "教室": "classroom", "操场": "playground",
    "市场": "market", "集市": "market", "城堡": "castle", "宫殿": "palace", "河边": "riverside",
    "小河": "stream", "大河": "river", "湖边": "lakeside", "湖": "lake", "海边": "seaside",
    "大海": "sea", "海滩": "beach", "山顶": "mountain top", "山上": "mountain", "山谷": "valley",
    "山洞": "cave", "花园": "garden", "公园": "park", "车站": "station", "火车": "train",
    "船上": "ship deck", "办公室": "office", "图书馆": "library", "寺庙": "temple", "商店": "shop",
    "咖啡馆": "cafe", "餐厅": "restaurant", "桥上": "bridge", "沙漠": "desert", "田野": "fields",
    "港口": "harbour", "小岛": "island", "岛上": "island", "塔": "tower", "医院": "hospital",
    "院子": "courtyard", "屋顶": "rooftop", "小巷": "alley", "客栈": "inn", "教堂": "church",
    "营地": "camp", "农场": "farm", "灯塔": "lighthouse", "小木屋": "log cabin", "木屋": "cabin",
    "家里": "home", "实验室": "laboratory", "太空": "outer space", "飞船": "spaceship",
    "雪山": "snowy mountain", "江湖": "martial world", "庙": "temple", "码头": "pier",
}  # fmt: skip
#: English places (the word as written in the story).
PLACES_EN: Final[tuple[str, ...]] = (
    "forest", "woods", "village", "city", "street", "house", "room", "bedroom", "kitchen",
    "living room", "school", "classroom", "playground", "market", "castle", "palace", "river",
    "stream", "lake", "sea", "beach", "mountain", "hill", "valley", "cave", "garden", "park",
    "station", "train", "ship", "office", "library", "temple", "shop", "cafe", "restaurant",
    "bridge", "desert", "field", "fields", "harbour", "harbor", "island", "tower", "hospital",
    "courtyard", "rooftop", "alley", "inn", "tavern", "church", "camp", "farm", "lighthouse",
    "cabin", "laboratory", "spaceship", "space station", "shore", "pier", "dock", "cottage",
    "garage", "workshop", "classroom", "hallway", "attic", "basement", "rooftop", "subway",
)  # fmt: skip
#: Chinese role -> (English role, kind). Kinds: person, animal, machine.
ROLES_ZH: Final[dict[str, tuple[str, str]]] = {
    "老人": ("old man", "person"), "老爷爷": ("old man", "person"),
    "老奶奶": ("old woman", "person"), "奶奶": ("grandmother", "person"),
    "爷爷": ("grandfather", "person"), "妈妈": ("mother", "person"), "爸爸": ("father", "person"),
    "小女孩": ("little girl", "person"), "小男孩": ("little boy", "person"),
    "女孩": ("girl", "person"), "男孩": ("boy", "person"), "少年": ("youth", "person"),
    "少女": ("young woman", "person"), "国王": ("king", "person"), "王后": ("queen", "person"),
    "公主": ("princess", "person"), "王子": ("prince", "person"), "骑士": ("knight", "person"),
    "女巫": ("witch", "person"), "巫师": ("wizard", "person"), "士兵": ("soldier", "person"),
    "老师": ("teacher", "person"), "医生": ("doctor", "person"), "侦探": ("detective", "person"),
    "和尚": ("monk", "person"), "农夫": ("farmer", "person"), "渔夫": ("fisherman", "person"),
    "陌生人": ("stranger", "person"), "船长": ("captain", "person"),
    "剑客": ("swordsman", "person"),
    "狐狸": ("fox", "animal"), "小猫": ("kitten", "animal"), "猫": ("cat", "animal"),
    "小狗": ("puppy", "animal"), "狗": ("dog", "animal"), "兔子": ("rabbit", "animal"),
    "龙": ("dragon", "animal"), "乌鸦": ("crow", "animal"), "老虎": ("tiger", "animal"),
    "机器人": ("robot", "machine"),
}  # fmt: skip
#: English role -> kind.
ROLES_EN: Final[dict[str, str]] = {
    "old man": "person", "old woman": "person", "little girl": "person", "little boy": "person",
    "girl": "person", "boy": "person", "grandmother": "person", "grandfather": "person",
    "king": "person", "queen": "person", "princess": "person", "prince": "person",
    "knight": "person", "witch": "person", "wizard": "person", "soldier": "person",
    "teacher": "person", "doctor": "person", "detective": "person", "monk": "person",
    "farmer": "person", "fisherman": "person", "stranger": "person", "captain": "person",
    "fox": "animal", "cat": "animal", "kitten": "animal", "dog": "animal", "puppy": "animal",
    "rabbit": "animal", "dragon": "animal", "crow": "animal", "tiger": "animal", "wolf": "animal",
    "robot": "machine",
}  # fmt: skip
#: Capitalised words that are not names.
NOT_NAMES: Final = _words(
    """
    the a an he she it they we i you his her its their our my your this that these those
    then when but and or so if as at in on by for from with without after before one
    once there here what why how who where yes no oh thank thanks please now suddenly
    finally later soon meanwhile today tomorrow yesterday every some all nothing
    everyone someone nobody maybe hello hi hey well good great okay ok sorry wait look
    come let don't can't i'm it's that's monday tuesday wednesday thursday friday
    saturday sunday january february march april may june july august september october
    november december chapter part the end again still just even only also not never
    always sometimes outside inside together behind
    """
)
#: Chinese words that look like 小X/老X/阿X names but are not.
NOT_NAMES_ZH: Final = _words(
    """
    小心 小时 小说 小河 小路 小屋 小木 小声 小孩 小姐 小鸟 小猫 小狗 小山 小村
    小镇 小船 小巷 小岛 小草 小花 小树 小门 小手 小脸 小的 小女 小男
    老师 老人 老鼠 老虎 老板 老家 老实 老婆 老公 老树 老屋 老是 老了 老的 阿姨
    """
)
ZH_TITLES: Final = (
    "老师", "先生", "小姐", "医生", "师傅", "阿姨", "叔叔", "太太", "警官", "队长", "将军", "教授",
)  # fmt: skip
ZH_SURNAMES: Final = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤"
)

# (English, Chinese) choices of a stable look.
HAIR: Final = (
    ("short black hair", "黑色短发"), ("long straight hair", "黑色长直发"),
    ("messy spiky hair", "蓬乱的刺猬头"), ("high ponytail", "高马尾"),
    ("bob cut with bangs", "齐刘海波波头"), ("braided hair", "麻花辫"),
    ("wavy shoulder-length hair", "及肩卷发"), ("shaved head", "光头"),
)  # fmt: skip
OUTFIT: Final = (
    ("navy school uniform", "藏青色校服"), ("long trench coat", "长款风衣"),
    ("hooded sweatshirt", "连帽卫衣"), ("plain kimono", "素色和服"),
    ("worn work overalls", "旧工装背带裤"), ("knitted sweater", "针织毛衣"),
    ("buttoned shirt and vest", "衬衫配马甲"), ("travelling cloak", "旅行斗篷"),
)  # fmt: skip
ACCESSORY: Final = (
    ("round glasses", "圆框眼镜"), ("striped scarf", "条纹围巾"), ("wide-brimmed hat", "宽檐帽"),
    ("small backpack", "小背包"), ("headband", "发带"), ("bandage on one cheek", "脸颊贴着创可贴"),
    ("pendant necklace", "吊坠项链"), ("fingerless gloves", "露指手套"),
)  # fmt: skip
FUR: Final = (
    ("sleek dark fur", "光滑的深色皮毛"), ("fluffy white fur", "蓬松的白色皮毛"),
    ("striped fur", "条纹皮毛"), ("spotted fur", "斑点皮毛"),
)  # fmt: skip
MARK: Final = (
    ("a bell on a red collar", "系着铃铛的项圈"), ("a torn ear", "缺了一角的耳朵"),
    ("bright curious eyes", "好奇的大眼睛"), ("a bushy tail", "蓬松的尾巴"),
)  # fmt: skip
CHASSIS: Final = (
    ("rounded white chassis", "圆润的白色外壳"), ("boxy dented chassis", "方形带凹痕的外壳"),
)  # fmt: skip
EYES: Final = (("one glowing eye", "一只发光的眼睛"), ("two lamp-like eyes", "两只灯泡般的眼睛"))


def _pick(digest: bytes, index: int, options: tuple[tuple[str, str], ...]) -> tuple[str, str]:
    return options[digest[index] % len(options)]


def look(name: str, kind: str = "person") -> tuple[str, str]:
    """``(english, chinese)`` description of a character, stable for its name."""
    digest = hashlib.sha256(name.encode()).digest()
    if kind == "animal":
        parts = [_pick(digest, 0, FUR), _pick(digest, 1, MARK)]
    elif kind == "machine":
        parts = [_pick(digest, 0, CHASSIS), _pick(digest, 1, EYES)]
    else:
        parts = [_pick(digest, 0, HAIR), _pick(digest, 1, OUTFIT), _pick(digest, 2, ACCESSORY)]
    return ", ".join(p[0] for p in parts), "，".join(p[1] for p in parts)


#: Chinese words of a description -> English, for image models that read English only.
ZH_FEATURES: Final[dict[str, str]] = {
    "眼镜": "glasses", "白胡子": "white beard", "胡子": "beard", "长发": "long hair",
    "短发": "short hair", "卷发": "curly hair", "马尾": "ponytail", "辫子": "braids",
    "帽子": "hat", "草帽": "straw hat", "围巾": "scarf", "裙子": "dress", "雨衣": "raincoat",
    "斗篷": "cloak", "校服": "school uniform", "盔甲": "armour", "长剑": "sword", "剑": "sword",
    "背包": "backpack", "拐杖": "walking stick", "红色": "red", "蓝色": "blue", "黄色": "yellow",
    "黑色": "black", "白色": "white", "绿色": "green", "高个": "tall", "高大": "tall",
    "矮小": "small", "胖": "plump", "瘦": "thin", "年轻": "young", "年迈": "elderly",
    "白发": "white hair", "金发": "blond hair", "伤疤": "scar", "尾巴": "tail",
}  # fmt: skip


def translate_description(text: str) -> list[str]:
    """English words for the Chinese features and roles named in a description."""
    found: list[tuple[int, str]] = []
    taken: set[int] = set()
    table = {**ZH_FEATURES, **{k: v[0] for k, v in ROLES_ZH.items()}}
    for word in sorted(table, key=len, reverse=True):
        at = text.find(word)
        if at >= 0 and not taken & set(range(at, at + len(word))):
            taken |= set(range(at, at + len(word)))
            found.append((at, table[word]))
    return [english for _, english in sorted(found)]
