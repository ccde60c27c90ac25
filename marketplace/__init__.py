"""The marketplace application: persistence, web, tasks. Stands on workflows/, never the reverse."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from marketplace import config as config_module
from marketplace.startup import collector_paused, no_collection_at_exit

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: dict | None = None, instance_path: str | None = None) -> Flask:
    """Build the app: defaults, then FLASK_* environment, then `config` (tests)."""
    no_collection_at_exit()
    with collector_paused():  # start-up allocates long-lived objects only (marketplace.startup)
        return _build_app(config, instance_path)


def _build_app(config: dict | None, instance_path: str | None) -> Flask:
    app = Flask(
        __name__,
        instance_path=instance_path or os.environ.get("MARKETPLACE_INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    app.config.from_object(config_module.Defaults)
    app.config.from_prefixed_env()
    if config:
        app.config.update(config)
    config_module.finalise(app.config, app.instance_path)
    hops = int(app.config.get("PROXY_FIX_HOPS") or 0)
    if hops:  # behind a TLS-terminating proxy: trust its X-Forwarded-* headers, this many hops
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from marketplace.web_security import bound_url_ids

    bound_url_ids(app)  # before any route is added: ids in URLs stay within the tables' integers
    from marketplace.routing import LazyBuilderRule

    app.url_rule_class = LazyBuilderRule  # url_for's builders compiled on first use, not at start
    _init_extensions(app)
    import marketplace.after_commit  # noqa: F401  (session hooks)
    import marketplace.models  # noqa: F401  (every table registered before anything queries)
    from marketplace.route_manifest import read
    from marketplace.routing import CommandsOnFirstUse, DeferredViews, ExtensionOnFirstUse

    manifest = app.config["ROUTE_MANIFEST"]
    # the pages' and the API's rules now; their views, forms and schemas on first use (routing.py)
    DeferredViews(app, _register_blueprints).install(read(Path(manifest)) if manifest else None)
    if "marketplace_api" not in app.extensions:  # deferred: flask-smorest builds the API with the views
        app.extensions["marketplace_api"] = ExtensionOnFirstUse(app, "marketplace_api")
        app.cli.add_command(CommandsOnFirstUse("openapi", help="OpenAPI commands."))

    from marketplace import (
        audit,
        confirmation,
        errors,
        i18n,
        permissions,
        read_transactions,
        web_security,
    )

    # listeners of marketplace.events.request_transitioned (financing publishes, these react),
    # and of the payments' paid hook (the guarantee fee)
    from marketplace.bureau import request_figures as _figures  # noqa: F401  (the dashboard's per-request rows)
    from marketplace.bureau import stays as _stays  # noqa: F401  (the bureau's turnaround figures)
    from marketplace.credit import grading as _grading  # noqa: F401  (reports and loan facts regrade)
    from marketplace.desks import closing as _closing  # noqa: F401  (withdrawal closes the desks' work)
    from marketplace.desks import consent_ended  # noqa: F401  (subscribes to consents revoked and granted)
    from marketplace.guarantees import services as _guarantees  # noqa: F401  (the guarantee fee's paid handler)
    from marketplace.sla import services as _sla  # noqa: F401  (the SLA clock restarts)
    from marketplace.supermarket import decision_records as _decisions  # noqa: F401  (the matcher's kept records)
    from marketplace.verification import services as _verification  # noqa: F401  (submission queues the check)

    i18n.init_app(app)
    errors.init_app(app)
    permissions.init_app(app)
    confirmation.init_app(app)  # after the access check: unconfirmed irreversible POSTs ask first
    audit.init_app(app)  # refusals of signed-in users (403, 404 on a matched route) are logged
    read_transactions.init_app(app)
    web_security.init_app(app)  # headers on every answer; control characters refused first
    from marketplace.reference import web as reference_web

    reference_web.init_app(app)  # industry_name(), region_name() and the pickers' choices in templates
    from marketplace import health, observability

    observability.init_app(app)  # a request id first of all; JSON log lines when LOG_FORMAT=json
    health.init_app(app)  # /healthz (alive), /readyz (database and broker answer)
    from marketplace import compression, static_assets

    static_assets.init_app(app)  # ?v=<content hash> on static URLs; those answers cached a year
    compression.init_app(app)  # gzip pages, JSON, CSS, JS (runs after every other after_request)

    from marketplace.cli import register_cli

    register_cli(app)  # (the Celery task modules are imported by the worker: marketplace.celery)
    return app


def _init_extensions(app: Flask) -> None:
    from marketplace.celery import celery_init_app
    from marketplace.extensions import csrf, db, init_migrate, limiter, login_manager

    db.init_app(app)
    init_migrate(app, directory=str(PROJECT_ROOT / "migrations"))  # Alembic imported by `flask db` only
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    celery_init_app(app)

    from marketplace.accounts import sessions

    sessions.init_login_manager(login_manager)


def _register_blueprints(app: Flask) -> None:
    from marketplace.accounts.admin_views import bp as admin_bp
    from marketplace.accounts.views import bp as accounts_bp
    from marketplace.bureau.action_views import bp as actions_bp
    from marketplace.bureau.dashboard_views import bp as bureau_dashboard_bp
    from marketplace.bureau.meeting_views import bp as meetings_bp
    from marketplace.bureau.report_views import bp as bureau_reports_bp
    from marketplace.bureau.request_views import bp as bureau_requests_bp
    from marketplace.credit.file_views import bp as credit_file_bp
    from marketplace.credit.objection_views import BLUEPRINTS as credit_objection_bps
    from marketplace.credit.views import bp as provider_records_bp
    from marketplace.desks.enterprise_views import bp as desk_enterprise_bp
    from marketplace.desks.letter_views import bp as offer_letters_bp
    from marketplace.desks.views import bp as desk_bp
    from marketplace.enterprises.views import bp as enterprises_bp
    from marketplace.financing.views import bp as financing_bp
    from marketplace.guarantees.views import bp as guarantees_bp
    from marketplace.lists.views import bp as lists_bp
    from marketplace.loans.views import bp as loans_bp
    from marketplace.main.views import bp as main_bp
    from marketplace.notifications.views import bp as notifications_bp
    from marketplace.onboarding.views import bp as onboarding_bp
    from marketplace.payments.views import bp as payments_bp
    from marketplace.receivables.debtor_request_views import bp as debtor_requests_bp
    from marketplace.receivables.debtor_views import bp as debtor_bp
    from marketplace.receivables.invoice_views import bp as invoices_bp
    from marketplace.receivables.views import bp as receivables_bp
    from marketplace.statements.views import bp as statements_bp
    from marketplace.supermarket.leads_views import bp as leads_bp
    from marketplace.supermarket.views import bp as supermarket_bp
    from marketplace.verification.admin_views import bp as policies_bp
    from marketplace.verification.report_views import bp as reports_bp
    from marketplace.workcalendar.views import bp as calendar_admin_bp

    for blueprint in (main_bp, accounts_bp, admin_bp, enterprises_bp, receivables_bp, debtor_bp,
                      financing_bp, notifications_bp, leads_bp, supermarket_bp, statements_bp, policies_bp,
                      reports_bp, desk_bp, desk_enterprise_bp, offer_letters_bp, guarantees_bp, payments_bp,
                      loans_bp, bureau_dashboard_bp, bureau_requests_bp, meetings_bp, actions_bp,
                      bureau_reports_bp, provider_records_bp, credit_file_bp):
        app.register_blueprint(blueprint)
    app.register_blueprint(lists_bp)  # red/white/yellow lists and the white-list push (marketplace/lists)
    for blueprint in credit_objection_bps:  # objections and repairs: enterprise, provider, admin, bureau
        app.register_blueprint(blueprint)
    app.register_blueprint(calendar_admin_bp)
    app.register_blueprint(invoices_bp)  # receivables from the tax bureau's invoice list and e-invoice XML
    app.register_blueprint(debtor_requests_bp)  # debtor requests: several receivables, one link (issue 19)
    app.register_blueprint(onboarding_bp)  # the first-application checklist at /enterprise/start (issue 19)

    from marketplace import api

    api.init_app(app)  # the JSON API under /api/v1: its blueprints, OpenAPI document and docs page
