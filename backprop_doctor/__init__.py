"""backprop-doctor: tells you why your hand-written NumPy backpropagation does not learn.

Public API (stable):

    check_layer(layer, x, t=None, **options) -> Report
    check_functions(forward, backward, x, *params, **options) -> Report
    check_network(net, x, t, **options) -> Report
    check_file(path, **options) -> Report

Importing this package is cheap: numpy and the engine load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "Finding",
    "assert_function_gradients",
    "assert_layer_gradients",
    "assert_network_gradients",
    "GradientCheckError",
    "Options",
    "Report",
    "check_file",
    "check_functions",
    "check_layer",
    "check_network",
    "__version__",
]

if TYPE_CHECKING:
    from backprop_doctor.api import check_functions, check_layer, check_network
    from backprop_doctor.assertions import assert_function_gradients, assert_layer_gradients, assert_network_gradients
    from backprop_doctor.errors import GradientCheckError
    from backprop_doctor.findings import Finding, Report
    from backprop_doctor.options import Options
    from backprop_doctor.pipeline import check_file

_LAZY = {
    "check_layer": "backprop_doctor.api",
    "check_functions": "backprop_doctor.api",
    "check_network": "backprop_doctor.api",
    "check_file": "backprop_doctor.pipeline",
    "assert_layer_gradients": "backprop_doctor.assertions",
    "assert_function_gradients": "backprop_doctor.assertions",
    "assert_network_gradients": "backprop_doctor.assertions",
    "Finding": "backprop_doctor.findings",
    "Report": "backprop_doctor.findings",
    "Options": "backprop_doctor.options",
    "GradientCheckError": "backprop_doctor.errors",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'backprop_doctor' has no attribute {name!r}")
