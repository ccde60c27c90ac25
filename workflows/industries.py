"""GB/T 4754-2017 国民经济行业分类 (Industrial Classification for National Economic Activities):
the 20 sections (门类) and 97 divisions (大类), in Chinese and English.

Source: the standard GB/T 4754-2017 (National Bureau of Statistics and SAC, 2017, with its
amendment No. 1 of 2019, which left sections and divisions unchanged) for the Chinese names; the
English names follow the NBS's English rendering of the classification (as used in the China
Statistical Yearbook's tables by industry), in British spelling where the two differ.

Enterprises record their industry as a 2-digit division code; products list the divisions they
serve. Plain data, no Flask: the rules (workflows.matching) and the pages both name industries
from here.
"""

from __future__ import annotations

import unicodedata

INDUSTRY_SECTIONS: dict[str, str] = {
    "A": "农、林、牧、渔业",
    "B": "采矿业",
    "C": "制造业",
    "D": "电力、热力、燃气及水生产和供应业",
    "E": "建筑业",
    "F": "批发和零售业",
    "G": "交通运输、仓储和邮政业",
    "H": "住宿和餐饮业",
    "I": "信息传输、软件和信息技术服务业",
    "J": "金融业",
    "K": "房地产业",
    "L": "租赁和商务服务业",
    "M": "科学研究和技术服务业",
    "N": "水利、环境和公共设施管理业",
    "O": "居民服务、修理和其他服务业",
    "P": "教育",
    "Q": "卫生和社会工作",
    "R": "文化、体育和娱乐业",
    "S": "公共管理、社会保障和社会组织",
    "T": "国际组织",
}

INDUSTRY_DIVISIONS: dict[str, tuple[str, str]] = {
    "01": ("A", "农业"),
    "02": ("A", "林业"),
    "03": ("A", "畜牧业"),
    "04": ("A", "渔业"),
    "05": ("A", "农、林、牧、渔专业及辅助性活动"),
    "06": ("B", "煤炭开采和洗选业"),
    "07": ("B", "石油和天然气开采业"),
    "08": ("B", "黑色金属矿采选业"),
    "09": ("B", "有色金属矿采选业"),
    "10": ("B", "非金属矿采选业"),
    "11": ("B", "开采专业及辅助性活动"),
    "12": ("B", "其他采矿业"),
    "13": ("C", "农副食品加工业"),
    "14": ("C", "食品制造业"),
    "15": ("C", "酒、饮料和精制茶制造业"),
    "16": ("C", "烟草制品业"),
    "17": ("C", "纺织业"),
    "18": ("C", "纺织服装、服饰业"),
    "19": ("C", "皮革、毛皮、羽毛及其制品和制鞋业"),
    "20": ("C", "木材加工和木、竹、藤、棕、草制品业"),
    "21": ("C", "家具制造业"),
    "22": ("C", "造纸和纸制品业"),
    "23": ("C", "印刷和记录媒介复制业"),
    "24": ("C", "文教、工美、体育和娱乐用品制造业"),
    "25": ("C", "石油、煤炭及其他燃料加工业"),
    "26": ("C", "化学原料和化学制品制造业"),
    "27": ("C", "医药制造业"),
    "28": ("C", "化学纤维制造业"),
    "29": ("C", "橡胶和塑料制品业"),
    "30": ("C", "非金属矿物制品业"),
    "31": ("C", "黑色金属冶炼和压延加工业"),
    "32": ("C", "有色金属冶炼和压延加工业"),
    "33": ("C", "金属制品业"),
    "34": ("C", "通用设备制造业"),
    "35": ("C", "专用设备制造业"),
    "36": ("C", "汽车制造业"),
    "37": ("C", "铁路、船舶、航空航天和其他运输设备制造业"),
    "38": ("C", "电气机械和器材制造业"),
    "39": ("C", "计算机、通信和其他电子设备制造业"),
    "40": ("C", "仪器仪表制造业"),
    "41": ("C", "其他制造业"),
    "42": ("C", "废弃资源综合利用业"),
    "43": ("C", "金属制品、机械和设备修理业"),
    "44": ("D", "电力、热力生产和供应业"),
    "45": ("D", "燃气生产和供应业"),
    "46": ("D", "水的生产和供应业"),
    "47": ("E", "房屋建筑业"),
    "48": ("E", "土木工程建筑业"),
    "49": ("E", "建筑安装业"),
    "50": ("E", "建筑装饰、装修和其他建筑业"),
    "51": ("F", "批发业"),
    "52": ("F", "零售业"),
    "53": ("G", "铁路运输业"),
    "54": ("G", "道路运输业"),
    "55": ("G", "水上运输业"),
    "56": ("G", "航空运输业"),
    "57": ("G", "管道运输业"),
    "58": ("G", "多式联运和运输代理业"),
    "59": ("G", "装卸搬运和仓储业"),
    "60": ("G", "邮政业"),
    "61": ("H", "住宿业"),
    "62": ("H", "餐饮业"),
    "63": ("I", "电信、广播电视和卫星传输服务"),
    "64": ("I", "互联网和相关服务"),
    "65": ("I", "软件和信息技术服务业"),
    "66": ("J", "货币金融服务"),
    "67": ("J", "资本市场服务"),
    "68": ("J", "保险业"),
    "69": ("J", "其他金融业"),
    "70": ("K", "房地产业"),
    "71": ("L", "租赁业"),
    "72": ("L", "商务服务业"),
    "73": ("M", "研究和试验发展"),
    "74": ("M", "专业技术服务业"),
    "75": ("M", "科技推广和应用服务业"),
    "76": ("N", "水利管理业"),
    "77": ("N", "生态保护和环境治理业"),
    "78": ("N", "公共设施管理业"),
    "79": ("N", "土地管理业"),
    "80": ("O", "居民服务业"),
    "81": ("O", "机动车、电子产品和日用产品修理业"),
    "82": ("O", "其他服务业"),
    "83": ("P", "教育"),
    "84": ("Q", "卫生"),
    "85": ("Q", "社会工作"),
    "86": ("R", "新闻和出版业"),
    "87": ("R", "广播、电视、电影和录音制作业"),
    "88": ("R", "文化艺术业"),
    "89": ("R", "体育"),
    "90": ("R", "娱乐业"),
    "91": ("S", "中国共产党机关"),
    "92": ("S", "国家机构"),
    "93": ("S", "人民政协、民主党派"),
    "94": ("S", "社会保障"),
    "95": ("S", "群众团体、社会团体和其他成员组织"),
    "96": ("S", "基层群众自治组织及其他组织"),
    "97": ("T", "国际组织"),
}

