"""The numbers app (phone numbers), which also stands in for the standard library's `numbers`.

The project layout puts this app at `numbers/`, the name of a standard-library module that
`decimal`, `fractions` and Django itself import. Whichever of the two Python finds first is
the one every later `import numbers` gets, so this package re-exports the standard module's
abstract base classes (the very same class objects, never a second copy), and
`config.stdlib_shadow` re-seats this package when the standard module was imported first.
"""

import importlib.util
import os
import sys
import sysconfig
import types

_STD_NAME = "_stdlib_numbers"


def _stdlib_numbers() -> types.ModuleType:
    module = sys.modules.get(_STD_NAME)
    if module is None:
        path = os.path.join(sysconfig.get_paths()["stdlib"], "numbers.py")
        spec = importlib.util.spec_from_file_location("numbers", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sys.modules[_STD_NAME] = module
    return module


_std = _stdlib_numbers()
Number = _std.Number
Complex = _std.Complex
Real = _std.Real
Rational = _std.Rational
Integral = _std.Integral

__all__ = ["Complex", "Integral", "Number", "Rational", "Real"]
