"""Alembic migrations. Run them with `ostogether db upgrade` or `ostogether init`."""
