"""Facts read from source without running it: literal calls, hyper-parameters, softmax
reductions, parameter updates and the line helpers, on real user code."""

from __future__ import annotations

import ast
import keyword
import textwrap
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backprop_doctor import static
from backprop_doctor.errors import UsageError

SEED = Path(__file__).parents[1] / ".." / "shared" / "seed" / "two_layer_net_question.py"


def parse(source: str) -> tuple[str, ast.Module]:
    text = textwrap.dedent(source)
    return text, ast.parse(text)


@pytest.fixture
def seed() -> tuple[str, ast.Module]:
    if not SEED.exists():
        pytest.skip("the seed file ../shared/seed/ is not present")
    # The pasted question ends with a no-break space, which Python refuses.
    text = SEED.read_text(encoding="utf-8").replace("\xa0", " ")
    return text, ast.parse(text)


def only(calls: dict[str, list[static.Call]], name: str) -> static.Call:
    assert len(calls[name]) == 1, calls.get(name)
    return calls[name][0]


# ------------------------------------------------------------ constructor calls


def test_reads_the_network_sizes_the_seed_script_builds_with(seed):
    _text, tree = seed
    call = only(static.constructor_calls(tree), "TwoLayerNet")
    assert call.literal
    assert call.args == ()
    assert call.kwargs == {"input_size": 784, "hidden_size": 50, "output_size": 10}
    assert call.line == 143
    assert call.expression() == "TwoLayerNet(input_size=784, hidden_size=50, output_size=10)"


def test_seed_layer_calls_inside_the_network_are_recorded_as_not_literal(seed):
    _text, tree = seed
    calls = static.constructor_calls(tree)
    affine = calls["Affine"]
    assert [c.line for c in affine] == [92, 94]
    assert not affine[0].literal
    assert "self.params['W1']" in affine[0].reason
    assert isinstance(affine[0].args[0], static.Unresolved)
    assert only(calls, "Relu").literal  # Relu() has no arguments at all


def test_resolves_names_bound_to_literals_at_module_level(tmp_path):
    path = tmp_path / "train.py"
    path.write_text("hidden = 50\nnet = TwoLayerNet(784, hidden, 10)\n", encoding="utf-8")
    call = only(static.constructor_calls(ast.parse(path.read_text())), "TwoLayerNet")
    assert call.literal and call.args == (784, 50, 10)


def test_evaluates_simple_arithmetic_and_containers_of_literals():
    _text, tree = parse(
        """
        hidden = 2 * 25
        sizes = [hidden, (1, 2)]
        Net(hidden_size=hidden + 0, lr=-1e-3, sizes=sizes, extra={"a": None, "b": True}, n=7 // 2, p=2 ** 3)
        """
    )
    call = only(static.constructor_calls(tree), "Net")
    assert call.literal
    assert call.kwargs == {
        "hidden_size": 50,
        "lr": -1e-3,
        "sizes": [50, (1, 2)],
        "extra": {"a": None, "b": True},
        "n": 3,
        "p": 8,
    }


def test_uses_the_value_a_name_holds_at_each_call():
    _text, tree = parse(
        """
        h = 10
        Net(h)
        h = 20
        Net(h)
        """
    )
    assert [c.args for c in static.constructor_calls(tree)["Net"]] == [(10,), (20,)]


def test_calls_inside_functions_see_module_literals_and_their_own():
    _text, tree = parse(
        """
        def main():
            width = 8
            return Net(784, hidden, width)

        def build(size):
            return Net(size)

        hidden = 50
        main()
        """
    )
    first, second = static.constructor_calls(tree)["Net"]
    assert first.literal and first.args == (784, 50, 8)
    assert not second.literal and "parameter of `build`" in second.reason


@pytest.mark.parametrize(
    "source, why",
    [
        ("for h in [1, 2]:\n    Net(h)\n", "loop variable"),
        ("h = 10\nfor i in range(3):\n    Net(h)\n    h = h * 2\n", "changes from one pass"),
        ("if fast:\n    h = 1\nelse:\n    h = 2\nNet(h)\n", "differently on different paths"),
        ("sizes = [1, 2]\nsizes.append(3)\nNet(sizes)\n", "modified"),
        ("Net(x_train.shape[1])\n", "`x_train.shape[1]` is not a literal"),
        ("h = x_train.shape[1]\nNet(h)\n", "`h` is bound to `x_train.shape[1]` at line 1"),
        ("Net(*sizes)\n", "unpacks"),
        ("[Net(n) for n in range(3)]\n", "comprehension"),
        ("Net(1 / 0)\n", "ZeroDivisionError"),
    ],
)
def test_records_calls_with_non_literal_arguments_and_says_why(source, why):
    call = only(static.constructor_calls(ast.parse(source)), "Net")
    assert not call.literal
    assert why in call.reason


