"""The baseline for bench/replies.py: a bare Flask app whose one POST does one INSERT via psycopg.

Served by gunicorn exactly like the real app (`gunicorn -w 4 bench.bare_insert:app`), on the same
PostgreSQL database. BENCH_BARE_DSN names the database (a libpq connection string or URL); the table
`bare_insert` must exist (bench/replies.py creates it). One connection per worker, opened on first use.
"""
import os

import psycopg
from flask import Flask, request

app = Flask("bare_insert")
_connection: psycopg.Connection | None = None

CREATE_TABLE = ("CREATE TABLE IF NOT EXISTS bare_insert "
                "(id bigserial PRIMARY KEY, text text NOT NULL, created_at timestamptz NOT NULL)")


def _conn() -> psycopg.Connection:
    global _connection
    if _connection is None or _connection.closed:
        _connection = psycopg.connect(os.environ["BENCH_BARE_DSN"], autocommit=True)
    return _connection


@app.get("/")
def alive():
    return "ok"


@app.post("/insert")
def insert():
    _conn().execute("INSERT INTO bare_insert (text, created_at) VALUES (%s, now())",
                    (request.form.get("text", ""),))
    return "ok"
