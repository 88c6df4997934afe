"""The `ostogether` command: one module per group of commands, over the services.

Importing the modules registers their commands on the top group in ``base``.
May import: every domain and the services across them (``jobs``, ``imports``,
``bootstrap``); never another face, but ``ops`` starts the processes through ``launch``.
"""

from ostogether.cli import (  # noqa: F401 - each module registers its commands
    accounts,
    issues,
    library,
    news,
    ops,
    organisations,
    readers,
    registry,
    reports,
    social,
)
from ostogether.cli.base import cli, main

__all__ = ["cli", "main"]
