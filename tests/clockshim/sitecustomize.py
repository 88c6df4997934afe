"""Loaded by every Python subprocess a test starts (``child_env`` puts this folder on
PYTHONPATH): installs the test's clock, so the subprocess and the test agree on the time.

Only the tests use this; the service itself always runs on the machine's clock.
"""

import datetime as _dt
import os as _os

_start = _os.environ.get("TEST_CLOCK_START")
if _start:
    from ostogether.core import clock as _clock

    # Every process of one test runs on one timeline: a web server started seconds before
    # a worker (on a loaded machine) must not see the worker's fresh lease as expired.
    _since = _os.environ.get("TEST_CLOCK_MONOTONIC")
    _clock.install(_clock.FakeClock(_dt.datetime.fromisoformat(_start), running=True,
                                    since=float(_since) if _since else None))
