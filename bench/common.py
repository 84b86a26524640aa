"""What the benchmarks share: a timer that reports requests per second, and a throwaway app."""
import statistics
import time
from contextlib import contextmanager
from tempfile import TemporaryDirectory


def per_second(call, seconds: float = 1.0, rounds: int = 5) -> float:
    """Median calls per second over `rounds` runs of about `seconds` each."""
    call()  # warm up: templates compiled, statements cached
    rates = []
    for _ in range(rounds):
        count, start = 0, time.perf_counter()
        while (elapsed := time.perf_counter() - start) < seconds:
            call()
            count += 1
        rates.append(count / elapsed)
    return statistics.median(rates)


@contextmanager
def remiss_app(**settings):
    """The real app on a migrated SQLite database in a temporary folder."""
    from flask_migrate import upgrade

    from remiss import create_app

    with TemporaryDirectory() as tmp:
        app = create_app({"TESTING": True, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False,
                          "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.sqlite",
                          "ARGON2_TIME_COST": 1, "ARGON2_MEMORY_COST": 1024, **settings})
        with app.app_context():
            upgrade()
        yield app


def signed_in(app, email: str, password: str):
    client = app.test_client()
    response = client.post("/sign-in", data={"email": email, "password": password})
    assert response.status_code == 302, f"the benchmark could not sign in as {email}"
    return client
