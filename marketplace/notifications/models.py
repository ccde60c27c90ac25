"""In-app notifications; each may also be sent by email."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import UTCDateTime, utcnow
from marketplace.extensions import db
from marketplace.notifications.messages import shown


class Notification(db.Model):
    """`title` and `body` keep the text in Chinese; a notice written as a message also keeps its
    msgids (`title_key`, `body_key`) and parameters, and is shown in the reader's language.
    A row with text alone (older rows, plain-text notices) shows its text."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    title_key: Mapped[str | None] = mapped_column(Text)
    title_params: Mapped[dict | None] = mapped_column(JSON)
    body_key: Mapped[str | None] = mapped_column(Text)
    body_params: Mapped[dict | None] = mapped_column(JSON)
    link: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    emailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user = relationship("User")

    @property
    def shown_title(self) -> str:
        """The title in the current locale's words."""
        return shown(self.title, self.title_key, self.title_params)

    @property
    def shown_body(self) -> str:
        """The body in the current locale's words."""
        return shown(self.body, self.body_key, self.body_params)
