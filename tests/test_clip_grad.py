"""ember.nn.utils gradient helpers against torch.nn.utils."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from ember.nn import utils as nn_utils

SHAPES = [(3, 4), (5,), (2, 3, 2), ()]


def _params(lib, dtype="float32", seed=0, scale=1.0, bad=None, none_at=None):
    """Parameters with random gradients; `bad` puts a nan/inf in the first gradient."""
    rng = np.random.default_rng(seed)
    params = []
    for i, shape in enumerate(SHAPES):
        p = lib.tensor(np.asarray(rng.normal(size=shape)).astype(dtype), requires_grad=True)
        grad = np.asarray(rng.normal(scale=scale, size=shape)).astype(dtype)
        if bad is not None and i == 0:
            grad[0, 0] = bad
        p.grad = None if i == none_at else lib.tensor(grad)
        params.append(p)
    return params


def _grads(params):
    return [None if p.grad is None else p.grad.numpy().copy() for p in params]


def _assert_grads(ours, theirs, rtol=1e-5, atol=1e-6):
    for a, b in zip(_grads(ours), _grads(theirs), strict=True):
        if b is None:
            assert a is None
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


@pytest.mark.parametrize("norm_type", [2.0, 1, math.inf, 3.0, 0.5, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_clip_grad_norm_matches_torch(norm_type, max_norm, dtype):
    ours, theirs = _params(ember, dtype, none_at=1), _params(torch, dtype, none_at=1)
    n_ours = nn_utils.clip_grad_norm_(ours, max_norm, norm_type=norm_type)
    n_theirs = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type=norm_type)
    assert isinstance(n_ours, ember.Tensor) and n_ours.shape == ()
    assert str(n_ours.dtype).split(".")[-1] == str(n_theirs.dtype).split(".")[-1]
    np.testing.assert_allclose(n_ours.item(), n_theirs.item(), rtol=1e-6)
    _assert_grads(ours, theirs)


def test_clip_grad_norm_of_a_single_tensor_and_a_generator():
    ours, theirs = _params(ember, scale=5.0), _params(torch, scale=5.0)
    n_ours = nn_utils.clip_grad_norm_(ours[0], 1.0)
    n_theirs = torch.nn.utils.clip_grad_norm_(theirs[0], 1.0)
    np.testing.assert_allclose(n_ours.item(), n_theirs.item(), rtol=1e-6)
    n_ours = nn_utils.clip_grad_norm_((p for p in ours[1:]), 1.0)
    n_theirs = torch.nn.utils.clip_grad_norm_((p for p in theirs[1:]), 1.0)
    np.testing.assert_allclose(n_ours.item(), n_theirs.item(), rtol=1e-6)
    _assert_grads(ours, theirs)


def test_clipped_gradients_have_the_requested_norm():
    params = _params(ember, "float64", scale=10.0)
    nn_utils.clip_grad_norm_(params, max_norm=2.0)
    total = math.sqrt(sum(float((p.grad**2).sum()) for p in params))
    assert total == pytest.approx(2.0, rel=1e-5)


def test_clip_grad_norm_without_gradients_returns_zero():
    for lib, utils in ((ember, nn_utils), (torch, torch.nn.utils)):
        p = lib.zeros(3, requires_grad=True)
        assert utils.clip_grad_norm_([p], 1.0).item() == 0.0
        assert p.grad is None


def test_empty_generator_warns_like_torch():
    for utils in (nn_utils, torch.nn.utils):
        with pytest.warns(UserWarning, match="empty generator"):
            utils.clip_grad_norm_((p for p in []), 1.0)


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
@pytest.mark.parametrize("norm_type", [2.0, 1.0, math.inf])
def test_error_if_nonfinite_raises_like_torch(bad, norm_type):
    messages = []
    for lib, utils in ((ember, nn_utils), (torch, torch.nn.utils)):
        params = _params(lib, bad=bad)
        before = _grads(params)
        with pytest.raises(RuntimeError, match="is non-finite, so it cannot be clipped") as info:
            utils.clip_grad_norm_(params, 1.0, norm_type=norm_type, error_if_nonfinite=True)
        messages.append(str(info.value))
        for a, b in zip(_grads(params), before, strict=True):  # nothing was scaled
            np.testing.assert_array_equal(a, b)
    assert messages[0] == messages[1]


@pytest.mark.parametrize("bad", [math.nan, math.inf])
@pytest.mark.parametrize("norm_type", [2.0, math.inf])
def test_nonfinite_norm_without_the_error_scales_like_torch(bad, norm_type):
    ours, theirs = _params(ember, bad=bad), _params(torch, bad=bad)
    n_ours = nn_utils.clip_grad_norm_(ours, 1.0, norm_type=norm_type)
    n_theirs = torch.nn.utils.clip_grad_norm_(theirs, 1.0, norm_type=norm_type)
    np.testing.assert_array_equal(n_ours.item(), n_theirs.item())
    _assert_grads(ours, theirs)


def test_get_total_norm_and_clip_grads_with_norm_match_torch():
    ours, theirs = _params(ember, scale=3.0), _params(torch, scale=3.0)
    n_ours = nn_utils.get_total_norm([p.grad for p in ours], norm_type=3.0)
    n_theirs = torch.nn.utils.get_total_norm([p.grad for p in theirs], norm_type=3.0)
    np.testing.assert_allclose(n_ours.item(), n_theirs.item(), rtol=1e-6)
    nn_utils.clip_grads_with_norm_(ours, 2.0, n_ours)
    torch.nn.utils.clip_grads_with_norm_(theirs, 2.0, n_theirs)
    _assert_grads(ours, theirs)


@pytest.mark.parametrize("clip_value", [0.1, 0.5, 3])
def test_clip_grad_value_matches_torch(clip_value):
    ours, theirs = _params(ember, none_at=2), _params(torch, none_at=2)
    assert nn_utils.clip_grad_value_(ours, clip_value) is None
    torch.nn.utils.clip_grad_value_(theirs, clip_value)
    _assert_grads(ours, theirs, rtol=0, atol=0)
    nn_utils.clip_grad_value_(ours[0], 0.05)  # a single tensor
    torch.nn.utils.clip_grad_value_(theirs[0], 0.05)
    _assert_grads(ours, theirs, rtol=0, atol=0)


def test_clipping_keeps_the_gradient_tensor_and_bumps_its_version():
    p = ember.ones(3, requires_grad=True)
    p.grad = ember.full((3,), 10.0)
    grad, version = p.grad, p.grad._version
    nn_utils.clip_grad_norm_([p], 1.0)
    assert p.grad is grad and grad._version > version
    version = grad._version
    nn_utils.clip_grad_value_([p], 0.1)
    assert p.grad is grad and grad._version > version


# ---------------------------------------------------------------------- convert_parameters
def test_parameters_to_vector_matches_torch_and_is_differentiable():
    ours, theirs = _params(ember, "float64"), _params(torch, "float64")
    for p in ours + theirs:
        p.grad = None
    v_ours = nn_utils.parameters_to_vector(ours)
    v_theirs = torch.nn.utils.parameters_to_vector(theirs)
    np.testing.assert_array_equal(v_ours.detach().numpy(), v_theirs.detach().numpy())
    weights = np.arange(v_ours.numel(), dtype="float64")
    (v_ours * ember.tensor(weights)).sum().backward()
    (v_theirs * torch.tensor(weights)).sum().backward()
    _assert_grads(ours, theirs, rtol=0, atol=0)


def test_vector_to_parameters_matches_torch():
    ours, theirs = _params(ember, "float64"), _params(torch, "float64")
    n = sum(int(np.prod(s)) for s in SHAPES)
    vec = np.linspace(-1.0, 1.0, n)
    nn_utils.vector_to_parameters(ember.tensor(vec), ours)
    torch.nn.utils.vector_to_parameters(torch.tensor(vec), theirs)
    for a, b in zip(ours, theirs, strict=True):
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.detach().numpy(), b.detach().numpy())
        assert a.requires_grad == b.requires_grad
    round_trip = nn_utils.parameters_to_vector(ours)
    np.testing.assert_array_equal(round_trip.detach().numpy(), vec)


def test_vector_to_parameters_needs_a_tensor():
    for lib, utils in ((ember, nn_utils), (torch, torch.nn.utils)):
        with pytest.raises(TypeError, match="expected torch.Tensor"):
            utils.vector_to_parameters([1.0, 2.0], [lib.zeros(2, requires_grad=True)])
