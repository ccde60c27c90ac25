"""Entry point for serving (gunicorn wsgi:app), the flask CLI and Celery (-A wsgi.celery)."""

import gc

gc.disable()  # start-up makes long-lived objects only: no collector passes over them (marketplace.startup)

from marketplace import create_app  # noqa: E402

app = create_app()
celery = app.extensions["celery"]
gc.freeze()  # what start-up made lives as long as the process: later collections leave it out
gc.enable()
