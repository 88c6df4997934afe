"""OStogether: newsletter, social publishing and project registry for a community of projects.

The package is the engine; the community's own data lives in the folders that the
settings point at (content/, templates/, schedules/). Nothing happens at import time.
"""

__version__ = "0.1.0"
