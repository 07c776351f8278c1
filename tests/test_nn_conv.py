"""Convolution, pooling and resizing layers against torch (weights copied in): outputs, input
and weight gradients over a grid of stride/padding/dilation/groups, odd sizes and non-square
kernels; double backward; the errors that name the layer and show the output-size arithmetic."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import ember
from conformance import Input, compare
from nn_helpers import compare_module

I = Input  # noqa: E741

CONV2D_GRID = [
    dict(kernel_size=k, stride=s, padding=p, dilation=d, groups=g, bias=b)
    for k, s, p, d, g, b in itertools.product([3, (2, 3), 1], [1, 2, (1, 2)], [0, 1, (2, 0)],
                                               [1, 2], [1, 2], [True, False])
]


@pytest.mark.parametrize("kw", CONV2D_GRID, ids=[str(i) for i in range(len(CONV2D_GRID))])
def test_conv2d_grid(kw: dict) -> None:
    compare_module(lambda m: m.nn.Conv2d(4, 6, **kw), [(2, 4, 9, 7)], dtype="float64")


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, padding=1),
    dict(kernel_size=5, stride=2, padding=2, bias=False),
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=4, padding="same", dilation=2),
    dict(kernel_size=(2, 4), padding="same"),
    dict(kernel_size=3, padding="valid"),
    dict(kernel_size=3, padding=1, groups=4),  # depthwise
    dict(kernel_size=3, padding=2, groups=4, stride=2, dilation=2),  # depthwise, strided
    dict(kernel_size=3, groups=2, padding=1),
    dict(kernel_size=3, padding=1, padding_mode="reflect"),
    dict(kernel_size=3, padding=2, padding_mode="replicate"),
    dict(kernel_size=(3, 2), padding=(1, 2), padding_mode="circular"),
    dict(kernel_size=3, padding="same", padding_mode="reflect"),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_options(kw: dict, dtype: str) -> None:
    compare_module(lambda m: m.nn.Conv2d(4, 4, **kw), [(3, 4, 8, 9)], dtype=dtype)


def test_conv2d_depthwise_multiplier_and_unbatched() -> None:
    compare_module(lambda m: m.nn.Conv2d(3, 6, 3, groups=3, padding=1), [(2, 3, 5, 5)],
                   dtype="float64")
    compare_module(lambda m: m.nn.Conv2d(3, 5, 3), [(3, 6, 6)], dtype="float64")


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3), dict(kernel_size=4, stride=2, padding=1), dict(kernel_size=3,
                                                                         dilation=2, groups=2),
    dict(kernel_size=2, stride=3, padding=1, bias=False), dict(kernel_size=3, padding="same"),
    dict(kernel_size=3, padding=1, padding_mode="reflect"),
])
def test_conv1d(kw: dict) -> None:
    compare_module(lambda m: m.nn.Conv1d(4, 6, **kw), [(2, 4, 11)], dtype="float64")
    compare_module(lambda m: m.nn.Conv1d(4, 6, **kw), [(4, 11)], dtype="float64")


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3), dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(kernel_size=(2, 3), stride=(2, 1), padding=(0, 1)),
    dict(kernel_size=3, stride=2, groups=2, dilation=2, bias=False),
    dict(kernel_size=4, stride=3, padding=2, output_padding=(2, 1)),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_transpose2d(kw: dict, dtype: str) -> None:
    compare_module(lambda m: m.nn.ConvTranspose2d(4, 6, **kw), [(2, 4, 5, 6)], dtype=dtype)


def test_conv_transpose_output_size_and_1d() -> None:
    compare_module(lambda m: m.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), [(2, 3, 4, 4)],
                   call=lambda mod, x: mod(x, output_size=[8, 8]), dtype="float64")
    compare_module(lambda m: m.nn.ConvTranspose1d(3, 2, 3, stride=2), [(2, 3, 7)],
                   dtype="float64")


POOLS = [
    ("MaxPool2d", lambda m: m.nn.MaxPool2d(2), (2, 3, 8, 8)),
    ("MaxPool2d_s", lambda m: m.nn.MaxPool2d(3, 2, 1), (2, 3, 9, 7)),
    ("MaxPool2d_rect", lambda m: m.nn.MaxPool2d((3, 2), (2, 1), (1, 0), dilation=2), (2, 3, 9, 7)),
    ("MaxPool2d_ceil", lambda m: m.nn.MaxPool2d(3, 2, ceil_mode=True), (2, 3, 10, 9)),
    ("MaxPool2d_overlap", lambda m: m.nn.MaxPool2d(3, 1), (2, 3, 6, 6)),
    ("MaxPool1d", lambda m: m.nn.MaxPool1d(3, 2, 1), (2, 3, 11)),
    ("AvgPool2d", lambda m: m.nn.AvgPool2d(2), (2, 3, 8, 8)),
    ("AvgPool2d_pad", lambda m: m.nn.AvgPool2d(3, 2, 1), (2, 3, 9, 7)),
    ("AvgPool2d_nopadcount", lambda m: m.nn.AvgPool2d(3, 2, 1, count_include_pad=False),
     (2, 3, 9, 7)),
    ("AvgPool2d_ceil", lambda m: m.nn.AvgPool2d(3, 3, 1, ceil_mode=True), (2, 3, 10, 10)),
    ("AvgPool2d_divisor", lambda m: m.nn.AvgPool2d((3, 2), divisor_override=4), (2, 3, 9, 7)),
    ("AvgPool1d", lambda m: m.nn.AvgPool1d(3, 2, 1), (2, 3, 11)),
    ("AdaptiveAvgPool2d_1", lambda m: m.nn.AdaptiveAvgPool2d(1), (2, 3, 7, 5)),
    ("AdaptiveAvgPool2d_uneven", lambda m: m.nn.AdaptiveAvgPool2d((4, 3)), (2, 3, 9, 7)),
    ("AdaptiveAvgPool2d_none", lambda m: m.nn.AdaptiveAvgPool2d((None, 2)), (2, 3, 5, 6)),
    ("AdaptiveMaxPool2d", lambda m: m.nn.AdaptiveMaxPool2d((4, 3)), (2, 3, 9, 7)),
    ("AdaptiveMaxPool2d_even", lambda m: m.nn.AdaptiveMaxPool2d(2), (2, 3, 8, 8)),
    ("AdaptiveAvgPool1d", lambda m: m.nn.AdaptiveAvgPool1d(4), (2, 3, 10)),
    ("AdaptiveMaxPool1d", lambda m: m.nn.AdaptiveMaxPool1d(3), (2, 3, 10)),
    ("Upsample_nearest", lambda m: m.nn.Upsample(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample_bilinear", lambda m: m.nn.Upsample(size=(7, 9), mode="bilinear"), (2, 3, 4, 5)),
    ("Upsample_bilinear_ac", lambda m: m.nn.Upsample(scale_factor=1.5, mode="bilinear",
                                                     align_corners=True), (2, 3, 4, 5)),
    ("UpsamplingBilinear2d", lambda m: m.nn.UpsamplingBilinear2d(scale_factor=2), (2, 3, 4, 5)),
    ("Upsample_bicubic", lambda m: m.nn.Upsample(size=(6, 7), mode="bicubic"), (2, 3, 4, 5)),
    ("Upsample_linear", lambda m: m.nn.Upsample(scale_factor=3, mode="linear"), (2, 3, 5)),
    ("PixelShuffle", lambda m: m.nn.PixelShuffle(2), (2, 12, 3, 4)),
    ("PixelUnshuffle", lambda m: m.nn.PixelUnshuffle(2), (2, 3, 6, 4)),
    ("Unfold", lambda m: m.nn.Unfold((2, 3), dilation=(1, 2), padding=1, stride=2), (2, 3, 7, 8)),
    ("Fold", lambda m: m.nn.Fold((5, 6), 2, stride=(1, 2)), (2, 12, 12)),
    ("Dropout2d_eval", lambda m: m.nn.Dropout2d(0.5).eval(), (2, 3, 4, 4)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,make,shape", POOLS, ids=[p[0] for p in POOLS])
def test_pooling_and_resizing(name: str, make, shape: tuple, dtype: str) -> None:
    compare_module(make, [shape], dtype=dtype, train=not name.endswith("eval"))


@pytest.mark.parametrize("fn", [
    lambda m, x: m.nn.functional.max_pool2d(x, 3, 2, 1, return_indices=True),
    lambda m, x: m.nn.functional.max_pool2d(x, 2, ceil_mode=True, return_indices=True),
    lambda m, x: m.nn.functional.adaptive_max_pool2d(x, (4, 3), return_indices=True),
    lambda m, x: m.nn.functional.max_pool1d(x[0], 2, return_indices=True),
])
def test_pool_indices(fn) -> None:
    compare(fn, [(2, 3, 9, 7)], dtype="float64")


def test_max_pool_ties_and_nan_follow_torch() -> None:
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 1] = np.nan
    compare(lambda m, t: m.nn.functional.max_pool2d(t * 0 + m.tensor(x), 2, return_indices=True),
            [(1, 1, 4, 4)], dtype="float64")
    compare(lambda m, t: m.nn.functional.max_pool2d(t * 0 + 1, 2), [(1, 2, 4, 6)],
            dtype="float64")


@pytest.mark.parametrize("fn", [
    lambda x, w: ember.nn.functional.conv2d(x, w, stride=2, padding=1),
    lambda x, w: ember.nn.functional.conv2d(x, w.repeat(2, 1, 1, 1)[:4, :2], groups=2),
    lambda x, w: ember.nn.functional.conv_transpose2d(x, w.transpose(0, 1), stride=2),
    lambda x, w: ember.nn.functional.max_pool2d(ember.nn.functional.conv2d(x, w), 2),
    lambda x, w: ember.nn.functional.avg_pool2d(x * w.sum(), 3, 2, 1, ceil_mode=True),
    lambda x, w: ember.nn.functional.interpolate(x * w.mean(), scale_factor=2, mode="bilinear"),
])
def test_double_backward(fn) -> None:
    rng = np.random.default_rng(0)
    x = ember.tensor(rng.standard_normal((2, 4, 6, 5)), requires_grad=True)
    w = ember.tensor(rng.standard_normal((3, 4, 3, 3)), requires_grad=True)
    assert ember.autograd.gradgradcheck(fn, (x, w))


def test_gradient_penalty_through_convs_matches_torch() -> None:
    """WGAN-GP: ||d critic / d x||^2 backpropagated to the critic's weights."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 8, 8))
    grads = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        critic = lib.nn.Sequential(lib.nn.Conv2d(2, 4, 3, 2, 1), lib.nn.LeakyReLU(0.2),
                                   lib.nn.Conv2d(4, 4, 3, padding=1), lib.nn.Tanh(),
                                   lib.nn.AvgPool2d(2), lib.nn.Flatten(), lib.nn.Linear(16, 1))
        critic = critic.double()
        if lib is ember:
            critic.load_state_dict(reference.state_dict())
        else:
            reference = critic
        xt = lib.tensor(x, requires_grad=True)
        out = critic(xt).sum()
        (g,) = lib.autograd.grad(out, xt, create_graph=True)
        penalty = ((g.reshape(3, -1).norm(dim=1) - 1) ** 2).mean()
        penalty.backward()
        grads.append([None if p.grad is None else p.grad.numpy().copy()
                      for p in critic.parameters()])
    for t, e in zip(*grads):
        assert (t is None) == (e is None)  # the last bias does not affect d critic / d x
        if t is not None:
            np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------ errors
