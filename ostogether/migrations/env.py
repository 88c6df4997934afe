"""Alembic environment: always handed an open connection by ``ostogether.edges.db.migrate``."""

from alembic import context

from ostogether.edges.db import migration_filter
from ostogether.models import Base

config = context.config
connection = config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    include_object=migration_filter(connection.dialect.name),
)
with context.begin_transaction():
    context.run_migrations()
