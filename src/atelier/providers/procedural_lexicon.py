"""Words to a scene plan for the ``procedural`` provider.

The plan depends only on the prompt and the negative prompt (never on the seed or the size), so
it can be reported once per request. English words (with naive plural stemming and a few
phrases) and common Chinese words are recognised; the rest still count through a hash of the
prompt, which picks the mood and the motifs the words leave open.
"""

from __future__ import annotations

import colorsys
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass

RGB = tuple[float, float, float]


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


#: Palette roles, in the order of each row of :data:`PALETTES`.
ROLES = _names(
    "sky_top sky_mid horizon sun glow cloud cloud_shade far near "
    "snow water water_far ground ground_far foliage foliage_far trunk sand sand_shade "
    "city city_far window accent0 accent1 accent2 accent3"
)

PALETTES: dict[str, str] = {
    "day": "2b6cc4 5f9ee0 cfe3f2 fffbea fff0c8 ffffff a9bcd6 8fa9c8 4d6b6e f4f7fb 1d5f8f 6fa6cf "
    "6f9a4a 9bb37a 2f5e3a 6f8f86 4a3626 e8c38e b98958 5d6b80 9aaac0 d8e6f2 e8485f f6c343 ffffff "
    "9b5fc0",
    "sunset": "25265e b85a7a ffb36b fff1c9 ff9a4d ff9f80 5a3461 9a5a7a 3b2340 f7c9b5 2a2450 "
    "d8807a 4a2f3e 8a4d5e 26162b 6a3d55 1e1020 e79a66 9a4f4c 2c1a36 7a4663 ffcf85 ff5e5b ffb84d "
    "ffe8c2 c45ab3",
    "dawn": "5a78b8 d9a7c7 ffd9b0 fffaf0 ffc9a0 ffe3d8 9d95bd a99cc4 5e5d8a fbeff0 4f6aa0 e8bfc6 "
    "7f9477 b4b3a6 3b5e44 8d8ea8 3a2f35 f0c9a0 b88a86 4a4f75 a7a0c3 ffe2b8 ff8fa3 ffd27f fff6f0 "
    "a08ad8",
    "night": "03061a 0b1a40 26406e f2f4ff 7f9fe0 4a5680 0e1428 1e2a4e 0b1024 b9c6e0 040a1e "
    "1f3560 0c1620 17243a 07111a 142238 05080f 4b5273 262b45 0b0e1e 1a2340 ffd27a 7f6fd0 e0c060 "
    "c8d6ff d06a9a",
    "winter": "7fa6d6 bcd2ea eef3f8 ffffff e6efff fbfdff b5c2d6 b8c8dc 6f86a3 f7faff 4f7896 "
    "bcd3e3 eef3fa dfe8f2 2e4a4f 8ea4b2 3b3330 e9eef4 b7c3d3 6a7a90 b0bfd0 ffe7b0 c8324a e7b84b "
    "ffffff 6b8fd6",
    "autumn": "6d93bf d7c2a0 f6dcae fff3d6 ffc37a fff1dc b89c8a a99a92 6b4a3a f3ede6 35556b "
    "c9b08e 9a6a32 c09a5e b8521f c9884a 3d2a1e e3b47a a8733f 5a4a48 a8958a ffd08a d9482b f2a93b "
    "f5e3b3 8e3b2e",
    "neon": "07001f 3a0a5e ff3fa4 ffd36e ff2fa0 9a2fb8 1b0433 5a1a8c 16032e ff9ae0 0a0228 a02490 "
    "0d0222 2a0a4a 12042a 3a1470 0a0118 7a2a8a 2a0a40 0e0520 3a1460 2ff3ff ff2fa0 2ff3ff ffe14f "
    "9d4dff",
    "pastel": "a9c7f0 f0c9e0 fff0e0 fffdf5 ffe0ec ffffff d9d0ec c9c0e8 9fb3d9 ffffff 8ab7dd "
    "efd9ec bfe3c4 dbeed8 8fc4a8 c4dccf a08a86 f6dcc0 d9b8b0 a9b0d6 d6d3ec fff6d8 ffa6c1 ffd8a6 "
    "c6b3ff a6e3ff",
    "dark": "1a1e26 3a414d 6b727c d8dce2 8a929c 5d6470 1c2028 3d444e 161a20 c8ccd2 0e1318 4d555e "
    "232a24 3a423c 111814 2e3632 0e0c0b 6e6658 3a3630 14171c 3a3f48 e8c070 8a3a3a b8963a c8c8c8 "
    "5a5a8a",
}


