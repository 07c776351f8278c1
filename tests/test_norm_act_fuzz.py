"""Regressions found by randomized differential testing of the normalization layers and the
activations against torch (outputs, gradients, dtypes, errors)."""

import numpy as np
import pytest
import torch

import ember

# special values, repeated so that torch's vectorised loop (not its scalar tail) handles them
_SPECIAL = [float("nan"), -0.0, 0.0, -0.5, 0.5, -3.0, 3.0, -1.0, 1.0, 6.0, float("inf"),
            float("-inf")] * 8


def _same(actual, expected):
    """Equal values, NaNs in the same places and the same sign of every zero."""
    np.testing.assert_array_equal(actual, expected)
    numbers = ~np.isnan(expected)
    np.testing.assert_array_equal(np.signbit(actual[numbers]), np.signbit(expected[numbers]))


def _forward_backward(lib, fn, x, g, **kwargs):
    xt = lib.tensor(x, requires_grad=True)
    y = getattr(lib.nn.functional, fn)(xt, **kwargs)
    y.backward(lib.tensor(g))
    return y.detach().numpy(), xt.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("fn,kwargs", [
    ("hardtanh", {}), ("relu6", {}), ("hardsigmoid", {}), ("hardswish", {}), ("softshrink", {}),
    ("hardshrink", {}), ("threshold", dict(threshold=-0.5, value=7.0)), ("softsign", {}),
])
def test_activation_special_values(fn, kwargs, dtype):
    # NaN, +-0, +-inf and inputs exactly on the thresholds: outputs and gradients (a negative
    # gradient shows a -0.0 where torch has 0.0)
    x = np.array(_SPECIAL, dtype)
    for g in (-1.0, 1.0):
        grad = np.full(x.shape, g, dtype)
        yt, gt = _forward_backward(torch, fn, x, grad, **kwargs)
        ye, ge = _forward_backward(ember, fn, x, grad, **kwargs)
        _same(ye, yt)
        if fn == "hardsigmoid":  # torch's float64 gradient uses 1/6 rounded to float32
            np.testing.assert_allclose(ge, gt, rtol=1e-7)
            np.testing.assert_array_equal(np.signbit(ge), np.signbit(gt))
        elif fn == "softsign":  # torch's quotient rule (NaN at +-inf), not to the last bit
            np.testing.assert_allclose(ge, gt, rtol=1e-6)
        else:
            _same(ge, gt)


@pytest.mark.parametrize("fn,kwargs", [
    ("gelu", {}), ("gelu", dict(approximate="tanh")), ("silu", {}), ("mish", {}),
    ("softplus", {}), ("logsigmoid", {}),
])
def test_float16_activation_dtype_and_values(fn, kwargs):
    # float16 kept float16 (GELU's output and the sigmoid-based gradients came back float64);
    # values within float16 rounding of torch's (which computes in float32 and rounds once)
    x = (np.random.default_rng(0).standard_normal(4000) * 4).astype(np.float16)
    g = np.random.default_rng(1).standard_normal(4000).astype(np.float16)
    yt, gt = _forward_backward(torch, fn, x, g, **kwargs)
    ye, ge = _forward_backward(ember, fn, x, g, **kwargs)
    assert ye.dtype == np.float16 and ge.dtype == np.float16
    np.testing.assert_allclose(ye.astype(np.float64), yt, rtol=2e-3, atol=2e-3)
    np.testing.assert_allclose(ge.astype(np.float64), gt, rtol=2e-3, atol=1e-3)


def test_batch_norm_one_running_statistic_raises():
    x = np.random.default_rng(0).standard_normal((4, 3))
    for kwargs in (dict(running_mean=np.zeros(3), running_var=None),
                   dict(running_mean=None, running_var=np.ones(3))):
        for lib in (torch, ember):
            args = {k: None if v is None else lib.tensor(v) for k, v in kwargs.items()}
            with pytest.raises(ValueError, match="both be None"):
                lib.nn.functional.batch_norm(lib.tensor(x), training=True, **args)


def test_batch_norm_empty_batch_in_training():
    # torch normalizes an empty batch (only exactly one value per channel raises)
    for lib in (torch, ember):
        m = lib.nn.BatchNorm1d(3).double()
        y = m(lib.zeros(0, 3, dtype=lib.float64))
        assert tuple(y.shape) == (0, 3)
        np.testing.assert_array_equal(m.running_mean.numpy(), np.zeros(3))
        np.testing.assert_array_equal(m.running_var.numpy(), np.ones(3))
        assert int(m.num_batches_tracked) == 1
        rm, rv = lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64)
        y = lib.nn.functional.batch_norm(lib.zeros(0, 3, 4, dtype=lib.float64), rm, rv,
                                         training=True)
        assert tuple(y.shape) == (0, 3, 4)
        np.testing.assert_array_equal(rv.numpy(), np.ones(3))


def test_layer_norm_empty_normalized_shape_raises():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="at least 1-dimensional"):
            lib.nn.functional.layer_norm(lib.ones(2, 3), [])


def test_local_response_norm_size_zero_and_empty_batch():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError):
            lib.nn.functional.local_response_norm(lib.ones(2, 4, 3), 0)
        assert tuple(lib.nn.functional.local_response_norm(lib.ones(0, 4, 3), 3).shape) \
            == (0, 4, 3)


def test_normalize_writes_out():
    x = np.random.default_rng(0).standard_normal((3, 4, 5))
    results = []
    for lib in (torch, ember):
        out = lib.zeros(3, 4, 5, dtype=lib.float64)
        returned = lib.nn.functional.normalize(lib.tensor(x), out=out)
        results.append((returned.numpy(), out.numpy()))
    np.testing.assert_allclose(results[1][1], results[0][1], rtol=1e-12)
    np.testing.assert_allclose(results[1][0], results[0][0], rtol=1e-12)


@pytest.mark.parametrize("shape,channels", [((4,), 4), ((), 1), ((), 3), ((2, 4), 4)])
def test_prelu_channels_of_inputs_below_two_dims(shape, channels):
    # torch: input of fewer than 2 dims has one channel; the result keeps the input's shape
    x = np.linspace(-2, 2, int(np.prod(shape))).reshape(shape)
    results = []
    for lib in (torch, ember):
        try:
            results.append(lib.nn.PReLU(channels).double()(lib.tensor(x)).detach().numpy())
        except RuntimeError as err:
            results.append(type(err))
    if isinstance(results[0], type):
        assert results[1] is results[0]
    else:
        assert results[1].shape == results[0].shape
        np.testing.assert_allclose(results[1], results[0], rtol=1e-12)


def test_prelu_two_dim_weight_raises():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="scalar or 1D"):
            lib.nn.functional.prelu(lib.ones(2, 4), lib.ones(2, 2))


def test_glu_scalar_raises_runtime_error():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="scalars"):
            lib.nn.functional.glu(lib.tensor(1.0))


def test_group_norm_weight_shape_error_names_group_norm():
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="weight"):
            lib.nn.functional.group_norm(lib.ones(2, 4, 3), 2, lib.ones(3))


def test_rms_norm_integer_input_and_weight_shape():
    for lib in (torch, ember):
        with pytest.raises(NotImplementedError):
            lib.nn.functional.rms_norm(lib.ones(2, 4, dtype=lib.int64), [4])
        with pytest.raises(RuntimeError):
            lib.nn.functional.rms_norm(lib.ones(2, 4), [4], lib.ones(3))
