"""Regressions found by randomized differential testing of the losses against torch: each case
runs the same inputs through both frameworks and compares the loss and its gradients, or checks
that an input torch refuses raises an error that names the loss."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember


def _both(values, grad=True):
    """The same array as a torch and an Ember tensor (leaves that require grad if `grad`)."""
    values = np.asarray(values)
    t, e = torch.tensor(values), ember.tensor(values.copy())
    if grad:
        t.requires_grad_(True)
        e.requires_grad_(True)
    return t, e


def _close(expected, actual, tol=1e-10):
    expected = expected.detach().numpy()
    actual = actual.detach().numpy()
    assert actual.shape == expected.shape
    assert actual.dtype == expected.dtype
    np.testing.assert_allclose(actual, expected, rtol=tol, atol=tol)


def _normal(shape, seed):
    return np.random.default_rng(seed).normal(size=shape)


# ---------------------------------------------------------------------------------------------
# cross_entropy / nll_loss with every target ignored and reduction='mean': torch's loss is nan,
# its gradient zero (Ember's gradient was nan)
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ["cross_entropy", "nll_loss"])
@pytest.mark.parametrize("kwargs", [{}, {"label_smoothing": 0.2}, {"weight": True}])
@pytest.mark.parametrize("shape", [(3, 4), (4,), (2, 4, 3)])
def test_all_targets_ignored_mean(loss, kwargs, shape):
    if loss == "nll_loss" and "label_smoothing" in kwargs:
        pytest.skip("nll_loss has no label smoothing")
    xt, xe = _both(_normal(shape, 0))
    target = np.full(() if len(shape) == 1 else (shape[0],) + shape[2:], 2, dtype=np.int64)
    kw_t, kw_e = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        w = np.linspace(0.5, 2.0, 4)
        kw_t["weight"], kw_e["weight"] = torch.tensor(w), ember.tensor(w)
    out_t = getattr(torch.nn.functional, loss)(xt, torch.tensor(target), ignore_index=2, **kw_t)
    out_e = getattr(ember.nn.functional, loss)(xe, ember.tensor(target), ignore_index=2, **kw_e)
    _close(out_t, out_e)
    out_t.backward()
    out_e.backward()
    _close(xt.grad, xe.grad)


# ---------------------------------------------------------------------------------------------
# gaussian_nll_loss
# ---------------------------------------------------------------------------------------------


def test_gaussian_nll_var_below_eps_keeps_its_gradient():
    """torch clamps var at eps in place under no_grad: the gradient passes the clamp unchanged
    (Ember's clamp_min gave 0 for the entries below eps)."""
    x, y = _normal((4, 3), 1), _normal((4, 3), 2)
    var = np.abs(_normal((4, 3), 3))
    grads = []
    for lib in (torch, ember):
        v = lib.tensor(var.copy(), requires_grad=True)
        out = lib.nn.functional.gaussian_nll_loss(lib.tensor(x), lib.tensor(y), v, eps=0.5)
        out.backward()
        grads.append((out, v.grad))
    _close(grads[0][0], grads[1][0])
    _close(grads[0][1], grads[1][1])
    module = ember.nn.GaussianNLLLoss(eps=0.5)
    v = ember.tensor(var.copy(), requires_grad=True)
    module(ember.tensor(x), ember.tensor(y), v).backward()
    _close(grads[0][1], v.grad)


@pytest.mark.parametrize("var_shape", [(4, 1, 5, 5), (1, 3, 5, 5), (4, 3, 1, 5), (4, 3, 5, 1),
                                       (4, 3, 5)])
def test_gaussian_nll_var_shared_along_any_one_dim(var_shape):
    """torch takes a var with a size of 1 in any one dim (e.g. one per channel), not only the
    last (Ember raised ValueError for (4, 1, 5, 5))."""
    x, y = _normal((4, 3, 5, 5), 4), _normal((4, 3, 5, 5), 5)
    var = np.abs(_normal(var_shape, 6)) + 0.1
    vt, ve = _both(var)
    out_t = torch.nn.functional.gaussian_nll_loss(torch.tensor(x), torch.tensor(y), vt)
    out_e = ember.nn.functional.gaussian_nll_loss(ember.tensor(x), ember.tensor(y), ve)
    _close(out_t, out_e)
    out_t.backward()
    out_e.backward()
    _close(vt.grad, ve.grad)


@pytest.mark.parametrize("var_shape", [(4, 1, 5, 1), (3, 5, 5), (4, 3, 5, 2)])
def test_gaussian_nll_var_of_wrong_shape_raises(var_shape):
    x = ember.tensor(_normal((4, 3, 5, 5), 7))
    var = ember.ones(var_shape)
    with pytest.raises(torch_error(lambda: torch.nn.functional.gaussian_nll_loss(
            torch.tensor(x.numpy()), torch.tensor(x.numpy()), torch.ones(var_shape))),
            match="gaussian_nll_loss"):
        ember.nn.functional.gaussian_nll_loss(x, x, var)


def torch_error(call):
    """The exception type torch raises for `call` (it must raise)."""
    try:
        call()
    except Exception as exc:  # noqa: BLE001
        return type(exc)
    raise AssertionError("torch accepted the input")
