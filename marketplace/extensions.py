"""Flask extensions, created unbound; create_app() binds them.

Flask-Migrate (and Alembic under it, ~0.2 s to import) is bound lazily: init_migrate() gives
the app a `db` command group and an app.extensions["migrate"] that import it on first use, so
only `flask db ...` and the code that migrates pay for it. `migrate` is made on first access.
"""

import click
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from marketplace.db import Base, ping_after_idle


class _SQLAlchemy(SQLAlchemy):
    """Flask-SQLAlchemy whose engines check a pooled connection only after it sat idle for
    POOL_PING_IDLE_SECONDS (marketplace.db.ping_after_idle), unless SQLALCHEMY_ENGINE_OPTIONS
    asks for SQLAlchemy's pool_pre_ping (a ping on every checkout)."""

    def _make_engine(self, bind_key, options, app):
        engine = super()._make_engine(bind_key, options, app)
        if not options.get("pool_pre_ping"):
            ping_after_idle(engine, float(app.config["POOL_PING_IDLE_SECONDS"]))  # config.Defaults: 3 s
        return engine


db = _SQLAlchemy(model_class=Base)
csrf = CSRFProtect()
login_manager = LoginManager()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])


def __getattr__(name: str):
    if name == "migrate":  # Flask-Migrate's Migrate(), made when something asks for it
        from flask_migrate import Migrate

        globals()["migrate"] = Migrate()
        return globals()["migrate"]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def init_migrate(app, directory: str) -> None:
    """Flask-Migrate for `app` with `directory`, imported when first used: by a `db` command, or
    by code that reads app.extensions["migrate"] (flask_migrate.upgrade() in the tests and the demo)."""
    app.extensions["migrate"] = _LazyMigrateConfig(app, directory)
    app.cli.add_command(_MigrateCommands("db", help="Perform database migrations (Flask-Migrate)."))


def _bind_migrate(app, directory: str):
    from marketplace import extensions

    extensions.migrate.init_app(app, db, directory=directory)  # replaces the lazy config and group
    return app.extensions["migrate"]


class _LazyMigrateConfig:
    """Stands in app.extensions["migrate"] until read; then binds Flask-Migrate and forwards."""

    def __init__(self, app, directory: str) -> None:
        self._app, self._directory = app, directory

    def __getattr__(self, name: str):
        config = self._app.extensions["migrate"]
        if config is self:
            config = _bind_migrate(self._app, self._directory)
        return getattr(config, name)


class _MigrateCommands(click.Group):
    """`flask db`: parsed and run by Flask-Migrate's own group, imported only then."""

    def make_context(self, info_name, args, parent=None, **extra):
        from flask import current_app, has_app_context
        from flask.cli import ScriptInfo

        app = (current_app._get_current_object() if has_app_context()
               else parent.ensure_object(ScriptInfo).load_app())
        lazy = app.extensions.get("migrate")
        if isinstance(lazy, _LazyMigrateConfig):
            _bind_migrate(app, lazy._directory)
        from flask_migrate.cli import db as db_group

        return db_group.make_context(info_name, args, parent=parent, **extra)
