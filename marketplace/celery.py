"""Celery bound to the Flask app (Flask's "Background Tasks with Celery" pattern)."""

import importlib

from celery import Celery, Task
from celery.schedules import crontab
from flask import Flask

# Every module that defines tasks: a worker imports them all as it starts (Celery's `imports`);
# another process imports one when it sends its task, or all of them (import_task_modules) to send
# a task by name (the outbox). Not at every start: 45 modules (start-up, issue 15).
TASK_MODULES = ("marketplace.outbox", "marketplace.notifications.tasks", "marketplace.verification.tasks",
                "marketplace.sla.tasks",
                "marketplace.loans.tasks", "marketplace.desks.tasks", "marketplace.receivables.tasks",
                "marketplace.bureau.reminders", "marketplace.bureau.summaries", "marketplace.credit.tasks",
                "marketplace.credit.objection_tasks", "marketplace.lists.tasks")

# Periodic tasks for `celery beat`; a beat_schedule in the CELERY configuration adds to these.
BEAT_SCHEDULE = {
    # tasks whose enqueue failed after their commit (broker down): sent from the outbox
    "outbox-flush": {"task": "marketplace.outbox.flush_outbox", "schedule": 60, "options": {"expires": 60}},
    # verifications that produced no report in VERIFICATION_STALL_MINUTES (a lost or stuck message)
    "verification-resend-stalled": {"task": "marketplace.verification.tasks.resend_stalled_verifications",
                                    "schedule": 120, "options": {"expires": 120}},
    "desk-expire-claims": {"task": "marketplace.desks.tasks.expire_idle_claims", "schedule": 10 * 60,
                           "options": {"expires": 10 * 60}},
    "sla-sweep": {"task": "marketplace.sla.tasks.sweep_sla_breaches", "schedule": 15 * 60,
                  "options": {"expires": 15 * 60}},  # a sweep queued while no worker ran is dropped
    # daily, just after midnight in Shanghai: reviews by institutions whose consent expired close
    "desk-close-reviews-without-consent": {"task": "marketplace.desks.tasks.close_reviews_without_consent",
                                           "schedule": crontab(hour=0, minute=10),
                                           "options": {"expires": 12 * 3600}},
    # daily, just after midnight in Shanghai: yesterday's unpaid instalments become overdue facts
    "loans-flag-overdue": {"task": "marketplace.loans.tasks.flag_overdue_instalments",
                           "schedule": crontab(hour=0, minute=20), "options": {"expires": 12 * 3600}},
    # daily at 09:30 in Shanghai (office hours): debtors who have not answered, or their creditors
    "receivables-remind-debtors": {"task": "marketplace.receivables.tasks.remind_unanswered_debtors",
                                   "schedule": crontab(hour=9, minute=30), "options": {"expires": 12 * 3600}},
    # daily at 09:35 in Shanghai: debtor requests (several receivables, one link) close to expiry, once each
    "receivables-remind-debtor-requests": {"task": "marketplace.receivables.tasks.remind_debtor_requests",
                                           "schedule": crontab(hour=9, minute=35), "options": {"expires": 12 * 3600}},
    # daily at 09:00 in Shanghai: dispatch meetings and action items falling due soon (working days)
    "bureau-remind-meetings": {"task": "marketplace.bureau.reminders.remind_meeting_attendees",
                               "schedule": crontab(hour=9, minute=0), "options": {"expires": 12 * 3600}},
    "bureau-remind-action-items": {"task": "marketplace.bureau.reminders.remind_action_owners",
                                   "schedule": crontab(hour=9, minute=5), "options": {"expires": 12 * 3600}},
    # daily, just after midnight in Shanghai: negative credit records past their retention period
    # leave every outward view (marketplace/credit/retention.py)
    "credit-retention": {"task": "marketplace.credit.tasks.expire_negative_records",
                         "schedule": crontab(hour=0, minute=30), "options": {"expires": 12 * 3600}},
    # daily at 08:30 in Shanghai: open objections (异议) reaching day 15 are escalated to the bureau
    "credit-escalate-objections": {"task": "marketplace.credit.objection_tasks.escalate_objections",
                                   "schedule": crontab(hour=8, minute=30), "options": {"expires": 12 * 3600}},
    # yearly on 2 January at 01:00 in Shanghai: the red/white/yellow list proposals of the year just ended
    "lists-yearly-proposals": {"task": "marketplace.lists.tasks.compute_yearly_lists",
                               "schedule": crontab(month_of_year=1, day_of_month=2, hour=1, minute=0),
                               "options": {"expires": 24 * 3600}},
    # monthly on the 1st at 01:30 in Shanghai: the month's white-list push proposals
    "lists-monthly-pushes": {"task": "marketplace.lists.tasks.propose_monthly_pushes",
                             "schedule": crontab(day_of_month=1, hour=1, minute=30), "options": {"expires": 24 * 3600}},
}


def celery_init_app(app: Flask) -> Celery:
    class FlaskTask(Task):
        acks_late = True
        reject_on_worker_lost = True

        def __call__(self, *args, **kwargs):
            with app.app_context():
                return self.run(*args, **kwargs)

    celery_app = Celery(app.name, task_cls=FlaskTask)
    celery_app.config_from_object(app.config["CELERY"])
    celery_app.conf.update(timezone="Asia/Shanghai", enable_utc=True)
    celery_app.conf.beat_schedule = {**BEAT_SCHEDULE, **(celery_app.conf.beat_schedule or {})}
    celery_app.conf.imports = (*TASK_MODULES, *(celery_app.conf.imports or ()))  # by the worker at start
    celery_app.set_default()
    app.extensions["celery"] = celery_app
    return celery_app


def import_task_modules() -> None:
    for module in TASK_MODULES:
        importlib.import_module(module)
