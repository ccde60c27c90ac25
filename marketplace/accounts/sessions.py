"""Flask-Login wiring: a session id that carries the user's auth generation; bearer tokens
for the JSON API (marketplace.accounts.tokens)."""

from collections.abc import Callable
from functools import cache

from flask import flash, has_request_context, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from marketplace.accounts import tokens
from marketplace.extensions import db
from marketplace.notifications.services import remember_unread_count, unread_count_column

_COUNTS_LOADED_WITH_USER: dict[str, Callable] = {}


def load_count_with_user(name: str, column: Callable) -> None:
    """Read a count with the user on every signed-in page, in the loader's one statement, rather
    than in a statement of its own later: `column(User)` gives a scalar subquery correlated to the
    user's row. A package above accounts registers it (the bureau: the open action items), so
    accounts does not import it; read it back with counted_with_user(user, name)."""
    _COUNTS_LOADED_WITH_USER[name] = column
    _user_with_unread_count.cache_clear()


def counted_with_user(user, name: str) -> int | None:
    """The count `name` loaded with the user for this page, or None (not registered, not loaded
    with this user, or a request that may change what it counts: only a GET or HEAD page uses it,
    as unread_count() does)."""
    counts = getattr(user, "_counts_loaded", None)
    if counts is None or not has_request_context() or request.method not in ("GET", "HEAD"):
        return None
    return counts.get(name)


@cache
def _user_with_unread_count():
    """Every page asks whether the user and the organisation are active, and shows the unread
    notifications (and the counts registered with load_count_with_user): one query for all,
    built once (SQLAlchemy then skips rebuilding and hashing it on each request)."""
    from marketplace.accounts.models import User

    names = tuple(_COUNTS_LOADED_WITH_USER)
    counts = [_COUNTS_LOADED_WITH_USER[name](User).label(f"count_{name}") for name in names]
    return names, (select(User, unread_count_column(User.id), *counts).options(joinedload(User.organisation))
                   .where(User.id == bindparam("user_id")))


def init_login_manager(login_manager) -> None:
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("请先登录")
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str):
        if tokens.carries_api_credentials(request):
            return None  # an API call with an Authorization header is authenticated by it alone
        user_id, _, generation = session_id.partition(".")
        if not user_id.isdigit() or not generation.isdigit():
            return None
        names, statement = _user_with_unread_count()
        row = db.session.execute(statement, {"user_id": int(user_id)}).first()
        if row is None:
            return None
        user, unread, *counts = row
        if user.auth_generation != int(generation) or not user.is_active:
            return None
        remember_unread_count(user, unread)
        user._counts_loaded = dict(zip(names, counts, strict=True))
        return user

    @login_manager.request_loader
    def load_user_from_bearer_token(request):
        return tokens.authenticate(request)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        flash(str(_l("请先登录")), "warning")
        return redirect(url_for("accounts.login", next=request.full_path))