@dataclass(frozen=True)
class Mood:
    stars: float  # visibility of stars, 0..1
    light: float  # daylight, 0..1 (windows are lit below ~0.5)
    clouds: float  # cloud cover, 0..1
    body: str  # default celestial body: "sun", "moon" or "none"
    low_sun: bool  # the body sits near the horizon


MOODS: dict[str, Mood] = {
    "day": Mood(0.0, 1.0, 0.45, "sun", False),
    "sunset": Mood(0.05, 0.55, 0.4, "sun", True),
    "dawn": Mood(0.05, 0.7, 0.35, "sun", True),
    "night": Mood(1.0, 0.1, 0.2, "moon", False),
    "winter": Mood(0.0, 0.9, 0.5, "sun", True),
    "autumn": Mood(0.0, 0.85, 0.4, "sun", False),
    "neon": Mood(0.5, 0.2, 0.0, "sun", True),
    "pastel": Mood(0.0, 0.95, 0.45, "sun", False),
    "dark": Mood(0.0, 0.35, 0.85, "none", False),
}

HUES: dict[str, float] = {
    "red": 0.0,
    "orange": 25.0,
    "gold": 45.0,
    "yellow": 55.0,
    "green": 125.0,
    "teal": 178.0,
    "blue": 215.0,
    "purple": 275.0,
    "pink": 330.0,
}

#: Motifs that put something on the ground (the rest live in the sky).
TERRAIN = ("city", "sea", "desert", "forest", "mountain", "flower", "tree", "hills", "grid")
SKY_MOTIFS = ("sun", "moon", "stars", "clouds", "snowfall", "abstract")

_ELEMENT_ROLES: dict[str, tuple[str, ...]] = {
    "sky": ("sky_top", "sky_mid", "horizon", "glow"),
    "water": ("water", "water_far"),
    "mountain": ("far", "near"),
    "foliage": ("foliage", "foliage_far"),
    "flower": ("accent0", "accent1", "accent2", "accent3"),
    "city": ("city", "city_far", "window"),
    "sun": ("sun", "glow"),
    "sand": ("sand", "sand_shade"),
    "ground": ("ground", "ground_far"),
    "cloud": ("cloud", "cloud_shade"),
}
_BACKGROUND = frozenset(
    _names("sky_top sky_mid horizon glow cloud cloud_shade water_far far city_far ")
    + _names("ground_far foliage_far")
)