def test_too_small_input_names_layer_and_shows_arithmetic() -> None:
    class Net(ember.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.features = ember.nn.Sequential(ember.nn.Conv2d(1, 6, 5), ember.nn.ReLU(),
                                                ember.nn.MaxPool2d(2), ember.nn.Conv2d(6, 16, 5))

        def forward(self, x: ember.Tensor) -> ember.Tensor:
            return self.features(x)

    with pytest.raises(RuntimeError) as err:
        Net()(ember.randn(1, 1, 12, 12))
    text = str(err.value)
    assert text.startswith("features.3 (Conv2d): input of shape (1x6x4x4)")
    assert "Out = floor((In + 2P - K) / S) + 1 = floor((4 + 0 - 5)/1) + 1 = 0" in text


def test_channel_mismatch_names_layer() -> None:
    net = ember.nn.Sequential(ember.nn.Conv2d(3, 8, 3))
    with pytest.raises(RuntimeError, match=r"0 \(Conv2d\): expected input with 3 channels.*"
                                           r"\(8x1x28x28\)"):
        net(ember.randn(8, 1, 28, 28))


def test_functional_errors_name_the_op() -> None:
    with pytest.raises(RuntimeError, match=r"groups=2, expected weight to be divisible by 2"):
        ember.nn.functional.conv2d(ember.randn(1, 4, 5, 5), ember.randn(3, 2, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"^conv2d: input of shape \(1x1x4x4\) is too small"):
        ember.nn.functional.conv2d(ember.randn(1, 1, 4, 4), ember.randn(2, 1, 5, 5))
    with pytest.raises(RuntimeError, match=r"max_pool2d: input of shape \(1x1x2x2\).*floor\(\(2 "
                                           r"\+ 0 - 4\)/4\) \+ 1 = 0"):
        ember.nn.functional.max_pool2d(ember.randn(1, 1, 2, 2), 4)
    with pytest.raises(RuntimeError, match="dilation 2"):
        ember.nn.functional.conv1d(ember.randn(1, 1, 4), ember.randn(1, 1, 3), dilation=2)


def test_constructor_validation_like_torch() -> None:
    for kwargs, msg in [(dict(groups=3), "in_channels must be divisible by groups"),
                        (dict(padding="same", stride=2), "not supported for strided"),
                        (dict(padding="full"), "Invalid padding string"),
                        (dict(padding_mode="mirror"), "padding_mode must be one of")]:
        with pytest.raises(ValueError, match=msg):
            ember.nn.Conv2d(4, 6, 3, **kwargs)
        with pytest.raises(ValueError):
            torch.nn.Conv2d(4, 6, 3, **kwargs)


def test_conv_default_init_matches_torch_bounds() -> None:
    ember.manual_seed(0)
    conv = ember.nn.Conv2d(16, 32, 3)
    bound = 1 / np.sqrt(16 * 9)
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= bound and abs(w.std() - bound / np.sqrt(3)) < 0.05 * bound
    assert np.abs(conv.bias.detach().numpy()).max() <= bound


@pytest.mark.parametrize("kernel,stride,padding", [(2, 2, 0), (3, 2, 1)])
def test_max_pool2d_backward_with_non_finite_gradients_matches_torch(kernel, stride,
                                                                     padding) -> None:
    """Windows that did not win get exactly 0 even where the upstream gradient is inf or
    nan (the fast path multiplies by the winner mask, where inf * 0 would give nan)."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 8, 8)).astype(np.float32)
    ours = ember.tensor(x, requires_grad=True)
    theirs = torch.tensor(x, requires_grad=True)
    out = ember.nn.functional.max_pool2d(ours, kernel, stride, padding)
    t_out = torch.nn.functional.max_pool2d(theirs, kernel, stride, padding)
    grad = rng.standard_normal(tuple(t_out.shape)).astype(np.float32)
    grad[0, 0, 0, 0], grad[1, 2, 1, 1] = np.inf, np.nan
    out.backward(ember.tensor(grad))
    t_out.backward(torch.tensor(grad))
    np.testing.assert_array_equal(np.isnan(ours.grad.numpy()), np.isnan(theirs.grad.numpy()))
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-6)
