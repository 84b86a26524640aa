"""APScheduler wiring only: a one-minute tick in its own process (`flask remiss scheduler`).
create_app() never starts it; the web workers never run reminders."""
import logging

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

from . import clock
from .extensions import db
from .jobs import tick

log = logging.getLogger(__name__)


def run_tick(app: Flask) -> None:
    with app.app_context():
        try:
            planned, outcome = tick(db.session, clock.now())
            if planned or any(outcome.values()):
                log.info("planned %d reminder(s); outbox %s", len(planned), outcome)
        finally:
            db.session.remove()


def run(app: Flask) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler = BlockingScheduler(timezone=app.config["TIME_ZONE"])
    # One tick at a time in this process; a late tick is skipped, not queued up.
    scheduler.add_job(run_tick, "interval", minutes=1, args=[app], id="tick", max_instances=1,
                      coalesce=True, misfire_grace_time=30, next_run_time=clock.now())
    log.info("remiss scheduler: one tick a minute; stop with Ctrl-C")
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        pass