_GROUPS: tuple[tuple[str, str], ...] = (
    (
        "mood:day",
        "day daytime sunny bright noon midday summer sunshine sunlit 白天 晴 晴天 阳光 夏",
    ),
    ("mood:sunset", "sunset sundown dusk evening twilight goldenhour 日落 夕阳 黄昏 傍晚"),
    ("mood:dawn", "dawn sunrise morning daybreak 日出 黎明 清晨 早晨"),
    ("mood:night", "night nighttime midnight starry moonlit moonlight nocturnal 夜 夜晚 晚上 星空"),
    ("mood:winter", "winter snow snowy frozen frost frosty ice icy 冬 冬天 雪 冰"),
    ("mood:autumn", "autumn fall autumnal october 秋 秋天"),
    ("mood:neon", "neon cyberpunk synthwave vaporwave retrowave outrun 霓虹 赛博朋克"),
    ("mood:pastel", "pastel dreamy soft spring whimsical 春 春天 梦幻"),
    ("mood:dark", "dark stormy storm gloomy moody foggy fog mist misty overcast 暗 黑暗 暴风雨"),
    ("motif:sun", "sun sunny sunshine sunlight sunlit sunset sunrise 太阳 日落 日出 夕阳"),
    ("motif:moon", "moon moonlit moonlight lunar crescent 月 月亮 月光"),
    ("motif:stars", "star starry starlight galaxy cosmos milkyway constellation 星 星星 星空 银河"),
    ("motif:clouds", "cloud cloudy overcast storm stormy 云 白云"),
    ("motif:snowfall", "snowing snowfall snowflake blizzard 下雪 雪花"),
    ("motif:mountain", "mountain peak alps alpine summit volcano cliff range 山 山脉 高山 山峰"),
    ("motif:hills", "hill meadow valley countryside field grassland pasture 草地 草原 田野"),
    (
        "motif:sea",
        "sea ocean wave beach coast shore lake river water bay harbor harbour lagoon "
        "海 大海 海洋 湖 河 江 海边",
    ),
    ("motif:forest", "forest woods woodland trees pine pines jungle taiga 森林 树林 丛林"),
    ("motif:tree", "tree oak willow 树"),
    (
        "motif:city",
        "city skyline town building skyscraper downtown metropolis urban street 城市 城 都市 高楼",
    ),
    (
        "motif:flower",
        "flower garden blossom bloom rose tulip daisy poppy lotus petal sunflower "
        "meadow 花 花园 花朵 玫瑰 莲花 花海",
    ),
    ("motif:desert", "desert dune sand sahara canyon 沙漠 沙丘"),
    (
        "motif:abstract",
        "abstract geometric geometry circle shape pattern bauhaus sphere 抽象 几何 圆",
    ),
    ("motif:grid", "grid synthwave retrowave outrun vaporwave"),
    ("colour:red", "red crimson scarlet ruby 红 红色"),
    ("colour:orange", "orange amber 橙 橙色"),
    ("colour:gold", "golden gold 金 金色"),
    ("colour:yellow", "yellow lemon 黄 黄色"),
    ("colour:green", "green emerald lime jade 绿 绿色"),
    ("colour:teal", "teal cyan turquoise aqua 青 青色"),
    ("colour:blue", "blue azure cobalt navy sapphire 蓝 蓝色"),
    ("colour:purple", "purple violet lavender indigo 紫 紫色"),
    ("colour:pink", "pink magenta fuchsia 粉 粉色 粉红"),
    ("grade:monochrome", "monochrome blackandwhite grayscale greyscale bw b&w noir 黑白"),
    ("grade:sepia", "sepia vintage 复古"),
    ("comp:minimal", "minimal minimalist minimalistic simple clean 极简 简约"),
    ("comp:closeup", "closeup macro 特写"),
    ("comp:panorama", "panorama panoramic wide vista wideangle 全景"),
    ("comp:centered", "centered centred centre center central symmetrical symmetry 居中 对称"),
    ("element:sky", "sky skies heaven 天 天空"),
    ("element:water", "sea ocean water wave lake river 海 湖 水"),
    ("element:mountain", "mountain peak hill 山"),
    ("element:foliage", "forest tree trees woods leaves leaf jungle pine 树 森林 叶"),
    ("element:flower", "flower blossom bloom rose tulip petal garden 花 花园 花朵 花海"),
    ("element:city", "city skyline building skyscraper town 城市 楼"),
    ("element:sun", "sun moon 太阳 月亮"),
    ("element:sand", "desert sand dune 沙漠 沙"),
    ("element:ground", "grass meadow field ground land 草 地"),
    ("element:cloud", "cloud 云"),
    ("drop:clouds", "clear cloudless 晴朗"),
)

_PHRASES: dict[tuple[str, ...], str] = {
    ("black", "and", "white"): "blackandwhite",
    ("black", "white"): "blackandwhite",
    ("close", "up"): "closeup",
    ("golden", "hour"): "goldenhour",
    ("milky", "way"): "milkyway",
    ("wide", "angle"): "wideangle",
    ("b", "w"): "bw",
}
_STOP = frozenset(_names("a an the of and with in on at by under over above below into its 的 和"))


def _build() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    latin: dict[str, tuple[str, ...]] = {}
    cjk: dict[str, tuple[str, ...]] = {}
    for feature, words in _GROUPS:
        for word in words.split():
            table = cjk if _is_cjk(word[0]) else latin
            table[word] = (*table.get(word, ()), feature)
    return latin, cjk


def _is_cjk(ch: str) -> bool:
    return "\u2e80" <= ch <= "\u9fff" or "\uf900" <= ch <= "\ufaff"


_WORD = re.compile(r"[a-z0-9&']+")


def tokenize(text: str) -> list[str]:
    """Latin words and Chinese lexicon words, in order of appearance, lower case."""
    low = text.lower()
    tokens: list[str] = []
    i = 0
    while i < len(low):
        ch = low[i]
        if ch.isascii() and (ch.isalnum() or ch == "&"):
            match = _WORD.match(low, i)
            assert match is not None
            tokens.append(match.group().strip("'"))
            i = match.end()
        elif _is_cjk(ch):
            for size in (4, 3, 2, 1):
                if low[i : i + size] in _CJK:
                    tokens.append(low[i : i + size])
                    i += size
                    break
            else:
                i += 1
        else:
            i += 1
    out: list[str] = []
    i = 0
    while i < len(tokens):
        for phrase, word in _PHRASES.items():
            if tuple(tokens[i : i + len(phrase)]) == phrase:
                out.append(word)
                i += len(phrase)
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


