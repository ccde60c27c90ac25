"""The shapes of the institutions' desk API (marketplace.api.desk): what it accepts and sends.

Inputs are strict where the database or the services would otherwise fail late: money and
rates are strings with exactly 2 decimals (ASCII digits, bounded to what the columns hold),
texts carry no NUL (PostgreSQL refuses it) and no lone surrogate, ids fit an INTEGER column,
and the queue's cursor must be one the queue issued for the same sort.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from flask import current_app
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from marketplace.api.fields import DecimalQuery, TwoDecimals, UtcDateTime
from marketplace.desks.models import OFFER_STATUSES
from marketplace.desks.queue import QUEUE_STATUSES, SLA_STATES, SORTS, decode_cursor
from marketplace.guarantees.models import GUARANTEE_STATUSES
from marketplace.supermarket.models import TARGET_STATUSES
from marketplace.verification.models import CLASSIFICATIONS
from workflows.financing import State

MAX_ID = 2**31 - 1
MAX_PAGE_SIZE = 100
AMOUNT_PATTERN = r"^[0-9]{1,16}\.[0-9]{2}$"  # Numeric(18, 2)
PERCENT_PATTERN = r"^[0-9]{1,3}\.[0-9]{2}$"  # Numeric(5, 2)
STATES = [s.value for s in State]


class FullMatch(validate.Regexp):
    """A regular expression the whole value must match (Regexp anchors only the start, and `$`
    lets a trailing newline through). apispec publishes it as the field's `pattern`."""

    def __call__(self, value: str) -> str:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


class ConfiguredChoice(validate.Validator):
    """One of the keys of an app.config mapping, read when used: the document (built in the
    app's context) and the check both follow the deployment's configuration."""

    def __init__(self, config_key: str):
        self.config_key = config_key

    @property
    def choices(self) -> list[str]:
        return list(current_app.config[self.config_key])

    def __call__(self, value: str) -> str:
        if value not in self.choices:
            raise ValidationError(f"Must be one of: {', '.join(self.choices)}.")
        return value


class _DecimalPattern(FullMatch):
    """The pattern of a DecimalText: checked on the text before it becomes a Decimal."""

    def __call__(self, value):
        return value if isinstance(value, Decimal) else super().__call__(value)


