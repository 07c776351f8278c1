"""Regressions found by randomized differential testing of the losses against torch: each case
runs the same inputs through both frameworks and compares the loss and its gradients, or checks
that an input torch refuses raises an error that names the loss."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import ember
from conformance import assert_close


def _both(values, grad=True):
    """The same array as a torch and an Ember tensor (leaves that require grad if `grad`)."""
    values = np.asarray(values)
    t, e = torch.tensor(values), ember.tensor(values.copy())
    if grad:
        t.requires_grad_(True)
        e.requires_grad_(True)
    return t, e


def _close(expected, actual, tol=1e-10):
    assert_close(actual, expected, rtol=tol, atol=tol, what="ember against torch")


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


# ---------------------------------------------------------------------------------------------
# Invalid inputs: where torch raises, Ember raises too (the type may differ) and names the loss
# (Ember returned numbers for the integer inputs, huber_loss's delta <= 0, multi_margin_loss's
# weight size, 3-D cosine_embedding_loss inputs, a margin <= 0 in the functional triplet losses
# and the malformed ctc_loss targets; the other errors came from an op inside the loss and did
# not say which loss)
# ---------------------------------------------------------------------------------------------

_RNG = np.random.default_rng(0)


def _f(*shape):
    return _RNG.normal(size=shape)


def _p(*shape):
    return _RNG.uniform(0.1, 0.9, size=shape)


def _i(*values):
    return np.array(values, dtype=np.int64)


_INTS = (np.array([1, 2]), np.array([1, 3]))
_INVALID = [
    ("nll_loss", {}, (np.array([[1, 2], [3, 4]]), _i(0, 1))),
    ("binary_cross_entropy_with_logits", {}, (np.array([1, 2, 3]), _p(3))),
    ("binary_cross_entropy_with_logits", {"pos_weight": _p(3)}, (_f(3, 2), _p(3, 2))),
    ("binary_cross_entropy", {"weight": _p(3)}, (_p(3, 2), _p(3, 2))),
    ("mse_loss", {"reduction": "none"}, _INTS),
    ("smooth_l1_loss", {}, _INTS),
    ("huber_loss", {}, _INTS),
    ("huber_loss", {"delta": 0.0}, (_f(3), _f(3))),
    ("huber_loss", {"delta": -1.0}, (_f(3), _f(3))),
    ("kl_div", {"reduction": "sum"}, _INTS),
    ("kl_div", {"reduction": "sum"}, (_f(3), _f(4))),
    ("soft_margin_loss", {}, _INTS),
    ("mse_loss", {"reduction": "avg"}, (_f(3), _f(3))),
    ("poisson_nll_loss", {}, (_f(3), _f(4))),
    ("hinge_embedding_loss", {}, (_f(3), _f(4))),
    ("margin_ranking_loss", {}, (_f(3), _f(3), _f(4))),
    ("multilabel_soft_margin_loss", {"weight": _p(5)}, (_f(3, 4), _p(3, 4))),
    ("multi_margin_loss", {}, (_f(3, 4), _i(0, 1))),
    ("multi_margin_loss", {}, (_f(3, 4), _f(3))),
    ("multi_margin_loss", {"weight": _p(3)}, (_f(3, 4), _i(0, 1, 2))),
    ("multi_margin_loss", {}, (_f(3, 4, 2), np.zeros((3, 2), np.int64))),
    ("cosine_embedding_loss", {}, (_f(3, 4, 2), _f(3, 4, 2), _f(3, 4))),
    ("cosine_embedding_loss", {}, (_f(3, 4), _f(3, 4), _f(4))),
    ("triplet_margin_loss", {"margin": 0.0}, (_f(3, 4), _f(3, 4), _f(3, 4))),
    ("triplet_margin_loss", {}, (_f(3, 4), _f(3, 5), _f(3, 4))),
    ("triplet_margin_with_distance_loss", {"margin": -1.0}, (_f(3, 4), _f(3, 4), _f(3, 4))),
    ("ctc_loss", {}, (_f(4, 2, 3), _i(1, 2, 1, 2, 1), (4, 4), (2, 2))),  # 5 labels, not 4
    ("ctc_loss", {}, (_f(4, 2, 3), np.ones((3, 2), np.int64), (4, 4), (2, 2))),  # 3 rows
    ("ctc_loss", {}, (np.ones((4, 2, 3), np.int64), np.ones((2, 2), np.int64), (4, 4), (2, 2))),
]


@pytest.mark.parametrize("loss, kwargs, args", _INVALID,
                         ids=[f"{case[0]}-{i}" for i, case in enumerate(_INVALID)])
def test_invalid_input_raises_naming_the_loss(loss, kwargs, args):
    def call(lib):
        convert = lambda a: lib.tensor(a) if isinstance(a, np.ndarray) else a  # noqa: E731
        kw = {k: convert(v) for k, v in kwargs.items()}
        return getattr(lib.nn.functional, loss)(*map(convert, args), **kw)

    torch_error(lambda: call(torch))
    with pytest.raises(Exception, match=loss):  # noqa: PT011 (torch's types vary)
        call(ember)


def test_ctc_loss_target_label_out_of_range_raises():
    """torch reads outside log_probs for a label >= C (no error); Ember indexed with it too
    (an IndexError for C, a silent wrap-around for -1)."""
    lp = ember.tensor(_f(4, 2, 3)).log_softmax(-1)
    for bad in (3, -1):
        with pytest.raises(RuntimeError, match="ctc_loss: target labels must be in"):
            ember.nn.functional.ctc_loss(lp, ember.full((2, 2), bad), (4, 4), (2, 2))


def test_triplet_margin_with_distance_module_refuses_margin_at_construction():
    with pytest.raises(torch_error(lambda: torch.nn.TripletMarginWithDistanceLoss(margin=0.0)),
                       match="TripletMarginWithDistanceLoss"):
        ember.nn.TripletMarginWithDistanceLoss(margin=0.0)


def test_binary_cross_entropy_target_grad_at_0_and_1_warns_nothing():
    """The target's gradient takes log(x) and log(1 - x) clamped at -100, as the forward does;
    numpy's divide-by-zero warnings for x = 0 or 1 leaked out of the backward."""
    x = ember.tensor(np.array([0.0, 1.0, 0.25]), requires_grad=True)
    y = ember.tensor(np.array([0.5, 0.5, 0.5]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.functional.binary_cross_entropy(x, y, reduction="sum").backward()
    xt = torch.tensor([0.25], dtype=torch.float64, requires_grad=True)
    yt = torch.tensor([0.5], dtype=torch.float64, requires_grad=True)
    torch.nn.functional.binary_cross_entropy(xt, yt, reduction="sum").backward()
    _close(yt.grad, y.grad[2:])