def test_a_loop_that_rebinds_a_name_to_the_same_value_keeps_it_literal():
    _text, tree = parse(
        """
        h = 10
        for i in range(3):
            Net(h)
            h = 10
        """
    )
    assert only(static.constructor_calls(tree), "Net").args == (10,)


def test_refuses_to_evaluate_huge_arithmetic():
    call = only(static.constructor_calls(ast.parse("Net(10 ** 100000, 'a' * 10 ** 9)")), "Net")
    assert not call.literal
    assert call.reason.count("too large") == 2


def test_qualified_calls_need_an_imported_module():
    _text, tree = parse(
        """
        import models
        models.Net(1)
        self.Net(2)
        x.Net(3)
        """
    )
    call = only(static.constructor_calls(tree), "Net")
    assert (call.qualifier, call.args) == ("models", (1,))
    assert call.expression() == "models.Net(1)"


# ---------------------------------------------------------------- --build


def test_parses_a_build_expression():
    call = static.parse_build_expression(" TwoLayerNet(input_size=20, hidden_size=8, output_size=4) ")
    assert call.name == "TwoLayerNet"
    assert call.kwargs == {"input_size": 20, "hidden_size": 8, "output_size": 4}
    assert call.line is None and call.literal


@pytest.mark.parametrize(
    "text, says",
    [
        ("TwoLayerNet(__import__('os'))", "`__import__('os')` is not a literal"),
        ("TwoLayerNet(hidden)", "`hidden` is a name"),
        ("TwoLayerNet(size=len('abc'))", "not a literal"),
        ("TwoLayerNet(*sizes)", "unpacks"),
        ("TwoLayerNet(**{'a': 1})", "unpacks"),
        ("TwoLayerNet(lambda: 0)", "not a literal"),
        ("TwoLayerNet(", "not valid Python"),
        ("42", "not a call"),
        ("TwoLayerNet(1); import os", "not valid Python"),
        ("a.b.TwoLayerNet(1)", "by its name"),
        ("", "needs a call"),
    ],
)
def test_build_expression_rejects_anything_but_literal_arguments(text, says):
    with pytest.raises(UsageError, match="--build") as error:
        static.parse_build_expression(text)
    assert says in str(error.value)


identifiers = st.from_regex(r"[a-z_][a-z0-9_]{0,10}", fullmatch=True).filter(lambda s: not keyword.iskeyword(s))
scalars = (
    st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10)
    | st.booleans()
    | st.none()
    | st.binary(max_size=5)
)
literals = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3)
    | st.tuples(inner, inner)
    | st.dictionaries(st.text(max_size=5) | st.integers(), inner, max_size=3),
    max_leaves=8,
)


@given(kwargs=st.dictionaries(identifiers, literals, max_size=5), args=st.lists(literals, max_size=3))
def test_literal_arguments_round_trip_through_build_expressions(kwargs, args):
    text = "Net(" + ", ".join([repr(a) for a in args] + [f"{k}={v!r}" for k, v in kwargs.items()]) + ")"
    call = static.parse_build_expression(text)
    assert repr(call.args) == repr(tuple(args))
    assert repr(call.kwargs) == repr(kwargs)
    again = static.parse_build_expression(call.expression())
    assert (repr(again.args), repr(again.kwargs)) == (repr(call.args), repr(call.kwargs))


# ---------------------------------------------------------------- hyper-parameters


def test_reads_the_seed_hyperparameters(seed):
    text, tree = seed
    found = static.hyperparameters(tree, text=text)
    assert {name: (lit.value, lit.line, lit.kind) for name, lit in found.items()} == {
        "iters_num": (10000, 145, "iterations"),
        "batch_size": (100, 147, "batch_size"),
        "learning_rate": (0.1, 148, "learning_rate"),
    }


