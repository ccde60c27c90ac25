"""Imports every model so the metadata (and so Alembic's autogenerate) sees all tables."""

from marketplace.accounts.models import Organisation, User  # noqa: F401
from marketplace.accounts.tokens import ApiToken  # noqa: F401
from marketplace.audit import AuditEvent  # noqa: F401
from marketplace.bureau.models import (  # noqa: F401
    ActionItem,
    AgendaItem,
    Meeting,
    MeetingAttendee,
    RequestStay,
    SummaryReport,
)
from marketplace.credit.models import CreditRecord  # noqa: F401
from marketplace.desks.models import (  # noqa: F401
    Assignment,
    Decline,
    InfoAttachment,
    InfoRequest,
    InternalNote,
    Offer,
)
from marketplace.enterprises.models import (  # noqa: F401
    CommitmentSignature,
    CommitmentText,
    Consent,
    Enterprise,
)
from marketplace.financing.models import FinancingRequest, RequestPledge, WorkflowEvent  # noqa: F401
from marketplace.guarantees.models import Guarantee  # noqa: F401
from marketplace.lists.models import (  # noqa: F401
    ListMembership,
    ListProposal,
    WhitelistPush,
    WhitelistPushEntry,
)
from marketplace.loans.models import Instalment, Loan, Repayment  # noqa: F401
from marketplace.notifications.models import Notification  # noqa: F401
from marketplace.outbox import OutboxMessage  # noqa: F401
from marketplace.payments.models import Payment, StripeEvent  # noqa: F401
from marketplace.receivables.debtor_request_models import DebtorRequest, DebtorRequestLine  # noqa: F401
from marketplace.receivables.models import ConfirmationLink, Receivable, ReceivableDocument  # noqa: F401
from marketplace.statements.models import StatementFile, StatementTransaction  # noqa: F401
from marketplace.supermarket.models import (  # noqa: F401
    Product,
    ProductStat,
    ProductVersion,
    RequestTarget,
)
from marketplace.verification.models import PolicyVersion, VerificationReport  # noqa: F401
from marketplace.workcalendar.models import CalendarYear  # noqa: F401
