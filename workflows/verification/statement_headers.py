"""The vocabulary of Chinese bank statements: column headers, direction flags, total rows, and the
title and account-information rows above the header.

Pure and small: used by statements.py, which does the reading. Every alias list is in priority
order: when a file has two columns for one field (CCB has 交易时间 and 记账日期), the earlier
alias wins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from workflows.tabular import normalise_header

# field -> header texts, best first. Matching folds width, spaces and case (normalise_header),
# and retries without a trailing bracket ("借方金额(元)", "交易日期[ Transaction Date ]") and
# without English words around the Chinese ("Balance 余额").
FIELD_ALIASES: dict[str, tuple[str, ...]] = {
    "date": (
        "交易日期", "记账日期", "入账日期", "发生日期", "交易日", "记账日", "会计日期", "账务日期",
        "业务日期", "日期", "交易时间", "记账时间", "入账时间", "交易日期时间",
        "date", "transactiondate", "postingdate", "bookingdate",
    ),
    "debit": (
        "借方发生额", "借方发生额(支取)", "借方发生额(支出)", "借方金额", "借方发生数", "借方",
        "支出金额", "支出", "付款金额", "转出金额", "支取金额", "支取", "付出金额", "出账金额",
        "debit", "debitamount", "withdrawal", "withdrawals",
    ),
    "credit": (
        "贷方发生额", "贷方发生额(收入)", "贷方发生额(存入)", "贷方金额", "贷方发生数", "贷方",
        "收入金额", "收入", "收款金额", "转入金额", "存入金额", "存入", "入账金额",
        "credit", "creditamount", "deposit", "deposits",
    ),
    "amount": (
        "交易金额", "发生额", "金额", "交易额", "发生金额", "收支金额",
        "amount", "transactionamount",
    ),
    "direction": (
        "借贷标志", "借贷方向", "借贷标识", "借贷", "借/贷", "收支标志", "收支方向", "收/支", "收支",
        "收付标志", "收付方向", "收/付", "方向", "交易方向", "资金方向", "记账方向", "出入账标志",
        "dr/cr", "d/c", "debit/credit",
    ),
    "balance": (
        "余额", "账户余额", "交易后余额", "本次余额", "账面余额", "联机余额", "当前余额", "可用余额",
        "balance",
    ),
    "counterparty": (
        "对方户名", "对方账户名称", "对方名称", "对方单位", "对方单位名称", "对方账户名", "对方户名称",
        "对方账户户名", "对方客户名称", "对方姓名", "收/付方名称", "收付方名称", "收(付)方名称",
        "交易对手", "交易对手名称", "对手方名称", "counterparty", "counterpartyname",
    ),
    "counterparty_account": (
        "对方账号", "对方账户", "对方卡号", "对方账户账号", "收/付方账号", "收付方账号",
        "收(付)方账号", "对手账号", "交易对手账号", "counterpartyaccount",
    ),
    # Where there is no counterparty column (BOC): the payer for money in, the payee for money out.
    "payer": ("付款人名称", "付款方名称", "付款人户名", "付款人", "付款方"),
    "payer_account": ("付款人账号", "付款方账号", "付款人账户"),
    "payee": ("收款人名称", "收款方名称", "收款人户名", "收款人", "收款方"),
    "payee_account": ("收款人账号", "收款方账号", "收款人账户"),
    # Several may be present (ICBC: 摘要 and 用途); all are kept, joined in this order.
    "summary": (
        "摘要", "交易摘要", "业务摘要", "摘要说明", "用途", "交易用途", "资金用途", "附言", "交易附言",
        "备注", "说明", "交易说明", "附加信息", "description", "narrative", "remarks", "memo",
        "purpose",
    ),
    # The statement's own account, where each row repeats it (ICBC 本方账号, CCB 账号/账户名称).
    "own_account": ("本方账号", "本方账户", "我方账号", "账号", "帐号", "客户账号", "卡号"),
    "own_name": ("本方户名", "本方账户名称", "我方户名", "账户名称", "帐户名称", "户名", "客户名称"),
}
AMOUNT_FIELDS = ("debit", "credit", "amount")
LABELS = {"date": "交易日期", "debit": "借方发生额", "credit": "贷方发生额", "amount": "交易金额"}


def _lookup() -> dict[str, tuple[str, int]]:
    table: dict[str, tuple[str, int]] = {}
    for name, aliases in FIELD_ALIASES.items():
        for priority, alias in enumerate(aliases):
            key = normalise_header(alias)
            if table.setdefault(key, (name, priority))[0] != name:
                raise ValueError(f"header alias {alias!r} names two fields")
    return table


_LOOKUP = _lookup()
_TRAILING_BRACKET = re.compile(r"[(\[【][^()\[\]【】]*[)\]】]$")
_ASCII_AROUND = re.compile(r"^[a-z0-9 /._&-]+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])[a-z0-9 /._&-]+$")


def header_field(cell: str) -> tuple[str, int] | None:
    """(field, priority) for a header cell, or None."""
    key = normalise_header(cell)
    if not key:
        return None
    for candidate in (key, _TRAILING_BRACKET.sub("", key)):
        found = _LOOKUP.get(candidate) or _LOOKUP.get(_ASCII_AROUND.sub("", candidate))
        if found:
            return found
    return None


@dataclass
class Header:
    """The header row: which column holds each field, and the column names as the file shows them."""

    index: int  # position among the rows searched
    line: int
    columns: dict[str, int]
    summary_columns: list[int]
    names: dict[str, str]  # field -> header text as in the file, for messages
    folded: tuple[str, ...] = field(default=())  # the row folded, to spot a repeated header

    @property
    def layout(self) -> str:
        """"split" (debit and credit columns), "flag" (amount and direction), or "signed"."""
        if "debit" in self.columns or "credit" in self.columns:
            if ("debit" in self.columns and "credit" in self.columns) or "amount" not in self.columns:
                return "split"
        return "flag" if "direction" in self.columns else "signed"

    def name(self, name: str) -> str:
        return self.names.get(name) or LABELS.get(name, name)


def header_columns(cells: Sequence[str]) -> tuple[dict[str, int], list[int], dict[str, str]]:
    """Fields found in a row: the best-priority column per field, and every summary column."""
    best: dict[str, tuple[int, int]] = {}
    summaries: list[tuple[int, int]] = []
    for index, cell in enumerate(cells):
        found = header_field(cell) if cell else None
        if found is None:
            continue
        name, priority = found
        if name == "summary":
            summaries.append((priority, index))
        elif name not in best or priority < best[name][0]:
            best[name] = (priority, index)
    columns = {name: index for name, (_, index) in best.items()}
    summary_columns = [index for _, index in sorted(summaries)]
    if summary_columns:
        columns["summary"] = summary_columns[0]
    names = {name: cells[index].strip() for name, index in columns.items()}
    return columns, summary_columns, names


def find_statement_header(rows: Sequence[tuple[int, Sequence[str]]]) -> Header:
    """The first row naming a date column and an amount column (debit, credit or amount).

    Raises ValueError with a Chinese sentence when no row qualifies.
    """
    best: tuple[int, int, dict[str, int]] | None = None
    for index, (line, cells) in enumerate(rows):
        columns, summary_columns, names = header_columns(cells)
        if "date" in columns and any(name in columns for name in AMOUNT_FIELDS):
            folded = tuple(normalise_header(cell) for cell in cells)
            return Header(index, line, columns, summary_columns, names, folded)
        if columns and (best is None or len(columns) > len(best[2])):
            best = (index, line, columns)
    wanted = "交易日期列，以及借方/贷方发生额（收入/支出）列或交易金额列"
    if best is None or len(best[2]) < 2:
        raise ValueError(f"未找到对账单的表头行，表头应包含{wanted}")
    missing = []
    if "date" not in best[2]:
        missing.append("交易日期")
    if not any(name in best[2] for name in AMOUNT_FIELDS):
        missing.append("借方/贷方发生额或交易金额")
    raise ValueError(f"第{best[1]}行的表头缺少必需的列：{'、'.join(missing)}")


# --- direction flags ----------------------------------------------------------------------------

OUT, IN = -1, 1
DIRECTIONS: dict[str, int] = {}
for _words, _sign in (
    ("借 借方 D DR DEBIT 付 付出 付款 支 支出 支取 出 出账 转出 -", OUT),
    ("贷 贷方 C CR CREDIT 收 收入 收款 存 存入 入 入账 转入 +", IN),
):
    for _word in _words.split():
        DIRECTIONS[_word] = _sign


def direction(text: str) -> int | None:
    """OUT, IN, or None when the flag is not a known word."""
    found = DIRECTIONS.get(text)
    if found is None:
        found = DIRECTIONS.get(normalise_header(text).upper())
    return found


# --- rows that are not transactions -------------------------------------------------------------

# Totals, subtotals, carried balances and notes are skipped, not errors; see is_total_or_note.
TOTAL_WORDS = (
    "合计", "总计", "小计", "累计", "笔数", "本页", "期初余额", "期末余额", "上日余额", "上期余额",
    "本期余额", "承前页", "过次页", "承上页", "转下页",
)
NOTE_WORDS = (
    "打印", "制表", "经办", "复核", "审核", "主管", "盖章", "签章", "注：", "注:", "备注：", "说明：",
    "说明:", "以下空白", "温馨提示", "提示：", "数据来源", "本对账单", "此对账单", "仅供参考",
    "查询时间", "导出时间", "生成时间", "汇总", "结转",
)
_PAGE_MARK = re.compile(r"第\s*\d+\s*页|共\s*\d+\s*页|\d+\s*/\s*\d+\s*页")


def is_total_or_note(date_cell: str, first_cell: str) -> bool:
    """A row without a usable date that is a total, subtotal, page mark or note.

    The date cell may say so anywhere (合计, 本页小计); the row's first filled cell may contain a
    total word (借方笔数：3) or start with a note word (打印日期：...). A bad row whose
    counterparty is 某某打印有限公司 is still a bad row.
    """
    date_cell, first_cell = date_cell.strip(), first_cell.strip()
    if any(word in date_cell for word in TOTAL_WORDS + NOTE_WORDS):
        return True
    if any(word in first_cell for word in TOTAL_WORDS):
        return True
    if first_cell.startswith(NOTE_WORDS):
        return True
    return _PAGE_MARK.search(date_cell) is not None or _PAGE_MARK.match(first_cell) is not None


def mentions_total(cells: Sequence[str]) -> bool:
    """A dated row without an amount that is a carried balance or total (期初余额, 本日合计)."""
    text = "".join(cells)
    return any(word in text for word in TOTAL_WORDS + NOTE_WORDS)


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
_ANY_BANK = re.compile(r"[\u4e00-\u9fff]{2,16}?(?:农村商业银行|农商银行|村镇银行|银行)")
_BRANCH = re.compile(r"(?:股份有限公司|有限责任公司|有限公司)?[\u4e00-\u9fff]{0,12}(?:分行|支行|营业部|分理处)$")

INFO_LABELS: dict[str, tuple[str, ...]] = {
    "account_name": (
        "账户名称", "帐户名称", "账户户名", "户名", "账户名", "客户名称", "单位名称", "公司名称",
        "企业名称", "本方户名",
    ),
    "account_no": (
        "账号", "帐号", "账户号码", "账户号", "账户账号", "本方账号", "银行账号", "查询账号", "客户账号",
        "单位账号", "卡号", "账户", "帐户",
    ),
    "bank": ("开户银行", "开户行名称", "开户行", "开户机构", "开户网点", "银行名称"),
}
_LABEL_FIELD = {label: name for name, labels in INFO_LABELS.items() for label in labels}
_LABELS_ALT = "|".join(sorted(map(re.escape, _LABEL_FIELD), key=len, reverse=True))
_INFO_PAIR = re.compile(
    rf"(?:^|(?<=[\s,，;；|/]))(?P<label>{_LABELS_ALT})\s*[:：]\s*"
    r"(?P<value>[^\s:：,，;；|]+(?:[ -](?=\d)[^\s:：,，;；|]+)*)"  # 6222 0202 0001 2345
)


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
    """account_no, account_name and bank from the rows above the header, where they say so.

    Three shapes: "账号：6222…" in one cell (several per cell or row), a label cell followed by
    its value cell, and a row of labels over a row of values.
    """
    found: dict[str, str] = {}
    title_bank = ""
    for number, cells in enumerate(rows):
        labels = {i: _label(cell) for i, cell in enumerate(cells) if _label(cell)}
        if len(labels) >= 2 and number + 1 < len(rows) and not _label_row(rows[number + 1]):
            below = rows[number + 1]
            for index, label in labels.items():
                if index < len(below) and below[index].strip():
                    _keep(found, _LABEL_FIELD[label], below[index])
            continue
        values = [cell.strip() for cell in cells if cell and cell.strip()]
        for position, cell in enumerate(values):
            pairs = [(m["label"], m["value"]) for m in _INFO_PAIR.finditer(cell)]
            label = _label(cell)
            if not pairs and label and position + 1 < len(values) and not _label(values[position + 1]):
                pairs = [(label, values[position + 1])]
            for label, value in pairs:
                _keep(found, _LABEL_FIELD[label], value)
            if not title_bank and not pairs and not label:
                title_bank = bank_name(cell)
    if found.get("bank"):
        found["bank"] = bank_name(found["bank"]) or found["bank"]
    elif title_bank:
        found["bank"] = title_bank
    return found


def _label(cell: str) -> str:
    """The info label a cell is ("账号", "户名：") or ""."""
    text = (cell or "").strip().rstrip(":：").strip()
    return text if text in _LABEL_FIELD else ""


def _label_row(cells: Sequence[str]) -> bool:
    return sum(1 for cell in cells if _label(cell)) >= 2


def _keep(found: dict[str, str], name: str, value: str) -> None:
    value = value.strip().strip("'\"“”")
    if name == "account_no":
        value = re.sub(r"\s+", "", value)
        if sum(char.isdigit() for char in value) < 6:  # 账户：基本存款账户 is not a number
            return
    if value and not found.get(name):
        found[name] = value
