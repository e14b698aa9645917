# backprop-doctor sample: cs231n-style function pairs with two bugs (transposed dw, sign error in relu)
# expected: gradient-shape-mismatch (pattern: transposed) on dw of affine_backward at line 18;
#           gradient-mismatch (pattern: sign flipped) in relu_backward at line 29
import numpy as np


def affine_forward(x, w, b):
    N = x.shape[0]
    out = x.reshape(N, -1).dot(w) + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = dout.T.dot(x.reshape(N, -1))
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    x = cache
    dx = -dout * (x > 0)
    return dx


def softmax_loss(x, y):
    probs = np.exp(x - np.max(x, axis=1, keepdims=True))
    probs /= np.sum(probs, axis=1, keepdims=True)
    N = x.shape[0]
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


def two_layer_loss(X, y, params, reg=0.0):
    h, cache1 = affine_forward(X, params['W1'], params['b1'])
    a, cache2 = relu_forward(h)
    scores, cache3 = affine_forward(a, params['W2'], params['b2'])
    loss, dscores = softmax_loss(scores, y)
    loss += 0.5 * reg * (np.sum(params['W1'] ** 2) + np.sum(params['W2'] ** 2))

    grads = {}
    da, grads['W2'], grads['b2'] = affine_backward(dscores, cache3)
    dh = relu_backward(da, cache2)
    _, grads['W1'], grads['b1'] = affine_backward(dh, cache1)
    grads['W1'] += reg * params['W1']
    grads['W2'] += reg * params['W2']
    return loss, grads
