"""Regressions found by randomized differential testing of the convolution / pooling /
resampling layers against torch (outputs, input gradients, errors)."""

import numpy as np
import pytest
import torch

import ember


def _input(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _compare(fn_name, x, grad=True, **kwargs):
    """Forward (and backward of sum(out * w)) of F.<fn_name> in both frameworks."""
    xt = torch.tensor(x, requires_grad=grad)
    xe = ember.tensor(x, requires_grad=grad)
    yt = getattr(torch.nn.functional, fn_name)(xt, **kwargs)
    ye = getattr(ember.nn.functional, fn_name)(xe, **kwargs)
    assert tuple(ye.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12, atol=1e-12)
    if grad:
        w = _input(tuple(yt.shape), seed=1, dtype=x.dtype)
        (yt * torch.tensor(w)).sum().backward()
        (ye * ember.tensor(w)).sum().backward()
        np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode,shape,scale", [
    ("linear", (2, 3, 5), 1.1),  # 5 -> 5: torch copies, ignoring the scale
    ("linear", (1, 2, 2), 4 / 3),
    ("bilinear", (1, 2, 2, 4), (1.4, 1.4)),  # H unchanged, W resized
    ("bilinear", (1, 1, 3, 3), 1.2),
    ("trilinear", (1, 2, 2, 2, 4), 1.4),
    ("nearest", (1, 3, 2, 2), 4 / 3),  # 2-D nearest: copied
    ("nearest", (1, 1, 4, 5), 2.1),  # 2-D nearest: doubled size halves the index
])
def test_interpolate_unchanged_or_doubled_size_with_scale_factor(mode, shape, scale):
    _compare("interpolate", _input(shape), scale_factor=scale, mode=mode)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact"])
def test_interpolate_nearest_index_rounding_on_long_inputs(dtype, mode):
    # torch computes the source index in float32 unless the input is float64
    for n, scale in [(5233, 2.7), (20011, 1 / 2.7), (523, 2.7)]:
        _compare("interpolate", _input((1, 2, n), dtype=dtype), grad=False,
                 scale_factor=scale, mode=mode)
    _compare("interpolate", _input((1, 1, 301, 203), dtype=dtype), grad=False,
             scale_factor=2.7, mode=mode)


@pytest.mark.parametrize("mode,shape", [("nearest", (1, 1, 2)), ("bilinear", (1, 1, 3, 5)),
                                        ("bicubic", (1, 1, 8, 1)),
                                        ("trilinear", (1, 1, 3, 4, 1))])
def test_interpolate_to_an_empty_size_raises(mode, shape):
    x = _input(shape)
    with pytest.raises(RuntimeError):
        torch.nn.functional.interpolate(torch.tensor(x), scale_factor=0.3, mode=mode)
    with pytest.raises(RuntimeError, match="greater than 0"):
        ember.nn.functional.interpolate(ember.tensor(x), scale_factor=0.3, mode=mode)


@pytest.mark.parametrize("fn,shape,size", [
    ("adaptive_avg_pool2d", (1, 3, 3, 1), (6, 0)),
    ("adaptive_max_pool2d", (1, 2, 3, 3), (0, 5)),
    ("adaptive_avg_pool3d", (1, 2, 3, 3, 3), (2, 0, 5)),
    ("adaptive_max_pool3d", (2, 3, 3, 3), (2, 0, 5)),
])
def test_adaptive_pool_to_an_empty_size(fn, shape, size):
    x = _input(shape)
    yt = getattr(torch.nn.functional, fn)(torch.tensor(x), size)
    ye = getattr(ember.nn.functional, fn)(ember.tensor(x), size)
    assert tuple(ye.shape) == tuple(yt.shape)


def test_interpolate_area_to_an_empty_size():
    x = _input((1, 3, 3, 1))
    yt = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=(2, 0.5), mode="area")
    ye = ember.nn.functional.interpolate(ember.tensor(x), scale_factor=(2, 0.5), mode="area")
    assert tuple(ye.shape) == tuple(yt.shape)


@pytest.mark.parametrize("layer,kwargs,shape", [
    ("AvgPool3d", dict(kernel_size=4, padding=2), (1, 2, 3, 5, 7)),
    ("AvgPool3d", dict(kernel_size=(4, 4, 1), stride=3, padding=(2, 0, 0), ceil_mode=True),
     (1, 6, 3, 2)),
    ("LPPool3d", dict(norm_type=2, kernel_size=3, ceil_mode=True), (2, 3, 3, 6, 1)),
])
def test_avg_pool3d_input_smaller_than_kernel_raises(layer, kwargs, shape):
    # torch's avg_pool3d compares the unpadded input with the kernel
    x = np.abs(_input(shape)) + 0.1
    with pytest.raises(RuntimeError):
        getattr(torch.nn, layer)(**kwargs)(torch.tensor(x))
    with pytest.raises(RuntimeError, match="smaller than the|too small"):
        getattr(ember.nn, layer)(**kwargs)(ember.tensor(x))


def test_avg_pool3d_input_as_large_as_kernel_still_pools():
    x = _input((1, 2, 4, 4, 5))
    _compare("avg_pool3d", x, kernel_size=4, padding=2, ceil_mode=True)


@pytest.mark.parametrize("output_size", [[8, 9], [3, 7, 8], [9, 11]])
def test_conv_transpose_output_size_outside_torch_range_raises(output_size):
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose2d(3, 3, 3, dilation=2, padding=(1, 1)).double()
    em = ember.nn.ConvTranspose2d(3, 3, 3, dilation=2, padding=(1, 1)).double()
    x = _input((2, 3, 7, 8))
    with pytest.raises(ValueError):
        tm(torch.tensor(x), output_size=output_size)
    with pytest.raises(ValueError, match="output"):
        em(ember.tensor(x), output_size=output_size)


def test_conv_transpose_output_size_within_range():
    torch.manual_seed(0)
    tm = torch.nn.ConvTranspose2d(3, 2, 3, stride=(2, 3), dilation=2, padding=1).double()
    em = ember.nn.ConvTranspose2d(3, 2, 3, stride=(2, 3), dilation=2, padding=1).double()
    em.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in
                        tm.state_dict().items()})
    x = _input((2, 3, 4, 5))
    for size in ([2, 2, 10, 17], [9, 15], [10, 16]):
        yt = tm(torch.tensor(x), output_size=size)
        ye = em(ember.tensor(x), output_size=size)
        np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), rtol=1e-12,
                                   atol=1e-12)