def features(word: str) -> tuple[str, ...]:
    """What one token means, trying naive singular forms of English plurals."""
    table = _CJK if _is_cjk(word[:1] or "a") else _LATIN
    if word in table:
        return table[word]
    for suffix, repl in (("ies", "y"), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) > len(suffix) + 2:
            stem = word[: -len(suffix)] + repl
            if stem in table:
                return table[stem]
    return ()


_LATIN, _CJK = _build()


@dataclass(frozen=True)
class Plan:
    """Everything the painters need to know about the words."""

    mood: str
    colours: Mapping[str, RGB]
    motifs: frozenset[str]
    composition: frozenset[str]
    grade: str  # "colour", "monochrome" or "sepia"
    suppress: tuple[float, ...]  # hues (degrees) the negative prompt asked to remove
    tints: tuple[str, ...]  # "red" (whole picture) or "red:flower" (one element)
    digest: bytes  # hash of the prompt, mixed into every random stream
    single_flower: bool  # the prompt names one flower, not a field of them

    @property
    def mood_info(self) -> Mood:
        return MOODS[self.mood]

    def metadata(self) -> dict[str, str]:
        return {
            "palette": self.mood,
            "motifs": ",".join(sorted(self.motifs)),
            "composition": ",".join(sorted(self.composition)) or "default",
            "tints": ",".join(self.tints) or "none",
            "grade": self.grade,
            "suppressed_hues": ",".join(f"{h:g}" for h in self.suppress) or "none",
        }


def _pick(options: tuple[str, ...], digest: bytes, salt: int) -> str:
    return options[digest[salt % len(digest)] % len(options)]


_SCENES: tuple[tuple[str, ...], ...] = (
    ("mountain",),
    ("sea",),
    ("mountain", "sea"),
    ("forest",),
    ("forest", "mountain"),
    ("city",),
    ("city", "sea"),
    ("desert",),
    ("hills", "tree"),
    ("flower", "hills"),
    ("abstract",),
    ("mountain", "forest", "sea"),
)
_MOOD_HINTS: dict[str, tuple[str, ...]] = {
    "sea": ("day", "sunset", "dawn", "night"),
    "desert": ("day", "sunset", "dawn"),
    "city": ("night", "sunset", "day", "neon"),
    "forest": ("day", "autumn", "dawn", "winter"),
    "mountain": ("day", "sunset", "dawn", "winter", "night"),
    "flower": ("day", "pastel", "dawn", "sunset"),
    "tree": ("day", "autumn", "sunset", "pastel"),
    "hills": ("day", "dawn", "sunset", "autumn"),
    "abstract": ("day", "sunset", "night", "neon", "pastel", "autumn"),
    "grid": ("neon",),
}
_PRIMARY = ("grid", "city", "sea", "desert", "forest", "mountain", "flower", "tree", "hills")
_SINGLE_FLOWERS = frozenset(
    _names("flower rose tulip daisy poppy lotus sunflower blossom bloom 花")
)


def _tint(rgb: RGB, hue: float, strength: float) -> RGB:
    h, lum, s = colorsys.rgb_to_hls(*rgb)
    target = hue / 360.0
    h = target if s < 0.08 else (h + (((target - h + 0.5) % 1.0) - 0.5) * strength) % 1.0
    s = s + (max(s, 0.7) - s) * strength
    lum = min(lum, 1.0 - 0.18 * strength)
    return colorsys.hls_to_rgb(h, lum, s)


def _colour_targets(tokens: list[str], negative: set[str]) -> list[tuple[str, str | None]]:
    """Each colour word with the element it describes (the next element word) or None."""
    out: list[tuple[str, str | None]] = []
    for i, token in enumerate(tokens):
        colours = [f[7:] for f in features(token) if f.startswith("colour:")]
        for colour in colours:
            if colour in negative:
                continue
            element = None
            seen = 0
            for follower in tokens[i + 1 : i + 6]:
                feats = features(follower)
                if any(f.startswith("colour:") for f in feats) or follower in _STOP:
                    continue
                found = [f[8:] for f in feats if f.startswith("element:")]
                if found:
                    element = found[0]
                    break
                seen += 1
                if seen >= 2:
                    break
            out.append((colour, element))
    return out


