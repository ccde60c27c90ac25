"""Every access rule in one place.

ROUTE_ACCESS maps each endpoint to a named rule (which roles may reach it). A before_request
hook enforces it and fails closed: an endpoint without a rule answers 403, and a test walks
app.url_map to prove every route has one. Object-level rules (whose enterprise, which
institution) are the functions below, called by views after loading their object.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, abort, request
from flask_login import current_user

from marketplace.accounts.roles import ENTERPRISE_ROLES, STAFF_ROLES, Role

ANONYMOUS = "anonymous"


@dataclass(frozen=True)
class Rule:
    """A named set of roles; `public` admits anonymous visitors too."""

    name: str
    roles: frozenset[str]
    public: bool = False

    def admits(self, role: str) -> bool:
        return (self.public and role == ANONYMOUS) or role in self.roles


ALL_ROLES = frozenset(Role)
PUBLIC = Rule("public", ALL_ROLES, public=True)
SIGNED_IN = Rule("signed_in", ALL_ROLES)
ENTERPRISE_USER = Rule("enterprise_user", ENTERPRISE_ROLES)
ENTERPRISE_ADMIN = Rule("enterprise_admin", frozenset({Role.ENTERPRISE_ADMIN}))
# institutions' staff; a data provider's staff push records and read nothing else (design.md section 2)
STAFF = Rule("staff", STAFF_ROLES - {Role.PROVIDER_STAFF})
PLATFORM_ADMIN = Rule("platform_admin", frozenset({Role.PLATFORM_ADMIN}))
# staff of institutions that publish products and fund requests (banks and guarantors)
LENDER_STAFF = Rule("lender_staff", frozenset({
    Role.BANK_OFFICER, Role.BANK_APPROVER, Role.GUARANTOR_OFFICER, Role.GUARANTOR_APPROVER,
}))
BANK_STAFF = Rule("bank_staff", frozenset({Role.BANK_OFFICER, Role.BANK_APPROVER}))
BUREAU = Rule("bureau", frozenset({Role.BUREAU_COORDINATOR}))
PROVIDER = Rule("provider", frozenset({Role.PROVIDER_STAFF}))

ROUTE_ACCESS: dict[str, Rule] = {
    "static": PUBLIC,
    # main
    "main.index": PUBLIC,
    "health.healthz": PUBLIC,  # probes (marketplace/health.py): alive, and database and broker reachable
    "health.readyz": PUBLIC,
    "main.set_language": PUBLIC,
    "main.dashboard": SIGNED_IN,
    "main.regions": PUBLIC,
    # accounts: the second-factor pages work on a half-finished login kept in the session
    "accounts.login": PUBLIC,
    "accounts.two_factor": PUBLIC,
    "accounts.enroll_totp": PUBLIC,
    "accounts.logout": SIGNED_IN,
    "accounts.change_password": SIGNED_IN,
    # platform administration
    "admin.institutions": PLATFORM_ADMIN,
    # the working calendar (marketplace.workcalendar): each year's holidays and make-up working days
    "calendar_admin.index": PLATFORM_ADMIN,
    "calendar_admin.year": PLATFORM_ADMIN,
    "admin.new_institution": PLATFORM_ADMIN,
    "admin.institution": PLATFORM_ADMIN,
    "admin.new_user": PLATFORM_ADMIN,
    "admin.payee_account_form": PLATFORM_ADMIN,  # a bank's or guarantor's account for fee transfers
    "admin.reset_totp": PLATFORM_ADMIN,
    # users of every organisation: search, disable / re-enable, role, refused sign-ins
    "admin.users": PLATFORM_ADMIN,
    "admin.user": PLATFORM_ADMIN,
    "admin.disable_user": PLATFORM_ADMIN,
    "admin.enable_user": PLATFORM_ADMIN,
    "admin.change_user_role": PLATFORM_ADMIN,
    "admin.enterprises": PLATFORM_ADMIN,
    "admin.enterprise": PLATFORM_ADMIN,
    "admin.audit_log": PLATFORM_ADMIN,
    "admin.audit_export": PLATFORM_ADMIN,
    "policies.index": PLATFORM_ADMIN,
    "policies.new": PLATFORM_ADMIN,
    "policies.detail": PLATFORM_ADMIN,
    "policies.default": PLATFORM_ADMIN,
    # enterprise onboarding, commitment, consents, access log, users
    "enterprises.register": PUBLIC,
    "enterprises.confirm_registration": PUBLIC,  # the signed link emailed at registration is the credential
    "enterprises.profile": ENTERPRISE_USER,
    "enterprises.complete_profile": ENTERPRISE_ADMIN,  # what registration left for later (issue 19)
    # the first-application checklist; its one-step consents are the admin's, like every consent
    "onboarding.start": ENTERPRISE_USER,
    "onboarding.grant_consents": ENTERPRISE_ADMIN,
    "enterprises.commitment": ENTERPRISE_USER,
    "enterprises.sign_commitment": ENTERPRISE_USER,
    "enterprises.commitment_pdf": ENTERPRISE_USER,
    "enterprises.consents": ENTERPRISE_USER,
    "enterprises.new_consent": ENTERPRISE_ADMIN,
    "enterprises.revoke_consent": ENTERPRISE_ADMIN,
    "enterprises.access_log": ENTERPRISE_USER,
    "enterprises.users": ENTERPRISE_ADMIN,
    "enterprises.new_user": ENTERPRISE_ADMIN,
    # the enterprise admin manages their own enterprise's users (loaded within it, else 404)
    "enterprises.user": ENTERPRISE_ADMIN,
    "enterprises.disable_user": ENTERPRISE_ADMIN,
    "enterprises.enable_user": ENTERPRISE_ADMIN,
    "enterprises.change_user_role": ENTERPRISE_ADMIN,
    # receivables
    "receivables.index": ENTERPRISE_USER,
    "receivables.new": ENTERPRISE_USER,
    "receivables.detail": ENTERPRISE_USER,
    "receivables.edit": ENTERPRISE_USER,
    "receivables.delete": ENTERPRISE_USER,
    "receivables.upload_document": ENTERPRISE_USER,
    "receivables.document": ENTERPRISE_USER,
    "receivables.delete_document": ENTERPRISE_USER,
    "receivables.import_file": ENTERPRISE_USER,
    "receivables.template": ENTERPRISE_USER,
    "receivables.send_link": ENTERPRISE_USER,
    "receivables.confirmations": ENTERPRISE_USER,
    "receivables.answer_confirmation": ENTERPRISE_USER,
    # receivables from issued invoices (invoice list or e-invoice XML): upload, preview, confirm
    "invoices.upload": ENTERPRISE_USER,
    "invoices.preview": ENTERPRISE_USER,
    "invoices.confirm": ENTERPRISE_USER,
    "invoices.sample": ENTERPRISE_USER,
    # bank statements: scoped to the user's enterprise in the views
    "statements.index": ENTERPRISE_USER,
    "statements.upload": ENTERPRISE_USER,
    "statements.detail": ENTERPRISE_USER,
    "statements.sample": ENTERPRISE_USER,
    # the debtor's signed link: no account needed, the token is the credential
    "debtor.confirm": PUBLIC,
    "debtor.request_page": PUBLIC,  # a debtor request's link (several receivables): the token is the credential
    # debtor requests (issue 19): the enterprise's own, loaded within it (else 404)
    "debtor_requests.index": ENTERPRISE_USER,
    "debtor_requests.new": ENTERPRISE_USER,
    "debtor_requests.detail": ENTERPRISE_USER,
    "debtor_requests.letter": ENTERPRISE_USER,
    "debtor_requests.letter_pdf": ENTERPRISE_USER,
    "debtor_requests.revoke": ENTERPRISE_USER,
    # notifications: each user's own
    "notifications.index": SIGNED_IN,
    "notifications.mark_read": SIGNED_IN,
    "notifications.mark_all_read": SIGNED_IN,
    # financing requests
    "financing.index": ENTERPRISE_USER,
    "financing.new": ENTERPRISE_USER,
    "financing.detail": ENTERPRISE_USER,
    "financing.edit": ENTERPRISE_USER,
    "financing.submit": ENTERPRISE_USER,
    "financing.withdraw": ENTERPRISE_USER,
    "financing.matches": ENTERPRISE_USER,
    "financing.progress": ENTERPRISE_USER,
    # granting an institution the consent a chosen product needs, from the request page: the
    # enterprise admin only, as on the consents page (an applicant is told to ask the admin)
    "financing.grant_consent": ENTERPRISE_ADMIN,
    # verification reports: the enterprise's own (object check in the view); a routed
    # institution's staff within the enterprise's consent, each view logged
    "reports.enterprise_report": ENTERPRISE_USER,
    "reports.institution_report": LENDER_STAFF,
    "reports.enterprise_report_pdf": ENTERPRISE_USER,
    "reports.institution_report_pdf": LENDER_STAFF,
    # the institution's desk: only requests routed to the user's own institution (view check)
    "desk.index": LENDER_STAFF,
    "desk.detail": LENDER_STAFF,
    "desk.claim_next": LENDER_STAFF,
    "desk.claim": LENDER_STAFF,
    "desk.release": LENDER_STAFF,
    "desk.add_note": LENDER_STAFF,
    "desk.ask": LENDER_STAFF,
    "desk.make_offer": LENDER_STAFF,
    "desk.approve_offer": LENDER_STAFF,  # and only a bank approver who did not propose it (service check)
    "desk.decline": LENDER_STAFF,
    "desk.offer_guarantee": LENDER_STAFF,  # and only a guarantor's staff holding the claim (service check)
    "desk.attachment": LENDER_STAFF,
    # the pledged receivables' invoices and contracts: the request must be routed to the user's
    # institution, the receivable pledged to it, and the enterprise's consent valid (view checks)
    "desk.document": LENDER_STAFF,
    # the enterprise's side: offers side by side, questions to answer (its own requests only)
    "desk_enterprise.offers": ENTERPRISE_USER,
    "desk_enterprise.accept": ENTERPRISE_USER,
    "desk_enterprise.questions": ENTERPRISE_USER,
    "desk_enterprise.answer": ENTERPRISE_USER,
    # guarantees: the enterprise sees and accepts the offer on its own request; the letter PDF
    # for the enterprise and for the issuing guarantor's staff only (view checks, else 404)
    "guarantees.enterprise_guarantee": ENTERPRISE_USER,
    "guarantees.accept": ENTERPRISE_USER,
    "guarantees.letter_pdf": ENTERPRISE_USER,
    "guarantees.institution_letter_pdf": LENDER_STAFF,
    # a bank's offer letter: the enterprise's own request, or the bank that made the offer
    "offer_letters.enterprise_pdf": ENTERPRISE_USER,
    "offer_letters.institution_pdf": LENDER_STAFF,
    # fees (marketplace/payments): the enterprise sees its own fees, the payee's staff those owed to
    # their institution (object checks in the views); Stripe's webhook is authenticated by its signature
    "payments.index": ENTERPRISE_USER,
    "payments.detail": ENTERPRISE_USER,
    "payments.pay": ENTERPRISE_USER,
    "payments.received": LENDER_STAFF,
    "payments.confirm_transfer": LENDER_STAFF,
    # fee by transfer: the paying enterprise records it with a receipt; the payee's staff confirm or
    # reject it (each loaded within the user's enterprise or institution, else 404)
    "payments.record_transfer": ENTERPRISE_USER,
    "payments.receipt": ENTERPRISE_USER,
    "payments.received_receipt": LENDER_STAFF,
    "payments.confirm_recorded_transfer": LENDER_STAFF,
    "payments.reject_transfer": LENDER_STAFF,
    "payments.stripe_webhook": PUBLIC,
    # loans after acceptance: the bank whose offer was accepted records the disbursement, the
    # schedule and repayments (view check: the request's accepted offer is the user's bank's);
    # the enterprise reads its own loan
    "loans.institution_loan": BANK_STAFF,
    "loans.disburse": BANK_STAFF,
    "loans.schedule": BANK_STAFF,
    "loans.repay": BANK_STAFF,
    "loans.prepay": BANK_STAFF,
    "loans.restructure": BANK_STAFF,
    "loans.institution_statement": BANK_STAFF,
    "loans.enterprise_loan": ENTERPRISE_USER,
    "loans.enterprise_statement": ENTERPRISE_USER,
    # leads: verified requests that fit an institution's products, within consent
    "leads.index": LENDER_STAFF,
    # the financing supermarket: open to everyone; a draft or retired product's page answers
    # 404 except to its own institution's staff (an object-level check in the view)
    "supermarket.market": PUBLIC,
    "supermarket.product": PUBLIC,
    # the institution's product desk: products are loaded scoped to the user's organisation
    "supermarket.desk": LENDER_STAFF,
    "supermarket.new_product": LENDER_STAFF,
    "supermarket.edit_product": LENDER_STAFF,
    "supermarket.publish_product": LENDER_STAFF,
    "supermarket.retire_product": LENDER_STAFF,
    "supermarket.product_stats": LENDER_STAFF,
    # JSON API v1 (marketplace/api): the document, its docs page and the catalogue are public
    "api_docs.openapi_json": PUBLIC,
    "api_docs.swagger_ui": PUBLIC,
    "api_docs.swagger_ui_asset": PUBLIC,
    "api_docs.static": PUBLIC,
    "api_products.list_products": PUBLIC,
    "api_products.get_product": PUBLIC,
    "api_requests.request_matches": ENTERPRISE_USER,  # and only the owning enterprise's request
    # the institution's desk API (marketplace/api/desk.py): as the desk and loan pages; only requests
    # routed to the user's institution (else 404), the services check claims, kinds and approvers
    "api_desk.list_queue": LENDER_STAFF,
    "api_desk.get_request": LENDER_STAFF,
    "api_desk.get_document": LENDER_STAFF,
    "api_desk.claim": LENDER_STAFF,
    "api_desk.release": LENDER_STAFF,
    "api_desk.make_offer": LENDER_STAFF,
    "api_desk.approve_offer": LENDER_STAFF,
    "api_desk.decline": LENDER_STAFF,
    "api_desk.offer_guarantee": LENDER_STAFF,
    "api_desk.record_disbursement": BANK_STAFF,
    "api_desk.record_repayment": BANK_STAFF,
    "api_desk.get_loan": BANK_STAFF,
    "api_desk.record_prepayment": BANK_STAFF,
    # the finance bureau (marketplace/bureau): coordinators only, each page scoped to the bureau's
    # region (requests of enterprises outside it answer 404) and meetings and reports to its bureau
    # -- bureau: dashboard and its exports
    "bureau_dashboard.index": BUREAU,
    "bureau_dashboard.export": BUREAU,
    # -- bureau: requests, the stuck list and a request's progress
    "bureau_requests.index": BUREAU,
    "bureau_requests.export": BUREAU,
    "bureau_requests.stuck": BUREAU,
    "bureau_requests.stuck_export": BUREAU,
    "bureau_requests.detail": BUREAU,
    # -- bureau: dispatch meetings, agenda, minutes, action items
    "meetings.index": BUREAU,
    "meetings.new": BUREAU,
    "meetings.detail": BUREAU,
    "meetings.edit": BUREAU,
    "meetings.add_topic": BUREAU,
    "meetings.rebuild_agenda": BUREAU,
    "meetings.edit_topic": BUREAU,
    "meetings.remove_topic": BUREAU,
    "meetings.move_topic": BUREAU,
    "meetings.item_minutes": BUREAU,
    "meetings.summary": BUREAU,
    "meetings.add_action": BUREAU,
    "meetings.close": BUREAU,
    "meetings.minutes_pdf": BUREAU,
    # -- bureau: summary reports
    "bureau_reports.index": BUREAU,
    "bureau_reports.create": BUREAU,
    "bureau_reports.status": BUREAU,
    "bureau_reports.download": BUREAU,
    # -- action items on the attendees' side: staff see and close their own institution's or their own
    "actions.index": STAFF,
    "actions.detail": STAFF,
    "actions.minutes_pdf": STAFF,  # view check: the user's institution attended the meeting
    # data providers (marketplace.credit): push records of their own source, list their own records
    "api_credit.submit_records": PROVIDER,
    "provider_records.index": PROVIDER,
    "provider_records.upload": PROVIDER,
    "provider_records.template": PROVIDER,
    # red/white/yellow lists and the monthly white-list push (marketplace/lists): coordinators review and
    # confirm their region's (else 404); banks' and guarantors' staff read the published lists, banks the
    # confirmed push; the enterprise admin consents to be recommended
    "lists.bureau_index": BUREAU,
    "lists.compute": BUREAU,
    "lists.proposal": BUREAU,
    "lists.decide_entry": BUREAU,
    "lists.confirm": BUREAU,
    "lists.reject": BUREAU,
    "lists.pushes": BUREAU,
    "lists.propose_push": BUREAU,
    "lists.push": BUREAU,
    "lists.decide_push_entry": BUREAU,
    "lists.confirm_push": BUREAU,
    "lists.institution_lists": LENDER_STAFF,
    "lists.whitelist": BANK_STAFF,
    "lists.whitelist_download": BANK_STAFF,
    "lists.recommend_consent": ENTERPRISE_ADMIN,
    # the credit file (一企一档) and its report PDF (marketplace/credit/file.py): the enterprise its own;
    # banks' and guarantors' staff under the enterprise's consent (else a logged 403); the bureau's
    # coordinators for enterprises of their region (else 404) under the consent to the bureau
    "credit_file.enterprise_file": ENTERPRISE_USER,
    "credit_file.enterprise_report": ENTERPRISE_USER,
    "credit_file.institution_file": LENDER_STAFF,
    "credit_file.institution_report": LENDER_STAFF,
    "credit_file.bureau_file": BUREAU,
    "credit_file.bureau_report": BUREAU,
    # objections (异议) and credit repair (信用修复) (marketplace/credit/objection_views.py): the enterprise
    # files on its own records (else 404); the provider answers objections on its own records; the
    # platform answers and decides everything; the bureau follows its region (else 404)
    "credit_objections.file_objection": ENTERPRISE_USER,
    "credit_objections.apply_repair": ENTERPRISE_USER,
    "credit_objections.index": ENTERPRISE_USER,
    "credit_objections.objection": ENTERPRISE_USER,
    "credit_objections.repair": ENTERPRISE_USER,
    "credit_objections.evidence": ENTERPRISE_USER,
    "provider_objections.index": PROVIDER,
    "provider_objections.detail": PROVIDER,
    "provider_objections.evidence": PROVIDER,
    "admin_objections.objections_list": PLATFORM_ADMIN,
    "admin_objections.objection": PLATFORM_ADMIN,
    "admin_objections.repairs_list": PLATFORM_ADMIN,
    "admin_objections.repair": PLATFORM_ADMIN,
    "admin_objections.evidence": PLATFORM_ADMIN,
    "bureau_objections.objections_list": BUREAU,
    "bureau_objections.objection": BUREAU,
    "bureau_objections.repairs_list": BUREAU,
    "bureau_objections.repair": BUREAU,
    "bureau_objections.evidence": BUREAU,
}


def role_of_current_user() -> str:
    if current_user.is_authenticated:
        return current_user.role
    return ANONYMOUS


def enforce_route_access():
    """before_request: look the endpoint up in ROUTE_ACCESS and refuse what it does not admit."""
    endpoint = request.endpoint
    if endpoint is None:  # no route matched: let routing answer 404/405
        return None
    rule = ROUTE_ACCESS.get(endpoint)
    if rule is None:
        abort(403)
    role = role_of_current_user()
    if rule.admits(role):
        return None
    if role == ANONYMOUS:
        if request.path.startswith("/api/"):
            abort(401)  # API clients get a JSON 401 (marketplace.api.errors), not a login redirect
        from marketplace.extensions import login_manager

        return login_manager.unauthorized()
    abort(403)


def init_app(app: Flask) -> None:
    app.before_request(enforce_route_access)


# ---- object-level rules -----------------------------------------------------------------

def current_enterprise():
    """The enterprise the signed-in user works for; 403 for anyone else."""
    enterprise = getattr(current_user, "enterprise", None)
    if enterprise is None:
        abort(403)
    return enterprise


def require_owned(obj, enterprise_id_attr: str = "enterprise_id"):
    """404 unless `obj` exists and belongs to the current user's enterprise.

    404 rather than 403 so that ids of other enterprises' rows are not confirmed to exist.
    """
    if obj is None or getattr(obj, enterprise_id_attr) != current_enterprise().id:
        abort(404)
    return obj


def is_enterprise_admin(user) -> bool:
    return user.is_authenticated and user.role == Role.ENTERPRISE_ADMIN
