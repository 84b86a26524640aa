"""Remiss: referral rounds of strategy drafts. create_app() wires the parts and does no I/O."""
import os

from flask import Flask

import config as config_module

from .extensions import babel, csrf, db, enforce_sqlite_foreign_keys, login_manager, migrate


class ConfigurationError(RuntimeError):
    """The app was asked to start with settings that are unsafe or incomplete."""


def create_app(overrides: dict | None = None) -> Flask:
    app = Flask(__name__, template_folder="../templates", instance_path=str(config_module.INSTANCE_DIR))
    app.config.from_object(config_module.Config)
    app.config.update(config_module.from_environment())
    app.config.update(overrides or {})
    _require_secret_key(app)

    db.init_app(app)
    with app.app_context():  # init_app made the engines; none has connected yet
        for engine in db.engines.values():
            enforce_sqlite_foreign_keys(engine)
    migrate.init_app(app, db, directory=os.path.join(os.path.dirname(app.root_path), "migrations"))
    csrf.init_app(app)

    from . import i18n, security, templating
    from .access import IdConverter
    from .views import admin, auth, compilations, main, public, referrals, replies, rounds, strategies

    login_manager.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale, timezone_selector=i18n.select_timezone)
    security.init_app(app)
    templating.init_app(app)
    app.url_map.converters["int"] = IdConverter  # before any route is added
    for module in (auth, main, public, strategies, rounds, compilations, referrals, replies, admin):
        app.register_blueprint(module.bp)

    from .cli import remiss_cli

    app.cli.add_command(remiss_cli)
    return app


def _require_secret_key(app: Flask) -> None:
    if app.config["SECRET_KEY"]:
        return
    if app.debug or app.testing:
        app.config["SECRET_KEY"] = config_module.DEVELOPMENT_SECRET_KEY
        return
    raise ConfigurationError(
        "REMISS_SECRET_KEY is not set. Generate one with "
        "`python -c 'import secrets; print(secrets.token_hex(32))'` and set it in the environment."
    )
