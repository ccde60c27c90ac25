"""Chinese identifiers and everyday values: credit codes, ID numbers, names, money and dates.

Every checker returns or raises ONE sentence saying exactly what is wrong: a workflows.text.Sentence,
which is the Chinese text and carries the English, so that a form or an import report can show it in
the reader's language. Sentences carry no final full stop, so callers can prefix them
("金额：最多两位小数") or join several.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from stdnum.cn import ric

from workflows.text import InputError, Sentence, both

# --- Unified social credit code (统一社会信用代码, GB 32100-2015) ---------------------------------

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
USCC_LENGTH = 18
USCC_REGISTRARS = "123456789ANY"  # 登记管理部门代码
_FORBIDDEN_LETTERS = "IOZSV"
_ASCII_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_WHITESPACE = re.compile(r"\s+")


def normalise_uscc(code: str) -> str:
    """Return the code as it should be stored: full-width folded, no whitespace, upper case."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", code or "")).upper()


def uscc_check_char(first17: str) -> str:
    """Compute the GB 32100 check character for the first 17 characters of a code."""
    body = normalise_uscc(first17)
    if len(body) != USCC_LENGTH - 1 or any(c not in USCC_ALPHABET for c in body):
        raise ValueError("计算校验位需要17位由数字和允许的大写字母组成的代码")
    total = sum(USCC_ALPHABET.index(c) * w for c, w in zip(body, USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def uscc_problem(code: str) -> Sentence | None:
    """Return None for a valid code, else one sentence saying what is wrong with it."""
    value = normalise_uscc(code)
    for check in (_uscc_shape_problem, _uscc_position_problem, _uscc_check_problem):
        problem = check(value)
        if problem:
            return problem
    return None


def _uscc_shape_problem(value: str) -> Sentence | None:
    """Emptiness, length and characters outside digits and Latin letters."""
    if not value:
        return both("统一社会信用代码不能为空", "The unified social credit code is empty")
    if len(value) != USCC_LENGTH:
        return both("统一社会信用代码应为18位，实际为%(n)s位",
                    "The unified social credit code must have 18 characters, not %(n)s", n=len(value))
    for char in value:
        if char not in _ASCII_ALNUM:
            return both("统一社会信用代码含有非法字符“%(char)s”，只能由数字和大写字母组成",
                        "The unified social credit code contains “%(char)s”; use digits and capital letters only",
                        char=char)
    return None


def _uscc_position_problem(value: str) -> Sentence | None:
    """Rules on the registrar, the organisation kind, the region and the forbidden letters."""
    if value[0] not in USCC_REGISTRARS:
        return both("统一社会信用代码第1位（登记管理部门代码）应为1-9、A、N或Y，实际为“%(char)s”",
                    "Character 1 of the unified social credit code (the registration authority) must be "
                    "1-9, A, N or Y, not “%(char)s”", char=value[0])
    if value[1] not in USCC_ALPHABET:
        return both("统一社会信用代码第2位（机构类别代码）不能为“%(char)s”，不使用字母I、O、Z、S、V",
                    "Character 2 of the unified social credit code (the organisation category) cannot be "
                    "“%(char)s”; the letters I, O, Z, S and V are not used", char=value[1])
    for position in range(2, 8):
        if not value[position].isdigit():
            return both("统一社会信用代码第3-8位（登记管理机关行政区划码）应为数字，第%(n)s位为“%(char)s”",
                        "Characters 3-8 of the unified social credit code (the registrar's region code) must be "
                        "digits; character %(n)s is “%(char)s”", n=position + 1, char=value[position])
    for position in range(8, USCC_LENGTH):
        if value[position] in _FORBIDDEN_LETTERS:
            return both("统一社会信用代码第%(n)s位含有不允许的字母“%(char)s”，不使用字母I、O、Z、S、V",
                        "Character %(n)s of the unified social credit code is the letter “%(char)s”; "
                        "the letters I, O, Z, S and V are not used", n=position + 1, char=value[position])
    return None


def _uscc_check_problem(value: str) -> Sentence | None:
    """The 18th character against the computed check character."""
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        # never say which character is right: that would help make up a valid-looking code
        return both("统一社会信用代码校验位错误，请核对是否有输错的字符",
                    "The check character of the unified social credit code is wrong; please check for a mistyped character")
    return None


# --- Resident identity card number (居民身份证号码, GB 11643) -------------------------------------

RESIDENT_ID_LENGTH = 18


def resident_id_problem(number: str, *, today: date | None = None) -> Sentence | None:
    """Return None for a valid 18-digit resident ID number, else one sentence on what is wrong."""
    value = _WHITESPACE.sub("", unicodedata.normalize("NFKC", number or "")).upper()
    if not value:
        return both("身份证号码不能为空", "The ID number is empty")
    if len(value) != RESIDENT_ID_LENGTH:
        return both("身份证号码应为18位，实际为%(n)s位", "The ID number must have 18 characters, not %(n)s",
                    n=len(value))
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return both("身份证号码前17位应为数字，最后一位应为数字或X",
                    "The first 17 characters of the ID number must be digits, the last a digit or X")
    birth = _resident_birth_date(value)
    if birth is None:
        return both("身份证号码中的出生日期“%(day)s”不存在", "The birth date “%(day)s” in the ID number does not exist",
                    day=value[6:14])
    if birth > (today or date.today()):
        return both("身份证号码中的出生日期“%(day)s”晚于今天", "The birth date “%(day)s” in the ID number is after today",
                    day=value[6:14])
    expected = ric.calc_check_digit(value)
    if value[17] != expected:
        return both("身份证号码校验位错误，请核对是否有输错的数字",  # the right digit is not told
                    "The check digit of the ID number is wrong; please check for a mistyped digit")
    if not _resident_region_known(value):
        return both("身份证号码前2位省级地区码“%(code)s”不存在",
                    "The province code “%(code)s” (the first 2 digits of the ID number) does not exist", code=value[:2])
    return None


def _resident_birth_date(value: str) -> date | None:
    try:
        return ric.get_birth_date(value)
    except ValueError:  # stdnum's InvalidComponent is a ValueError
        return None


# Province-level codes (GB/T 2260) plus 81/82/83 used by residence permits for Hong Kong, Macao
# and Taiwan residents. Counties are not checked: districts are created and renamed every year
# and an ID number keeps the code of the district it was issued in (python-stdnum's table lags).
PROVINCE_CODES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
    "61 62 63 64 65 71 81 82 83".split()
)


def _resident_region_known(value: str) -> bool:
    return value[:2] in PROVINCE_CODES


def mask_id(value: str) -> str:
    """Mask an identifier for display: keep the first 6 and last 4 characters.

    Ten characters or fewer keep only the last 2; two or fewer are masked whole.
    """
    text = (value or "").strip()
    if len(text) > 10:
        return text[:6] + "*" * (len(text) - 10) + text[-4:]
    if len(text) > 2:
        return "*" * (len(text) - 2) + text[-2:]
    return "*" * len(text)


# --- Company names ------------------------------------------------------------------------------


def normalise_name(name: str) -> str:
    """Fold a company name for matching: half-width, no whitespace, () brackets, ASCII lower case.

    "上海 某某（集团）有限公司" and "上海某某(集团)有限公司" fold to the same string.
    """
    text = unicodedata.normalize("NFKC", name or "")
    text = _WHITESPACE.sub("", text).replace("（", "(").replace("）", ")")
    return "".join(c.lower() if c.isascii() else c for c in text)


# --- Money --------------------------------------------------------------------------------------

_MONEY = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?")
_CENT = Decimal("0.01")


MONEY_EMPTY = ("金额为空", "The amount is empty")
MONEY_NOT_A_NUMBER = ("金额“%(value)s”不是有效的数字", "The amount “%(value)s” is not a valid number")
MONEY_TOO_PRECISE = ("金额最多两位小数", "The amount can have at most two decimal places")
MONEY_TOO_LARGE = ("金额超出系统可登记的上限，请核对", "The amount exceeds what the system can record; please check it")
_MONEY_DIGITS = 26  # whole digits Decimal's default context (28 digits) can still quantize to cents


def parse_money(text: str) -> Decimal:
    """Parse an amount in yuan ("¥1,234.50", "-300", "1000.5元") into a Decimal with 2 places.

    Raises InputError (a ValueError) with a sentence in both languages. Never goes through float.
    """
    raw = str(text or "")
    value = unicodedata.normalize("NFKC", raw).strip()  # full-width ￥，１ become ¥ , 1
    if not value:
        raise InputError(both(*MONEY_EMPTY))
    negative, digits = _split_money_sign(value)
    if not _MONEY.fullmatch(digits):
        raise InputError(both(*MONEY_NOT_A_NUMBER, value=raw.strip()))
    try:
        amount = Decimal(digits.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise InputError(both(*MONEY_NOT_A_NUMBER, value=raw.strip())) from exc
    if amount.adjusted() >= _MONEY_DIGITS:  # quantize() below would raise InvalidOperation
        raise InputError(both(*MONEY_TOO_LARGE))
    if amount != amount.quantize(_CENT):
        raise InputError(both(*MONEY_TOO_PRECISE))
    amount = amount.quantize(_CENT)
    return -amount if negative else amount


def _split_money_sign(value: str) -> tuple[bool, str]:
    """Take off a sign, the yuan sign (before or after the sign), a trailing 元 and spaces."""
    negative = False
    value = value.removesuffix("元").strip()
    if value.startswith("¥"):
        value = value[1:].strip()
    if value and value[0] in "-+":
        negative = value[0] == "-"
        value = value[1:].strip()
    if value.startswith("¥"):
        value = value[1:].strip()
    return negative, value


# --- Dates --------------------------------------------------------------------------------------

_TIME = r"(?P<time>\d{1,2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?)"
_DATE_PATTERNS = (
    re.compile(
        r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?:(?:\s+|T)" + _TIME + ")?"
    ),
    re.compile(r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})(?:(?:\s+|T)" + _TIME + ")?"),
    re.compile(r"(?P<y>\d{4})年(?P<m>\d{1,2})月(?P<d>\d{1,2})[日号]?(?:\s*" + _TIME + ")?"),
)
_MIN_YEAR, _MAX_YEAR = 1900, 2099