def plan_scene(prompt: str, negative_prompt: str = "") -> Plan:
    """Read the prompt (and what to avoid) into a :class:`Plan`."""
    tokens = tokenize(prompt)
    feats = {f for t in tokens for f in features(t)}
    neg = {f for t in tokenize(negative_prompt) for f in features(t)}
    neg_colours = {f[7:] for f in neg if f.startswith("colour:")}
    neg_motifs = {f[6:] for f in neg if f.startswith("motif:")}
    neg_moods = {f[5:] for f in neg if f.startswith("mood:")}
    digest = hashlib.sha256(prompt.strip().encode()).digest()

    def kind(prefix: str) -> list[str]:
        found = {f[len(prefix) :] for f in feats if f.startswith(prefix)}
        return sorted(found)

    motifs = set(kind("motif:")) - neg_motifs
    if "drop:clouds" in feats:
        motifs.discard("clouds")
    if not motifs & set(TERRAIN) and "abstract" not in motifs:
        scenes = [s for s in _SCENES if not set(s) & neg_motifs] or [("abstract",)]
        motifs |= set(scenes[digest[0] % len(scenes)])
        motifs -= neg_motifs
    moods = [m for m in kind("mood:") if m not in neg_moods]
    targets = _colour_targets(tokens, neg_colours)
    if moods:
        # several mood words: the more specific one wins (night over day, and so on)
        order = ("neon", "night", "sunset", "dawn", "winter", "autumn", "dark", "pastel", "day")
        mood = min(moods, key=order.index)
    elif motifs & {"moon", "stars"} and "sun" not in motifs:
        mood = "night"
    elif "snowfall" in motifs:
        mood = "winter"
    elif targets:
        mood = "day"  # a neutral light that lets the named colours show
    else:
        primary = next((m for m in _PRIMARY if m in motifs), "abstract")
        options = tuple(m for m in _MOOD_HINTS[primary] if m not in neg_moods) or ("day",)
        mood = _pick(options, digest, 1)
    info = MOODS[mood]
    if not motifs & {"sun", "moon"} and info.body != "none" and info.body not in neg_motifs:
        motifs.add(info.body)
    if info.stars >= 0.5 and "stars" not in neg_motifs:
        motifs.add("stars")
    minimal = "comp:minimal" in feats
    if info.clouds > 0.1 and not minimal and not {"clouds", "drop:clouds"} & (neg_motifs | feats):
        motifs.add("clouds")
    if mood == "neon" and not motifs & {"city", "sea", "desert", "forest", "flower", "tree"}:
        motifs.add("grid")
    motifs -= neg_motifs

    base = PALETTES[mood].split()
    colours: dict[str, RGB] = {
        role: (int(h[0:2], 16) / 255, int(h[2:4], 16) / 255, int(h[4:6], 16) / 255)
        for role, h in zip(ROLES, base, strict=True)
    }
    tints: list[str] = []
    global_colours = [c for c, element in targets if element is None]
    for colour, element in targets:
        if element is None:
            if len(global_colours) > 1:
                first = colour == global_colours[0]
                roles = [r for r in ROLES if (r in _BACKGROUND) == first]
            else:
                roles = list(ROLES)
            strength = 0.75
            tints.append(colour)
        else:
            roles = list(_ELEMENT_ROLES[element])
            strength = 0.9
            tints.append(f"{colour}:{element}")
            cast = colorsys.hls_to_rgb(HUES[colour] / 360.0, 0.5, 0.8)
            for role in ROLES:  # the rest of the picture takes a slight cast of it too
                if role not in roles:
                    rgb = colours[role]
                    colours[role] = (
                        rgb[0] * 0.85 + cast[0] * 0.15,
                        rgb[1] * 0.85 + cast[1] * 0.15,
                        rgb[2] * 0.85 + cast[2] * 0.15,
                    )
        for role in roles:
            colours[role] = _tint(colours[role], HUES[colour], strength)
    grades = [g for g in kind("grade:") if f"grade:{g}" not in neg]
    grade = "monochrome" if "monochrome" in grades else grades[0] if grades else "colour"
    composition = frozenset(kind("comp:"))
    fields = {"garden", "meadow", "field", "花园", "花海", "草地"}
    single = (
        "flower" in motifs
        and any(t in _SINGLE_FLOWERS for t in tokens)
        and not any(
            t in fields or (t.endswith("s") and "motif:flower" in features(t)) for t in tokens
        )
    )
    return Plan(
        mood=mood,
        colours=colours,
        motifs=frozenset(motifs),
        composition=composition,
        grade=grade,
        suppress=tuple(sorted(HUES[c] for c in neg_colours)),
        tints=tuple(dict.fromkeys(tints)),
        digest=digest,
        single_flower=single,
    )
