"""The `ostogether` command: one module per group of commands, over the services.

Importing the modules registers their commands on the top group in ``base``.
"""

from ostogether.cli import (  # noqa: F401 - each module registers its commands
    accounts,
    issues,
    news,
    ops,
    readers,
    registry,
    reports,
    social,
)
from ostogether.cli.base import cli, main

__all__ = ["cli", "main"]
