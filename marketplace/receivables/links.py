"""The debtor's confirmation links: signed, expiring, single-use tokens naming a ConfirmationLink row.

The token proves who made it (itsdangerous signature and timestamp); the row decides whether it
still works (nonce, used, revoked, expiry), so a link can be revoked or used up server-side.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select

from marketplace.db import utcnow
from marketplace.extensions import db
from marketplace.receivables.models import ConfirmationLink, Receivable

SALT = "debtor-confirmation"


class LinkProblem(Exception):
    """Why a link cannot be used: invalid, expired, used or revoked, with its page text and status."""

    TEXTS = {
        "invalid": (_l("链接无效"), _l("该确认链接无效，请检查链接是否完整，或联系债权人重新发送。")),
        "expired": (_l("链接已过期"), _l("该确认链接已超过有效期，请联系债权人重新发送。")),
        "used": (_l("链接已使用"), _l("该应收账款已通过此链接确认或提出异议，每个链接只能使用一次。")),
        "revoked": (_l("链接已作废"),
                    _l("债权人已重新发送确认链接或修改了应收账款，此链接已作废。请使用最新的链接。")),
    }

    def __init__(self, kind: str):
        super().__init__(kind)
        self.kind = kind

    @property
    def status(self) -> int:
        """404 when the link never was valid; 410 (gone) when it was and no longer is."""
        return 404 if self.kind == "invalid" else 410

    @property
    def title(self) -> str:
        return str(self.TEXTS[self.kind][0])

    @property
    def message(self) -> str:
        return str(self.TEXTS[self.kind][1])


def serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=SALT)


def max_age() -> timedelta:
    return timedelta(days=current_app.config["DEBTOR_LINK_DAYS"])


def token_for(link: ConfirmationLink) -> str:
    return serializer().dumps({"link": link.id, "nonce": link.nonce})


def link_url(token: str) -> str:
    """The absolute address to send to the debtor; PUBLIC_BASE_URL wins over the request's host."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if base:
        return base.rstrip("/") + url_for("debtor.confirm", token=token)
    return url_for("debtor.confirm", token=token, _external=True)


def open_links(receivable: Receivable) -> list[ConfirmationLink]:
    return [link for link in receivable.links if link.used_at is None and link.revoked_at is None]


def revoke_open_links(receivable: Receivable) -> int:
    """Revoke every unused, unrevoked link of the receivable; return how many."""
    now = utcnow()
    links = open_links(receivable)
    for link in links:
        link.revoked_at = now
    return len(links)


def create_link(receivable: Receivable, user) -> ConfirmationLink:
    now = utcnow()
    link = ConfirmationLink(receivable=receivable, nonce=secrets.token_hex(16), created_by_id=user.id,
                            created_at=now, expires_at=now + max_age())
    db.session.add(link)
    db.session.flush()
    return link


def state_of(link: ConfirmationLink, now: datetime | None = None) -> str:
    """used, revoked, expired or open."""
    if link.used_at is not None:
        return "used"
    if link.revoked_at is not None:
        return "revoked"
    if link.expires_at <= (now or utcnow()):
        return "expired"
    return "open"


def resolve(token: str, *, for_update: bool = False) -> ConfirmationLink:
    """The usable link the token names, or raise the LinkProblem to show."""
    try:
        payload = serializer().loads(token, max_age=int(max_age().total_seconds()))
    except SignatureExpired:
        raise LinkProblem("expired") from None
    except BadSignature:
        raise LinkProblem("invalid") from None
    link = _load(payload, for_update)
    if link is None or not secrets.compare_digest(link.nonce, str(payload.get("nonce", ""))):
        raise LinkProblem("invalid")
    state = state_of(link)
    if state != "open":
        raise LinkProblem(state)
    if link.receivable.confirmation != "pending":  # answered another way since
        raise LinkProblem("used")
    return link


def _load(payload, for_update: bool) -> ConfirmationLink | None:
    link_id = payload.get("link") if isinstance(payload, dict) else None
    if not isinstance(link_id, int):
        return None
    query = select(ConfirmationLink).where(ConfirmationLink.id == link_id)
    if for_update:
        query = query.with_for_update()
    return db.session.scalar(query)
