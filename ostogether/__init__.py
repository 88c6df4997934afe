"""OStogether: newsletter, social publishing and project registry for a community of projects.

The package is the engine; the community's own data lives in the folders that the
settings point at (content/, templates/, schedules/). Nothing happens at import time.

One package per domain, each importing only those before it (``tests/test_layers.py``):
``core`` (pure) < ``edges`` (with ``models`` and ``migrations``) < ``mail`` < ``readers`` <
``newsletter`` < ``news`` < ``accounts`` < ``registry`` < ``social`` < ``reach``; then the
services across domains (``jobs``, ``imports``, ``front``, ``bootstrap``), the faces
(``web``, ``cli``, the worker in ``scheduler``), and the entry points (``launch``,
``__main__``). docs/architecture.md draws the picture.
"""

__version__ = "0.1.0"
