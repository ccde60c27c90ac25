"""A breach reaches people by email too: through a real SMTP server listening on this machine."""

from __future__ import annotations

import socket
from email import message_from_bytes
from email.policy import default

import pytest
from aiosmtpd.controller import Controller

from marketplace.sla.tasks import sweep_sla_breaches
from tests.sla.helpers import make_scene, sh


class Inbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content, policy=default)))
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp_server(app, monkeypatch):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    monkeypatch.setitem(app.config, "MAIL_SERVER", "127.0.0.1")
    monkeypatch.setitem(app.config, "MAIL_PORT", controller.port)
    yield inbox
    controller.stop()


def test_the_sweep_task_emails_the_people_concerned_in_chinese(app, monkeypatch, smtp_server):
    assert app.extensions["celery"].conf.task_always_eager  # the tasks run here, in order
    with app.test_request_context():
        scene = make_scene(monkeypatch, sh("2026-09-30 09:00"))
        scene.into_bank_review(sh("2026-09-30 10:00"))               # due 13 October: long past now
        request_id = scene.request.id
        expected = {scene.officer.email, scene.approver.email, scene.local_bureau.email,
                    scene.province_bureau.email}

        assert sweep_sla_breaches.delay().get() == 1                  # commits, then the emails go

        received = {tuple(rcpts): message for rcpts, message in smtp_server.messages}
        assert {rcpt for (rcpt,) in received} == expected
        message = received[(scene.officer.email,)]
        assert message["Subject"] == f"融资申请 #{request_id} 已超时：银行审查中"
        assert "处理时限（2026-10-13 10:00）已过" in message.get_content()

        assert sweep_sla_breaches.delay().get() == 0                  # nothing sent twice
        assert len(smtp_server.messages) == 4
