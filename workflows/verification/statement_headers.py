"""The vocabulary of Chinese bank statements: column headers, direction flags, total and note rows,
and the title and account-information rows above the header.

Pure and small: used by statements.py, which does the reading. Every alias list is in priority
order: when a file has two columns for one field (CCB has 交易时间 and 记账日期), the earlier
alias wins. Matching folds width, spaces, case and 帐/账, and also understands a header it has no
alias for when it is an amount word with a direction beside it ("记账金额(收入)", "金额-支出").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field

from workflows.identifiers import normalise_name, parse_date
from workflows.tabular import normalise_header

# field -> header texts, best first.
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "交易日期", "记账日期", "入账日期", "发生日期", "交易日", "记账日", "会计日期", "账务日期",
        "业务日期", "日期", "交易日期时间", "交易时间", "记账时间", "入账时间", "发生时间", "交易发生时间",
        "起息日", "起息日期", "Transaction Date", "Date", "Posting Date", "Booking Date", "Trans Date",
    ),
    "time": ("时间", "交易时刻", "Time", "Transaction Time"),
    "debit": (
        "借方发生额", "借方发生额(支取)", "借方发生额(支出)", "借方金额", "借方发生数", "借方", "借记金额",
        "支出金额", "支出", "付款金额", "转出金额", "支取金额", "支取", "取出金额", "取出", "取款金额",
        "付出金额", "出账金额", "交易金额(支出)", "记账金额(支出)",
        "Debit", "Debit Amount", "Withdrawal", "Withdrawals", "Money Out",
    ),
    "credit": (
        "贷方发生额", "贷方发生额(收入)", "贷方发生额(存入)", "贷方金额", "贷方发生数", "贷方", "贷记金额",
        "收入金额", "收入", "收款金额", "转入金额", "存入金额", "存入", "存款金额", "入账金额", "进账金额",
        "交易金额(收入)", "记账金额(收入)",
        "Credit", "Credit Amount", "Deposit", "Deposits", "Money In",
    ),
    "amount": (
        "交易金额", "记账金额", "发生额", "金额", "交易额", "发生金额", "收支金额", "收入/支出金额",
        "收/支金额", "本币金额", "人民币金额", "原币金额", "Amount", "Transaction Amount",
    ),
    "direction": (
        "借贷标志", "借贷方向", "借贷标识", "借贷标记", "借贷", "借/贷", "借贷方", "收支标志", "收支方向",
        "收/支", "收支", "收支类型", "收付标志", "收付方向", "收/付", "方向", "交易方向", "资金方向",
        "资金流向", "记账方向", "出入账标志", "出/入账", "来往账标志", "Dr/Cr", "Cr/Dr", "D/C", "DC Flag",
        "Debit/Credit",
    ),
    "balance": (
        "余额", "账户余额", "交易后余额", "本次余额", "本笔余额", "账面余额", "联机余额", "当前余额",
        "结余", "结余金额", "实时余额", "可用余额", "Balance", "Account Balance",
    ),
    "counterparty": (
        "对方户名", "对方账户名称", "对方名称", "对方单位", "对方单位名称", "对方账户名", "对方户名称",
        "对方账户户名", "对方客户名称", "对方姓名", "对手户名", "交易对方", "交易对手", "交易对手名称",
        "对手方名称", "收/付方名称", "收付方名称", "收(付)方名称", "收/付款人名称", "收付款人名称",
        "Counterparty", "Counterparty Name",
    ),
    "counterparty_account": (
        "对方账号", "对方账户", "对方卡号", "对方卡号/账号", "对方账号/卡号", "对方账户账号", "对手账号",
        "对手方账号", "交易对手账号", "收/付方账号", "收付方账号", "收(付)方账号", "收/付款人账号",
        "Counterparty Account",
    ),
    # One cell with both (CCB's personal export): the account is split off the name.
    "counterparty_info": (
        "对方账号与户名", "对方账号/户名", "对方户名/账号", "对方账号及户名", "对方户名及账号", "对方信息",
        "对手信息", "交易对方信息", "对方账户信息",
    ),
    # Where there is no counterparty column (BOC): the payer for money in, the payee for money out.
    "payer": ("付款人名称", "付款方名称", "付款人户名", "付款人", "付款方"),
    "payer_account": ("付款人账号", "付款方账号", "付款人账户"),
    "payee": ("收款人名称", "收款方名称", "收款人户名", "收款人", "收款方"),
    "payee_account": ("收款人账号", "收款方账号", "收款人账户"),
    # Several may be present (ICBC: 摘要 and 用途); all are kept, joined in this order.
    "summary": (
        "摘要", "交易摘要", "业务摘要", "摘要说明", "用途", "交易用途", "资金用途", "附言", "交易附言",
        "备注", "交易备注", "说明", "交易说明", "附加信息", "交易地点/附言", "客户摘要", "其它摘要",
        "其他摘要", "交易类型", "业务类型", "交易名称", "业务名称", "交易描述",
        "Description", "Narrative", "Remarks", "Memo", "Purpose",
    ),
    # The account's currency: 记账币种 (what the account moved in) before 交易币种.
    "currency": ("记账币种", "币种", "币别", "货币", "币种名称", "货币名称", "交易币种", "Currency", "CCY"),
    # The statement's own account, where each row repeats it (ICBC 本方账号, CCB 账号/账户名称).
    "own_account": ("本方账号", "本方账户", "我方账号", "账号", "客户账号", "卡号", "卡号/账号", "账号/卡号",
                    "本方卡号"),
    "own_name": ("本方户名", "本方账户名称", "我方户名", "账户名称", "户名", "客户名称", "持卡人"),
}
AMOUNT_FIELDS = ("debit", "credit", "amount")
LABELS = {"date": "交易日期", "debit": "借方发生额", "credit": "贷方发生额", "amount": "交易金额",
          "direction": "借贷标志", "balance": "余额", "currency": "币种"}
# Date aliases that name a time of day: beside a better date column they are the time column.
_TIME_LIKE_DATES = ("交易时间", "记账时间", "入账时间", "发生时间", "交易发生时间")

# An amount word with a direction beside it: 交易金额(收入), 记账金额-支出, 金额[贷].
_AMOUNT_BASES = ("记账金额", "交易金额", "发生额", "金额", "交易额", "本币金额", "人民币金额", "原币金额")
_ACCOUNT_CURRENCY_BASES = ("记账金额", "本币金额", "人民币金额")  # what the account moved in
# A plain amount column that is one of a pair (a card's 交易金额 in the card's currency and its
# 记账金额 in the account's): the pair's name keeps them apart.
_GROUPED = {base: base for base in ("记账金额", "交易金额", "本币金额", "人民币金额", "原币金额")}
_IN_WORDS = ("收入", "存入", "贷方", "贷", "转入", "收", "入", "存", "入账", "收款", "进账", "cr", "credit", "in")
_OUT_WORDS = ("支出", "支取", "取出", "借方", "借", "转出", "支", "出", "取", "出账", "付款", "付", "dr",
              "debit", "out")


def fold(text: str) -> str:
    """A header or label folded for lookup: normalise_header, and 帐 read as 账."""
    return normalise_header(text).replace("帐", "账")


def _alternation(words: Sequence[str]) -> str:
    return "|".join(map(re.escape, sorted({fold(w) for w in words}, key=len, reverse=True)))


_QUALIFIED = re.compile(
    rf"(?P<base>{_alternation(_AMOUNT_BASES)})[-_/·:]?[(\[【]?"
    rf"(?:(?P<inward>{_alternation(_IN_WORDS)})|(?P<outward>{_alternation(_OUT_WORDS)}))[)\]】]?"
)


def _lookup() -> dict[str, tuple[str, int]]:
    table: dict[str, tuple[str, int]] = {}
    for name, aliases in FIELD_ALIASES.items():
        for priority, alias in enumerate(aliases):
            key = fold(alias)
            if table.setdefault(key, (name, priority))[0] != name:
                raise ValueError(f"header alias {alias!r} names two fields")
    return table


_LOOKUP = _lookup()
_TRAILING_BRACKET = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")
_ASCII_AROUND = re.compile(r"^[a-z0-9 /._&'-]+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])[a-z0-9 /._&'-]+$")


def _classify(cell: str) -> tuple[str, int, str] | None:
    """(field, priority, amount group) for a header cell, or None. The group tells apart the
    column pairs of a personal-card export (交易金额 and 记账金额); it is "" for the others."""
    key = fold(cell)
    if not key:
        return None
    stripped = _TRAILING_BRACKET.sub("", key)
    for candidate in dict.fromkeys((key, _ASCII_AROUND.sub("", key), stripped,
                                    _ASCII_AROUND.sub("", stripped))):
        if not candidate:
            continue
        qualified = _QUALIFIED.fullmatch(candidate)
        if qualified:
            name = "credit" if qualified["inward"] else "debit"
            priority = _LOOKUP.get(candidate, (name, len(FIELD_ALIASES[name])))[1]
            return name, priority, qualified["base"]
        found = _LOOKUP.get(candidate)
        if found:
            name, priority = found
            return name, priority, _GROUPED.get(candidate, "") if name == "amount" else ""
    return None


def header_field(cell: str) -> tuple[str, int] | None:
    """(field, priority) for a header cell, or None."""
    found = _classify(cell)
    return (found[0], found[1]) if found else None


def layout_of(columns: dict[str, int]) -> str:
    """"split" (debit and credit columns), "flag" (amount and direction), or "signed"."""
    if "debit" in columns or "credit" in columns:
        if ("debit" in columns and "credit" in columns) or "amount" not in columns:
            return "split"
    return "flag" if "direction" in columns else "signed"


@dataclass
class Header:
    """The header row: which column holds each field, and the column names as the file shows them.

    `fallbacks` are further amount columns (a personal card's 交易金额 pair beside its 记账金额
    pair), read for a row whose own amount columns are blank or "-".
    """

    index: int  # position of the (last) header row among the rows searched
    line: int
    columns: dict[str, int]
    summary_columns: list[int]
    names: dict[str, str]  # field -> header text as in the file, for messages
    folded: tuple[str, ...] = field(default=())  # the row folded, to spot a repeated header
    fallbacks: list[dict[str, int]] = field(default_factory=list)
    top: int = -1  # position of the first header row (a header may take two rows)
    folded_rows: tuple[tuple[str, ...], ...] = ()
    texts: tuple[str, ...] = ()  # the header cells as the file writes them (merged when two rows)

    def __post_init__(self) -> None:
        if self.top < 0:
            self.top = self.index
        if not self.folded_rows and self.folded:
            self.folded_rows = (self.folded,)

    @property
    def layout(self) -> str:
        return layout_of(self.columns)

    def name(self, name: str) -> str:
        return self.names.get(name) or LABELS.get(name, name)

    def column_name(self, index: int, name: str) -> str:
        """The header text of a column, for messages about a fallback amount column."""
        text = self.texts[index].strip() if 0 <= index < len(self.texts) else ""
        return text or self.name(name)


def header_columns(cells: Sequence[str]) -> tuple[dict[str, int], list[int], dict[str, str]]:
    """Fields found in a row: the best-priority column per field, and every summary column."""
    columns, summaries, names, _ = _header_columns(cells)
    return columns, summaries, names


def _header_columns(
    cells: Sequence[str],
) -> tuple[dict[str, int], list[int], dict[str, str], list[dict[str, int]]]:
    """(columns, summary columns, names, fallback amount column sets) of a header row."""
    best: dict[str, tuple[int, int]] = {}
    summaries: list[tuple[int, int]] = []
    groups: dict[str, dict[str, tuple[int, int]]] = {}
    dates: list[tuple[int, int]] = []
    for index, cell in enumerate(cells):
        found = _classify(cell) if cell else None
        if found is None:
            continue
        name, priority, group = found
        if name == "summary":
            summaries.append((priority, index))
        elif name == "date":
            dates.append((priority, index))
        elif name in AMOUNT_FIELDS:
            fields = groups.setdefault(group, {})
            if name not in fields or priority < fields[name][0]:
                fields[name] = (priority, index)
        elif name not in best or priority < best[name][0]:
            best[name] = (priority, index)
    columns = {name: index for name, (_, index) in best.items()}
    if dates:
        dates.sort()
        columns["date"] = dates[0][1]
        times = [index for _, index in dates[1:] if fold(cells[index]) in _TIME_FOLDED]
        if "time" not in columns and times:
            columns["time"] = times[0]
    ordered = sorted(groups.items(), key=lambda item: (_group_rank(item[0]),
                                                       min(i for _, i in item[1].values())))
    amount_sets = [{name: index for name, (_, index) in fields.items()} for _, fields in ordered]
    if amount_sets:
        columns.update(amount_sets[0])
    summary_columns = [index for _, index in sorted(summaries)]
    if summary_columns:
        columns["summary"] = summary_columns[0]
    names = {name: str(cells[index]).strip() for name, index in columns.items()}
    return columns, summary_columns, names, amount_sets[1:]


_TIME_FOLDED = frozenset(fold(alias) for alias in _TIME_LIKE_DATES)


def _group_rank(group: str) -> int:
    if group in _ACCOUNT_CURRENCY_BASES:
        return 0
    return 1 if group == "" else 2


def _qualifies(columns: dict[str, int]) -> bool:
    return "date" in columns and any(name in columns for name in AMOUNT_FIELDS)


class HeaderNotFound(ValueError):
    """No header row: str() is the Chinese sentence, `en` the English one."""

    def __init__(self, zh: str, en: str) -> None:
        super().__init__(zh)
        self.en = en


def find_statement_header(rows: Sequence[tuple[int, Sequence[str]]]) -> Header:
    """The first row naming a date column and an amount column (debit, credit or amount).

    A header may take two rows (金额 over 借方 | 贷方, 交易金额 over 收入 | 支出, as merged Excel
    cells export): the row below is merged in when it names amount columns and holds no digits.
    Raises HeaderNotFound (a ValueError) with a Chinese and an English sentence.
    """
    best: tuple[int, int, dict[str, int]] | None = None
    for index, (line, cells) in enumerate(rows):
        columns, summary_columns, names, fallbacks = _header_columns(cells)
        below = rows[index + 1] if index + 1 < len(rows) else None
        if below is not None and columns and _is_sub_header(below[1]):
            merged = _merge_header(cells, below[1])
            m_columns, m_summaries, m_names, m_fallbacks = _header_columns(merged)
            if _qualifies(m_columns):
                folded_rows = (tuple(fold(c) for c in cells), tuple(fold(c) for c in below[1]))
                return Header(index + 1, below[0], m_columns, m_summaries, m_names,
                              tuple(fold(c) for c in merged), m_fallbacks, index, folded_rows,
                              tuple(merged))
        if _qualifies(columns):
            folded = tuple(fold(cell) for cell in cells)
            if below is not None and _is_header_twin(below[1]):  # 交易日期 over Transaction Date
                return Header(index + 1, below[0], columns, summary_columns, names, folded, fallbacks,
                              index, (folded, tuple(fold(c) for c in below[1])), tuple(cells))
            return Header(index, line, columns, summary_columns, names, folded, fallbacks,
                          texts=tuple(cells))
        if columns and (best is None or len(columns) > len(best[2])):
            best = (index, line, columns)
    wanted = "交易日期列，以及借方/贷方发生额（收入/支出）列或交易金额列"
    if best is None or len(best[2]) < 2:
        raise HeaderNotFound(
            f"未找到对账单的表头行，表头应包含{wanted}",
            "no header row found: the header needs a transaction date column and either debit and "
            "credit (money out / money in) columns or an amount column",
        )
    missing, missing_en = [], []
    if "date" not in best[2]:
        missing.append("交易日期")
        missing_en.append("transaction date")
    if not any(name in best[2] for name in AMOUNT_FIELDS):
        missing.append("借方/贷方发生额或交易金额")
        missing_en.append("debit/credit or amount")
    raise HeaderNotFound(f"第{best[1]}行的表头缺少必需的列：{'、'.join(missing)}",
                         f"the header on line {best[1]} lacks the column(s): {', '.join(missing_en)}")


def _is_header_twin(cells: Sequence[str]) -> bool:
    """A second full header under the first (the English names under the Chinese): a date and
    an amount column named, and no digits."""
    if any(ch.isdigit() for cell in cells for ch in cell):
        return False
    return _qualifies(_header_columns(cells)[0])


def _is_sub_header(cells: Sequence[str]) -> bool:
    """A second header row: amount words (借方, 收入 ...) and no digits, no date column."""
    named = [_classify(cell) for cell in cells if cell and cell.strip()]
    if not named or any(ch.isdigit() for cell in cells for ch in cell):
        return False
    kinds = {found[0] for found in named if found}
    return bool(kinds & set(AMOUNT_FIELDS)) and "date" not in kinds


def _merge_header(upper: Sequence[str], lower: Sequence[str]) -> list[str]:
    """Column by column: the lower cell under its merged upper cell (交易金额 + 收入 ->
    交易金额(收入)) when that names a field, else the lower cell, else the upper one."""
    merged: list[str] = []
    carry = ""
    for index in range(max(len(upper), len(lower))):
        top = upper[index].strip() if index < len(upper) else ""
        bottom = lower[index].strip() if index < len(lower) else ""
        if top:
            carry = top
        above = top or (carry if bottom else "")
        if bottom and above and _classify(f"{above}({bottom})"):
            merged.append(f"{above}({bottom})")
        elif bottom and _classify(bottom):
            merged.append(bottom)
        else:
            merged.append(top or bottom)
    return merged


# --- direction flags ----------------------------------------------------------------------------

OUT, IN = -1, 1
DIRECTIONS: dict[str, int] = {}
for _words, _sign in (
    ("借 借方 借记 D DR DEBIT 付 付出 付款 支 支出 支取 取 取出 取款 出 出账 转出 汇出 往账 OUT -", OUT),
    ("贷 贷方 贷记 C CR CREDIT 收 收入 收款 存 存入 存款 入 入账 转入 汇入 来账 进账 IN +", IN),
):
    for _word in _words.split():
        DIRECTIONS[_word] = _sign
_FLAG_TOKENS = re.compile(r"[\u3400-\u9fff]+|[A-Z]+|[+-]")
_FLAG_NOISE = re.compile(r"[\s()\[\]【】/\\|.,:;·_]+")


def direction(text: str) -> int | None:
    """OUT, IN, or None when the flag is not known or contradicts itself.

    Takes 借/贷, 收/付, 出/入, D/C, DR/CR, and the two together ("贷 Cr", "借(Dr)", "Cr 贷方").
    """
    found = DIRECTIONS.get(text)
    if found is not None:
        return found
    key = unicodedata.normalize("NFKC", text).strip().upper()
    found = DIRECTIONS.get(key)
    if found is not None or not key:
        return found
    tokens = _FLAG_TOKENS.findall(key)
    if not tokens or _FLAG_NOISE.sub("", key) != "".join(tokens):
        return None
    signs = {DIRECTIONS.get(token) for token in tokens}
    if None in signs or len(signs) != 1:
        return None
    return signs.pop()


# --- rows that are not transactions -------------------------------------------------------------

# Totals, subtotals, carried balances and notes are skipped, not errors; see is_total_or_note.
TOTAL_WORDS = (
    "合计", "总计", "小计", "累计", "笔数", "本页", "期初余额", "期末余额", "上日余额", "上期余额",
    "本期余额", "承前页", "过次页", "承上页", "转下页", "转次页", "上页", "下页", "总金额", "总额",
)
NOTE_WORDS = (
    "打印", "制表", "经办", "复核", "审核", "主管", "盖章", "签章", "印章", "签字", "签名", "注：", "注:",
    "备注：", "说明：", "说明:", "以下空白", "以上", "温馨提示", "提示：", "重要提示", "特别提示", "数据来源",
    "本对账单", "此对账单", "本明细", "本流水", "仅供参考", "免责", "声明", "查询时间", "导出时间",
    "生成时间", "下载时间", "汇总", "结转", "柜员", "授权", "页码", "电子回单", "验证码", "客服电话",
    "如有疑问", "请核对", "银行章",
)
_ENGLISH_TOTALS = re.compile(r"\b(?:total|subtotal|sub-total|page\s*\d+|printed|disclaimer)\b", re.I)
_PAGE_MARK = re.compile(r"第\s*\d+\s*页|共\s*\d+\s*页|\d+\s*/\s*\d+\s*页")
_DATE_LIKE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}|(?<!\d)\d{8}(?!\d)|^\d{5}(?:\.\d+)?$")


def is_total_or_note(date_cell: str, first_cell: str) -> bool:
    """A row without a usable date that is a total, subtotal, page mark or note.

    The date cell may say so anywhere (合计, 本页小计); the row's first filled cell may contain a
    total word (借方笔数：3) or start with a note word (打印日期：..., 以上数据仅供参考). A bad row
    whose counterparty is 某某打印有限公司 is still a bad row.
    """
    date_cell, first_cell = date_cell.strip(), first_cell.strip()
    if any(word in date_cell for word in TOTAL_WORDS + NOTE_WORDS):
        return True
    if any(word in first_cell for word in TOTAL_WORDS):
        return True
    if first_cell.startswith(NOTE_WORDS):
        return True
    if _ENGLISH_TOTALS.search(date_cell) or _ENGLISH_TOTALS.match(first_cell):
        return True
    return _PAGE_MARK.search(date_cell) is not None or _PAGE_MARK.match(first_cell) is not None


def mentions_total(cells: Sequence[str]) -> bool:
    """A dated row without an amount that is a carried balance or total (期初余额, 本日合计)."""
    text = "".join(cells)
    return any(word in text for word in TOTAL_WORDS + NOTE_WORDS)


def looks_like_date(text: str) -> bool:
    """Whether a cell tries to be a date (2024-13-45 does; 3, 合计 and 张三 do not)."""
    return _DATE_LIKE.search(text) is not None


# --- currencies ---------------------------------------------------------------------------------

_YUAN = ("人民币", "RMB", "CNY", "CNH", "本币", "元")
_FOREIGN = {
    "USD": "美元", "EUR": "欧元", "HKD": "港币", "JPY": "日元", "GBP": "英镑", "AUD": "澳元", "CAD": "加元",
    "CHF": "瑞士法郎", "SGD": "新加坡元", "MOP": "澳门元", "TWD": "新台币", "KRW": "韩元", "NZD": "新西兰元",
    "RUB": "卢布", "THB": "泰铢",
}
_FOREIGN_WORDS = {**{name: name for name in _FOREIGN.values()}, "港元": "港币", "澳大利亚元": "澳元",
                  "加拿大元": "加元", "美金": "美元"}


def foreign_currency(text: str) -> str:
    """The foreign currency a cell names ("美元", "USD" -> 美元), or "" for yuan or unknown text."""
    value = unicodedata.normalize("NFKC", text or "").strip().upper()
    if not value or value in ("-", "--", "元") or any(word in value for word in _YUAN[:-1]):
        return ""
    for code, name in _FOREIGN.items():
        if re.search(rf"(?<![A-Z]){code}(?![A-Z])", value):
            return name
    for word, name in _FOREIGN_WORDS.items():
        if word in value:
            return name
    return ""


# --- title and account rows above the header ----------------------------------------------------

BANKS: tuple[tuple[str, str], ...] = (
    # (text found, canonical name); longer names first so 中国工商银行 is not read as 工商银行
    ("中国工商银行", "中国工商银行"), ("工商银行", "中国工商银行"), ("ICBC", "中国工商银行"),
    ("中国农业银行", "中国农业银行"), ("农业银行", "中国农业银行"),
    ("中国建设银行", "中国建设银行"), ("建设银行", "中国建设银行"),
    ("中国邮政储蓄银行", "中国邮政储蓄银行"), ("邮储银行", "中国邮政储蓄银行"),
    ("交通银行", "交通银行"), ("招商银行", "招商银行"), ("兴业银行", "兴业银行"),
    ("上海浦东发展银行", "上海浦东发展银行"), ("浦发银行", "上海浦东发展银行"),
    ("中信银行", "中信银行"), ("中国民生银行", "中国民生银行"), ("民生银行", "中国民生银行"),
    ("中国光大银行", "中国光大银行"), ("光大银行", "中国光大银行"), ("华夏银行", "华夏银行"),
    ("广发银行", "广发银行"), ("平安银行", "平安银行"), ("浙商银行", "浙商银行"),
    ("渤海银行", "渤海银行"), ("恒丰银行", "恒丰银行"),
    ("中国银行", "中国银行"),
)
_ANY_BANK = re.compile(r"[\u4e00-\u9fff]{2,16}?(?:农村商业银行|农商银行|村镇银行|农村信用合作联社|银行)")
_BRANCH = re.compile(r"(?:股份有限公司|有限责任公司|有限公司)?[\u4e00-\u9fff]{0,12}(?:分行|支行|营业部|分理处)$")

INFO_LABELS: dict[str, tuple[str, ...]] = {
    "account_name": (
        "账户名称", "账户户名", "户名", "账户名", "客户名称", "单位名称", "公司名称", "企业名称", "本方户名",
        "客户姓名", "姓名", "持卡人", "持卡人姓名", "账户姓名", "开户名称", "单位户名",
    ),
    "account_no": (
        "账号", "账户号码", "账户号", "账户账号", "本方账号", "银行账号", "查询账号", "客户账号", "单位账号",
        "卡号", "卡号/账号", "账号/卡号", "银行卡号", "结算账号", "账户",
    ),
    "bank": ("开户银行", "开户行名称", "开户行", "开户机构", "开户网点", "银行名称", "开户银行名称"),
    "period": (
        "起止日期", "日期范围", "查询期间", "查询日期范围", "起止时间", "查询起止日期", "交易期间", "交易日期范围",
        "账单期间", "对账期间", "时间范围", "日期区间", "查询区间", "交易起止日期", "查询时间段", "起始日期",
        "开始日期", "查询时间范围", "查询日期",
    ),
    "period_end": ("结束日期", "终止日期", "截止日期"),
    "currency": ("币种", "币别", "货币", "币种名称"),
}
_LABEL_FIELD = {fold(label): name for name, labels in INFO_LABELS.items() for label in labels}
# A known label written with spaces inside (户　名, 币　　种) is closed up before reading.
_SPACED_LABEL = re.compile(
    "(?:" + "|".join(
        r"\s*".join(map(re.escape, label))
        for label in sorted({label for labels in INFO_LABELS.values() for label in labels}, key=len,
                            reverse=True)
        if len(label) > 1
    ) + r")(?=\s*[:：]|\s*$)"
)
# "label：" anywhere in a cell: a label is a few letters, not digits (10:23 is a time).
_CELL_LABEL = re.compile(r"(?:^|(?<=[\s,，;；|]))(?P<label>[^\W\d_][^\s:：,，;；|]{0,11}?)\s*[:：]")
_NUMBER_LABEL = re.compile(r"^(?P<label>卡号|账号|帐号|账户)\s+(?P<value>\d[\d\s*-]{5,})$")
_VALUE_END = re.compile(r"[,，;；|]|\s{2,}")
_ACCOUNT_TOKEN = re.compile(r"[0-9*]+(?:[ -][0-9*]+)*")
_DATE_IN_TEXT = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月]\s*\d{1,2}\s*日?|(?<!\d)\d{8}(?!\d)")
_NOT_A_HOLDER = {"至", "至今", "到", "止", "起", "自", "从", "无", "空", "（空）", "人民币", "RMB", "CNY"}


def bank_name(text: str) -> str:
    """The canonical bank named in a text ("中国工商银行苏州分行" -> 中国工商银行), best effort."""
    upper = text.upper()
    for word, canonical in BANKS:
        if word in upper:
            return canonical
    match = _ANY_BANK.search(text)
    if match:
        return _BRANCH.sub("", match.group(0)) or match.group(0)
    return ""


def statement_info(rows: Sequence[Sequence[str]]) -> dict[str, str]:
    """account_no, account_name, bank (and period_start, period_end, currency where stated) from
    the rows above the header.

    A value is read beside its label on the same line: "户名：某某" in one cell (several pairs
    per cell or line), or a label cell followed by its value cell. The account holder is taken
    only so, and only a value that can be a name (not 至, a date or a number). A row of labels
    over a row of values gives the account number and bank, never the holder.
    """
    found: dict[str, str] = {}
    title_bank = ""
    texts_rows = [[_info_text(cell) for cell in cells] for cells in rows]
    for number, texts in enumerate(texts_rows):
        if _label_row(texts) and number + 1 < len(texts_rows) and not _has_label(texts_rows[number + 1]):
            below = texts_rows[number + 1]
            for index, text in enumerate(texts):
                name = _LABEL_FIELD.get(fold(text.rstrip(":：")))
                if name in ("account_no", "bank", "currency") and index < len(below) and below[index]:
                    _take(found, name, below[index])
            continue
        cells = [text for text in texts if text]
        used: set[int] = set()
        for position, text in enumerate(cells):
            if position in used:
                continue
            pairs = _cell_pairs(text)
            if pairs and not pairs[-1][1]:
                label = pairs[-1][0]
                value, taken = _following_value(_LABEL_FIELD.get(label, ""), cells, position + 1)
                pairs[-1] = (label, value)
                used.update(taken)
            for label, value in pairs:
                name = _LABEL_FIELD.get(label)
                if name:
                    _take(found, name, value)
            if not pairs and not title_bank and not _labelish(text):
                title_bank = bank_name(text)
    if found.get("bank"):
        found["bank"] = bank_name(found["bank"]) or found["bank"]
    elif title_bank:
        found["bank"] = title_bank
    return found


def _info_text(cell: str) -> str:
    text = unicodedata.normalize("NFKC", cell or "").strip().strip("\ufeff\u200b").strip()
    if " " in text:
        text = _SPACED_LABEL.sub(lambda m: re.sub(r"\s+", "", m.group(0)), text)
    return text


def _cell_pairs(text: str) -> list[tuple[str, str]]:
    """(folded label, value) pairs written in one cell; a trailing label has the value ""."""
    bare = fold(text.rstrip(":："))
    if bare in _LABEL_FIELD and not re.search(r"[:：].", text):
        return [(bare, "")]
    number = _NUMBER_LABEL.match(text)
    if number:
        return [(fold(number["label"]), number["value"])]
    matches = list(_CELL_LABEL.finditer(text))
    pairs = []
    for position, match in enumerate(matches):
        end = matches[position + 1].start() if position + 1 < len(matches) else len(text)
        value = text[match.end():end].strip()
        label = fold(match["label"])
        if _LABEL_FIELD.get(label) not in ("period", "period_end"):
            value = _VALUE_END.split(value, 1)[0].strip()
        pairs.append((label, value))
    return pairs


def _following_value(name: str, cells: Sequence[str], start: int) -> tuple[str, list[int]]:
    """The value of a label cell: the next cell, unless it is a label itself; a period takes the
    cells up to the next label (起止日期:,2024-01-06,至,2025-01-28)."""
    if start >= len(cells) or _labelish(cells[start]):
        return "", []
    if name not in ("period", "period_end"):
        return cells[start], [start]
    taken = []
    for index in range(start, len(cells)):
        if _labelish(cells[index]):
            break
        taken.append(index)
    return " ".join(cells[i] for i in taken), taken


def _labelish(text: str) -> bool:
    """A label cell: a known label, anything ending in a colon, or "label：value"."""
    bare = fold(text.rstrip(":："))
    if bare in _LABEL_FIELD or text.endswith((":", "：")):
        return True
    match = _CELL_LABEL.match(text)
    return match is not None and match.start() == 0


def _label_row(texts: Sequence[str]) -> bool:
    """Every filled cell a bare label, and at least two of them (户名 | 账号 | 币种)."""
    filled = [text for text in texts if text]
    return len(filled) >= 2 and all(fold(text.rstrip(":：")) in _LABEL_FIELD for text in filled)


def _has_label(texts: Sequence[str]) -> bool:
    return any(text and _labelish(text) for text in texts)


def _take(found: dict[str, str], name: str, value: str) -> None:
    value = value.strip().strip("'\"“”‘’").strip()
    if value[:1] in "[【(（" and value[-1:] in "]】)）":  # # 户名: [王秀英] (CMB)
        value = value[1:-1].strip()
    if not value:
        return
    if name == "account_no":
        token = _ACCOUNT_TOKEN.search(value)
        value = re.sub(r"[\s-]", "", token.group(0)) if token else ""
        if sum(char.isdigit() for char in value) < 6:  # 账户：基本存款账户 is not a number
            return
    elif name == "account_name":
        if not plausible_holder(value):
            return
    elif name in ("period", "period_end"):
        dates = [day for day in map(_iso_date, _DATE_IN_TEXT.findall(value)) if day]
        if name == "period" and dates:
            found.setdefault("period_start", dates[0])
            if len(dates) > 1:
                found.setdefault("period_end", dates[1])
        elif dates:
            found.setdefault("period_end", dates[0])
        return
    if not found.get(name):
        found[name] = value


def _iso_date(text: str) -> str:
    try:
        return parse_date(re.sub(r"\s+", "", text)).isoformat()
    except ValueError:
        return ""


def plausible_holder(value: str) -> bool:
    """Whether a value beside a 户名 label can be a name: not 至, a date, a number or a label."""
    text = value.strip()
    if len(text) < 2 or text in _NOT_A_HOLDER or text.upper() in _NOT_A_HOLDER:
        return False
    if not re.search(r"[\u3400-\u9fffA-Za-z]", text):
        return False
    if _labelish(text) or looks_like_date(text):
        return False
    return not (sum(char.isdigit() for char in text) >= 6 and not re.search(r"[\u3400-\u9fff]", text))


_ACCOUNT_KIND_SUFFIX = re.compile(r"\((?:[^()]*(?:户|账户))\)$")  # 某某公司(基本户), (一般存款账户)


def holder_matches(holder: str, name: str) -> bool:
    """Whether a statement's holder is `name`: names folded (width, spaces, brackets); a holder
    the bank masked (张*, 苏州****有限公司) matches when its visible characters fit."""
    masked = _ACCOUNT_KIND_SUFFIX.sub("", normalise_name(holder).replace("＊", "*"))
    target = normalise_name(name)
    if not masked or not target:
        return False
    if "*" not in masked:
        return masked == target
    visible = masked.replace("*", "")
    if not visible:
        return False
    pattern = "".join(".+" if part.startswith("*") else re.escape(part)
                      for part in re.findall(r"\*+|[^*]+", masked))
    return re.fullmatch(pattern, target) is not None


# --- what the upload page lists -----------------------------------------------------------------


@dataclass(frozen=True)
class HeaderRole:
    """A column the importer reads: its role, its name in Chinese and English, and the header
    texts it recognises (matching ignores spaces, width, case and a trailing "(元)")."""

    role: str
    zh: str
    en: str
    names: tuple[str, ...]


_ROLES: tuple[tuple[str, str, str], ...] = (
    ("date", "交易日期（可含时间）", "Transaction date (may include the time)"),
    ("time", "交易时间", "Transaction time"),
    ("credit", "收入金额（贷方）", "Money in (credit)"),
    ("debit", "支出金额（借方）", "Money out (debit)"),
    ("amount", "交易金额（带正负号，或配合借贷方向列）", "Amount (signed, or with a debit/credit column)"),
    ("direction", "借贷方向", "Debit/credit flag"),
    ("balance", "余额", "Balance"),
    ("counterparty", "对方户名", "Counterparty name"),
    ("counterparty_account", "对方账号", "Counterparty account"),
    ("counterparty_info", "对方账号与户名（同一列）", "Counterparty account and name (one column)"),
    ("payer", "付款人名称（无对方户名列时）", "Payer name (without a counterparty column)"),
    ("payer_account", "付款人账号", "Payer account"),
    ("payee", "收款人名称（无对方户名列时）", "Payee name (without a counterparty column)"),
    ("payee_account", "收款人账号", "Payee account"),
    ("summary", "摘要、用途、附言", "Summary, purpose, remarks"),
    ("currency", "币种（只接受人民币）", "Currency (yuan only)"),
    ("own_account", "本方账号（每行重复时）", "Own account number (when repeated on each row)"),
    ("own_name", "本方户名（每行重复时）", "Own account name (when repeated on each row)"),
)


def recognised_headers() -> list[HeaderRole]:
    """Every column role the importer reads, with the header names it recognises, for the page
    that tells users what their file may contain."""
    return [HeaderRole(role, zh, en, tuple(dict.fromkeys(FIELD_ALIASES[role]))) for role, zh, en in _ROLES]


def recognised_labels() -> list[HeaderRole]:
    """The labels read above the header (户名：..., 账号：...), in the same shape."""
    roles = (
        ("account_name", "户名（账户持有人）", "Account holder"),
        ("account_no", "账号", "Account number"),
        ("bank", "开户行", "Bank"),
        ("period", "起止日期", "Statement period"),
        ("currency", "币种", "Currency"),
    )
    return [HeaderRole(role, zh, en, INFO_LABELS[role]) for role, zh, en in roles]