INDUSTRY_SECTIONS_EN: dict[str, str] = {
    "A": "Agriculture, Forestry, Animal Husbandry and Fishery",
    "B": "Mining",
    "C": "Manufacturing",
    "D": "Production and Supply of Electricity, Heat, Gas and Water",
    "E": "Construction",
    "F": "Wholesale and Retail Trades",
    "G": "Transport, Storage and Post",
    "H": "Accommodation and Catering",
    "I": "Information Transmission, Software and Information Technology Services",
    "J": "Finance",
    "K": "Real Estate",
    "L": "Leasing and Business Services",
    "M": "Scientific Research and Technical Services",
    "N": "Management of Water Conservancy, Environment and Public Facilities",
    "O": "Resident Services, Repair and Other Services",
    "P": "Education",
    "Q": "Health and Social Work",
    "R": "Culture, Sports and Entertainment",
    "S": "Public Management, Social Security and Social Organizations",
    "T": "International Organizations",
}

INDUSTRY_DIVISIONS_EN: dict[str, str] = {
    "01": "Agriculture",
    "02": "Forestry",
    "03": "Animal Husbandry",
    "04": "Fishery",
    "05": "Support Activities for Agriculture, Forestry, Animal Husbandry and Fishery",
    "06": "Mining and Washing of Coal",
    "07": "Extraction of Petroleum and Natural Gas",
    "08": "Mining and Processing of Ferrous Metal Ores",
    "09": "Mining and Processing of Non-ferrous Metal Ores",
    "10": "Mining and Processing of Non-metal Ores",
    "11": "Support Activities for Mining",
    "12": "Mining of Other Ores",
    "13": "Processing of Food from Agricultural Products",
    "14": "Manufacture of Foods",
    "15": "Manufacture of Liquor, Beverages and Refined Tea",
    "16": "Manufacture of Tobacco",
    "17": "Manufacture of Textiles",
    "18": "Manufacture of Textile Wearing Apparel and Accessories",
    "19": "Manufacture of Leather, Fur, Feather and Related Products and Footwear",
    "20": "Processing of Timber, Manufacture of Wood, Bamboo, Rattan, Palm and Straw Products",
    "21": "Manufacture of Furniture",
    "22": "Manufacture of Paper and Paper Products",
    "23": "Printing and Reproduction of Recording Media",
    "24": "Manufacture of Articles for Culture, Education, Arts and Crafts, Sport and Entertainment Activities",
    "25": "Processing of Petroleum, Coal and Other Fuels",
    "26": "Manufacture of Raw Chemical Materials and Chemical Products",
    "27": "Manufacture of Medicines",
    "28": "Manufacture of Chemical Fibers",
    "29": "Manufacture of Rubber and Plastic Products",
    "30": "Manufacture of Non-metallic Mineral Products",
    "31": "Smelting and Pressing of Ferrous Metals",
    "32": "Smelting and Pressing of Non-ferrous Metals",
    "33": "Manufacture of Metal Products",
    "34": "Manufacture of General Purpose Machinery",
    "35": "Manufacture of Special Purpose Machinery",
    "36": "Manufacture of Automobiles",
    "37": "Manufacture of Railway, Ship, Aerospace and Other Transport Equipment",
    "38": "Manufacture of Electrical Machinery and Apparatus",
    "39": "Manufacture of Computers, Communication and Other Electronic Equipment",
    "40": "Manufacture of Measuring Instruments",
    "41": "Other Manufacturing",
    "42": "Utilization of Waste Resources",
    "43": "Repair of Metal Products, Machinery and Equipment",
    "44": "Production and Supply of Electricity and Heat",
    "45": "Production and Supply of Gas",
    "46": "Production and Supply of Water",
    "47": "Construction of Buildings",
    "48": "Civil Engineering",
    "49": "Construction Installation Activities",
    "50": "Building Decoration, Renovation and Other Construction",
    "51": "Wholesale Trade",
    "52": "Retail Trade",
    "53": "Rail Transport",
    "54": "Road Transport",
    "55": "Water Transport",
    "56": "Air Transport",
    "57": "Pipeline Transport",
    "58": "Multimodal Transport and Transport Agency",
    "59": "Loading, Unloading, Handling and Warehousing",
    "60": "Postal Services",
    "61": "Accommodation",
    "62": "Catering Services",
    "63": "Telecommunications, Radio and Television and Satellite Transmission Services",
    "64": "Internet and Related Services",
    "65": "Software and Information Technology Services",
    "66": "Monetary and Financial Services",
    "67": "Capital Market Services",
    "68": "Insurance",
    "69": "Other Financial Activities",
    "70": "Real Estate",
    "71": "Leasing",
    "72": "Business Services",
    "73": "Research and Experimental Development",
    "74": "Professional Technical Services",
    "75": "Technology Promotion and Application Services",
    "76": "Management of Water Conservancy",
    "77": "Ecological Protection and Environmental Governance",
    "78": "Management of Public Facilities",
    "79": "Land Management",
    "80": "Resident Services",
    "81": "Repair of Motor Vehicles, Electronic Products and Household Goods",
    "82": "Other Services",
    "83": "Education",
    "84": "Health",
    "85": "Social Work",
    "86": "News and Publishing",
    "87": "Radio, Television, Film and Sound Recording Production",
    "88": "Culture and Arts",
    "89": "Sports",
    "90": "Entertainment",
    "91": "Organs of the Communist Party of China",
    "92": "State Organs",
    "93": "CPPCC and Democratic Parties",
    "94": "Social Security",
    "95": "Mass Organizations, Social Organizations and Other Membership Organizations",
    "96": "Grass-roots Self-governing Organizations and Other Organizations",
    "97": "International Organizations",
}


