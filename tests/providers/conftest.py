"""Make the 46elks sandbox fixtures available even when tests/conftest.py is not loaded.

The provider tests need no Django: ``pytest tests/providers -p no:django
--confcutdir=tests/providers`` skips the Django-side root conftest and still works.
"""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin("tests.elks_fixtures"):
        config.pluginmanager.import_plugin("tests.elks_fixtures")