class DecimalText(fields.String):
    """A Decimal sent as a string with exactly 2 decimals ("250000.00", "3.85"), never a number."""

    def __init__(self, pattern: str = AMOUNT_PATTERN, **kwargs):
        example = kwargs.pop("example", "250000.00")
        self.pattern = _DecimalPattern(pattern, error='A string with exactly 2 decimals, e.g. "250000.00".')
        super().__init__(validate=self.pattern, metadata={"example": example, **kwargs.pop("metadata", {})},
                         **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = self.pattern(super()._deserialize(value, attr, data, **kwargs))  # Decimal() takes "1e9", "NaN"
        return Decimal(text)


class PlainText(fields.String):
    """Text a person typed: no NUL (PostgreSQL refuses it) and valid Unicode (no lone surrogate)."""

    def __init__(self, *, max_length: int, min_length: int = 0, single_line: bool = False, **kwargs):
        pattern = r"^[^\u0000-\u001f\u007f]*$" if single_line else r"^[^\u0000]*$"
        super().__init__(validate=[FullMatch(pattern, error="Control characters are not allowed."),
                                   validate.Length(min=min_length, max=max_length)], **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError("Not valid Unicode text.") from None
        return text


# ---- the queue ------------------------------------------------------------------------------

class QueueArgsSchema(Schema):
    """The queue page's filters, strictly checked (the page ignores bad values; the API says so)."""

    state = fields.String(validate=validate.OneOf(STATES), metadata={"description": "The request's state"})
    status = fields.String(load_default="open", validate=validate.OneOf(["open", "all", *QUEUE_STATUSES]),
                           metadata={"description": "The institution's status on the request: `open` (being "
                                                    "worked: routed, reviewing, info_requested, offered), `all`, "
                                                    "or one status"})
    amount_min = DecimalQuery(max_digits=16, metadata={"description": "Yuan: requests of at least this amount"})
    amount_max = DecimalQuery(max_digits=16, metadata={"description": "Yuan: requests of at most this amount"})
    industry = fields.String(validate=FullMatch(r"^[0-9A-Za-z]{1,4}$"),
                             metadata={"description": "GB/T 4754 code prefix, e.g. `34`"})
    region = fields.String(validate=FullMatch(r"^[0-9]{1,6}$"),
                           metadata={"description": "Division-code prefix, e.g. `3205`"})
    classification = fields.String(validate=validate.OneOf(CLASSIFICATIONS))
    sla = fields.String(validate=validate.OneOf(SLA_STATES))
    mine = fields.Boolean(load_default=False, metadata={"description": "Only the requests the caller has claimed"})
    sort = fields.String(load_default="routed", validate=validate.OneOf(SORTS),
                         metadata={"description": "routed (time routed), amount, or due (SLA deadline)"})
    order = fields.String(load_default="asc", validate=validate.OneOf(["asc", "desc"]))
    after = fields.String(validate=validate.Length(min=1, max=200),
                          metadata={"description": "The `next_cursor` of the previous page (same filters and sort)"})
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PAGE_SIZE))

    @validates_schema
    def validate_cursor(self, data, **kwargs):
        """A cursor the queue issued for this sort: a forged one must not reach the SQL."""
        if data.get("after") is None:
            return
        decoded = decode_cursor(data["after"])
        sort = data.get("sort", "routed")
        ok = decoded is not None and 1 <= decoded[1] <= MAX_ID
        if ok and sort == "amount":
            ok = isinstance(decoded[0], Decimal) and decoded[0].is_finite() and 0 <= decoded[0] < Decimal("1e16")
        elif ok:
            ok = isinstance(decoded[0], datetime) and decoded[0].tzinfo is not None
        if not ok:
            raise ValidationError("Not a cursor of this queue and sort: pass the previous page's next_cursor.",
                                  "after")


class PersonSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)


class EnterpriseSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True)
    industry_code = fields.String(required=True)
    region_code = fields.String(required=True)
    yellow_listed = fields.Boolean(required=True, metadata={
        "description": "On the current published yellow list (malicious evasion of bank debt)"})


class QueueItemSchema(Schema):
    request_id = fields.Integer(required=True)
    target_id = fields.Integer(required=True)
    target_status = fields.String(required=True, metadata={"enum": list(QUEUE_STATUSES)})
    state = fields.String(required=True, metadata={"enum": STATES})
    amount = TwoDecimals(required=True, metadata={"description": "Yuan"})
    term_days = fields.Integer(required=True)
    classification = fields.String(required=True, allow_none=True, metadata={"enum": [*CLASSIFICATIONS, None]})
    enterprise = fields.Nested(EnterpriseSchema, required=True)
    routed_at = UtcDateTime(required=True)
    sla_due_at = UtcDateTime(required=True, allow_none=True)
    sla_state = fields.String(required=True, allow_none=True, metadata={"enum": [*SLA_STATES, None]})
    claimed_by = fields.Nested(PersonSchema, required=True, allow_none=True)
    claimed_by_me = fields.Boolean(required=True)


class QueuePageSchema(Schema):
    items = fields.List(fields.Nested(QueueItemSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True,
                                metadata={"description": "Pass as `after` for the next page; null on the last"})
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True,
                         metadata={"description": "Requests per state under the filters other than `state`"})


# ---- one request ------------------------------------------------------------------------------

class RequestSchema(Schema):
    id = fields.Integer(required=True)
    state = fields.String(required=True, metadata={"enum": STATES})
    amount = TwoDecimals(required=True, metadata={"description": "Yuan"})
    term_days = fields.Integer(required=True)
    purpose = fields.String(required=True)
    classification = fields.String(required=True, allow_none=True, metadata={"enum": [*CLASSIFICATIONS, None]})
    submitted_at = UtcDateTime(required=True, allow_none=True)
    sla_due_at = UtcDateTime(required=True, allow_none=True)
    stuck = fields.Boolean(required=True)
    enterprise = fields.Nested(EnterpriseSchema, required=True)


