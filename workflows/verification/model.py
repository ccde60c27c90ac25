"""Plain records shared by the statement parser and the asset-quality policy."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal


@dataclass(frozen=True)
class Transaction:
    """One normalised statement row. On the customer's statement 贷方 (credit) is money in:
    `amount` is positive for money in and negative for money out, in yuan with 2 decimals."""

    line: int  # as the file shows it (1-based), for messages
    date: date
    amount: Decimal
    balance: Decimal | None = None
    counterparty: str = ""
    counterparty_account: str = ""
    summary: str = ""


@dataclass(frozen=True)
class ParseError:
    line: int  # 0 when the problem is the file as a whole
    reason: str  # Chinese, names the column and what is wrong


@dataclass
class Statement:
    """A parsed statement file: its transactions (when accepted) and every problem found."""

    transactions: list[Transaction] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    bank: str = ""
    account_no: str = ""
    account_name: str = ""  # the account holder, where the file names one
    sha256: str = ""

    @property
    def accepted(self) -> bool:
        return not self.errors and bool(self.transactions)