def parse_date(text: str | date | datetime) -> date:
    """Parse a date as Chinese banks and spreadsheets write it; a time after it is checked and dropped.

    Accepts 2024-01-05, 2024/1/5, 2024.1.5, 20240105, 2024年1月5日, each optionally followed by a
    time, and date or datetime objects. Raises InputError (a ValueError) with a sentence in both languages.
    """
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    raw = str(text or "").strip()
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        raise InputError(both("日期为空", "The date is empty"))
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(value)
        if match:
            return _date_from_match(match, raw)
    raise InputError(both("无法识别的日期“%(value)s”，请使用YYYY-MM-DD格式",
                          "“%(value)s” is not a date; use the YYYY-MM-DD format", value=raw))


def _date_from_match(match: re.Match[str], raw: str) -> date:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise InputError(both("日期“%(value)s”的年份不在%(low)s-%(high)s之间",
                              "The year of the date “%(value)s” is not between %(low)s and %(high)s",
                              value=raw, low=_MIN_YEAR, high=_MAX_YEAR))
    try:
        result = date(year, month, day)
    except ValueError as exc:
        raise InputError(both("日期“%(value)s”不存在", "The date “%(value)s” does not exist", value=raw)) from exc
    if match["time"] and not _valid_time(match["time"]):
        raise InputError(both("日期“%(value)s”中的时间不存在", "The time in “%(value)s” does not exist", value=raw))
    return result


