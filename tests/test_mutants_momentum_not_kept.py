"""momentum-not-kept (BPD209), checked in this process (issue 15, sixteenth round): the programs of
`test_momentum_not_kept.py` (CLI tests, in a child process where a mutation run cannot see them)
checked by `check_file` here and imported, their drift measured by `training.optimizers.momentum_drift`
as the pipeline measures it, and the check's words, line, highlighted line, pattern and evidence
compared with what each program's own text and drift say; the helpers that find the lost velocity,
the computed store and the gradient step are given small functions of their own."""

from __future__ import annotations

import ast
import importlib.util
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from inprocess import checked, line_of, restored_interpreter  # noqa: F401 - fixtures used by name
from test_momentum_not_kept import BY_GRADIENT, BY_VELOCITY, CLASS, FUNCTION, KEPT, LOST, NESTEROV, STORED_WHOLE

from backprop_doctor.checks import momentum_not_kept
from backprop_doctor.training.optimizers import MomentumDrift, momentum_drift

EVIDENCE = "moves ÷ the first move, updates 1 to 4 (momentum: growing)"
LOCAL_CAUSE = "the velocity it computes goes into the local `{name}` (line {line}), which is lost when the update returns: store it where the next update reads it"
STEP_CAUSE = "its parameters move by the gradient, not by the velocity: move them by the velocity"


def words(shown: str, coefficient: float, cause: str) -> str:
    return (
        f"`{shown}` keeps no velocity: given the same gradient at every update, momentum ({coefficient:g}) moves each "
        f"parameter further each time, and yours moves it the same step every time, plain gradient descent; {cause}"
    )


def loaded(tmp_path: Path, text: str, *edits: tuple[str, str]):
    """(path, module) of `text` with each `old` of `edits` replaced once, written as optim.py and imported."""
    text = textwrap.dedent(text)
    for old, new in edits:
        assert old in text, old
        text = text.replace(old, new, 1)
    path = tmp_path / "optim.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"__bpd_momentum_{tmp_path.name}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return path, module


def found(*drifts: MomentumDrift):
    return list(momentum_not_kept.run(SimpleNamespace(extras={"momentum_drift": list(drifts)})))


def function_of(text: str):
    (node,) = ast.parse(textwrap.dedent(text)).body
    return node


# the whole pipeline, in this process


def test_a_velocity_lost_in_a_local_is_named_by_the_pipeline_with_every_field(tmp_path):
    path, findings = checked(tmp_path, "optim.py", CLASS.replace(KEPT, LOST))
    (finding,) = [f for f in findings if f.name == "momentum-not-kept"]
    local = line_of(path, "velocity = self.momentum")
    assert (finding.code, finding.severity, finding.layer, finding.file) == ("BPD209", "warning", "Momentum", str(path))
    assert (finding.line, finding.highlight, finding.pattern) == (local, (local,), "velocity-lost")
    assert finding.message == words("Momentum.update", 0.9, LOCAL_CAUSE.format(name="velocity", line=local))
    assert finding.evidence == ((EVIDENCE, "1, 1, 1, 1"),)


def test_a_function_that_moves_by_the_gradient_is_named_by_the_pipeline_at_that_line(tmp_path):
    path, findings = checked(tmp_path, "optim.py", FUNCTION.replace(BY_VELOCITY, BY_GRADIENT))
    (finding,) = [f for f in findings if f.name == "momentum-not-kept"]
    step = line_of(path, BY_GRADIENT)
    assert (finding.layer, finding.line, finding.highlight, finding.pattern) == ("update_parameters_with_momentum", step, (step,), "gradient-step")
    assert finding.message == words("update_parameters_with_momentum", 0.9, STEP_CAUSE)
    assert finding.evidence == ((EVIDENCE, "1, 1, 1, 1"),)


def test_the_correct_twins_and_nesterov_get_nothing_in_this_process(tmp_path):
    for i, text in enumerate((CLASS, FUNCTION, NESTEROV)):
        _, findings = checked(tmp_path / str(i), "optim.py", text)
        assert [f for f in findings if f.name == "momentum-not-kept"] == []


def test_a_velocity_stored_back_whole_is_kept_and_the_gradient_step_is_named_by_the_pipeline(tmp_path):
    path, findings = checked(tmp_path, "optim.py", CLASS.replace(KEPT, STORED_WHOLE))
    (finding,) = [f for f in findings if f.name == "momentum-not-kept"]
    step = line_of(path, "params[key] -= self.lr * grads[key]")
    assert (finding.line, finding.highlight, finding.pattern) == (step, (step,), "gradient-step")
    assert finding.message == words("Momentum.update", 0.9, STEP_CAUSE)


