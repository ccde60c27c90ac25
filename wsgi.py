"""Entry point for serving (gunicorn wsgi:app), the flask CLI and Celery (-A wsgi.celery)."""

from marketplace import create_app

app = create_app()
celery = app.extensions["celery"]
