"""`flask --app wsgi verify offline ...`: the asset-quality policy on files, no database.

A stable interface checked from outside the project; keep its shape:

    flask --app wsgi verify offline --statement FILE [--statement FILE ...] --receivables FILE \
        --enterprise-name NAME --enterprise-uscc CODE --amount YUAN --as-of YYYY-MM-DD --json

prints one JSON object, workflows.verification.policy.Report.to_dict(): `classification`
(excellent | mixed | poor), `policy_version`, `receivables` (each with `invoice_no`,
`debtor_name`, `grade` 优 | 良 | 差 and `checks`), `health` (H0-H5), each check with `code`,
`level` (ok | weak | fail), `value`, `reason_zh`, `reason_en`; `red_flags` (F1-F4 found, each
with `code`, `level` high | medium, `numbers`, `reason_zh`, `reason_en`; an empty list when
none); and more keys (thresholds, reasons_zh/reasons_en, metrics, inputs with the files' sha256).
--related-party NAME (optional, repeatable) names a related party (the legal representative, a
sister company): its money is not counted as a debtor's payment (red flag F2). Without --json a short Chinese
summary is printed instead. Output is UTF-8 whatever the locale says.

Exit status:
- 0: a report was printed, whatever its class.
- 1: an input file cannot be used: a statement rejected by the parser, a statement whose account
  holder (where the file names one) is not the enterprise, a receivables file with bad rows (an
  issue date after --as-of included). With --json one object {"errors": [{"file", "line",
  "reason"}]} is printed (line 0: the file as a whole); every file is checked before exiting.
- 2: a bad option value (--amount not a positive amount with at most 2 decimals, --as-of not a
  date, --enterprise-uscc not a valid 18-character code, a file that does not exist): click's
  usage error on stderr, nothing on stdout.

R5 offline: the same debtor and invoice number on two rows of the receivables file is not a file
error here (the bulk import refuses it); both rows are verified and fail R5, naming each other.

R1 offline: the file's 确认状态 is taken as given (source "file"): whoever runs the command vouches
for the file. The platform's import, by contrast, keeps it as the enterprise's declaration only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import click

# A plain click group, not an AppGroup: its commands need no app, so they run without building
# one. Registered as a `flask.commands` entry point (pyproject.toml), which flask finds before it
# would load `--app wsgi`: the start-up is flask's alone (docs/performance.md, "Start-up").
verify_cli = click.Group("verify", help="Cash-flow verification (asset-quality policy).")


def _amount(ctx, param, value: str) -> Decimal:
    from workflows.identifiers import parse_money

    try:
        amount = parse_money(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if amount <= 0:
        raise click.BadParameter(f"申请金额必须大于0，实际为{amount}")
    return amount


def _as_of(ctx, param, value: str) -> date:
    from workflows.identifiers import parse_date

    try:
        return parse_date(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None


def _uscc(ctx, param, value: str) -> str:
    from workflows.identifiers import normalise_uscc, uscc_problem

    problem = uscc_problem(value)
    if problem:
        raise click.BadParameter(problem)
    return normalise_uscc(value)


def _name(ctx, param, value: str) -> str:
    if not value.strip():
        raise click.BadParameter("企业名称不能为空")
    return value.strip()


_FILE = click.Path(exists=True, dir_okay=False, path_type=Path)


@verify_cli.command("offline")
@click.option("--statement", "statements", type=_FILE, multiple=True, required=True,
              help="A bank statement file (CSV, XLSX, XLS, HTML .xls); repeat for several.")
@click.option("--receivables", type=_FILE, required=True,
              help="The receivables file (the bulk-import template).")
@click.option("--enterprise-name", required=True, callback=_name, help="The enterprise's name.")
@click.option("--enterprise-uscc", required=True, callback=_uscc,
              help="The enterprise's unified social credit code.")
@click.option("--amount", required=True, callback=_amount, help="Requested amount in yuan.")
@click.option("--as-of", "as_of", required=True, callback=_as_of, help="YYYY-MM-DD.")
@click.option("--related-party", "related", multiple=True,
              help="A related party's name (legal representative, sister company); repeat for several.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (stable shape).")
def offline_command(statements: tuple[Path, ...], receivables: Path, enterprise_name: str,
                    enterprise_uscc: str, amount: Decimal, as_of: date, related: tuple[str, ...],
                    as_json: bool) -> None:
    """Verify a request from files: grade the receivables, judge the cash flow, classify."""
    report, errors = run_offline(statements, receivables, enterprise_name, enterprise_uscc,
                                 amount, as_of, related_parties=related)
    if errors:
        if as_json:
            _echo(json.dumps({"errors": errors}, ensure_ascii=False, separators=(",", ":")))
        else:
            for error in errors:
                where = f"{error['file']} 第{error['line']}行" if error["line"] else error["file"]
                click.echo(f"{where}：{error['reason']}".encode(), err=True)
        raise SystemExit(1)
    if as_json:
        _echo(json.dumps(report, ensure_ascii=False, separators=(",", ":")))
    else:
        _echo(human_summary(report))


def _echo(text: str) -> None:
    click.echo(text.encode("utf-8"))  # bytes: UTF-8 whatever the locale says


def run_offline(statement_files, receivables_file: Path, enterprise_name: str,
                enterprise_uscc: str, amount: Decimal, as_of: date,
                related_parties: tuple[str, ...] = ()) -> tuple[dict | None, list]:
    """The report as a JSON-ready dict, or None and every file problem."""
    from workflows.verification.policy import EnterpriseInput, VerificationInputError, verify

    errors: list[dict] = []
    statements, hashes = [], []
    for path in statement_files:
        data = path.read_bytes()
        hashes.append(hashlib.sha256(data).hexdigest())
        statement, problems = _read_statement(data, path.name, enterprise_name)
        errors.extend(problems)
        statements.append(statement)
    data = receivables_file.read_bytes()
    rows, problems = _read_receivables(data, receivables_file.name, as_of)
    errors.extend(problems)
    if errors:
        return None, errors
    try:
        report = verify(
            enterprise=EnterpriseInput(enterprise_name, enterprise_uscc,
                                       tuple(n.strip() for n in related_parties if n.strip())),
            receivables=rows,
            statements=statements,
            requested_amount=amount,
            as_of=as_of,
            statement_sha256s=hashes,
            receivables_sha256=hashlib.sha256(data).hexdigest(),
        )
    except VerificationInputError as exc:
        return None, [_error("", 0, problem) for problem in exc.problems]
    return report.to_dict(), []


def _error(filename: str, line: int, reason: str) -> dict:
    return {"file": filename, "line": line, "reason": reason}


def _read_statement(data: bytes, filename: str, enterprise_name: str):
    from workflows.identifiers import normalise_name
    from workflows.verification.statements import parse_statement

    statement = parse_statement(data, filename)
    if statement.errors:
        return statement, [_error(filename, e.line, e.reason) for e in statement.errors]
    if not statement.transactions:
        return statement, [_error(filename, 0, "文件中没有交易记录")]
    holder = (statement.account_name or "").strip()
    if holder and normalise_name(holder) != normalise_name(enterprise_name):
        return statement, [_error(
            filename, 0,
            f"流水的账户户名“{holder}”与企业名称“{enterprise_name}”不一致，不能作为该企业的流水核验",
        )]
    return statement, []


def _read_receivables(data: bytes, filename: str, as_of: date):
    """The file's rows, or its problems. Repeated debtor + invoice rows are kept (R5 judges)."""
    from workflows.receivables_file import parse_receivables
    from workflows.tabular import TableError

    try:
        rows, row_errors = parse_receivables(data, filename, today=as_of, allow_repeats=True)
    except TableError as exc:
        return [], [_error(filename, 0, str(exc))]
    if row_errors:
        return [], [_error(filename, e.line, e.reason) for e in row_errors]
    return [_vouched_for(row) for row in rows], []