def _english(locale: str | None) -> bool:
    return (locale or "zh").lower().startswith("en")


def division_of(code: str | None) -> str | None:
    """The division (2 digits) a code names: "39", "3911" and "C3911" -> "39"; a section letter
    alone, an unknown division or anything else -> None. Full-width digits are folded."""
    value = unicodedata.normalize("NFKC", code or "").strip().upper()
    if value[:1].isalpha() and value[1:3].isdigit():
        value = value[1:]
    return value[:2] if value[:2] in INDUSTRY_DIVISIONS and value.isdigit() else None


def industry_name(code: str | None, locale: str = "zh") -> str | None:
    """The official name of a division ("39") or a section ("C") in Chinese or English ("en");
    None for an unknown code. A longer code (a group or class such as "3911") is named by its
    division."""
    value = unicodedata.normalize("NFKC", code or "").strip().upper()
    if value in INDUSTRY_SECTIONS:
        return INDUSTRY_SECTIONS_EN[value] if _english(locale) else INDUSTRY_SECTIONS[value]
    division = value[:2] if value.isdigit() and value[:2] in INDUSTRY_DIVISIONS else None
    if division is None:
        return None
    return INDUSTRY_DIVISIONS_EN[division] if _english(locale) else INDUSTRY_DIVISIONS[division][1]


def industry_choices(locale: str = "zh") -> list[tuple[str, list[tuple[str, str]]]]:
    """Divisions grouped by section for a <select> with <optgroup>s, in code order.

    [("A 农、林、牧、渔业", [("01", "01 农业"), ...]), ("B 采矿业", [...]), ...]
    """
    groups: dict[str, list[tuple[str, str]]] = {letter: [] for letter in INDUSTRY_SECTIONS}
    for code, (letter, _name) in INDUSTRY_DIVISIONS.items():
        groups[letter].append((code, f"{code} {industry_name(code, locale)}"))
    return [(f"{letter} {industry_name(letter, locale)}", groups[letter]) for letter in groups]


def _folded(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).split()).casefold()


def _names_to_divisions() -> dict[str, str]:
    names = {}
    for code, (_letter, zh) in INDUSTRY_DIVISIONS.items():
        for label in (zh, INDUSTRY_DIVISIONS_EN[code], f"{code} {zh}", f"{code} {INDUSTRY_DIVISIONS_EN[code]}"):
            names[_folded(label)] = code
    return names


_BY_NAME = _names_to_divisions()


def find_industry(text: str | None) -> str | None:
    """The division a person meant: its code ("34", full-width "３４"), its name in Chinese or
    English (any case), or a picker's label "34 通用设备制造业"; None when nothing matches."""
    value = _folded(text or "")
    if value.isdigit():
        return value if value in INDUSTRY_DIVISIONS else None
    return _BY_NAME.get(value)
