"""Start-up (issue 15): a bare `import wsgi` (what every `flask --app wsgi ...` command, gunicorn and
the Celery worker do first) loads only what every process needs. Migrations, PDFs, spreadsheets
and the OpenAPI description are loaded or built when first used, and still work then."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_db

ROOT = Path(__file__).resolve().parent.parent
# imported only by what needs them: `flask db` (Alembic), a PDF (WeasyPrint), an XLSX export (openpyxl),
# an English region name (pypinyin)
DEFERRED = ("alembic", "flask_migrate", "mako", "weasyprint", "openpyxl", "numpy", "pypinyin")

PROBE = """
import json, sys
import wsgi
from marketplace.extensions import db
print(json.dumps({
    "loaded": sorted({name.split(".")[0] for name in sys.modules}),
    "unconfigured_mappers": sum(1 for m in db.Model.registry.mappers if not m.configured),
    "mappers": len(db.Model.registry.mappers),
    "undocumented_api_blueprints": len(wsgi.app.extensions["marketplace_api"]._undocumented),
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
    assert {"marketplace", "workflows", "flask", "sqlalchemy", "celery", "flask_smorest"} <= set(bare_import["loaded"])


def test_mappers_are_configured_by_first_use_not_by_import(bare_import):
    # configuring every mapper (relationships resolved) is left to the first query or alias
    assert bare_import["mappers"] > 40
    assert bare_import["unconfigured_mappers"] == bare_import["mappers"]


def test_openapi_description_is_written_on_first_read(bare_import):
    assert bare_import["undocumented_api_blueprints"] > 0


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