def test_only_the_local_itself_written_whole_into_the_velocity_it_read_keeps_it():
    text = """
        def update(self, params, grads):
            for key in params:
                velocity = self.momentum * self.v[key] - self.lr * grads[key]
                STORE
                params[key] += velocity
        """
    lost = momentum_not_kept._velocity_lost
    for store in ("self.v[key] = velocity", "self.cache[key] = self.v[key] = velocity"):
        assert lost(function_of(text.replace("STORE", store))) is None, store
    for store in ("self.v[key] = other", "self.w[key] = velocity", "kept = velocity", "self.v.last = velocity", "self.v[key] = velocity.T"):
        assert lost(function_of(text.replace("STORE", store))) == (4, "velocity"), store


# `run` and `_finding` given a drift


def test_no_drift_is_no_finding_and_each_drift_is_one(tmp_path):
    _, module = loaded(tmp_path, CLASS, (KEPT, LOST))
    drift = momentum_drift(module.Momentum, "update", np.random.default_rng(0))
    assert drift is not None and drift.method == "update" and drift.coefficient == 0.9
    assert list(momentum_not_kept.run(SimpleNamespace(extras={}))) == []
    assert found() == []
    first, second = found(drift, drift)
    assert first == second and first.name == "momentum-not-kept"


def test_the_coefficient_and_the_ratios_are_written_as_measured(tmp_path):
    path, module = loaded(tmp_path, CLASS, (KEPT, LOST))
    (finding,) = found(MomentumDrift(module.Momentum, "update", 0.95, (1.0, 1.000012345, 0.9994, 1.23456)))
    local = line_of(path, "velocity = self.momentum")
    assert finding.message == words("Momentum.update", 0.95, LOCAL_CAUSE.format(name="velocity", line=local))
    assert "momentum (0.95)" in finding.message
    assert finding.evidence == ((EVIDENCE, "1, 1, 0.9994, 1.235"),)


def test_a_class_moved_by_the_gradient_itself_is_named_at_that_line(tmp_path):
    text = CLASS.replace(KEPT, "            params[key] -= self.lr * grads[key]")
    path, module = loaded(tmp_path, text)
    (finding,) = found(MomentumDrift(module.Momentum, "update", 0.9, (1.0, 1.0)))
    step = line_of(path, "params[key] -= self.lr * grads[key]")
    assert (finding.line, finding.highlight, finding.pattern, finding.layer) == (step, (step,), "gradient-step", "Momentum")
    assert finding.message == words("Momentum.update", 0.9, STEP_CAUSE)


def test_a_method_that_moves_no_parameter_by_a_gradient_is_named_at_its_def(tmp_path):
    text = CLASS.replace(KEPT, "            p = params[key]\n            p -= self.lr * grads[key]")
    path, module = loaded(tmp_path, text)
    (finding,) = found(MomentumDrift(module.Momentum, "update", 0.9, (1.0, 1.0)))
    method = line_of(path, "def update(self, params, grads):")
    assert (finding.file, finding.line, finding.highlight, finding.pattern) == (str(path), method, (method,), "gradient-step")


def test_a_function_drift_has_no_method_and_is_named_by_the_function(tmp_path):
    path, module = loaded(tmp_path, FUNCTION, (BY_VELOCITY, BY_GRADIENT))
    drift = momentum_drift(module.update_parameters_with_momentum, None, np.random.default_rng(0))
    assert drift is not None and drift.method == ""
    (finding,) = found(drift)
    step = line_of(path, BY_GRADIENT)
    assert (finding.layer, finding.file, finding.line, finding.highlight) == ("update_parameters_with_momentum", str(path), step, (step,))
    assert finding.message.startswith("`update_parameters_with_momentum` keeps no velocity")


def test_a_class_without_source_is_told_without_a_place():
    namespace: dict = {}
    exec(compile("class Momentum:\n    def update(self, params, grads):\n        pass\n", "<made>", "exec"), namespace)
    (finding,) = found(MomentumDrift(namespace["Momentum"], "update", 0.9, (1.0, 1.0)))
    assert (finding.file, finding.line, finding.highlight, finding.layer, finding.pattern) == (None, None, (), "Momentum", "gradient-step")
    assert finding.message == words("Momentum.update", 0.9, STEP_CAUSE)


# the helpers, on functions of their own


def test_a_local_computed_from_a_stored_velocity_never_written_back_is_lost():
    node = function_of(
        """
        def update(self, params, grads):
            for key in params:
                velocity = self.momentum * self.v[key] - self.lr * grads[key]
                params[key] += velocity
        """
    )
    assert momentum_not_kept._velocity_lost(node) == (4, "velocity")


def test_a_velocity_written_back_by_a_computation_is_kept():
    for store in ("self.v[key] = velocity * 1", "self.v[key] += 0 * velocity", "self.v[key] = velocity[...]"):
        node = function_of(
            f"""
            def update(self, params, grads):
                for key in params:
                    velocity = self.momentum * self.v[key] - self.lr * grads[key]
                    {store}
                    params[key] += velocity
            """
        )
        assert momentum_not_kept._velocity_lost(node) is None, store