class DocumentSchema(Schema):
    id = fields.Integer(required=True)
    name = fields.String(required=True, metadata={"description": "The name the enterprise uploaded it under"})
    content_type = fields.String(required=True, metadata={"enum": ["application/pdf", "image/jpeg", "image/png"]})
    size = fields.Integer(required=True, metadata={"description": "Bytes"})
    sha256 = fields.String(required=True)
    uploaded_at = UtcDateTime(required=True)
    url = fields.String(required=True, metadata={"description": "Where to fetch it (each fetch is logged)"})


class ReceivableSchema(Schema):
    id = fields.Integer(required=True)
    debtor_name = fields.String(required=True)
    invoice_no = fields.String(required=True)
    face_amount = TwoDecimals(required=True)
    issue_date = fields.Date(required=True)
    due_date = fields.Date(required=True)
    confirmation = fields.String(required=True, metadata={
        "enum": ["pending", "confirmed", "disputed"], "description": "Set only by the debtor's own answer"})
    confirmed_via = fields.String(required=True, allow_none=True, metadata={
        "enum": ["link", "account", None], "description": "How the debtor answered: its signed link or its own account"})
    confirmed_at = fields.DateTime(required=True, allow_none=True, metadata={"description": "When the debtor answered"})
    declared_confirmation = fields.String(required=True, allow_none=True, metadata={
        "enum": ["confirmed", "disputed", None],
        "description": "What the enterprise itself stated (its import); counts as pending until the debtor answers"})
    declared_at = fields.DateTime(required=True, allow_none=True)
    document_count = fields.Integer(required=True, metadata={"description": "Documents the enterprise uploaded"})
    documents = fields.List(fields.Nested(DocumentSchema), required=True, metadata={
        "description": "Its invoices and contracts; empty without the enterprise's consent (see report_available)"})


class ExplanationSchema(Schema):
    code = fields.String(required=True)
    hard = fields.Boolean(required=True)
    passed = fields.Boolean(required=True)
    value = fields.String(required=True, allow_none=True)
    expected = fields.String(required=True, allow_none=True)
    reason_zh = fields.String(required=True)
    reason_en = fields.String(required=True)


class ProductRefSchema(Schema):
    product_id = fields.Integer(required=True)
    version_id = fields.Integer(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)


class TargetSchema(Schema):
    id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(TARGET_STATUSES)})
    rank = fields.Integer(required=True)
    chosen_by = fields.String(required=True, metadata={"enum": ["enterprise", "match"]})
    routed_at = UtcDateTime(required=True, allow_none=True)
    product = fields.Nested(ProductRefSchema, required=True)
    explanation = fields.List(fields.Nested(ExplanationSchema), required=True, allow_none=True,
                              metadata={"description": "Why the product matched when the request was routed; "
                                                       "null when the enterprise chose the product itself"})


class AssignmentSchema(Schema):
    """A claim: who works the request for the institution, and until when if idle."""

    request_id = fields.Integer(required=True)
    target_id = fields.Integer(required=True)
    user = fields.Nested(PersonSchema, required=True)
    mine = fields.Boolean(required=True, metadata={"description": "Whether the caller holds it"})
    claimed_at = UtcDateTime(required=True)
    expires_at = UtcDateTime(required=True, metadata={"description": "Released to the queue if idle until then"})
    ended_at = UtcDateTime(required=True, allow_none=True)
    end_reason = fields.String(required=True, allow_none=True,
                               metadata={"enum": ["released", "expired", "decided", "closed", None]})


