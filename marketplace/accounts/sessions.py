"""Flask-Login wiring: a session id that carries the user's auth generation; bearer tokens
for the JSON API (marketplace.accounts.tokens)."""

from functools import cache

from flask import flash, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from marketplace.accounts import tokens
from marketplace.extensions import db
from marketplace.notifications.services import remember_unread_count, unread_count_column


@cache
def _user_with_unread_count():
    """Every page asks whether the user and the organisation are active, and shows the unread
    notifications: one query for all three, built once (SQLAlchemy then skips rebuilding and
    hashing it on each request)."""
    from marketplace.accounts.models import User

    return (select(User, unread_count_column(User.id)).options(joinedload(User.organisation))
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
        row = db.session.execute(_user_with_unread_count(), {"user_id": int(user_id)}).first()
        if row is None:
            return None
        user, unread = row
        if user.auth_generation != int(generation) or not user.is_active:
            return None
        remember_unread_count(user, unread)
        return user

    @login_manager.request_loader
    def load_user_from_bearer_token(request):
        return tokens.authenticate(request)

    @login_manager.unauthorized_handler
    def unauthorized():
        from flask import redirect, url_for

        flash(str(_l("请先登录")), "warning")
        return redirect(url_for("accounts.login", next=request.full_path))
