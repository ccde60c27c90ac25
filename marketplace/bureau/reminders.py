"""Celery beat tasks: reminders before a meeting and before an action item falls due."""