class OfferSchema(Schema):
    id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(OFFER_STATUSES)})
    amount = TwoDecimals(required=True, metadata={"description": "Yuan"})
    annual_rate = TwoDecimals(required=True, metadata={"description": "Annual %", "example": "3.85"})
    term_days = fields.Integer(required=True)
    expires_on = fields.Date(required=True)
    conditions = fields.String(required=True)
    prepayment_fee_rate = TwoDecimals(required=True, metadata={
        "description": "Early repayment fee, % of the principal repaid early (0.00: none)", "example": "1.00"})
    roll_to_working_day = fields.Boolean(required=True, metadata={
        "description": "An instalment due on a weekend or public holiday is due on the next working day"})
    four_eyes = fields.Boolean(required=True, metadata={"description": "Above the four-eyes amount: a second, "
                                                                       "different approver must approve it"})
    made_by = fields.Nested(PersonSchema, required=True)
    approved_by = fields.Nested(PersonSchema, required=True, allow_none=True)
    created_at = UtcDateTime(required=True)
    approved_at = UtcDateTime(required=True, allow_none=True)


class GuaranteeSchema(Schema):
    id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    status = fields.String(required=True, metadata={"enum": list(GUARANTEE_STATUSES)})
    coverage_ratio = TwoDecimals(required=True, metadata={"description": "% of the request's amount"})
    fee_rate = TwoDecimals(required=True, metadata={"description": "% a year"})
    guaranteed_amount = TwoDecimals(required=True)
    fee = TwoDecimals(required=True)
    term_days = fields.Integer(required=True)
    created_at = UtcDateTime(required=True)


class LoanSchema(Schema):
    id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    offer_id = fields.Integer(required=True)
    amount = TwoDecimals(required=True)
    disbursed_on = fields.Date(required=True)
    reference = fields.String(required=True)
    repaid = TwoDecimals(required=True)
    outstanding = TwoDecimals(required=True, metadata={"description": "Still owed under the schedule "
                                                                      "(the amount before a schedule is recorded)"})
    request_state = fields.String(required=True, metadata={"enum": STATES})


class ReportSchema(Schema):
    id = fields.Integer(required=True)
    submission_no = fields.Integer(required=True)
    as_of = fields.Date(required=True)
    classification = fields.String(required=True, metadata={"enum": list(CLASSIFICATIONS)})
    policy_version = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    payload = fields.Dict(required=True, allow_none=True,
                          metadata={"description": "The verification report; null without the enterprise's "
                                                   "consent (see report_available)"})


class RequestDetailSchema(Schema):
    request = fields.Nested(RequestSchema, required=True)
    receivables = fields.List(fields.Nested(ReceivableSchema), required=True,
                              metadata={"description": "The receivables pledged to the request"})
    target = fields.Nested(TargetSchema, required=True, metadata={"description": "The caller's institution's "
                                                                                "status on the request"})
    claim = fields.Nested(AssignmentSchema, required=True, allow_none=True,
                          metadata={"description": "The open claim, whoever holds it; null when unclaimed"})
    offers = fields.List(fields.Nested(OfferSchema), required=True,
                         metadata={"description": "The caller's institution's offers, latest first"})
    guarantee = fields.Nested(GuaranteeSchema, required=True, allow_none=True,
                              metadata={"description": "A guarantor's latest guarantee offer on the request"})
    loan = fields.Nested(LoanSchema, required=True, allow_none=True,
                         metadata={"description": "The loan the caller's bank disbursed on the request"})
    report_available = fields.Boolean(required=True, metadata={
        "description": "Whether the enterprise's consent (bank_statements) lets the institution read the reports"})
    report_notice = fields.String(required=True, allow_none=True,
                                  metadata={"description": "Why the report payloads are withheld, if they are"})
    reports = fields.List(fields.Nested(ReportSchema), required=True, metadata={"description": "Latest first"})


# ---- actions ------------------------------------------------------------------------------------

class OfferArgsSchema(Schema):
    amount = DecimalText(required=True, metadata={"description": "Yuan, at most the requested amount"})
    annual_rate = DecimalText(PERCENT_PATTERN, required=True, example="3.85",
                              metadata={"description": "Annual %, 0.01 to 35.99"})
    term_days = fields.Integer(required=True, validate=validate.Range(min=1, max=1825))
    expires_on = fields.Date(required=True, metadata={"description": "From today (Shanghai) to OFFER_VALID_DAYS_MAX "
                                                                     "days ahead"})
    conditions = PlainText(max_length=2000, load_default="")
    prepayment_fee_rate = DecimalText(PERCENT_PATTERN, example="1.00", load_default=Decimal("0.00"), metadata={
        "description": "Early repayment fee, % of the principal repaid early, 0.00 to 5.00 (absent or 0.00: none)"})
    roll_to_working_day = fields.Boolean(load_default=True, metadata={
        "description": "An instalment due on a weekend or public holiday is due on the next working day "
                       "(absent: true)"})


