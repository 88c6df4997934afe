"""The web face. ``create_app(settings)`` builds the Flask application."""

from ostogether.web.app import create_app

__all__ = ["create_app"]
