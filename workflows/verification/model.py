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

    def __reduce__(self):  # positional: a parsed file comes back from its child process ~2x faster
        return Transaction, (self.line, self.date, self.amount, self.balance, self.counterparty,
                             self.counterparty_account, self.summary)


@dataclass(frozen=True)
class ParseError:
    """A reason the file is rejected. `reason` is Chinese; `reason_en` the same in English
    (left out of comparisons, so tests may name the Chinese sentence alone)."""

    line: int  # 0 when the problem is the file as a whole
    reason: str  # Chinese, names the column and what is wrong
    reason_en: str = field(default="", compare=False)

    def text(self, locale: str = "zh") -> str:
        """The reason in the page's language (English when the locale starts with "en")."""
        return self.reason_en if str(locale).startswith("en") and self.reason_en else self.reason


@dataclass(frozen=True)
class ParseWarning:
    """Something the user should know about an accepted file (a masked balance column, amounts
    taken from a second column pair, no account holder named ...). It does not reject the file."""

    code: str  # stable, for programs: balance_masked, balance_empty, amount_fallback, ...
    message_zh: str
    message_en: str
    line: int = 0  # the first line concerned, 0 when it is the file as a whole

    def text(self, locale: str = "zh") -> str:
        return self.message_en if str(locale).startswith("en") else self.message_zh

    def as_dict(self) -> dict[str, object]:
        return {"code": self.code, "line": self.line, "message_zh": self.message_zh,
                "message_en": self.message_en}


@dataclass
class Statement:
    """A parsed statement file: its transactions (when accepted) and every problem found."""

    transactions: list[Transaction] = field(default_factory=list)
    errors: list[ParseError] = field(default_factory=list)
    bank: str = ""
    account_no: str = ""
    account_name: str = ""  # the account holder, where the file names one beside a 户名 label
    sha256: str = ""
    warnings: list[ParseWarning] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors and bool(self.transactions)