class DeclineArgsSchema(Schema):
    reason_code = fields.String(required=True, validate=ConfiguredChoice("DECLINE_REASONS"),
                                metadata={"description": "A code of the configured decline reasons"})
    note = PlainText(max_length=2000, load_default="", metadata={"description": "Required with reason `other`"})


class DeclineSchema(Schema):
    id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    reason_code = fields.String(required=True)
    note = fields.String(required=True)
    created_at = UtcDateTime(required=True)
    target_status = fields.String(required=True, metadata={"enum": list(TARGET_STATUSES)})
    request_state = fields.String(required=True, metadata={"enum": STATES})


class GuaranteeArgsSchema(Schema):
    coverage_ratio = DecimalText(PERCENT_PATTERN, required=True, example="80.00",
                                 metadata={"description": "% of the request's amount, 1 to 100"})
    fee_rate = DecimalText(PERCENT_PATTERN, required=True, example="1.50",
                           metadata={"description": "% a year, 0.01 to 10"})


class DisbursementArgsSchema(Schema):
    amount = DecimalText(required=True, metadata={"description": "Yuan, at most the accepted offer's amount"})
    disbursed_on = fields.Date(required=True, metadata={"description": "Between the acceptance and today"})
    reference = PlainText(required=True, min_length=1, max_length=64, single_line=True,
                          metadata={"description": "The bank's transaction or voucher number"})


class RepaymentArgsSchema(Schema):
    amount = DecimalText(required=True, metadata={"description": "Yuan, at most what is still owed"})
    paid_on = fields.Date(required=True, metadata={"description": "Between the disbursement and today"})
    reference = PlainText(required=True, min_length=1, max_length=64, single_line=True)


class RepaymentSchema(Schema):
    id = fields.Integer(required=True)
    loan_id = fields.Integer(required=True)
    request_id = fields.Integer(required=True)
    paid_on = fields.Date(required=True)
    amount = TwoDecimals(required=True)
    reference = fields.String(required=True)
    outstanding = TwoDecimals(required=True, metadata={"description": "Still owed after this repayment"})
    request_state = fields.String(required=True, metadata={"enum": STATES,
                                                           "description": "closed once the last fen is repaid"})



# ---- the loan: schedule, repayments, days past due ------------------------------------------------

DPD_BUCKETS = ["1-30", "31-60", "61-90", "90+", None]


class InstalmentSchema(Schema):
    number = fields.Integer(required=True, metadata={"description": "1-based, in payment order"})
    kind = fields.String(required=True, metadata={
        "enum": ["scheduled", "prepayment", "restructured"],
        "description": "prepayment: the principal and interest an early repayment settled on its day; "
                       "restructured: a line of a new schedule agreed for the loan in arrears"})
    due_on = fields.Date(required=True)
    due_by = fields.Date(required=True, metadata={
        "description": "The day it must be paid by: due_on, or the next working day when the loan rolls due days "
                       "off weekends and public holidays"})
    principal = TwoDecimals(required=True)
    interest = TwoDecimals(required=True)
    paid = TwoDecimals(required=True, metadata={"description": "Allocated to it: interest first, then principal"})
    unpaid = TwoDecimals(required=True)
    covered_on = fields.Date(required=True, allow_none=True, metadata={"description": "The day it was paid in full"})
    days_past_due = fields.Integer(required=True, metadata={"description": "Today (Asia/Shanghai); 0 once paid"})
    days_late = fields.Integer(required=True, metadata={
        "description": "The most days it was past due (kept after a late payment)"})
    overdue_since = fields.Date(required=True, allow_none=True, metadata={"description": "The first day past due"})
    cured_on = fields.Date(required=True, allow_none=True, metadata={
        "description": "The day a late payment settled it"})
    reported_overdue_at = UtcDateTime(required=True, allow_none=True, metadata={
        "description": "When it was reported to the enterprise's credit file"})