def _vouched_for(row):
    """The row with its stated answer taken as the debtor's (source "file"; none when pending)."""
    from workflows.verification.policy import ReceivableInput

    item = ReceivableInput.of(row)
    source = "file" if item.confirmation != "pending" else ""
    return replace(item, confirmation_source=source)


_LEVEL_ZH = {"ok": "正常", "weak": "关注", "fail": "未通过"}
_FLAG_LEVEL_ZH = {"high": "高", "medium": "中"}


def human_summary(report: dict) -> str:
    """A short Chinese summary for people."""
    lines = [
        f"核验结论：{report['classification_zh']}（{report['classification']}），"
        f"策略版本{report['policy_version']}，核验日期{report['as_of']}",
        f"申请金额{report['requested_amount']}元，质押应收账款{report['pledged_amount']}元",
        "",
        "应收账款：",
    ]
    for item in report["receivables"]:
        lines.append(f"  发票{item['invoice_no']}  {item['debtor_name']}  {item['amount']}元  "
                     f"评级{item['grade']}")
        for check in item["checks"]:
            if check["level"] != "ok":
                lines.append(f"    {check['code']} {_LEVEL_ZH[check['level']]}：{check['reason_zh']}")
    lines += ["", "现金流："]
    for check in report["health"]:
        lines.append(f"  {check['code']} {_LEVEL_ZH[check['level']]}：{check['reason_zh']}")
    flags = report.get("red_flags") or []
    lines += ["", f"资金流向红旗：{len(flags)}项" if flags else "资金流向红旗：无"]
    lines += [f"  {flag['code']} {_FLAG_LEVEL_ZH.get(flag['level'], flag['level'])}：{flag['reason_zh']}"
              for flag in flags]
    lines += ["", "说明："]
    lines += [f"  - {reason}" for reason in report["reasons_zh"]]
    return "\n".join(lines)
