"""Demo bank statements: twelve months of an enterprise's account, as the bytes a bank exports.

    transactions(rng, months, payers, profile) -> list[Row]   (with a running balance)
    LAYOUTS[layout](holder, account_no, rows) -> (filename suffix, bytes)

Layouts follow tests/fixtures/statements/make_fixtures.py: ICBC-style GBK CSV with title and
account rows and 借方发生额/贷方发生额; CCB-style UTF-8-BOM CSV with one amount column and
借贷标志; ABC-style XLSX; BOC-style HTML table saved as ".xls"; a plain CSV with a signed
amount; and an ICBC personal debit-card export (卡号, 子账户, 交易金额 and 记账金额 column pairs),
the account an individual business (个体工商户) banks on. Deterministic: every value comes from
the stream passed in, the XLSX has fixed times.
"""

from __future__ import annotations

import csv
import io
import random
import re
import zipfile
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from decimal import Decimal

ZERO = Decimal("0.00")

# How often a debtor pays: the months (0..n-1 of an n-month history) it pays in, drawn from the
# stream. Regular: most months; irregular: 3-5 a year; few: 2 a year; once; none.
PAYMENT_MONTHS = {
    "regular": lambda rng, n: [m for m in range(n) if rng.random() < 0.92],
    "irregular": lambda rng, n: sorted(rng.sample(range(n), max(3, rng.randint(3, 5) * n // 12))),
    "few": lambda rng, n: sorted(rng.sample(range(n), max(2, 2 * n // 12))),
    "once": lambda rng, n: [rng.randrange(n)],
    "none": lambda rng, n: [],
}



@dataclass(frozen=True)
class Profile:
    """Who else pays into and out of an account of this kind, and its monthly fixed costs:
    (payee, summary, share of the monthly payroll or None for a share of the turnover, day)."""

    other_customers: tuple[str, ...]
    suppliers: tuple[str, ...]
    fixed: tuple[tuple[str, str, str, int], ...]  # (payee, summary, basis, day of the month)
    supplier_summaries: tuple[str, ...]
    small_spending: bool = False  # a person's card: everyday card payments beside the business


PROFILES = {
    # a company's basic account (基本存款账户)
    "company": Profile(
        other_customers=("苏州瑞丰机电设备有限公司", "常州恒远贸易有限公司", "无锡新达工业技术有限公司",
                         "南通德胜实业有限公司", "嘉兴华通商贸有限公司"),
        suppliers=("江苏沙钢集团淮钢特钢股份有限公司", "苏州金宏气体股份有限公司", "常州瑞信包装材料有限公司",
                   "无锡华新电子科技有限公司", "杭州信达新材料有限公司", "南京华泰物流有限公司"),
        fixed=(("本单位代发工资户", "工资", "payroll", 10), ("苏州市社会保险基金管理中心", "社保", "social", 15),
               ("苏州市住房公积金管理中心", "公积金", "fund", 15), ("国家金库苏州市中心支库", "税款", "tax", 15),
               ("国网江苏省电力有限公司苏州供电分公司", "电费", "power", 20)),
        supplier_summaries=("支付货款", "采购款", "材料款", "运费"),
    ),
    # the operator's personal debit card an individual business banks on: customers' transfers,
    # materials, wages paid person to person, the workshop's rent and power, and daily life
    "personal": Profile(
        other_customers=("苏州市吴中区木渎宏发机械配件厂", "苏州捷达精工科技有限公司", "沈建华", "昆山锐丰五金制品有限公司"),
        suppliers=("苏州市吴中区胥口镇金鑫金属材料经营部", "苏州锐克刀具有限公司", "吴江区松陵永兴钢材经营部",
                   "苏州润滑油销售有限公司"),
        fixed=(("周小兵", "转账-工资", "payroll", 10), ("李国庆", "转账-工资", "payroll", 10),
               ("苏州市吴中区胥口镇新峰村股份经济合作社", "厂房租金", "rent", 5),
               ("国网江苏省电力有限公司苏州供电分公司", "电费", "power", 20),
               ("国家税务总局苏州市吴中区税务局", "个体定额税", "tax", 15)),
        supplier_summaries=("转账", "材料款", "网银转账", "货款"),
        small_spending=True,
    ),
}
EVERYDAY = (("财付通-微信支付", "消费"), ("支付宝-消费", "消费"), ("中国石化苏州分公司", "POS消费"),
            ("苏州市吴中区胥口镇华联超市", "POS消费"), ("中国移动苏州分公司", "话费"))


@dataclass(frozen=True)
class Row:
    moment: datetime
    amount: Decimal  # positive in, negative out
    party: str
    party_account: str
    summary: str
    balance: Decimal = ZERO


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    """Between `low` and `high` yuan, with cents."""
    return Decimal(rng.randint(low * 100, high * 100)) / 100


def _account(rng: random.Random) -> str:
    return rng.choice(("6222", "3200", "3205", "1102")) + "".join(str(rng.randrange(10)) for _ in range(15))


def _at(rng: random.Random, day: date) -> datetime:
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return datetime(day.year, day.month, day.day, rng.randint(8, 17), rng.randint(0, 59), rng.randint(0, 59))


def month_starts(last_month: date, count: int = 12) -> list[date]:
    """The first days of the `count` months ending with `last_month`'s month."""
    y, m = last_month.year, last_month.month
    months = []
    for _ in range(count):
        months.append(date(y, m, 1))
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return months[::-1]


def transactions(rng: random.Random, months: list[date], payers: list[tuple[str, str]], scale: int,
                 overdraft: bool = False, profile: str = "company") -> list[Row]:
    """The account over `months`: `payers` are (debtor name, PAYMENT_MONTHS key); `scale` is the
    monthly turnover in yuan; `profile` a key of PROFILES. Ends with a running balance that never
    goes below zero, except, with `overdraft`, for a few days in the eighth month."""
    kind = PROFILES[profile]
    accounts = {name: _account(rng) for name in [p for p, _ in payers] + [*kind.other_customers, *kind.suppliers]}
    paying = [(name, set(PAYMENT_MONTHS[how](rng, len(months)))) for name, how in payers]
    rows: list[Row] = []
    for index, first in enumerate(months):
        days = ((first.replace(day=28) + timedelta(days=4)).replace(day=1) - first).days

        def day(low: int, high: int, first=first, days=days) -> date:
            return first + timedelta(days=min(rng.randint(low, high), days) - 1)

        for name, when in paying:
            if index in when:
                for _ in range(rng.choice((1, 1, 2))):
                    rows.append(Row(_at(rng, day(3, 27)), _money(rng, scale // 12, scale // 4), name, accounts[name],
                                    rng.choice(("货款", "货款", "支付货款", "应付账款结算"))))
        for _ in range(rng.randint(2, 5)):
            name = rng.choice(kind.other_customers)
            rows.append(Row(_at(rng, day(1, 28)), _money(rng, scale // 40, scale // 10), name, accounts[name], "货款"))
        income = sum((r.amount for r in rows if r.moment.date() >= first and r.amount > 0), ZERO)
        payroll = _money(rng, scale // 8, scale // 6)
        basis = {"payroll": payroll, "social": payroll * Decimal("0.32"), "fund": payroll * Decimal("0.1"),
                 "tax": _money(rng, scale // 40, scale // 15) if profile == "company" else _money(rng, 300, 900),
                 "power": _money(rng, scale // 200, scale // 80), "rent": Decimal("8500.00")}
        if profile == "personal":  # two workers paid person to person
            basis["payroll"] = _money(rng, 6500, 9800)
        fixed = [(party, summary, basis[what], on) for party, summary, what, on in kind.fixed]
        for party, summary, amount, on in fixed:
            rows.append(Row(_at(rng, day(on, on + 2)), -amount.quantize(Decimal("0.01")), party, "", summary))
        spent = sum(amount for _party, _summary, amount, _on in fixed)
        budget = max(Decimal(scale) * Decimal("0.2"), income * Decimal(str(rng.uniform(0.75, 1.0))) - spent)
        while budget > 0:
            amount = min(budget, _money(rng, scale // 30, scale // 6))
            name = rng.choice(kind.suppliers)
            rows.append(Row(_at(rng, day(1, 28)), -amount.quantize(Decimal("0.01")), name, accounts[name],
                            rng.choice(kind.supplier_summaries)))
            budget -= amount
        if kind.small_spending:
            for _ in range(rng.randint(3, 8)):
                party, summary = rng.choice(EVERYDAY)
                rows.append(Row(_at(rng, day(1, 28)), -_money(rng, 20, 800), party, "", summary))
        rows.append(Row(_at(rng, day(21, 21)), _money(rng, 5, 400), "", "", "利息"))
        rows.append(Row(_at(rng, day(25, 28)), -_money(rng, 10, 80), "", "", "手续费"))
    end = (months[-1].replace(day=28) + timedelta(days=4)).replace(day=1)
    rows = [r for r in rows if r.moment.date() < end]
    rows.sort(key=lambda r: r.moment)
    running, low = ZERO, ZERO
    for row in rows:
        running += row.amount
        low = min(low, running)
    opening = -low + _money(rng, scale // 10, scale // 4)
    if overdraft:  # equipment paid a few days before a short loan came in
        at = next(i for i, r in enumerate(rows) if r.moment.date() >= months[7] + timedelta(days=3))
        before = opening + sum((r.amount for r in rows[:at]), ZERO)
        paid = rows[at].moment - timedelta(minutes=30)
        out = before + _money(rng, scale // 12, scale // 6)
        supplier = kind.suppliers[0]
        rows.insert(at, Row(paid, -out, supplier, accounts[supplier], "设备款"))
        rows.append(Row(paid + timedelta(days=4, hours=1), out + _money(rng, 50_000, 100_000), "中国工商银行苏州分行",
                        "", "流动资金贷款放款"))
        rows.sort(key=lambda r: r.moment)
    balance, result = opening, []
    for row in rows:
        balance += row.amount
        result.append(replace(row, balance=balance))
    return result


def period(rows: list[Row], first: date, last: date) -> list[Row]:
    """The rows dated from `first` to `last` inclusive: one export of a longer account history."""
    return [r for r in rows if first <= r.moment.date() <= last]


def _amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _csv(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def icbc_csv(holder: str, account_no: str, rows: list[Row]) -> tuple[str, bytes]:
    """GBK CSV: title and account rows, 借方发生额/贷方发生额, thousands separators, a totals row."""
    debit = sum((-r.amount for r in rows if r.amount < 0), ZERO)
    credit = sum((r.amount for r in rows if r.amount > 0), ZERO)
    lines = [["中国工商银行 对账单"], [f"账号：{account_no}", f"户名：{holder}", "币种：人民币"],
             [f"起止日期：{rows[0].moment:%Y-%m-%d}至{rows[-1].moment:%Y-%m-%d}"],
             ["交易日期", "凭证号", "对方户名", "对方账号", "摘要", "借方发生额", "贷方发生额", "余额"]]
    for n, r in enumerate(rows, 1):
        lines.append([f"{r.moment:%Y-%m-%d %H:%M:%S}", f"{n:06d}", r.party, r.party_account, r.summary,
                      _amount(-r.amount) if r.amount < 0 else "", _amount(r.amount) if r.amount > 0 else "",
                      _amount(r.balance)])
    lines.append(["合计", "", "", "", "", _amount(debit), _amount(credit), ""])
    return ".csv", _csv(lines).encode("gbk")


def ccb_csv(holder: str, account_no: str, rows: list[Row]) -> tuple[str, bytes]:
    """UTF-8 with BOM: one amount column and 借贷标志, the own account repeated on every row."""
    lines = [["账号", "账户名称", "交易时间", "交易金额", "借贷标志", "余额", "对方户名", "对方账号", "摘要"]]
    for r in rows:
        lines.append([account_no, holder, f"{r.moment:%Y%m%d %H:%M:%S}", _amount(abs(r.amount)),
                      "贷" if r.amount > 0 else "借", _amount(r.balance), r.party, r.party_account, r.summary])
    return ".csv", ("\ufeff" + _csv(lines)).encode("utf-8")


def signed_csv(holder: str, account_no: str, rows: list[Row]) -> tuple[str, bytes]:
    """UTF-8 without BOM or holder: a signed amount column (a small bank's online export)."""
    lines = [["日期", "交易金额", "余额", "对方名称", "用途"]]
    for r in rows:
        lines.append([f"{r.moment:%Y/%m/%d}", f"{r.amount:+.2f}", f"{r.balance:.2f}", r.party, r.summary])
    return ".csv", _csv(lines).encode("utf-8")


FIXED_ZIP_TIME = (2026, 1, 1, 0, 0, 0)


def _pinned(name: str, archive: zipfile.ZipFile) -> bytes:
    """A member's bytes, with the save time openpyxl stamps into docProps/core.xml pinned."""
    data = archive.read(name)
    if name == "docProps/core.xml":
        stamp = datetime(*FIXED_ZIP_TIME).strftime("%Y-%m-%dT%H:%M:%SZ").encode()
        data = re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(<)", rb"\g<1>" + stamp + rb"\g<2>", data)
    return data


def abc_xlsx(holder: str, account_no: str, rows: list[Row]) -> tuple[str, bytes]:
    """XLSX: account rows above the header, date cells, numeric amounts; fixed zip times."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.title = "账户明细"
    sheet.append(["中国农业银行 账户交易明细"])
    sheet.append(["账户名称", holder])
    sheet.append(["账号", account_no])
    sheet.append([])
    sheet.append(["交易日期", "收入金额", "支出金额", "本次余额", "对方户名", "对方账号", "交易用途"])
    for r in rows:
        sheet.append([r.moment, r.amount if r.amount > 0 else None,  # openpyxl writes Decimal exactly
                      -r.amount if r.amount < 0 else None, r.balance, r.party, r.party_account,
                      r.summary])
        sheet.cell(sheet.max_row, 1).number_format = "yyyy-mm-dd hh:mm:ss"
        for column in (2, 3, 4):
            sheet.cell(sheet.max_row, column).number_format = "#,##0.00"
        sheet.cell(sheet.max_row, 6).number_format = "@"
    book.properties.created = book.properties.modified = datetime(*FIXED_ZIP_TIME)
    raw = io.BytesIO()
    book.save(raw)
    fixed = io.BytesIO()
    with zipfile.ZipFile(raw) as source, zipfile.ZipFile(fixed, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            target.writestr(zipfile.ZipInfo(info.filename, FIXED_ZIP_TIME), _pinned(info.filename, source),
                            zipfile.ZIP_DEFLATED)
    return ".xlsx", fixed.getvalue()


def boc_html(holder: str, account_no: str, rows: list[Row]) -> tuple[str, bytes]:
    """An ".xls" that is an HTML table (GBK): signed amounts with payer and payee columns."""
    header = ["交易日期[ Transaction Date ]", "交易时间[ Transaction time ]", "交易金额[ Trade Amount ]",
              "交易后余额[ After-transaction balance ]", "付款人名称[ Payer's Name ]",
              "付款人账号[ Payer's Account Number ]", "收款人名称[ Payee's Name ]",
              "收款人账号[ Payee's Account Number ]", "摘要[ Reference ]"]
    own = (holder, account_no)

    def tr(cells, tag="td"):
        return "<tr>" + "".join(f"<{tag}>{cell}</{tag}>" for cell in cells) + "</tr>"

    body = []
    for r in rows:
        other = (r.party, r.party_account)
        parties = (*other, *own) if r.amount > 0 else (*own, *other)
        body.append(tr((f"{r.moment:%Y%m%d}", f"{r.moment:%H:%M:%S}", _amount(r.amount), _amount(r.balance),
                        *parties, r.summary)))
    html = "\n".join([
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gbk"></head><body>',
        "<table border=1>",
        '<tr><td colspan="9">中国银行交易流水明细清单</td></tr>',
        f"<tr><td>账号：</td><td style=\"mso-number-format:'\\@'\">{account_no}</td><td>户名：</td>"
        f"<td>{holder}</td></tr>",
        tr(header, "th"), *body, "</table></body></html>",
    ])
    return ".xls", html.encode("gbk")


def icbc_personal_csv(holder: str, account_no: str, rows: list[Row]) -> tuple[str, bytes]:
    """GBK CSV of a personal debit card's history (ICBC style): 卡号 and 户名 on one line, 子账户
    below, then income and expense in a 记账金额 (posted) column pair, the 交易金额 (original
    currency) pair holding only `-` (the card is in yuan, nothing was converted); a disclaimer
    under the table."""
    header = ["交易日期", "摘要", "交易场所", "交易国家或地区简称", "钞/汇", "交易金额(收入)", "交易金额(支出)",
              "交易币种", "记账金额(收入)", "记账金额(支出)", "记账币种", "余额", "对方户名", "对方账户"]
    lines = [["中国工商银行借记卡账户历史明细"], [f"卡号：{account_no}", f"户名：{holder}"],
             ["子账户：00000", "子账户类别：活期", "币种：人民币", "钞汇标志：钞"],
             [f"起止日期：{rows[0].moment:%Y-%m-%d} 至 {rows[-1].moment:%Y-%m-%d}"], header]
    for r in rows:
        place = "网上银行" if r.party_account or not r.party else "银联入网机构"
        lines.append([f"{r.moment:%Y-%m-%d}", r.summary, place, "CHN", "钞", "-", "-", "-",
                      _amount(r.amount) if r.amount > 0 else "", _amount(-r.amount) if r.amount < 0 else "",
                      "人民币", _amount(r.balance), r.party, r.party_account])
    lines.append(["以上数据仅供参考，具体以账户的实际交易为准。"])
    return ".csv", _csv(lines).encode("gbk")


# layout -> (bank's short name for the file name, writer)
LAYOUTS = {
    "icbc": ("工商银行对账单", icbc_csv),
    "ccb": ("建设银行账户明细", ccb_csv),
    "abc": ("农业银行交易明细", abc_xlsx),
    "boc": ("中国银行交易流水", boc_html),
    "signed": ("网银流水导出", signed_csv),
    "icbc_personal": ("工商银行借记卡明细", icbc_personal_csv),
}
