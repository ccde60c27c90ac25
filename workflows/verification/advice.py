"""What the enterprise can do about a verification report: one short sentence per check code and
level (and, where the remedy differs, per cause), in zh and en.

Pure: a report payload (policy.Report.to_dict()) in, sentences out. The report's own reasons say
what was found, with the numbers; this says what to change before resubmitting, once per kind of
problem however many receivables share it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import ROUND_DOWN, Decimal, InvalidOperation
from typing import Any

from workflows.verification.policy import FLAG_ADVICE, HEALTH_CHECKS, RECEIVABLE_CHECKS, yuan

# (code, level, cause) -> (zh, en); cause "" is the usual case. Placeholders come from the
# payload's thresholds ({months}, {min_months}) or from _amount_limit ({limit}).
ADVICE: dict[tuple[str, str, str], tuple[str, str]] = {
    ("R1", "weak", ""): (
        "请通过平台生成的确认链接，请债务人确认待确认的应收账款",
        "Ask the debtor to confirm the pending receivable through the platform's confirmation link",
    ),
    ("R1", "fail", ""): (
        "请先与债务人解决有异议的应收账款，或改用其他应收账款质押",
        "Settle the dispute with the debtor first, or pledge another receivable instead",
    ),
    ("R2", "weak", ""): (
        "请上传能反映债务人向企业付款的银行流水（如其他收款账户的流水）",
        "Upload bank statements that show the debtor's payments to you (for example of another "
        "receiving account)",
    ),
    ("R3", "weak", ""): (  # no history: the same remedy as R2's
        "请上传能反映债务人向企业付款的银行流水（如其他收款账户的流水）",
        "Upload bank statements that show the debtor's payments to you (for example of another "
        "receiving account)",
    ),
    ("R3", "fail", ""): (
        "请改用金额与债务人历史付款规模相当的应收账款，或补充该债务人更多的付款流水",
        "Pledge a receivable in line with what the debtor has paid you before, or upload more of "
        "its payments",
    ),
    ("R4", "weak", ""): (
        "请优先质押开票时间较近的应收账款",
        "Prefer pledging more recent receivables",
    ),
    ("R4", "fail", ""): (
        "请移除已逾期或账龄过长的应收账款，改为质押较新的、未到期的应收账款",
        "Remove past-due or long-outstanding receivables and pledge newer ones that are not yet due",
    ),
    ("R5", "fail", ""): (
        "请移除已在其他申请中质押（或在本清单中重复）的应收账款",
        "Remove the receivable that is pledged elsewhere (or listed twice)",
    ),
    ("R6", "fail", ""): (
        "关联方（企业自身）的应收账款不能质押，请移除",
        "Related-party receivables (owed by the enterprise itself) cannot be pledged: remove them",
    ),
    ("H0", "fail", ""): (
        "请上传至少覆盖{min_months}个月（最好{months}个月）的银行流水",
        "Upload bank statements covering at least {min_months} months (ideally {months})",
    ),
    ("H1", "weak", ""): (
        "请补充其他收款账户的银行流水，使有收入的月份更完整",
        "Upload the statements of your other receiving accounts so that the months with income "
        "are complete",
    ),
    ("H1", "fail", ""): (
        "请补充其他收款账户的银行流水；如确有无收入的月份，请在申请用途中说明原因",
        "Upload the statements of your other receiving accounts; if some months really had no "
        "income, explain why in the purpose",
    ),
    ("H2", "weak", ""): (
        "收入波动较大：请补充其他收款账户的流水，或在申请用途中说明收入的季节性",
        "Income is uneven: upload other receiving accounts' statements, or explain the seasonality "
        "in the purpose",
    ),
    ("H2", "weak", "no_inflow"): (
        "请上传能反映经营收入的银行流水",
        "Upload bank statements that show your business income",
    ),
    ("H3", "weak", ""): (
        "请保持账户日终余额为正，或补充其他账户的流水以显示资金充足",
        "Keep the day-end balance positive, or upload other accounts' statements that show "
        "sufficient funds",
    ),
    ("H3", "weak", "no_balances"): (
        "请上传包含余额列的银行流水",
        "Upload bank statements that include the balance column",
    ),
    ("H3", "fail", ""): (
        "账户多次透支：请说明原因，或补充其他账户的流水以显示资金充足",
        "The account was overdrawn repeatedly: explain why, or upload other accounts' statements "
        "that show sufficient funds",
    ),
    ("H4", "weak", ""): (
        "请降低申请金额（不超过{limit}），或补充其他收款账户的流水",
        "Lower the requested amount (to at most {limit}), or upload other receiving accounts' "
        "statements",
    ),
    ("H4", "fail", ""): (
        "请降低申请金额（不超过{limit}），或补充其他收款账户的流水",
        "Lower the requested amount (to at most {limit}), or upload other receiving accounts' "
        "statements",
    ),
    ("H4", "fail", "no_inflow"): (
        "请上传能反映经营收入的银行流水",
        "Upload bank statements that show your business income",
    ),
    ("H5", "weak", ""): (
        "请增加其他债务人的应收账款，分散质押，降低对单一债务人的集中度",
        "Spread the pledge over more debtors: add receivables owed by other debtors",
    ),
}

_LEVEL_ORDER = ("fail", "weak")
_CODE_ORDER = {code: index for index, code in enumerate(HEALTH_CHECKS + RECEIVABLE_CHECKS)}


def advice_for(payload: Mapping[str, Any], locale: str) -> list[str]:
    """What to do about every weak or failed check of the report, fails first (cash-flow checks
    before receivables, each in code order), then about each kind of red flag; each sentence
    once. Reports stored before red flags existed have none."""
    english = (locale or "").lower().startswith("en")
    keys = [(check.get("code", ""), check.get("level", ""), _cause(check)) for check in _checks(payload)
            if check.get("level") in _LEVEL_ORDER]
    keys.sort(key=lambda key: (_LEVEL_ORDER.index(key[1]), _CODE_ORDER.get(key[0], len(_CODE_ORDER))))
    sentences: list[str] = []
    for key in keys:
        if key not in ADVICE:
            continue
        zh, en = ADVICE[key]
        text = _fill(en if english else zh, payload)
        if text not in sentences:
            sentences.append(text)
    for code in sorted({flag.get("code", "") for flag in payload.get("red_flags") or ()}):
        if code in FLAG_ADVICE:
            sentences.append(FLAG_ADVICE[code][1 if english else 0])
    return sentences


def _checks(payload: Mapping[str, Any]) -> Iterable[Mapping[str, Any]]:
    yield from payload.get("health") or ()
    for receivable in payload.get("receivables") or ():
        yield from receivable.get("checks") or ()


def _cause(check: Mapping[str, Any]) -> str:
    """Where one code and level has remedies that differ by cause, which one this check needs
    (read from the compact value the policy writes)."""
    code, value = check.get("code"), str(check.get("value") or "")
    if code == "H3" and value == "no balances":
        return "no_balances"
    if code == "H2" and (value == "no months covered" or value.startswith(f"mean {yuan(Decimal(0))}")):
        return "no_inflow"
    if code == "H4" and value.endswith(f"/ {yuan(Decimal(0))}"):
        return "no_inflow"
    return ""


def _fill(text: str, payload: Mapping[str, Any]) -> str:
    thresholds = payload.get("thresholds") or {}
    values = {
        "months": thresholds.get("lookback_months", 12),
        "min_months": thresholds.get("h0_min_months", 6),
        "limit": _amount_limit(payload),
    }
    return text.format(**values)


def _amount_limit(payload: Mapping[str, Any]) -> str:
    """The largest requested amount that passes H4: the window's inflow x the ok ratio, in fen
    rounded down (so the figure shown never fails the check it is meant to pass)."""
    try:
        inflow = Decimal(str((payload.get("metrics") or {}).get("inflow_total")))
        ratio = Decimal(str((payload.get("thresholds") or {}).get("h4_ok_ratio", "0.5")))
    except (InvalidOperation, ValueError):
        return "—"
    return yuan((inflow * ratio).quantize(Decimal("0.01"), rounding=ROUND_DOWN))