def test_hyperparameters_in_main_blocks_and_loops_but_not_in_functions():
    text, tree = parse(
        """
        LR = 1e-2
        def train():
            batch_size = 32
        if __name__ == "__main__":
            max_epochs = 2 * 10
            weight_init_std = 0.01
            for trial in range(3):
                weight_decay_lambda = 0.1
        base_lr = 0.5
        lr_decay = 0.95
        momentum = 0.9
        train_size = x_train.shape[0]
        learning_rate = x
        """
    )
    found = static.hyperparameters(tree, text=text)
    assert {name: (lit.value, lit.kind) for name, lit in found.items()} == {
        "LR": (1e-2, "learning_rate"),
        "max_epochs": (20, "epochs"),
        "weight_init_std": (0.01, "weight_init_std"),
        "weight_decay_lambda": (0.1, "weight_decay"),
        "base_lr": (0.5, "learning_rate"),
        "lr_decay": (0.95, "learning_rate_decay"),
        "momentum": (0.9, "momentum"),
    }
    assert found["LR"].source == "1e-2"
    assert found["max_epochs"].line == 6


def test_a_rebound_hyperparameter_keeps_its_last_literal_and_says_so():
    _text, tree = parse(
        """
        lr = 0.1
        for epoch in range(10):
            lr *= 0.5
        """
    )
    lit = static.hyperparameters(tree)["lr"]
    assert (lit.value, lit.line, lit.rebound) == (0.1, 2, True)


# ------------------------------------------------------------- softmax reductions

BOOK_SOFTMAX = """
import numpy as np

def softmax(x):
    if x.ndim == 2:
        x = x.T
        x = x - np.max(x, axis=0)
        y = np.exp(x) / np.sum(np.exp(x), axis=0)
        return y.T

    x = x - np.max(x)  # overflow guard
    return np.exp(x) / np.sum(np.exp(x))
"""


def test_finds_the_global_reductions_of_the_seed_softmax(seed):
    text, tree = seed
    reductions = static.softmax_reductions(tree, text=text)
    assert [(r.function, r.line, r.source, r.kind) for r in reductions] == [
        ("SoftmaxWithLoss.softmax", 14, "np.max(x)", "max"),
        ("SoftmaxWithLoss.softmax", 16, "np.sum(exp_x)", "sum"),
    ]
    assert all(r.is_wrong and r.per_row is False and r.axis is None for r in reductions)
    # The seed uses axis=1 for its 2-D arrays (np.argmax(y, axis=1)), so the rewrite does too.
    assert [r.fixed for r in reductions] == ["np.max(x, axis=1, keepdims=True)", "np.sum(exp_x, axis=1, keepdims=True)"]
    lines = text.splitlines()
    assert all(lines[r.line - 1][r.col : r.end_col] == r.source for r in reductions)


def test_seed_softmax_diagnosis_rewrites_the_whole_function(seed):
    text, tree = seed
    function = static.find_function(tree, "SoftmaxWithLoss.softmax")
    diagnosis = static.softmax_diagnosis(function, text=text, tree=tree)
    assert [r.line for r in diagnosis.wrong] == [14, 16]
    assert diagnosis.harmless == []
    assert diagnosis.fixed_source == textwrap.dedent(
        """\
        def softmax(self, x):
            x = x - np.max(x, axis=1, keepdims=True)
            exp_x = np.exp(x)
            softmax_x = exp_x / np.sum(exp_x, axis=1, keepdims=True)
            return softmax_x"""
    )
    assert "axis=1" in diagnosis.note and "axis=-1" in diagnosis.note


def test_the_books_transposing_softmax_is_judged_correct():
    text, tree = parse(BOOK_SOFTMAX)
    (qualname, function), = static.softmax_functions(tree)
    diagnosis = static.softmax_diagnosis(function, text=text, qualname=qualname)
    assert diagnosis.ok and diagnosis.wrong == [] and diagnosis.harmless == []
    by_line = {r.line: r for r in diagnosis.correct}
    assert by_line[7].transposed and by_line[7].per_row  # axis=0 after x = x.T
    assert by_line[8].transposed and by_line[8].per_row
    assert by_line[11].one_d_only and by_line[12].one_d_only  # after `if x.ndim == 2: ... return`
    assert diagnosis.fixed_source == textwrap.dedent(BOOK_SOFTMAX).split("\n\n", 1)[1].strip()


