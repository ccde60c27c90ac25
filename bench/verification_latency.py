"""Benchmark: the latency of verifying a typical request (issue 4, item 10, second half).

Run from the project root:  .venv/bin/python bench/verification_latency.py [--runs N] [--cli-runs N]

A typical request: 12 months of one account's statement, about 5,000 rows (about 415 a month:
10 debtors paying several times a month, some 60 other customers, suppliers, wages, fees), 10
receivables on those debtors, as-of 2026-01-01. Target: under 0.5 s. Measured:

1. verify() alone on parsed transactions (the engine: R1-R6, H0-H5, class, reasons), and
   Report.to_dict() with it, warm, in one process;
2. the CLI's work in-process: reading both files (parse_statement, parse_receivables), verify(),
   JSON, as `run_offline()` does it, without the interpreter and app start;
3. the whole CLI as a separate process:
       .venv/bin/flask --app wsgi verify offline --statement S --receivables R
           --enterprise-name N --enterprise-uscc C --amount 3000000 --as-of 2026-01-01 --json
   and, for reference, the app start alone (`flask --app wsgi verify --help`).

Median and p95 (nearest rank) of the runs; the data are random but seeded.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import timed  # noqa: E402
from workflows.identifiers import uscc_check_char  # noqa: E402
from workflows.verification.model import Transaction  # noqa: E402
from workflows.verification.policy import EnterpriseInput, ReceivableInput, verify  # noqa: E402

SEED = 20261122
TARGET_SECONDS = 0.5
AS_OF = date(2026, 1, 1)
ENTERPRISE = "苏州恒信精密机械有限公司"
ACCOUNT_NO = "1102020109000123456"
REQUESTED = Decimal("3000000.00")
DEBTOR_NAMES = [
    "上海华东电气（集团）有限公司", "无锡新拓汽车零部件有限公司", "常州天合光电科技有限公司",
    "南京江宁智能装备股份有限公司", "杭州远洋物流有限公司", "宁波港城五金制品有限公司",
    "昆山精诚模具有限公司", "张家港华鑫新材料有限公司", "常熟森达纺织有限公司", "南通海星化工有限公司",
]
HEADER = "交易日期,交易时间,摘要,对方户名,对方账号,借方发生额,贷方发生额,余额,备注"


def uscc(body: str) -> str:
    return body + uscc_check_char(body)


ENTERPRISE_USCC = uscc("91320505MA1N2K3A4")
DEBTOR_USCCS = [uscc(f"9131000{i}MA1K0000{i}") for i in range(10)]


def make_transactions(seed: int = SEED, target_rows: int = 5000) -> list[Transaction]:
    """One account over 2025: debtors, other customers, suppliers, wages and fees."""
    rng = random.Random(seed)
    customers = [f"{rng.choice(['苏州', '无锡', '上海', '嘉兴'])}客户{i:03d}有限公司" for i in range(60)]
    suppliers = [f"苏州供应商{i:03d}有限公司" for i in range(80)]
    per_month = target_rows // 12 + 1
    balance = Decimal("800000.00")
    rows: list[Transaction] = []
    line = 5
    for month in range(1, 13):
        days = [date(2025, month, d) for d in range(1, 29)]
        month_rows = []
        for debtor in DEBTOR_NAMES:  # each debtor pays 2-4 times a month
            for _ in range(rng.randint(2, 4)):
                month_rows.append((rng.choice(days), Decimal(rng.randint(20_000, 90_000)), debtor))
        while len(month_rows) < per_month:
            roll = rng.random()
            if roll < 0.35:
                month_rows.append((rng.choice(days), Decimal(rng.randint(500, 40_000)), rng.choice(customers)))
            elif roll < 0.95:
                month_rows.append((rng.choice(days), -Decimal(rng.randint(300, 30_000)), rng.choice(suppliers)))
            else:
                month_rows.append((rng.choice(days), -Decimal(rng.randint(5, 50)), "银行手续费"))
        month_rows.sort(key=lambda item: item[0])
        for day, amount, counterparty in month_rows:
            balance += amount
            rows.append(Transaction(line=line, date=day, amount=amount.quantize(Decimal("0.01")),
                                    balance=balance.quantize(Decimal("0.01")), counterparty=counterparty,
                                    counterparty_account="6222" + str(abs(hash(counterparty)) % 10**12),
                                    summary="货款" if amount > 0 else "付款"))
            line += 1
    return rows


def make_receivables() -> list[ReceivableInput]:
    items = []
    for i, (name, code) in enumerate(zip(DEBTOR_NAMES, DEBTOR_USCCS, strict=True)):
        items.append(ReceivableInput(
            invoice_no=f"2432000000000{i:07d}", debtor_name=name, debtor_uscc=code,
            amount=Decimal(100_000 + 25_000 * i), issue_date=AS_OF - timedelta(days=20 + 9 * i),
            due_date=AS_OF + timedelta(days=90), confirmation="confirmed" if i % 4 else "pending",
            line=i + 2))
    return items


def write_files(folder: Path, transactions: list[Transaction]) -> tuple[Path, Path]:
    statement = folder / "statement.csv"
    lines = ["中国工商银行对公账户明细", f"账号：{ACCOUNT_NO}", f"户名：{ENTERPRISE}", HEADER]
    for t in transactions:
        debit, credit = (f"{-t.amount:.2f}", "") if t.amount < 0 else ("", f"{t.amount:.2f}")
        lines.append(f"{t.date:%Y-%m-%d},10:{t.line % 60:02d}:00,{t.summary},{t.counterparty},"
                     f"{t.counterparty_account},{debit},{credit},{t.balance:.2f},")
    lines.append("合计,,,,,,,,")
    statement.write_bytes(("\r\n".join(lines) + "\r\n").encode("gb18030"))
    receivables = folder / "receivables.csv"
    rows = ["债务人名称,债务人统一社会信用代码,发票号码,合同编号,金额,开票日期,到期日,确认状态"]
    states = {"confirmed": "已确认", "pending": "待确认"}
    for r in make_receivables():
        rows.append(f"{r.debtor_name},{r.debtor_uscc},{r.invoice_no},HT-{r.line},{r.amount:.2f},"
                    f"{r.issue_date},{r.due_date},{states[r.confirmation]}")
    receivables.write_bytes(("\ufeff" + "\r\n".join(rows) + "\r\n").encode("utf-8"))
    return statement, receivables


def cli_args(statement: Path, receivables: Path) -> list[str]:
    return ["--statement", str(statement), "--receivables", str(receivables),
            "--enterprise-name", ENTERPRISE, "--enterprise-uscc", ENTERPRISE_USCC,
            "--amount", str(REQUESTED), "--as-of", AS_OF.isoformat(), "--json"]


# --- timing -------------------------------------------------------------------------------------


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def machine() -> str:
    model = "unknown CPU"
    try:
        for text in Path("/proc/cpuinfo").read_text().splitlines():
            if text.startswith("model name"):
                model = text.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return (f"{platform.platform()}; {model}; {os.cpu_count()} cores; Python "
            f"{platform.python_version()}; load average {load:.2f}")


def row(label: str, times: list[float]) -> str:
    median = statistics.median(times)
    verdict = "met" if median < TARGET_SECONDS else "missed"
    return (f"| {label} | {median * 1000:.1f} ms | {p95(times) * 1000:.1f} ms | {len(times)} | "
            f"< {TARGET_SECONDS * 1000:.0f} ms: **{verdict}** |")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30, help="runs of the in-process measures")
    parser.add_argument("--cli-runs", type=int, default=7, help="runs of the whole CLI process")
    args = parser.parse_args(argv)

    transactions = make_transactions()
    receivables = make_receivables()
    enterprise = EnterpriseInput(ENTERPRISE, ENTERPRISE_USCC)

    def engine():
        return verify(enterprise=enterprise, receivables=receivables, statements=[transactions],
                      requested_amount=REQUESTED, as_of=AS_OF)

    report = engine()
    grades = "".join(r.grade for r in report.receivables)
    health = " ".join(f"{c.code}={c.level}" for c in report.health)
    print(f"machine   {machine()}")
    print(f"data      {len(transactions)} statement rows over 12 months, {len(receivables)} "
          f"receivables; class {report.classification}; grades {grades}; {health}")

    results = {"verify()": timed(engine, args.runs, warmup=1),
               "verify() + to_dict() + JSON": timed(
                   lambda: json.dumps(engine().to_dict(), ensure_ascii=False), args.runs, warmup=1)}

    with tempfile.TemporaryDirectory() as folder:
        statement, receivables_file = write_files(Path(folder), transactions)
        from marketplace.verification.cli import run_offline

        def in_process():
            report, errors = run_offline([statement], receivables_file, ENTERPRISE,
                                         ENTERPRISE_USCC, REQUESTED, AS_OF)
            assert not errors, errors
            return json.dumps(report, ensure_ascii=False)

        same = json.loads(in_process())
        assert same["classification"] == report.classification, (same["classification"], report)
        results["files in-process: parse both + verify + JSON"] = timed(in_process, args.runs, warmup=1)

        flask = str(ROOT / ".venv" / "bin" / "flask")
        command = [flask, "--app", "wsgi", "verify", "offline", *cli_args(statement, receivables_file)]
        start_only = [flask, "--app", "wsgi", "verify", "--help"]

        def process(cmd):
            def go():
                done = subprocess.run(cmd, cwd=ROOT, capture_output=True)
                if done.returncode:
                    raise SystemExit(done.stderr.decode() or done.stdout.decode())
            return go

        results["whole CLI process (`flask --app wsgi verify offline ... --json`)"] = timed(
            process(command), args.cli_runs, warmup=1)
        results["app start alone (`flask --app wsgi verify --help`)"] = timed(
            process(start_only), args.cli_runs, warmup=1)

    print()
    print("| measure | median | p95 | runs | target |")
    print("|---|---|---|---|---|")
    for label, times in results.items():
        print(row(label, times))


if __name__ == "__main__":
    main()