def _valid_time(text: str) -> bool:
    parts = text.split(":")
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2].split(".")[0]) if len(parts) > 2 else 0
    return hour < 24 and minute < 60 and second < 60


# --- The kind of an organisation, from its credit code ------------------------------------------
# GB 32100-2015 (with its later additions A and N): character 1 is the registration authority
# (登记管理部门), character 2 the category it registered the organisation under (机构类别).
# Products may accept only some kinds of debtor (政采贷: a government body or public institution).

DEBTOR_KINDS: dict[str, tuple[str, str]] = {  # the kinds a product may accept, in display order
    "public_body": ("机关、事业单位等公共机构", "government bodies and public institutions"),
    "enterprise": ("企业", "enterprises"),
    "individual_business": ("个体工商户", "individual businesses"),
    "cooperative": ("农民专业合作社", "farmers' cooperatives"),
    "social_organisation": ("社会组织", "social organisations"),
    "other": ("其他组织", "other organisations"),
}
UNKNOWN_DEBTOR_KIND = "unknown"  # an invalid code or a category the standard does not list
DEBTOR_KIND_LABELS: dict[str, tuple[str, str]] = {
    **DEBTOR_KINDS, UNKNOWN_DEBTOR_KIND: ("无法识别的类型", "unrecognised kinds"),
}

USCC_AUTHORITIES: dict[str, tuple[str, str]] = {
    "1": ("机构编制", "establishment administration"),
    "2": ("外交", "foreign affairs"),
    "3": ("司法行政", "judicial administration"),
    "4": ("文化", "culture"),
    "5": ("民政", "civil affairs"),
    "6": ("旅游", "tourism"),
    "7": ("宗教", "religious affairs"),
    "8": ("工会", "trade unions"),
    "9": ("工商", "market regulation (industry and commerce)"),
    "A": ("中央军委改革和编制办公室", "CMC Reform and Establishment Office"),
    "N": ("农业", "agriculture and rural affairs"),
    "Y": ("其他", "other"),
}

