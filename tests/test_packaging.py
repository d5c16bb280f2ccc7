"""The installed package: what ships (no sandboxes), and that it imports outside the repository.

The 46elks and Infobip sandboxes are development tools (tests, `make demo`, the benches run them
from the repository); they stay out of the wheel. The project's `numbers` app shadows the
standard library's `numbers` (numbers/__init__.py, config/stdlib_shadow.py), so running the
installed code from anywhere but the repository root needs the documented environment: the
directory holding the packages first on PYTHONPATH (README, "Running in production").
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from setuptools import find_packages

ROOT = Path(__file__).resolve().parent.parent
FIND = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"][
    "find"
]
SANDBOXES = ("providers.elks.sandbox", "providers.infobip.sandbox")


def _shipped_packages() -> list[str]:
    return find_packages(where=str(ROOT), include=FIND["include"], exclude=FIND.get("exclude", ()))


def test_the_find_config_leaves_out_the_sandboxes_and_keeps_the_apps() -> None:
    packages = _shipped_packages()
    assert not [p for p in packages if "sandbox" in p]
    for app in ("config", "accounts", "numbers", "messaging", "calls", "billing", "providers"):
        assert app in packages
    # The clients the sandboxes imitate do ship.
    assert {"providers.elks", "providers.infobip"} <= set(packages)
    # Every sandbox is still in the repository for the tests and the demo.
    for name in SANDBOXES:
        assert (ROOT / name.replace(".", "/") / "__init__.py").exists()


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Build the wheel from a copy of the sources (the build leaves build/ and egg-info behind)."""
    src = tmp_path_factory.mktemp("src")
    for top in {p.split(".")[0] for p in _shipped_packages()}:
        shutil.copytree(ROOT / top, src / top, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", src)
    dist = tmp_path_factory.mktemp("dist")
    # Offline: no build isolation, the venv's setuptools (dev extra) builds it.
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", str(dist), str(src)],
        check=True,
        capture_output=True,
    )
    (built,) = dist.glob("switchboard-*.whl")
    return built


def test_the_wheel_ships_no_sandbox(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert not [n for n in names if "sandbox" in n]
    assert "providers/elks/client.py" in names
    assert "config/stdlib_shadow.py" in names
    assert "numbers/models.py" in names


PROBE = """
import sys
if {stdlib_first}:
    # As when a server imported decimal (and so the standard `numbers`) before the app was on
    # sys.path: config.stdlib_shadow must re-seat the app.
    sys.path.remove({site!r})
    import decimal
    assert not hasattr(sys.modules["numbers"], "__path__")
    sys.path.insert(0, {site!r})
import django
django.setup()
import config, decimal, fractions, numbers
from numbers.models import PhoneNumber
assert numbers.__file__.startswith({site!r}), numbers.__file__
assert config.__file__.startswith({site!r}), config.__file__
assert isinstance(decimal.Decimal(1), numbers.Number)
assert isinstance(fractions.Fraction(1, 3), numbers.Rational)
assert isinstance(3, numbers.Integral) and not isinstance(1.5, numbers.Integral)
print(PhoneNumber._meta.app_label)
"""


@pytest.mark.parametrize("stdlib_first", [False, True], ids=["plain", "stdlib-numbers-first"])
def test_the_installed_project_imports_from_outside_the_repository(
    wheel: Path, tmp_path: Path, stdlib_first: bool
) -> None:
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON"))}
    # The documented environment: the packages' directory first on PYTHONPATH.
    env |= {"PYTHONPATH": str(site), "DJANGO_SETTINGS_MODULE": "config.settings.test"}
    result = subprocess.run(
        [sys.executable, "-c", PROBE.format(site=str(site), stdlib_first=stdlib_first)],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "numbers"


def test_without_the_environment_it_fails_loudly(wheel: Path, tmp_path: Path) -> None:
    """Installed after the standard library on sys.path (plain site-packages), it says why."""
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PYTHON"))}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.test"
    code = f"import sys, decimal; sys.path.append({str(site)!r}); import config"
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert result.returncode != 0
    assert "not on sys.path ahead of the standard library" in result.stderr
