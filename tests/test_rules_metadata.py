"""Rule metadata is read from the check files without importing them."""

from __future__ import annotations

import importlib
import inspect
import subprocess
import sys

from backprop_doctor.rules import all_rules


def test_reading_every_rule_imports_no_check_module():
    code = (
        "import sys; from backprop_doctor.rules import all_rules; rules = all_rules(); "
        "print(len(rules), sum(m.startswith('backprop_doctor.checks.') for m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, imported = map(int, result.stdout.split())
    assert count >= 30 and imported == 0


def test_metadata_read_from_the_files_equals_the_modules_own():
    for rule in all_rules().values():
        module = importlib.import_module(f"backprop_doctor.checks.{rule.name.replace('-', '_')}")
        assert (rule.name, rule.code, rule.severity, rule.stage) == (module.NAME, module.CODE, module.SEVERITY, module.STAGE)
        assert rule.doc == inspect.cleandoc(module.__doc__ or "")
        assert rule.run is getattr(module, "run", None)
