"""The web face. ``create_app(settings)`` builds the Flask application.

May import: every domain and the services across them (``jobs``, ``imports``, ``front``);
never another face (cli, the worker).
"""

from ostogether.web.app import create_app

__all__ = ["create_app"]
