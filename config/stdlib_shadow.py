"""Make `import numbers` give the project's numbers app; see numbers/__init__.py."""

import importlib
import sys


def seat_numbers_app() -> None:
    current = sys.modules.get("numbers")
    if current is None or hasattr(current, "__path__"):
        return  # not imported yet, or already the app package
    # The standard module came first: keep its classes and put the app package in its place.
    sys.modules["_stdlib_numbers"] = current
    del sys.modules["numbers"]
    try:
        importlib.import_module("numbers")
    except ImportError:
        sys.modules["numbers"] = current
        raise
    if not hasattr(sys.modules["numbers"], "__path__"):
        raise ImportError("The numbers app is not on sys.path ahead of the standard library")
