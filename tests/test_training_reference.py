"""The reference layers that the training probe swaps in must themselves be right."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from backprop_doctor import reference


def numerical_gradient(f, x, h=1e-6):
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def close(a, b, tol=1e-7):
    return np.max(np.abs(a - b)) <= tol * max(1.0, np.max(np.abs(b)))


@given(arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(2, 7)), elements=st.floats(-500, 500)))
def test_reference_softmax_rows_each_sum_to_one_even_for_large_scores(x):
    y = reference.softmax(x)
    assert np.all(np.isfinite(y))
    assert np.allclose(y.sum(axis=1), 1.0)


def test_reference_softmax_with_loss_gradient_matches_the_numerical_gradient():
    rng = np.random.default_rng(0)
    x = 3 * rng.standard_normal((5, 4))
    t = np.eye(4)[rng.integers(0, 4, 5)]
    layer = reference.SoftmaxWithLoss()
    layer.forward(x, t)
    dx = layer.backward(1.0)
    numerical = numerical_gradient(lambda: reference.SoftmaxWithLoss().forward(x, t), x)
    assert close(dx, numerical)


def test_reference_softmax_with_loss_takes_one_hot_or_integer_labels_and_scales_with_dout():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 3))
    labels = rng.integers(0, 3, 6)
    a, b = reference.SoftmaxWithLoss(), reference.SoftmaxWithLoss()
    assert a.forward(x, np.eye(3)[labels]) == pytest.approx(b.forward(x, labels))
    assert np.allclose(2.0 * a.backward(1.0), b.backward(2.0))
    expected = -np.mean(np.log(reference.softmax(x))[np.arange(6), labels])
    assert a.loss == pytest.approx(expected)


def test_reference_softmax_with_loss_takes_a_single_sample_as_a_vector():
    x = np.array([1.0, 2.0, 0.5])
    layer = reference.SoftmaxWithLoss()
    loss = layer.forward(x, np.array([0.0, 1.0, 0.0]))
    assert loss == pytest.approx(-np.log(reference.softmax(x)[1]))
    dx = layer.backward()
    assert dx.shape == (3,)
    assert close(dx, numerical_gradient(lambda: reference.SoftmaxWithLoss().forward(x, 1), x))


@pytest.mark.parametrize("cls", [reference.Relu, reference.Sigmoid])
def test_reference_activations_have_the_numerical_gradient_and_leave_dout_alone(cls):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((4, 5))
    x[np.abs(x) < 0.05] = 0.3  # away from the ReLU kink
    g = rng.standard_normal((4, 5))
    layer = cls()
    layer.forward(x)
    before = g.copy()
    dx = layer.backward(g)
    assert np.array_equal(g, before)
    assert close(dx, numerical_gradient(lambda: float(np.sum(cls().forward(x) * g)), x))


def test_reference_sigmoid_does_not_overflow():
    out = reference.Sigmoid().forward(np.array([[-1000.0, 0.0, 1000.0]]))
    assert np.array_equal(out, [[0.0, 0.5, 1.0]])


def test_reference_affine_keeps_the_given_arrays_so_in_place_updates_reach_it():
    rng = np.random.default_rng(3)
    W, b = rng.standard_normal((6, 3)), rng.standard_normal(3)
    layer = reference.Affine(W, b)
    assert layer.W is W and layer.b is b
    x = rng.standard_normal((2, 2, 3))  # N-D input is flattened to (N, 6)
    out = layer.forward(x)
    assert out.shape == (2, 3)
    g = rng.standard_normal((2, 3))
    dx = layer.backward(g)
    assert dx.shape == x.shape
    objective = lambda: float(np.sum(reference.Affine(W, b).forward(x) * g))  # noqa: E731
    assert close(layer.dW, numerical_gradient(objective, W))
    assert close(layer.db, numerical_gradient(objective, b))
    assert close(dx, numerical_gradient(objective, x))
    W -= 1.0
    assert np.allclose(layer.forward(x), x.reshape(2, 6) @ W + b)


def test_reference_affine_writes_into_the_grads_arrays_it_is_given():
    W, b = np.ones((2, 3)), np.zeros(3)
    grads = [np.zeros((2, 3)), np.zeros(3)]
    held = list(grads)
    layer = reference.Affine(W, b, grads)
    layer.forward(np.ones((4, 2)))
    layer.backward(np.ones((4, 3)))
    assert held[0] is layer.grads[0] and held[1] is layer.grads[1]
    assert np.array_equal(held[0], np.full((2, 3), 4.0)) and np.array_equal(held[1], np.full(3, 4.0))


def test_sgd_update_changes_the_arrays_in_place_and_skips_mismatched_gradients():
    W, b = np.ones((2, 2)), np.ones(2)
    params = {"W": W, "b": b}
    skipped = reference.sgd_update(params, {"W": np.ones((2, 2)), "b": np.ones(5)}, 0.5)
    assert params["W"] is W and np.array_equal(W, np.full((2, 2), 0.5))
    assert np.array_equal(b, np.ones(2)) and skipped == ["b"]
    plist = [W, b]
    assert reference.sgd_update(plist, [np.ones((2, 2))], 0.5) == [1]
    assert plist[0] is W and np.array_equal(W, np.zeros((2, 2)))
