"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from remiss import create_app

app = create_app()
