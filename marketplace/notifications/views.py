"""The signed-in user's notifications."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlalchemy import select, update
from sqlalchemy.exc import SQLAlchemyError

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.notifications.models import Notification
from marketplace.notifications.services import unread_count
from marketplace.pagination import paginate

bp = Blueprint("notifications", __name__, url_prefix="/notifications")


@bp.app_context_processor
def inject_unread_count():
    """The signed-in user's unread count, for the navigation of every page."""
    try:
        unread = unread_count(current_user) if current_user.is_authenticated else 0
    except SQLAlchemyError:  # an error page must render even when the database does not
        unread = 0
    return {"unread_notifications": unread}


@bp.get("/")
def index():
    page = paginate(select(Notification).where(Notification.user_id == current_user.id)
                    .order_by(Notification.id.desc()))
    return render_template("notifications/index.html", page=page, form=FlaskForm())


@bp.post("/<int:notification_id>/read")
def mark_read(notification_id: int):
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.user_id != current_user.id:
        abort(404)
    notification.read_at = notification.read_at or utcnow()
    db.session.commit()
    return redirect(notification.link or url_for("notifications.index"))


@bp.post("/read-all")
def mark_all_read():
    db.session.execute(update(Notification).where(Notification.user_id == current_user.id,
                                                  Notification.read_at.is_(None)).values(read_at=utcnow()))
    db.session.commit()
    return redirect(url_for("notifications.index"))