def test_a_store_set_to_a_fresh_array_is_not_a_store():
    node = function_of(
        """
        def update(self, params, grads):
            for key in params:
                self.v[key] = np.zeros_like(value)
                step = self.momentum * self.v[key] - self.lr * grads[key]
                params[key] += step
        """
    )
    assert momentum_not_kept._velocity_lost(node) == (5, "step")


def test_a_store_read_through_another_subscript_counts_as_computed():
    node = function_of(
        """
        def update(self, params, grads):
            for key in params:
                self.v[key] = grads[key]
                step = self.momentum * self.v[key]
                params[key] += step
        """
    )
    assert momentum_not_kept._velocity_lost(node) is None


def test_every_velocity_name_is_read_and_a_plain_local_dict_too():
    for name in ("v", "velocity", "vel", "velocities", "m", "self.v", "self.velocity", "self.vel", "self.velocities", "self.m", "self.state.v"):
        node = function_of(
            f"""
            def update(self, params, grads):
                for key in params:
                    new = 0.9 * {name}[key] - 0.1 * grads[key]
                    params[key] += new
            """
        )
        assert momentum_not_kept._velocity_lost(node) == (4, "new"), name
    for name in ("self.w", "self.vv", "mm", "grads", "v.x"):
        node = function_of(
            f"""
            def update(self, params, grads):
                for key in params:
                    new = 0.9 * {name}[key] - 0.1 * grads[key]
                    params[key] += new
            """
        )
        assert momentum_not_kept._velocity_lost(node) is None, name


def test_the_first_lost_local_by_line_is_named_and_only_single_name_targets_count():
    node = function_of(
        """
        def update(self, params, grads):
            for key in params:
                a = b = 0.9 * self.v[key]
                self.cache[key], c = 0.9 * self.v[key], 1
                first = 0.9 * self.v[key] - grads[key]
                second = 0.9 * self.v[key] - grads[key]
                params[key] += first + second
        """
    )
    assert momentum_not_kept._velocity_lost(node) == (6, "first")


def test_a_local_read_from_an_augmented_store_is_kept_and_a_bare_decay_is_no_store():
    text = """
        def update(self, params, grads):
            for key in params:
                self.v[key] *= self.momentum
                step = self.v[key] - self.lr * grads[key]
                params[key] += step
        """
    assert momentum_not_kept._velocity_lost(function_of(text)) == (5, "step")
    computed = text.replace("self.v[key] *= self.momentum", "self.v[key] -= self.lr * grads[key]")
    assert momentum_not_kept._velocity_lost(function_of(computed)) is None


def test_only_a_value_with_arithmetic_or_a_subscript_computes():
    computes = momentum_not_kept._computes
    for text in ("a * b", "x[k]", "f(a - b)", "-x[k]", "[a[0]]"):
        assert computes(ast.parse(text, mode="eval").body), text
    for text in ("np.zeros_like(x)", "x", "0.0", "-x", "f(a)", "a.b"):
        assert not computes(ast.parse(text, mode="eval").body), text


def test_the_gradient_step_is_the_first_line_that_moves_parameters_by_grads():
    node = function_of(
        """
        def update(parameters, grads, v, beta, learning_rate):
            w = parameters["W1"] - learning_rate * grads["dW1"]
            parameters["W1"] = w
            parameters.W = parameters["W1"] - learning_rate * grads["dW1"]
            Parameters["b1"] = Parameters["b1"] - learning_rate * Grads["db1"]
            params["W1"] -= learning_rate * gradients["dW1"]
            parameters["W2"] = parameters["W2"] - learning_rate * grads["dW2"]
        """
    )
    assert momentum_not_kept._gradient_step(node) == 6


def test_the_gradient_step_needs_both_a_gradient_read_and_a_parameter_written():
    cases = {
        'parameters["W1"] = parameters["W1"] - learning_rate * v["dW1"]': None,
        'parameters["W1"] = parameters["W1"] - learning_rate * self.grads["dW1"]': None,
        'parameters["W1"] = parameters["W1"] - learning_rate * GRADS["dW1"]': 3,
        'PARAMS["W1"] -= learning_rate * grads["dW1"]': 3,
        'params["W1"] -= learning_rate * gradients["dW1"]': 3,
        'params["W1"] -= learning_rate * Gradients["dW1"]': 3,
        'self.parameters["W1"] -= learning_rate * grads["dW1"]': None,
        'w = learning_rate * grads["dW1"]': None,
    }
    for statement, line in cases.items():
        node = function_of(
            f"""
            def update(parameters, grads, v, beta, learning_rate):
                {statement}
            """
        )
        assert momentum_not_kept._gradient_step(node) == line, statement