def test_a_global_max_next_to_a_per_row_sum_is_harmless_but_rewritten_for_clarity():
    text, tree = parse(
        """
        import numpy as np
        def softmax(x):
            x = x - np.max(x)   # one shift for the whole batch
            e = np.exp(x)
            return e / np.sum(e, axis=1, keepdims=True)
        """
    )
    diagnosis = static.softmax_diagnosis(static.find_function(tree, "softmax"), text=text)
    assert diagnosis.wrong == []
    (shift,) = diagnosis.harmless
    assert shift.is_harmless and not shift.is_wrong and shift.line == 4
    assert "harmless" in shift.reason
    assert "x = x - np.max(x, axis=1, keepdims=True)   # one shift for the whole batch" in diagnosis.fixed_source
    assert [r.source for r in diagnosis.correct] == ["np.sum(e, axis=1, keepdims=True)"]


def test_column_sums_and_dropped_keepdims_are_wrong():
    text, tree = parse(
        """
        import numpy as np
        def softmax(x):
            e = np.exp(x - x.max(axis=1))
            return e / e.sum(axis=0)
        """
    )
    diagnosis = static.softmax_diagnosis(static.find_function(tree, "softmax"), text=text)
    first, second = diagnosis.wrong
    assert "keepdims" in first.reason and first.fixed == "x.max(axis=1, keepdims=True)"
    assert "columns" in second.reason and second.fixed == "e.sum(axis=1, keepdims=True)"
    assert diagnosis.fixed_source.splitlines()[1:] == [
        "    e = np.exp(x - x.max(axis=1, keepdims=True))",
        "    return e / e.sum(axis=1, keepdims=True)",
    ]


def test_rewrites_use_axis_minus_one_unless_the_file_writes_axis_one():
    _text, tree = parse(
        """
        import numpy as np
        def softmax(x):
            e = np.exp(x - np.max(x))
            return e / np.sum(e, 0)
        """
    )
    (shift, total) = static.softmax_reductions(tree)
    assert shift.fixed == "np.max(x, axis=-1, keepdims=True)"
    assert total.fixed == "np.sum(e, -1, keepdims=True)"  # a positional axis stays positional


def test_loss_sums_and_non_softmax_functions_are_left_alone():
    _text, tree = parse(
        """
        import numpy as np
        def softmax_loss(x, y):
            shifted = x - np.max(x, axis=1, keepdims=True)
            Z = np.sum(np.exp(shifted), axis=1, keepdims=True)
            log_probs = shifted - np.log(Z)
            probs = np.exp(log_probs)
            N = x.shape[0]
            loss = -np.sum(log_probs[np.arange(N), y]) / N
            return loss, probs

        def normalise(x):
            return x / np.sum(x)
        """
    )
    reductions = static.softmax_reductions(tree)
    assert [(r.line, r.per_row) for r in reductions] == [(4, True), (5, True)]


def test_an_axis_that_is_not_a_literal_is_unknown_and_a_passed_function_is_checked():
    _text, tree = parse(
        """
        import numpy as onp
        class Probabilities:
            def normalise(self, x):
                e = onp.exp(x - onp.amax(x, axis=self.axis, keepdims=True))
                return e / e.sum()
        """
    )
    function = static.find_function(tree, "Probabilities.normalise")
    reductions = static.softmax_reductions(tree, function)
    assert [(r.function, r.kind, r.axis_known, r.is_wrong) for r in reductions] == [
        ("Probabilities.normalise", "max", False, False),
        ("Probabilities.normalise", "sum", True, True),
    ]
    assert static.softmax_reductions(tree) == []  # not softmax-like by name


def test_without_the_text_code_is_unparsed():
    _text, tree = parse(
        """
        import numpy as np
        def softmax(x):
            e = np.exp(x)   # comment
            return e / np.sum( e )
        """
    )
    diagnosis = static.softmax_diagnosis(static.find_function(tree, "softmax"))
    assert diagnosis.wrong[0].source == "np.sum(e)"
    assert diagnosis.fixed_source.splitlines() == [
        "def softmax(x):",
        "    e = np.exp(x)",
        "    return e / np.sum(e, axis=-1, keepdims=True)",
    ]


def test_columns_count_characters_on_lines_with_other_scripts():
    text, tree = parse(
        """
        import numpy as np
        def softmax(x):
            e = np.exp(x); s = "概率"; return e / np.sum(e)
        """
    )
    (total,) = static.softmax_reductions(tree, text=text)
    line = text.splitlines()[total.line - 1]
    assert line[total.col : total.end_col] == "np.sum(e)"


