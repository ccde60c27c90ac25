"""Configuration: embedded defaults, then overrides from the environment (FLASK_*)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

# Keys that must be set explicitly when DEPLOYMENT is "production".
PRODUCTION_REQUIRED = ("SECRET_KEY", "AUDIT_KEY", "ENCRYPTION_KEY")
# Everything production refuses to start without (production_problems): the setting, and why.
PRODUCTION_SETTINGS = {
    "SECRET_KEY": "the session signing key",
    "AUDIT_KEY": "the audit chain's HMAC key",
    "ENCRYPTION_KEY": "the key of ID numbers and TOTP secrets at rest",
    "SQLALCHEMY_DATABASE_URI": "the application role's PostgreSQL URL",
    "PUBLIC_BASE_URL": "the https address links in emails and tasks point to",
    "UPLOAD_FOLDER": "uploads, on storage every web and worker machine shares",
}


class MissingSettings(RuntimeError):
    """Production was asked to start without settings it needs (each named in the message)."""


class Defaults:
    """The embedded default: SQLite under instance/, eager Celery, offline payments."""

    DEPLOYMENT = "embedded"  # or "production"
    PROXY_FIX_HOPS = 0  # proxies in front that set X-Forwarded-For/-Proto/-Host (0: none trusted)
    # The blueprints' URL rules, read at start-up; their views are imported when first needed
    # (marketplace/routing.py, DeferredViews). None: every view is imported at start-up.
    ROUTE_MANIFEST: str | None = str(Path(__file__).with_name("routes.json"))
    # Log lines (marketplace/observability.py): "json" (one object a line, with the request id) or
    # "text"; None: json in production, text elsewhere.
    LOG_FORMAT: str | None = None
    LOG_LEVEL = "INFO"
    READINESS_TIMEOUT = 2.0  # seconds /readyz waits for the database and for the broker, each
    SECRET_KEY: str | None = None
    AUDIT_KEY: str | None = None
    AUDIT_CHECKPOINT_EVERY = 1000  # a signed checkpoint of the audit chain's head every N events
    DENIALS_LOGGED_PER_MINUTE = 20  # refusals (403/404) of one user logged per minute; the rest are not
    # Encrypts ID numbers and TOTP secrets at rest (marketplace/crypto.py); comma-separated keys
    # rotate (the first encrypts). Embedded mode keeps one in instance/encryption_key.
    ENCRYPTION_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # None: sqlite file under instance/
    # Migrations (flask db upgrade, db-roles) connect with this owner role when set; the app's own
    # URL above then names a role that may not alter tables nor change audit rows.
    MIGRATION_DATABASE_URI: str | None = None
    APP_DATABASE_ROLE: str | None = None  # e.g. marketplace_app: `flask db upgrade` re-grants it
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}  # {"pool_pre_ping": True} pings on every checkout
    # A pooled connection idle longer than this is pinged before use (marketplace.db.ping_after_idle)
    POOL_PING_IDLE_SECONDS = 3.0
    CELERY: dict = {
        "broker_url": "memory://",
        "result_backend": "cache+memory://",
        "task_always_eager": True,
        "task_eager_propagates": True,
        "task_ignore_result": True,
        "broker_transport_options": {"visibility_timeout": 6 * 3600},
    }
    PAYMENTS = "offline"  # "stripe" once STRIPE_SECRET_KEY is set
    STRIPE_SECRET_KEY: str | None = None
    STRIPE_WEBHOOK_SECRET: str | None = None
    STRIPE_API_BASE: str | None = None
    MAIL_SERVER: str | None = None  # None: mail is written to the log
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_DEFAULT_SENDER = "noreply@receivables.local"
    BABEL_DEFAULT_LOCALE = "zh_Hans_CN"
    BABEL_DEFAULT_TIMEZONE = "Asia/Shanghai"
    LANGUAGES = {"zh_Hans_CN": "简体中文", "en": "English"}
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    LOGIN_LIMIT_PER_IP = "20 per minute"
    # Wrong passwords for one account from one address (back-off for that pair only; the owner
    # elsewhere is not refused); wrong second-factor codes per account; registrations.
    LOGIN_FAILURES_PER_ACCOUNT_IP = "5 per minute;20 per hour"
    TOTP_FAILURES_PER_ACCOUNT = "5 per 5 minutes;20 per day"
    LOGIN_PENDING_SECONDS = 300  # a password accepted, second factor pending: expires after this
    REGISTER_LIMIT_PER_IP = "10 per hour"
    REGISTER_LIMIT_PER_EMAIL = "3 per hour"
    REGISTRATION_LINK_HOURS = 48
    PERMANENT_SESSION_LIFETIME = timedelta(hours=8)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False  # True in production (finalise), where TLS is required
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    RATELIMIT_HEADERS_ENABLED = True  # 429 answers say when to retry (Retry-After)
    MAX_CONTENT_LENGTH = 64 * 1024 * 1024
    DOCUMENT_MAX_BYTES = 10 * 1024 * 1024
    # Uploaded tables (statements, receivables imports): refused before parsing beyond these
    # (workflows.tabular.TableLimits), and parsed in a child process limited in memory and time
    # (marketplace/isolation.py; UPLOAD_PARSE_ISOLATED = False parses in the web process).
    UPLOAD_MAX_ROWS = 200_000
    UPLOAD_MAX_COLUMNS = 200
    UPLOAD_MAX_CELLS = 4_000_000
    UPLOAD_MAX_UNPACKED_MB = 256  # an XLSX's parts, each and in all
    UPLOAD_PARSE_ISOLATED = True
    UPLOAD_PARSE_MEMORY_MB = 1536
    UPLOAD_PARSE_SECONDS = 60
    UPLOAD_INLINE_BYTES = 1024 * 1024  # an HTML table this small is parsed in the web process (CSV always is)
    # PDFs (marketplace/pdf.py): rendered in a child limited in time and memory, refused past a
    # page cap; PDFs of immutable records are cached here (None: instance/pdf-cache).
    PDF_MAX_PAGES = 60
    PDF_RENDER_SECONDS = 30
    PDF_RENDER_MEMORY_MB = 1536
    PDF_RENDER_ISOLATED = True
    PDF_CACHE_FOLDER: str | None = None
    # A new verification report's PDF is rendered by a worker ahead of its first download (default
    # language); None: when tasks go to a broker (not in the embedded eager mode).
    REPORT_PDF_PRERENDER: bool | None = None
    UPLOAD_FOLDER: str | None = None  # None: instance/uploads
    DEBTOR_LINK_DAYS = 7
    DEBTOR_REMINDER_DAYS = 3  # a debtor who has not answered is reminded at most this often
    # a debtor request (several receivables, one link) is reminded once, this many working days before it expires
    DEBTOR_REQUEST_REMIND_WORKING_DAYS = 2
    DEBTOR_LINK_LIMIT_PER_IP = "30 per minute"  # the debtor's link pages (guessing tokens is pointless anyway)
    PUBLIC_BASE_URL: str | None = None  # used in links sent by email; None: the request's host
    TOTP_ISSUER = "应收账款融资服务平台"
    PAGE_SIZE = 20
    # Desks: an idle claim goes back to the queue after this many working days; offers above
    # FOUR_EYES_AMOUNT (yuan) need a second, different approver; declines name one of these codes.
    CLAIM_IDLE_WORKING_DAYS = 2
    FOUR_EYES_AMOUNT = "5000000.00"
    OFFER_VALID_DAYS_MAX = 90
    QUEUE_COUNTS_SECONDS = 30  # a queue's counts per state are reused this long (they scan the queue)
    DECLINE_REASONS: dict = {
        "credit_risk": ["企业信用风险超出本机构准入标准", "Credit risk above our appetite"],
        "cash_flow": ["经营现金流不足以覆盖还款", "Cash flow too thin to repay"],
        "receivable_quality": ["应收账款质量或债务人资质不符合要求", "Receivables or debtors not acceptable"],
        "industry_limit": ["行业或集中度限额已满", "Industry or concentration limit reached"],
        "incomplete": ["材料不完整且未按期补充", "Documents incomplete and not supplied in time"],
        "policy": ["不符合本机构产品政策", "Outside our product policy"],
        "other": ["其他原因（见说明）", "Other (see the note)"],
    }
    # Holds each verification between its two transactions (seconds); 0 except in the
    # redelivery test, which kills a worker in the middle of a verification.
    VERIFICATION_PAUSE_SECONDS = 0
    # A submission whose verification has produced no report this long after its last send is
    # sent again (a lost or unacked message, a killed worker), at most VERIFICATION_MAX_SENDS
    # times in all; then the platform admins are told (marketplace/verification/stalls.py).
    VERIFICATION_STALL_MINUTES = 5
    VERIFICATION_MAX_SENDS = 4
    # SLA clocks (marketplace/sla): working days per state, overriding workflows.sla.DEFAULT_SLA_DAYS,
    # e.g. {"bank_review": 3, "returned": 10}; null for no clock.
    SLA_WORKING_DAYS: dict = {}
    # The finance bureau (marketplace/bureau): reminders this many working days before a dispatch
    # meeting and before an action item falls due.
    BUREAU_MEETING_REMINDER_WORKING_DAYS = 1
    BUREAU_ACTION_REMINDER_WORKING_DAYS = 2
    # Credit repair (信用修复, marketplace.credit.repairs): the reviewer decides within this many
    # CALENDAR days (Asia/Shanghai) of the filing day; the application's due_on is set at filing.
    CREDIT_REPAIR_REVIEW_DAYS = 15
    # Public holidays and make-up working days from the State Council's notice, over chinese_calendar
    # and the holidays package (workflows.working_days; a platform admin can also set a year at
    # /admin/calendar): {2027: {"holidays": ["2027-10-01..2027-10-07"], "workdays": ["2027-10-09"]}}.
    # Checked at start-up.
    WORKING_DAY_TABLE: dict = {}
    # How long a process keeps the calendar before reading the admin-set years again.
    CALENDAR_REFRESH_SECONDS = 300
    # The credit file (marketplace/credit/retention.py): a negative credit record leaves every
    # outward view (institutions' pages, API, reports) this many years after its event ended
    # (ended_on; a matter without an end stays); the daily task `credit-retention` marks it, the enterprise still sees it.
    CREDIT_NEGATIVE_RETENTION_YEARS = 5
    # Who read an enterprise's credit data (audit events credit_data.read / .denied) is kept at
    # least this long and the credit file's access log shows at least this period. Nothing deletes
    # access-log entries: the audit log is append-only and HMAC-chained (marketplace/audit.py).
    CREDIT_ACCESS_LOG_RETENTION_YEARS = 3


def finalise(config: dict, instance_path: str) -> None:
    """Fill embedded defaults that depend on the instance folder; refuse unsafe production."""
    instance = Path(instance_path)
    if config.get("DEPLOYMENT") == "production":
        missing = production_problems(config)
        if missing:
            raise MissingSettings(
                f"Refusing to start in production without {'; '.join(missing)}. Set them in the "
                "environment, see docs/deployment.md (生产模式缺少必需的设置，见 docs/deployment.md)."
            )
        secure_cookies(config)
    instance.mkdir(parents=True, exist_ok=True)
    for key in PRODUCTION_REQUIRED:
        if not config.get(key):
            config[key] = _instance_secret(instance / key.lower())
    if not config.get("SQLALCHEMY_DATABASE_URI"):
        config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{instance / 'marketplace.db'}"
    without_jit(config)
    check_working_day_table(config)
    if not config.get("UPLOAD_FOLDER"):
        config["UPLOAD_FOLDER"] = str(instance / "uploads")
    if not config.get("PDF_CACHE_FOLDER"):
        config["PDF_CACHE_FOLDER"] = str(instance / "pdf-cache")
    if config.get("STRIPE_SECRET_KEY"):
        config["PAYMENTS"] = "stripe"


def production_problems(config: dict) -> list[str]:
    """Each production setting that is missing, as "FLASK_NAME (what it is)", all at once so a
    first start names everything to set."""
    problems = [f"FLASK_{key} ({why})" for key, why in PRODUCTION_SETTINGS.items() if not config.get(key)]
    celery = config.get("CELERY") or {}
    if not celery.get("task_always_eager") and str(celery.get("broker_url") or "memory://").startswith("memory://"):
        problems.append("FLASK_CELERY__broker_url (the Redis URL workers take tasks from; "
                        "tasks are not run in-process)")
    if config.get("RATELIMIT_ENABLED", True) and str(config.get("RATELIMIT_STORAGE_URI") or "memory://").startswith("memory://"):
        problems.append("FLASK_RATELIMIT_STORAGE_URI (a Redis URL: login limits counted across every web process)")
    return problems


def check_working_day_table(config: dict) -> None:
    """Refuse to start on a WORKING_DAY_TABLE that does not parse (a malformed day, a day both a
    holiday and a workday, a year out of range): every clock would count wrongly otherwise."""
    from workflows.working_days import parse_table

    try:
        parse_table(config.get("WORKING_DAY_TABLE") or {}, setting="WORKING_DAY_TABLE")
    except ValueError as problem:
        raise RuntimeError(f"Refusing to start: {problem} (设置 WORKING_DAY_TABLE 有误).") from None


def without_jit(config: dict) -> None:
    """On PostgreSQL, the app's connections run with `jit = off` (the `options` startup
    parameter; an explicit jit=... in SQLALCHEMY_ENGINE_OPTIONS' connect_args wins).

    The app's statements are short OLTP reads and writes and a few reporting aggregates over at
    most a region's rows. Their estimated costs still pass jit_above_cost (100,000) as soon as a
    region holds tens of thousands of requests, and PostgreSQL then compiles each execution with
    LLVM, which costs more than it saves: the bureau dashboard's funnel for a city's year took
    450 ms with JIT and 213 ms without (docs/performance.md, issue 13). No result changes."""
    if not str(config.get("SQLALCHEMY_DATABASE_URI") or "").startswith("postgresql"):
        return
    options = dict(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})  # not the shared class default
    connect_args = dict(options.get("connect_args") or {})
    startup = str(connect_args.get("options") or "")
    if "jit=" not in startup.replace(" ", ""):
        connect_args["options"] = f"{startup} -c jit=off".strip()
    options["connect_args"] = connect_args
    config["SQLALCHEMY_ENGINE_OPTIONS"] = options


def secure_cookies(config: dict) -> None:
    """Production cookies travel over TLS only, stay out of scripts and off cross-site posts
    (the session and Flask-Login's remember cookie alike)."""
    for prefix in ("SESSION", "REMEMBER"):
        config[f"{prefix}_COOKIE_SECURE"] = True
        config[f"{prefix}_COOKIE_HTTPONLY"] = True
        config.setdefault(f"{prefix}_COOKIE_SAMESITE", "Lax")


def _instance_secret(path: Path) -> str:
    """An embedded-mode secret kept in the instance folder so sessions survive restarts."""
    if not path.exists():
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()
