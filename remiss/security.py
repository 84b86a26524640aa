"""Default-deny: every endpoint needs a signed-in user unless it is marked public; headers on every response."""
from functools import wraps

from flask import Flask, abort, current_app, redirect, request, url_for
from flask_login import current_user

from .extensions import db, login_manager
from .models import User

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])


def public(view):
    """Let anonymous visitors reach this view; everything else needs a signed-in user."""
    view.is_public = True
    return view


def roles_required(*roles: str):
    """Only these roles may call the view. Others get 404: a page they may not see does not exist for them."""
    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.has_role(*roles):
                abort(404)
            return view(*args, **kwargs)
        return wrapped
    return decorator


def _require_sign_in():
    if request.endpoint is None or request.endpoint == "static":
        return None
    view = current_app.view_functions.get(request.endpoint)
    if getattr(view, "is_public", False) or current_user.is_authenticated:
        return None
    return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user.is_authenticated and request.endpoint != "static":
        # Pages of a signed-in user must not linger in shared caches or the back button after sign-out.
        response.headers["Cache-Control"] = "no-store"
    return response


@login_manager.user_loader
def _load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    app.config.setdefault("REMEMBER_COOKIE_SECURE", app.config["SESSION_COOKIE_SECURE"])
    app.config.setdefault("REMEMBER_COOKIE_HTTPONLY", True)
    app.before_request(_require_sign_in)
    app.after_request(_security_headers)
