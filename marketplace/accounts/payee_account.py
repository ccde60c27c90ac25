"""An institution's payee account (户名, 开户行, 账号): where enterprises transfer the fees they
owe it. Set by the platform admin on the institution's page; shown in full to the payee's staff
and to an enterprise that owes it a fee, masked (last 4 digits) to everyone else, the audit log
included."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from flask_babel import gettext as _

from marketplace import audit
from marketplace.accounts.models import Organisation
from marketplace.accounts.roles import OrgKind
from marketplace.extensions import db

PAYEE_KINDS = (OrgKind.BANK, OrgKind.GUARANTOR)
NAME_MAX = 100
DIGITS_MIN, DIGITS_MAX = 8, 32  # Chinese bank accounts: 12-19 digits for most, longer for some corporate ones
_SEPARATORS = re.compile(r"[\s\-]+")


class AccountRefused(ValueError):
    """The account details are not accepted; the message says why, in the user's language."""


@dataclass(frozen=True)
class PayeeAccount:
    name: str  # 户名
    bank: str  # 开户行
    number: str  # 账号, digits only

    @property
    def masked_number(self) -> str:
        return mask_account_number(self.number)


def normalise_account_number(value: str | None) -> str:
    """Full-width digits folded, spaces and dashes dropped: "6222 ０２１２-3456" -> "622202123456"."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", value or ""))


def mask_account_number(number: str | None) -> str:
    """Every digit but the last 4 hidden: ****3456."""
    number = number or ""
    return "*" * (len(number) - 4) + number[-4:] if len(number) > 4 else "*" * len(number)


def account_number_problem(number: str) -> str | None:
    """Why the (normalised) account number is not one, or None."""
    if not number:
        return _("请填写账号")
    if not number.isascii() or not number.isdigit():
        return _("账号只能包含数字（可用空格或短横线分隔）")
    if not DIGITS_MIN <= len(number) <= DIGITS_MAX:
        return _("账号应为%(low)s至%(high)s位数字", low=DIGITS_MIN, high=DIGITS_MAX)
    return None


def payee_account_of(org: Organisation | None) -> PayeeAccount | None:
    if org is None or not org.payee_account_number:
        return None
    return PayeeAccount(org.payee_account_name, org.payee_bank_name, org.payee_account_number)


def set_payee_account(org: Organisation, actor, *, name: str, bank: str, number: str) -> PayeeAccount:
    """Record (or replace) the institution's payee account; audited with the numbers masked."""
    if org.kind not in PAYEE_KINDS:
        raise AccountRefused(_("只有银行和担保公司可以登记收款账户"))
    name, bank = _clean(name), _clean(bank)
    number = normalise_account_number(number)
    problems = [p for p in (
        None if name else _("请填写户名"), None if bank else _("请填写开户行"),
        _("户名不超过%(n)s个字", n=NAME_MAX) if len(name) > NAME_MAX else None,
        _("开户行不超过%(n)s个字", n=NAME_MAX) if len(bank) > NAME_MAX else None,
        account_number_problem(number)) if p]
    if problems:
        raise AccountRefused("；".join(problems))
    before = payee_account_of(org)
    org.payee_account_name, org.payee_bank_name, org.payee_account_number = name, bank, number
    db.session.flush()
    audit.record("institution.payee_account_set", org, actor=actor, account_name=name, bank_name=bank,
                 account_number=mask_account_number(number),
                 previous_account_number=before.masked_number if before else None)
    return PayeeAccount(name, bank, number)


def clear_payee_account(org: Organisation, actor) -> None:
    """Remove the account: enterprises are told to ask the institution again."""
    before = payee_account_of(org)
    if before is None:
        return
    org.payee_account_name = org.payee_bank_name = org.payee_account_number = None
    db.session.flush()
    audit.record("institution.payee_account_cleared", org, actor=actor,
                 previous_account_number=before.masked_number)


def _clean(value: str | None) -> str:
    """Spaces (full-width ones too) collapsed; the characters kept as typed: a bank matches the
    account name exactly, full-width brackets included."""
    return " ".join((value or "").split())