# characters 1-2 -> (category zh, category en, debtor kind)
USCC_CATEGORIES: dict[str, tuple[str, str, str]] = {
    "11": ("机关", "Government body", "public_body"),
    "12": ("事业单位", "Public institution", "public_body"),
    "13": ("中央编办直接管理机构编制的群众团体", "People's organisation staffed by the central establishment office",
           "public_body"),
    "19": ("其他（机构编制）", "Other body registered by the establishment administration", "public_body"),
    "21": ("外国常驻新闻机构", "Resident foreign news agency", "other"),
    "29": ("其他（外交）", "Other body registered by foreign affairs", "other"),
    "31": ("律师执业机构", "Law firm", "other"),
    "32": ("公证处", "Notary office", "other"),
    "33": ("基层法律服务所", "Grassroots legal service office", "other"),
    "34": ("司法鉴定机构", "Forensic appraisal institution", "other"),
    "35": ("仲裁委员会", "Arbitration commission", "other"),
    "39": ("其他（司法行政）", "Other body registered by judicial administration", "other"),
    "41": ("外国在华文化中心", "Foreign cultural centre in China", "other"),
    "49": ("其他（文化）", "Other body registered by culture authorities", "other"),
    "51": ("社会团体", "Social association", "social_organisation"),
    "52": ("民办非企业单位", "Private non-enterprise unit", "social_organisation"),
    "53": ("基金会", "Foundation", "social_organisation"),
    "59": ("其他（民政）", "Other body registered by civil affairs", "social_organisation"),
    "61": ("外国旅游部门常驻代表机构", "Resident office of a foreign tourism authority", "other"),
    "62": ("港澳台地区旅游部门常驻内地（大陆）代表机构",
           "Resident mainland office of a Hong Kong, Macao or Taiwan tourism authority", "other"),
    "69": ("其他（旅游）", "Other body registered by tourism authorities", "other"),
    "71": ("宗教活动场所", "Place of religious activity", "other"),
    "72": ("宗教院校", "Religious college", "other"),
    "79": ("其他（宗教）", "Other body registered by religious affairs", "other"),
    "81": ("基层工会", "Grassroots trade union", "other"),
    "89": ("其他（工会）", "Other body registered by trade unions", "other"),
    "91": ("企业", "Enterprise", "enterprise"),
    "92": ("个体工商户", "Individual business", "individual_business"),
    "93": ("农民专业合作社", "Farmers' specialised cooperative", "cooperative"),
    "A1": ("军队事业单位", "Military public institution", "public_body"),
    "A9": ("其他（军队）", "Other military body", "public_body"),
    "N1": ("组级集体经济组织", "Village-group collective economic organisation", "other"),
    "N2": ("村级集体经济组织", "Village collective economic organisation", "other"),
    "N3": ("乡镇级集体经济组织", "Township collective economic organisation", "other"),
    "N9": ("其他（农业）", "Other body registered by agriculture authorities", "other"),
    "Y1": ("其他", "Other organisation", "other"),
}


@dataclass(frozen=True)
class DebtorKind:
    """What a credit code says about the organisation that holds it.

    `code` is the coarse kind a product can accept (a key of DEBTOR_KINDS, or "unknown");
    `category` the code's characters 1-2 ("" when the code is not a valid credit code);
    zh/en name the category as the standard does.
    """

    code: str
    category: str
    zh: str
    en: str

    @property
    def is_public_body(self) -> bool:
        """A government body, a public institution or another body on the state's establishment."""
        return self.code == "public_body"

    @property
    def label(self) -> tuple[str, str]:
        """The coarse kind's name (zh, en), e.g. ("企业", "enterprises")."""
        return DEBTOR_KIND_LABELS[self.code]


@lru_cache(maxsize=4096)
def debtor_kind(uscc: str) -> DebtorKind:
    """The kind of organisation a credit code belongs to (GB 32100 characters 1-2).

    An invalid code, or a valid one whose category the standard does not list, is "unknown":
    no product that asks for a kind of debtor accepts it.
    """
    value = normalise_uscc(uscc)
    if uscc_problem(value):
        return DebtorKind(UNKNOWN_DEBTOR_KIND, "", "无效的统一社会信用代码", "Invalid credit code")
    category = value[:2]
    known = USCC_CATEGORIES.get(category)
    if known is None:
        authority_zh, authority_en = USCC_AUTHORITIES[value[0]]
        return DebtorKind(UNKNOWN_DEBTOR_KIND, category, f"{authority_zh}登记的未知类别{value[1]}",
                          f"Unknown category {value[1]} of the {authority_en} register")
    zh, en, kind = known
    return DebtorKind(kind, category, zh, en)


def is_public_body(uscc: str) -> bool:
    """Whether the code belongs to a government body or public institution (机关、事业单位 ...)."""
    return debtor_kind(uscc).is_public_body