class SupersededInstalmentSchema(Schema):
    due_on = fields.Date(required=True)
    principal = TwoDecimals(required=True)
    interest = TwoDecimals(required=True)
    superseded_at = UtcDateTime(required=True)


class LoanRepaymentSchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, metadata={"enum": ["regular", "prepayment", "payoff"]})
    paid_on = fields.Date(required=True)
    amount = TwoDecimals(required=True, metadata={"description": "Allocated to the schedule"})
    fee = TwoDecimals(required=True, metadata={"description": "An early repayment's fee, on top of amount"})
    reference = fields.String(required=True)
    created_at = UtcDateTime(required=True)


class LoanDetailSchema(LoanSchema):
    status = fields.String(required=True, metadata={
        "enum": ["no_schedule", "current", "past_due", "repaid"],
        "description": "no_schedule: disbursed, no schedule yet; past_due: an instalment is past due today"})
    as_of = fields.Date(required=True, metadata={"description": "Today (Asia/Shanghai): the day the figures are for"})
    annual_rate = TwoDecimals(required=True, metadata={"description": "Annual %", "example": "3.85"})
    roll_to_working_day = fields.Boolean(required=True, metadata={
        "description": "The accepted offer's term: an instalment due on a day off is due on the next working day"})
    prepayment_fee_rate = TwoDecimals(required=True, metadata={
        "description": "The accepted offer's early repayment fee, % of the principal repaid early (0.00: none)"})
    principal_outstanding = TwoDecimals(required=True)
    arrears = TwoDecimals(required=True, metadata={"description": "Past due and unpaid today"})
    fees = TwoDecimals(required=True, metadata={"description": "Early repayment fees received"})
    days_past_due = fields.Integer(required=True, metadata={"description": "The oldest unpaid instalment's"})
    dpd_bucket = fields.String(required=True, allow_none=True, metadata={"enum": DPD_BUCKETS,
                                                                         "description": "null when current"})
    max_days_late = fields.Integer(required=True, metadata={"description": "The most days any instalment was late"})
    max_dpd_bucket = fields.String(required=True, allow_none=True, metadata={"enum": DPD_BUCKETS})
    schedule = fields.List(fields.Nested(InstalmentSchema), required=True,
                           metadata={"description": "The current schedule, in payment order"})
    superseded = fields.List(fields.Nested(SupersededInstalmentSchema), required=True, metadata={
        "description": "Lines an early repayment or a restructuring replaced, kept for the history"})
    repayments = fields.List(fields.Nested(LoanRepaymentSchema), required=True, metadata={"description": "In paid order"})


class PrepaymentArgsSchema(Schema):
    mode = fields.String(required=True, validate=validate.OneOf(["payoff", "prepayment"]), metadata={
        "description": "payoff: all the principal (the request closes); prepayment: `principal` of it"})
    principal = DecimalText(metadata={"description": "Yuan, required for a prepayment: at most the principal "
                                                     "due after paid_on"})
    fee = DecimalText(example="0.00", metadata={
        "description": "Yuan, optional: the fee the caller expects. The fee is always the offer's "
                       "`prepayment_fee_rate` x the principal repaid early, half up to the fen; a different value "
                       "is refused (422)"})
    paid_on = fields.Date(required=True, metadata={"description": "Between the disbursement (and the last "
                                                                  "repayment) and today"})
    reference = PlainText(required=True, min_length=1, max_length=64, single_line=True)

    @validates_schema
    def validate_principal(self, data, **kwargs):
        if data.get("mode") == "prepayment" and data.get("principal") is None:
            raise ValidationError("Required for a prepayment.", "principal")
        if data.get("mode") == "payoff" and data.get("principal") is not None:
            raise ValidationError("Not allowed with a payoff (all the principal).", "principal")
