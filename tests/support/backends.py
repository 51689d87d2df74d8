"""Markers for tests that only mean something on one backend.

They narrow the ``backend`` fixture's parameters instead of skipping, so a run shows no
skips and ``.ci/run`` can treat any skip as a PostgreSQL test that did not run.
"""

from __future__ import annotations

import pytest

only_sqlite = pytest.mark.parametrize("backend", ["sqlite"])
only_postgresql = pytest.mark.parametrize("backend", ["postgresql"])
