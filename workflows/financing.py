"""The financing request's states, transitions and guards (design.md section 4).

Every state and transition of the design is declared here, including those whose actions
later capabilities implement. The marketplace builds a RequestFacts from its rows, asks
FINANCING.check(...) and persists what it allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from workflows.engine import Reason, StateMachine, Transition


class State(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"
    VERIFYING = "verifying"
    VERIFIED = "verified"
    ROUTED_TO_BANK = "routed_to_bank"
    ROUTED_TO_GUARANTOR = "routed_to_guarantor"
    RETURNED = "returned"
    GUARANTOR_REVIEW = "guarantor_review"
    GUARANTEE_OFFERED = "guarantee_offered"
    FEE_PENDING = "fee_pending"
    GUARANTEED = "guaranteed"
    GUARANTOR_DECLINED = "guarantor_declined"
    BANK_REVIEW = "bank_review"
    INFO_REQUESTED = "info_requested"
    OFFER_MADE = "offer_made"
    OFFER_ACCEPTED = "offer_accepted"
    DISBURSED = "disbursed"
    REPAYING = "repaying"
    CLOSED = "closed"
    BANK_DECLINED = "bank_declined"
    WITHDRAWN = "withdrawn"


STATE_LABELS: dict[State, tuple[str, str]] = {
    State.DRAFT: ("草稿", "Draft"),
    State.SUBMITTED: ("已提交", "Submitted"),
    State.VERIFYING: ("核验中", "Verifying"),
    State.VERIFIED: ("已核验", "Verified"),
    State.ROUTED_TO_BANK: ("已推送银行", "Routed to bank"),
    State.ROUTED_TO_GUARANTOR: ("已推送担保机构", "Routed to guarantor"),
    State.RETURNED: ("已退回", "Returned"),
    State.GUARANTOR_REVIEW: ("担保审查中", "Guarantor reviewing"),
    State.GUARANTEE_OFFERED: ("担保方案已出具", "Guarantee offered"),
    State.FEE_PENDING: ("待缴担保费", "Fee pending"),
    State.GUARANTEED: ("已担保", "Guaranteed"),
    State.GUARANTOR_DECLINED: ("担保机构拒绝", "Guarantor declined"),
    State.BANK_REVIEW: ("银行审查中", "Bank reviewing"),
    State.INFO_REQUESTED: ("待补充材料", "Information requested"),
    State.OFFER_MADE: ("银行已报价", "Offer made"),
    State.OFFER_ACCEPTED: ("已接受报价", "Offer accepted"),
    State.DISBURSED: ("已放款", "Disbursed"),
    State.REPAYING: ("还款中", "Repaying"),
    State.CLOSED: ("已结清", "Closed"),
    State.BANK_DECLINED: ("银行拒绝", "Bank declined"),
    State.WITHDRAWN: ("已撤回", "Withdrawn"),
}

# A request in a terminal state no longer holds its receivables.
TERMINAL_STATES = frozenset({State.CLOSED, State.WITHDRAWN})
ACTIVE_STATES = frozenset(State) - TERMINAL_STATES

# Before a decision binds the enterprise, it may withdraw.
WITHDRAWABLE_STATES = frozenset(
    {
        State.DRAFT, State.SUBMITTED, State.VERIFIED, State.RETURNED,
        State.ROUTED_TO_GUARANTOR, State.GUARANTOR_REVIEW, State.GUARANTEE_OFFERED,
        State.FEE_PENDING, State.GUARANTOR_DECLINED, State.ROUTED_TO_BANK, State.BANK_REVIEW,
        State.INFO_REQUESTED, State.BANK_DECLINED, State.OFFER_MADE,
    }
)

# Editable by the enterprise (amount, term, purpose, pledges).
EDITABLE_STATES = frozenset({State.DRAFT, State.RETURNED})

MAX_TARGETS = 3


@dataclass
class RequestFacts:
    """What the guards look at; built by the marketplace from its rows."""

    state: str
    amount: Decimal = Decimal("0")
    term_days: int = 0
    pledged_count: int = 0
    pledged_total: Decimal = Decimal("0")
    commitment_signed: bool = False
    # the enterprise's profile holds what institutions review (legal representative, industry,
    # county, phone; registration leaves them for later, issue 19); True where no one asks
    profile_complete: bool = True
    classification: str | None = None  # excellent | mixed | poor, from the verification report
    route_targets: int = 0  # institutions of the kind the classification calls for, found to route to
    has_next_guarantor: bool = False
    has_next_bank: bool = False
    open_offers: int = 0
    fee_paid: bool = False
    schedule_recorded: bool = False
    fully_repaid: bool = False


# ---- guards: each returns a Reason when the transition must not happen -------------------

def commitment_signed(r: RequestFacts) -> Reason | None:
    if not r.commitment_signed:
        return Reason("commitment_unsigned", "请先签署信用承诺书", "Sign the credit commitment first")
    return None


def profile_complete(r: RequestFacts) -> Reason | None:
    if not r.profile_complete:
        return Reason("profile_incomplete", "请先补全企业资料（法定代表人、所属行业、所在区县、联系电话）",
                      "Complete the enterprise's profile first (legal representative, industry, county, phone)")
    return None


def has_pledges(r: RequestFacts) -> Reason | None:
    if r.pledged_count < 1:
        return Reason("no_pledges", "请至少质押一笔应收账款", "Pledge at least one receivable")
    return None


def amount_within_pledges(r: RequestFacts) -> Reason | None:
    if r.amount <= 0:
        return Reason("amount_not_positive", "融资金额必须大于零", "The amount must be positive")
    if r.amount > r.pledged_total:
        return Reason(
            "amount_above_pledges",
            f"融资金额（{r.amount}）不能超过质押应收账款合计（{r.pledged_total}）",
            f"The amount ({r.amount}) exceeds the pledged receivables ({r.pledged_total})",
        )
    return None


def term_positive(r: RequestFacts) -> Reason | None:
    if r.term_days <= 0:
        return Reason("term_missing", "请填写融资期限", "Enter the term")
    return None


def _classified(expected: str, zh: str, en: str):
    def guard(r: RequestFacts) -> Reason | None:
        if r.classification != expected:
            return Reason(f"not_{expected}", zh, en)
        return None

    guard.__name__ = f"classified_{expected}"
    return guard


classified_excellent = _classified("excellent", "资产质量不是“优”", "Asset quality is not excellent")
classified_mixed = _classified("mixed", "资产质量不是“良莠不齐”", "Asset quality is not mixed")
classified_poor = _classified("poor", "资产质量不是“差”", "Asset quality is not poor")


def has_route_targets(r: RequestFacts) -> Reason | None:
    if r.route_targets < 1:
        return Reason("no_route_target", "没有符合条件的机构可以推送", "No eligible institution to route to")
    return None


def poor_or_unroutable(r: RequestFacts) -> Reason | None:
    """A request goes back when its assets are poor, or when no institution can take it."""
    if r.classification == "poor":
        return None
    if r.classification in ("excellent", "mixed") and r.route_targets < 1:
        return None
    return Reason("routable", "资产质量不是“差”，且有可推送的机构", "Asset quality is not poor and an institution can take it")


def has_next_guarantor(r: RequestFacts) -> Reason | None:
    if not r.has_next_guarantor:
        return Reason("no_next_guarantor", "没有其他可推送的担保机构", "No other guarantor to route to")
    return None


def no_next_guarantor(r: RequestFacts) -> Reason | None:
    if r.has_next_guarantor:
        return Reason("next_guarantor_exists", "仍有担保机构可推送", "Another guarantor is available")
    return None


def has_next_bank(r: RequestFacts) -> Reason | None:
    if not r.has_next_bank:
        return Reason("no_next_bank", "没有其他可推送的银行", "No other bank to route to")
    return None


def no_next_bank(r: RequestFacts) -> Reason | None:
    if r.has_next_bank:
        return Reason("next_bank_exists", "仍有银行可推送", "Another bank is available")
    return None


def fee_paid(r: RequestFacts) -> Reason | None:
    if not r.fee_paid:
        return Reason("fee_unpaid", "担保费尚未缴纳", "The guarantee fee is not paid")
    return None


def schedule_recorded(r: RequestFacts) -> Reason | None:
    if not r.schedule_recorded:
        return Reason("no_schedule", "请先登记还款计划", "Record the repayment schedule first")
    return None


def fully_repaid(r: RequestFacts) -> Reason | None:
    if not r.fully_repaid:
        return Reason("not_repaid", "尚未全部还清", "Not fully repaid")
    return None


# ---- the table -------------------------------------------------------------------------------

def _t(name, sources, target, actors, guards=(), zh="", en=""):
    if isinstance(sources, State):
        sources = {sources}
    return Transition(
        name=name,
        sources=frozenset(sources),
        target=target,
        actors=frozenset(actors),
        guards=tuple(guards),
        label_zh=zh,
        label_en=en,
    )


S = State
ENTERPRISE = {"enterprise"}
SYSTEM = {"system"}
BANK = {"bank"}
GUARANTOR = {"guarantor"}

TRANSITIONS = [
    _t("submit", {S.DRAFT, S.RETURNED}, S.SUBMITTED, ENTERPRISE,
       (commitment_signed, profile_complete, has_pledges, amount_within_pledges, term_positive), "提交", "Submit"),
    _t("start_verification", S.SUBMITTED, S.VERIFYING, SYSTEM, (), "开始核验", "Start verification"),
    _t("complete_verification", S.VERIFYING, S.VERIFIED, SYSTEM, (), "完成核验", "Complete verification"),
    _t("route_to_bank", S.VERIFIED, S.ROUTED_TO_BANK, SYSTEM, (classified_excellent, has_route_targets),
       "推送银行", "Route to bank"),
    _t("route_to_guarantor", S.VERIFIED, S.ROUTED_TO_GUARANTOR, SYSTEM, (classified_mixed, has_route_targets),
       "推送担保机构", "Route to guarantor"),
    _t("return_request", S.VERIFIED, S.RETURNED, SYSTEM, (poor_or_unroutable,), "退回企业", "Return"),
    # guarantor path
    _t("start_guarantor_review", S.ROUTED_TO_GUARANTOR, S.GUARANTOR_REVIEW, GUARANTOR, (),
       "受理担保", "Start guarantee review"),
    _t("offer_guarantee", S.GUARANTOR_REVIEW, S.GUARANTEE_OFFERED, GUARANTOR, (),
       "出具担保方案", "Offer guarantee"),
    _t("accept_guarantee", S.GUARANTEE_OFFERED, S.FEE_PENDING, ENTERPRISE, (),
       "接受担保方案", "Accept guarantee"),
    _t("confirm_fee", S.FEE_PENDING, S.GUARANTEED, {"system", "guarantor"}, (fee_paid,),
       "确认担保费到账", "Confirm fee"),
    _t("route_guaranteed_to_bank", S.GUARANTEED, S.ROUTED_TO_BANK, SYSTEM, (),
       "推送银行", "Route to bank"),
    _t("decline_guarantee", S.GUARANTOR_REVIEW, S.GUARANTOR_DECLINED, GUARANTOR, (),
       "拒绝担保", "Decline guarantee"),
    _t("reroute_to_guarantor", S.GUARANTOR_DECLINED, S.ROUTED_TO_GUARANTOR, SYSTEM,
       (has_next_guarantor,), "推送下一家担保机构", "Route to next guarantor"),
    _t("return_after_guarantor", S.GUARANTOR_DECLINED, S.RETURNED, SYSTEM, (no_next_guarantor,),
       "退回企业", "Return"),
    # bank path
    _t("start_bank_review", S.ROUTED_TO_BANK, S.BANK_REVIEW, BANK, (), "受理", "Start review"),
    _t("request_info", S.BANK_REVIEW, S.INFO_REQUESTED, BANK, (), "要求补充材料", "Request information"),
    _t("answer_info", S.INFO_REQUESTED, S.BANK_REVIEW, ENTERPRISE, (), "补充材料", "Answer"),
    # another bank's question to the enterprise does not hold up this bank's offer or decline
    _t("make_offer", {S.BANK_REVIEW, S.INFO_REQUESTED}, S.OFFER_MADE, BANK, (), "报价", "Make offer"),
    _t("accept_offer", S.OFFER_MADE, S.OFFER_ACCEPTED, ENTERPRISE, (), "接受报价", "Accept offer"),
    _t("disburse", S.OFFER_ACCEPTED, S.DISBURSED, BANK, (), "放款", "Disburse"),
    _t("start_repayment", S.DISBURSED, S.REPAYING, {"bank", "system"}, (schedule_recorded,),
       "进入还款", "Start repayment"),
    _t("close", S.REPAYING, S.CLOSED, {"bank", "system"}, (fully_repaid,), "结清", "Close"),
    _t("decline", {S.BANK_REVIEW, S.INFO_REQUESTED}, S.BANK_DECLINED, BANK, (), "拒绝", "Decline"),
    _t("reroute_to_bank", S.BANK_DECLINED, S.ROUTED_TO_BANK, SYSTEM, (has_next_bank,),
       "推送下一家银行", "Route to next bank"),
    _t("return_after_bank", S.BANK_DECLINED, S.RETURNED, SYSTEM, (no_next_bank,), "退回企业", "Return"),
    # the enterprise's consent to the last institution holding the request ended (revoked or
    # expired) before it decided: as if it had declined, the request goes on to the next one or back
    _t("consent_ended_bank", {S.ROUTED_TO_BANK, S.BANK_REVIEW, S.INFO_REQUESTED, S.OFFER_MADE}, S.BANK_DECLINED,
       SYSTEM, (), "授权终止，银行退出审查", "Consent ended: the bank left the review"),
    _t("consent_ended_guarantor", {S.ROUTED_TO_GUARANTOR, S.GUARANTOR_REVIEW, S.GUARANTEE_OFFERED},
       S.GUARANTOR_DECLINED, SYSTEM, (), "授权终止，担保机构退出审查", "Consent ended: the guarantor left the review"),
    # the only offer left closed with its bank's consent while other banks still review the request
    _t("resume_bank_review", S.OFFER_MADE, S.BANK_REVIEW, SYSTEM, (), "报价已关闭，继续审查",
       "Offer closed: review goes on"),
    # the enterprise may withdraw before a decision binds it
    _t("withdraw", WITHDRAWABLE_STATES, S.WITHDRAWN, ENTERPRISE, (), "撤回", "Withdraw"),
]

FINANCING = StateMachine.build(State, TRANSITIONS)


def state_label(state: str, locale: str = "zh") -> str:
    zh, en = STATE_LABELS[State(state)]
    return en if locale.startswith("en") else zh