# ---------------------------------------------------------------- updates


def test_finds_the_seed_in_place_update(seed):
    text, tree = seed
    (update,) = static.parameter_updates(tree, text=text)
    assert (update.line, update.in_place, update.kind) == (166, True, "in-place")
    assert update.source == "network.params[key] -=  learning_rate * grad[key]"
    assert update.fix == "network.params[key] -= learning_rate * grad[key]"
    assert update.target == "network.params[key]" and update.function is None


UPDATES = """
import numpy as np

class SGD:
    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]

class Momentum:
    def update(self, params, grads):
        for key in params:
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]

class Affine:
    def step(self, lr):
        self.W = self.W - lr * self.dW

def sgd(params, grads, lr):
    for p, g in zip(params, grads):
        p = p - lr * g

for key in ('W1', 'b1'):
    network.params[key] = network.params[key] - learning_rate * grad[key]
W1 = W1 - 0.1 * dW1
params['W'][...] = params['W'] - lr * grads['W']
x -= np.max(x)
dx[np.arange(N), y] -= 1
loss = loss + reg * np.sum(W * W)
"""


def test_tells_rebinding_updates_from_in_place_ones():
    text, tree = parse(UPDATES)
    found = [(u.line, u.kind, u.in_place, u.fix, u.function) for u in static.parameter_updates(tree, text=text)]
    assert found == [
        (7, "in-place", True, "params[key] -= self.lr * grads[key]", "SGD.update"),
        (13, "in-place", True, "params[key] += self.v[key]", "Momentum.update"),
        (17, "rebind-attribute", False, "self.W -= lr * self.dW", "Affine.step"),
        (21, "rebind-loop-variable", False, "p -= lr * g", "sgd"),
        (24, "rebind-entry", False, "network.params[key] -= learning_rate * grad[key]", None),
        (25, "rebind-name", False, "W1 -= 0.1 * dW1", None),
        (26, "in-place", True, "params['W'] -= lr * grads['W']", None),
    ]


# ---------------------------------------------------------------- locations


def test_finds_functions_and_their_def_lines(seed):
    text, tree = seed
    function = static.find_function(tree, "SoftmaxWithLoss.softmax")
    assert function is not None and function.lineno == 13
    assert static.definition_line(tree, "SoftmaxWithLoss.softmax") == 13
    assert static.definition_line(tree, "Relu") == 64
    assert static.find_function(tree, "Relu.__init__") is None
    assert static.definition_line(tree, "Nope.nothing") is None
    body = function.body[0]
    assert static.source_segment(text, body) == "x = x - np.max(x)"


def test_finds_nested_and_redefined_functions():
    _text, tree = parse(
        """
        def outer():
            def inner():
                pass
        def f():
            return 1
        if True:
            def f():
                return 2
        """
    )
    assert static.find_function(tree, "outer.<locals>.inner").name == "inner"
    assert static.find_function(tree, "outer.inner").lineno == 3
    assert static.definition_line(tree, "f") == 8


def test_points_at_the_line_that_writes_into_the_upstream_gradient(seed):
    text, tree = seed
    backward = static.find_function(tree, "Relu.backward")
    assert static.inplace_writes(backward, "dout", text=text) == [(76, "dout[self.mask] = 0")]
    forward = static.find_function(tree, "Relu.forward")
    assert static.inplace_writes(forward, "x", text=text) == []  # it writes into x.copy()
    assert static.assigning_lines(forward, "mask") == [69]
    assert static.assigning_lines(forward, "self.mask") == [69]


def test_in_place_writes_through_aliases_operators_and_out_arguments():
    text, tree = parse(
        """
        import numpy as np
        def backward(self, dout, x):
            dx = dout
            dx[self.mask] = 0
            view = x.reshape(-1)
            view += 1
            np.add(x, 1, out=x)
            x.fill(0)
            np.add.at(dout, [0], 1)
            x = x.copy()
            x[0] = 1
            return dx
        """
    )
    function = static.find_function(tree, "backward")
    assert static.inplace_writes(function, "dout", text=text) == [
        (5, "dx[self.mask] = 0"),
        (10, "np.add.at(dout, [0], 1)"),
    ]
    assert [line for line, _ in static.inplace_writes(function, "x")] == [7, 8, 9]
