"""Chinese identifiers and everyday values: credit codes, ID numbers, names, money and dates.

Every checker returns or raises ONE sentence in Simplified Chinese saying exactly what is wrong,
so that a form or an import report can show it as it is. Sentences carry no final full stop,
so callers can prefix them ("金额：最多两位小数") or join several.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from stdnum.cn import ric

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


def uscc_problem(code: str) -> str | None:
    """Return None for a valid code, else one sentence saying what is wrong with it."""
    value = normalise_uscc(code)
    for check in (_uscc_shape_problem, _uscc_position_problem, _uscc_check_problem):
        problem = check(value)
        if problem:
            return problem
    return None


def _uscc_shape_problem(value: str) -> str | None:
    """Emptiness, length and characters outside digits and Latin letters."""
    if not value:
        return "统一社会信用代码不能为空"
    if len(value) != USCC_LENGTH:
        return f"统一社会信用代码应为18位，实际为{len(value)}位"
    for char in value:
        if char not in _ASCII_ALNUM:
            return f"统一社会信用代码含有非法字符“{char}”，只能由数字和大写字母组成"
    return None


def _uscc_position_problem(value: str) -> str | None:
    """Rules on the registrar, the organisation kind, the region and the forbidden letters."""
    if value[0] not in USCC_REGISTRARS:
        return f"统一社会信用代码第1位（登记管理部门代码）应为1-9、A、N或Y，实际为“{value[0]}”"
    if value[1] not in USCC_ALPHABET:
        return f"统一社会信用代码第2位（机构类别代码）不能为“{value[1]}”，不使用字母I、O、Z、S、V"
    for position in range(2, 8):
        if not value[position].isdigit():
            return (
                "统一社会信用代码第3-8位（登记管理机关行政区划码）应为数字，"
                f"第{position + 1}位为“{value[position]}”"
            )
    for position in range(8, USCC_LENGTH):
        if value[position] in _FORBIDDEN_LETTERS:
            return (
                f"统一社会信用代码第{position + 1}位含有不允许的字母“{value[position]}”，"
                "不使用字母I、O、Z、S、V"
            )
    return None


def _uscc_check_problem(value: str) -> str | None:
    """The 18th character against the computed check character."""
    expected = uscc_check_char(value[:17])
    if value[17] != expected:
        return f"统一社会信用代码校验位错误，应为{expected}，实际为{value[17]}"
    return None


# --- Resident identity card number (居民身份证号码, GB 11643) -------------------------------------

RESIDENT_ID_LENGTH = 18


def resident_id_problem(number: str, *, today: date | None = None) -> str | None:
    """Return None for a valid 18-digit resident ID number, else one sentence on what is wrong."""
    value = _WHITESPACE.sub("", unicodedata.normalize("NFKC", number or "")).upper()
    if not value:
        return "身份证号码不能为空"
    if len(value) != RESIDENT_ID_LENGTH:
        return f"身份证号码应为18位，实际为{len(value)}位"
    if not value[:17].isdigit() or not (value[17].isdigit() or value[17] == "X"):
        return "身份证号码前17位应为数字，最后一位应为数字或X"
    birth = _resident_birth_date(value)
    if birth is None:
        return f"身份证号码中的出生日期“{value[6:14]}”不存在"
    if birth > (today or date.today()):
        return f"身份证号码中的出生日期“{value[6:14]}”晚于今天"
    expected = ric.calc_check_digit(value)
    if value[17] != expected:
        return f"身份证号码校验位错误，应为{expected}，实际为{value[17]}"
    if not _resident_region_known(value):
        return f"身份证号码前2位省级地区码“{value[:2]}”不存在"
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


class InputError(ValueError):
    """A value a user typed that is not one. `str()` is the Chinese sentence; `template` (a msgid,
    with %(value)s where it quotes the input) and `params` let the application translate it."""

    def __init__(self, template: str, **params):
        self.template, self.params = template, params
        super().__init__(template % params if params else template)


MONEY_EMPTY = "金额为空"
MONEY_NOT_A_NUMBER = "金额“%(value)s”不是有效的数字"
MONEY_TOO_PRECISE = "金额最多两位小数"


def parse_money(text: str) -> Decimal:
    """Parse an amount in yuan ("¥1,234.50", "-300", "1000.5元") into a Decimal with 2 places.

    Raises InputError (a ValueError) with a Chinese sentence. Never goes through float.
    """
    raw = str(text or "")
    value = unicodedata.normalize("NFKC", raw).strip()  # full-width ￥，１ become ¥ , 1
    if not value:
        raise InputError(MONEY_EMPTY)
    negative, digits = _split_money_sign(value)
    if not _MONEY.fullmatch(digits):
        raise InputError(MONEY_NOT_A_NUMBER, value=raw.strip())
    try:
        amount = Decimal(digits.replace(",", ""))
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only digits
        raise InputError(MONEY_NOT_A_NUMBER, value=raw.strip()) from exc
    if amount != amount.quantize(_CENT):
        raise InputError(MONEY_TOO_PRECISE)
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
    time, and date or datetime objects. Raises ValueError with a Chinese sentence.
    """
    if isinstance(text, datetime):
        return text.date()
    if isinstance(text, date):
        return text
    raw = str(text or "").strip()
    value = unicodedata.normalize("NFKC", raw).strip()
    if not value:
        raise ValueError("日期为空")
    for pattern in _DATE_PATTERNS:
        match = pattern.fullmatch(value)
        if match:
            return _date_from_match(match, raw)
    raise ValueError(f"无法识别的日期“{raw}”，请使用YYYY-MM-DD格式")


def _date_from_match(match: re.Match[str], raw: str) -> date:
    year, month, day = int(match["y"]), int(match["m"]), int(match["d"])
    if not _MIN_YEAR <= year <= _MAX_YEAR:
        raise ValueError(f"日期“{raw}”的年份不在{_MIN_YEAR}-{_MAX_YEAR}之间")
    try:
        result = date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"日期“{raw}”不存在") from exc
    if match["time"] and not _valid_time(match["time"]):
        raise ValueError(f"日期“{raw}”中的时间不存在")
    return result


def _valid_time(text: str) -> bool:
    parts = text.split(":")
    hour, minute = int(parts[0]), int(parts[1])
    second = int(parts[2].split(".")[0]) if len(parts) > 2 else 0
    return hour < 24 and minute < 60 and second < 60
