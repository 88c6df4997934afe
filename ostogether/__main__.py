"""Allows `python -m ostogether`, the same as the `ostogether` console script."""

from ostogether.cli import main

main()
