"""The demo seed as a test fixture's data: a complete cast on an SQLite database of its own."""

from __future__ import annotations

from marketplace import create_app
from marketplace.demo import seed
from marketplace.extensions import db


def seeded_demo(tmp_path_factory, audit_key: str = "y"):
    """Generator for a module-scoped fixture: (app, the seed's printout) inside an app context,
    on a new SQLite database filled by `flask demo seed`."""
    tmp_path = tmp_path_factory.mktemp("demo")
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/demo.db", "SECRET_KEY": "x",
                      "AUDIT_KEY": audit_key}, instance_path=str(tmp_path))
    lines: list[str] = []
    with app.app_context():
        seed(reset=True, echo=lines.append)
        yield app, "\n".join(lines)
        db.session.remove()


def get_as(app, user, path: str):
    """GET `path` signed in as `user`, in an app context of its own (Flask-Login keeps the user on g)."""
    with app.app_context():
        client = app.test_client()
        with client.session_transaction() as session:
            session["_user_id"], session["_fresh"] = user.get_id(), True
        return client.get(path)
