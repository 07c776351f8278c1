"""3-D convolution and pooling, and max unpooling, against torch (weights copied in): outputs,
input and weight gradients over a grid of stride/padding/dilation/groups with odd sizes and
non-cubic kernels, in float32 and float64; finite-difference and double-backward checks; torch
state_dict loading; max_unpool round trips; the errors that name the layer and show the
output-size arithmetic."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

import ember
import ember.nn.functional.conv3d_kernels as conv3d_kernels
from conformance import compare, gradcheck
from nn_helpers import compare_module

F = ember.nn.functional

CONV3D_GRID = [
    dict(kernel_size=k, stride=s, padding=p, dilation=d, groups=g, bias=(i % 2 == 0))
    for i, (k, s, p, d, g) in enumerate(itertools.product(
        [3, (2, 3, 1)], [1, (2, 1, 3)], [0, (1, 0, 2)], [1, (2, 1, 1)], [1, 2]))
]


@pytest.mark.parametrize("kw", CONV3D_GRID, ids=[str(i) for i in range(len(CONV3D_GRID))])
def test_conv3d_grid(kw: dict) -> None:
    compare_module(lambda m: m.nn.Conv3d(4, 6, **kw), [(2, 4, 7, 6, 5)], dtype="float64")


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3, padding=1),
    dict(kernel_size=(3, 1, 2), stride=2, padding=(1, 0, 1), bias=False),
    dict(kernel_size=3, padding="same"),
    dict(kernel_size=(4, 2, 3), padding="same", dilation=(1, 2, 1)),  # uneven 'same'
    dict(kernel_size=3, padding="valid"),
    dict(kernel_size=3, padding=1, groups=4),  # depthwise
    dict(kernel_size=3, padding=1, padding_mode="reflect"),
    dict(kernel_size=(3, 2, 3), padding=(2, 1, 1), padding_mode="replicate"),
    dict(kernel_size=(3, 2, 2), padding=(1, 2, 0), padding_mode="circular"),
    dict(kernel_size=2, padding="same", padding_mode="reflect"),
    dict(kernel_size=(1, 3, 3), padding=(3, 1, 0)),  # padding past the kernel's reach
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv3d_options(kw: dict, dtype: str) -> None:
    compare_module(lambda m: m.nn.Conv3d(4, 4, **kw), [(2, 4, 6, 7, 5)], dtype=dtype)


def test_conv3d_unbatched_and_channel_multiplier() -> None:
    compare_module(lambda m: m.nn.Conv3d(3, 5, 2), [(3, 4, 5, 4)], dtype="float64")
    compare_module(lambda m: m.nn.Conv3d(2, 6, 3, groups=2, padding=1), [(2, 2, 4, 3, 5)],
                   dtype="float64")


@pytest.mark.parametrize("chunk_bytes", [1, 5000])
def test_conv3d_in_chunks_of_depth_slices_and_images(monkeypatch, chunk_bytes: int) -> None:
    """Volumes too big for the im2col buffer are cut into output depth slices."""
    monkeypatch.setattr(conv3d_kernels, "CHUNK_BYTES", chunk_bytes)
    compare_module(lambda m: m.nn.Conv3d(4, 6, (3, 2, 3), stride=(2, 1, 1), padding=1,
                                         groups=2), [(3, 4, 7, 6, 5)], dtype="float64")
    compare_module(lambda m: m.nn.ConvTranspose3d(4, 6, (3, 2, 3), stride=(2, 1, 2), padding=1,
                                                  output_padding=(1, 0, 1)),
                   [(3, 4, 4, 3, 3)], dtype="float64")


@pytest.mark.parametrize("kw", [
    dict(kernel_size=3),
    dict(kernel_size=3, stride=2, padding=1, output_padding=1),
    dict(kernel_size=(2, 3, 1), stride=(2, 1, 3), padding=(0, 1, 0), output_padding=(1, 0, 2)),
    dict(kernel_size=3, stride=2, groups=2, dilation=2, bias=False),
    dict(kernel_size=(3, 2, 2), dilation=(2, 1, 3), output_padding=(1, 0, 2)),  # stride 1
    dict(kernel_size=2, padding=(1, 0, 1), groups=2),
])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv_transpose3d(kw: dict, dtype: str) -> None:
    compare_module(lambda m: m.nn.ConvTranspose3d(4, 6, **kw), [(2, 4, 4, 3, 5)], dtype=dtype)


def test_conv_transpose3d_output_size_and_unbatched() -> None:
    compare_module(lambda m: m.nn.ConvTranspose3d(3, 2, 3, stride=2, padding=1),
                   [(2, 3, 3, 4, 2)], call=lambda mod, x: mod(x, output_size=[6, 8, 4]),
                   dtype="float64")
    compare_module(lambda m: m.nn.ConvTranspose3d(3, 2, 2, stride=2), [(3, 2, 3, 2)],
                   dtype="float64")


def test_functional_conv3d_matches_torch() -> None:
    compare(lambda m, x, w, b: m.nn.functional.conv3d(x, w, b, (1, 2, 1), 1, (1, 1, 2), 2),
            [(2, 4, 5, 6, 7), (6, 2, 2, 3, 2), (6,)], dtype="float32")
    compare(lambda m, x, w: m.nn.functional.conv_transpose3d(x, w, None, 2, 1, 1, 3),
            [(2, 3, 3, 2, 4), (3, 2, 3, 3, 2)], dtype="float64")


def test_torch_state_dict_loads_into_3d_layers() -> None:
    def make(m):
        return m.nn.Sequential(m.nn.Conv3d(2, 4, 3, padding=1), m.nn.ReLU(),
                               m.nn.MaxPool3d(2), m.nn.ConvTranspose3d(4, 3, 2, stride=2),
                               m.nn.AvgPool3d(2), m.nn.AdaptiveAvgPool3d(1))

    torch.manual_seed(0)
    reference = make(torch).double()
    layers = make(ember).double()
    assert list(layers.state_dict()) == list(reference.state_dict())
    for name, value in reference.state_dict().items():
        assert tuple(layers.state_dict()[name].shape) == tuple(value.shape), name
    layers.load_state_dict(reference.state_dict())
    x = np.random.default_rng(0).standard_normal((2, 2, 6, 4, 8))
    np.testing.assert_allclose(layers(ember.tensor(x)).detach().numpy(),
                               reference(torch.tensor(x)).detach().numpy(), rtol=1e-10,
                               atol=1e-12)


# ------------------------------------------------------------------ pooling
POOLS = [
    ("MaxPool3d", lambda m: m.nn.MaxPool3d(2), (2, 3, 6, 8, 4)),
    ("MaxPool3d_s", lambda m: m.nn.MaxPool3d(3, 2, 1), (2, 3, 7, 6, 5)),
    ("MaxPool3d_rect", lambda m: m.nn.MaxPool3d((3, 2, 2), (2, 1, 2), (1, 0, 1),
                                                dilation=(1, 2, 1)), (2, 3, 7, 6, 5)),
    ("MaxPool3d_ceil", lambda m: m.nn.MaxPool3d(3, 2, ceil_mode=True), (2, 3, 8, 7, 6)),
    ("MaxPool3d_overlap", lambda m: m.nn.MaxPool3d((2, 3, 2), 1), (2, 3, 4, 5, 4)),
    ("AvgPool3d", lambda m: m.nn.AvgPool3d(2), (2, 3, 6, 8, 4)),
    ("AvgPool3d_pad", lambda m: m.nn.AvgPool3d(3, 2, 1), (2, 3, 7, 6, 5)),
    ("AvgPool3d_nopadcount", lambda m: m.nn.AvgPool3d(3, 2, 1, count_include_pad=False),
     (2, 3, 7, 6, 5)),
    ("AvgPool3d_ceil", lambda m: m.nn.AvgPool3d((3, 2, 3), (3, 2, 2), 1, ceil_mode=True,
                                                count_include_pad=False), (2, 3, 8, 7, 6)),
    ("AvgPool3d_divisor", lambda m: m.nn.AvgPool3d((3, 2, 2), divisor_override=5),
     (2, 3, 7, 6, 5)),
    ("AdaptiveAvgPool3d_1", lambda m: m.nn.AdaptiveAvgPool3d(1), (2, 3, 5, 4, 6)),
    ("AdaptiveAvgPool3d_uneven", lambda m: m.nn.AdaptiveAvgPool3d((3, 4, 2)), (2, 3, 7, 6, 5)),
    ("AdaptiveAvgPool3d_none", lambda m: m.nn.AdaptiveAvgPool3d((None, 2, 3)), (2, 3, 5, 6, 7)),
    ("AdaptiveMaxPool3d_uneven", lambda m: m.nn.AdaptiveMaxPool3d((3, 4, 2)), (2, 3, 7, 6, 5)),
    ("AdaptiveMaxPool3d_even", lambda m: m.nn.AdaptiveMaxPool3d((2, None, 1)), (2, 3, 6, 4, 5)),
    ("AdaptiveMaxPool3d_up", lambda m: m.nn.AdaptiveMaxPool3d((4, 3, 5)), (2, 3, 3, 3, 3)),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,make,shape", POOLS, ids=[p[0] for p in POOLS])
def test_pooling3d(name: str, make, shape: tuple, dtype: str) -> None:
    compare_module(make, [shape], dtype=dtype)


@pytest.mark.parametrize("fn", [
    lambda m, x: m.nn.functional.max_pool3d(x, 3, 2, 1, return_indices=True),
    lambda m, x: m.nn.functional.max_pool3d(x, 2, return_indices=True),
    lambda m, x: m.nn.functional.max_pool3d(x[0], (2, 3, 2), ceil_mode=True, dilation=(1, 1, 2),
                                            return_indices=True),
    lambda m, x: m.nn.functional.adaptive_max_pool3d(x, (3, 4, 2), return_indices=True),
    lambda m, x: m.nn.functional.adaptive_max_pool3d(x[0], 2, return_indices=True),
    lambda m, x: m.nn.MaxPool3d(2, 1, return_indices=True)(x),
    lambda m, x: m.nn.AdaptiveMaxPool3d(3, return_indices=True)(x),
])
def test_pool3d_indices(fn) -> None:
    compare(fn, [(2, 3, 6, 7, 5)], dtype="float64")


def test_max_pool3d_ties_and_nan_follow_torch() -> None:
    x = np.zeros((1, 1, 4, 4, 4))
    x[0, 0, 1, 1, 1] = np.nan
    compare(lambda m, t: m.nn.functional.max_pool3d(t * 0 + m.tensor(x), 2,
                                                    return_indices=True),
            [(1, 1, 4, 4, 4)], dtype="float64")
    # ReLU-like zeros: every window ties, the first element wins (and gets the gradient)
    for fn in (lambda m, t: m.nn.functional.max_pool3d(t * 0, (2, 3, 2), 1, (1, 1, 0),
                                                        return_indices=True),
               lambda m, t: m.nn.functional.adaptive_max_pool3d(t * 0, (2, 3, 2),
                                                                 return_indices=True)):
        compare(fn, [(1, 2, 5, 7, 4)], dtype="float64")


# ------------------------------------------------------------------ max unpooling
@pytest.mark.parametrize("fn", [
    lambda m, x: m.nn.functional.max_unpool3d(
        *m.nn.functional.max_pool3d(x, 2, return_indices=True), 2),
    lambda m, x: m.nn.functional.max_unpool3d(
        *m.nn.functional.max_pool3d(x, 3, 2, 1, return_indices=True), 3, 2, 1,
        output_size=x.shape),
    lambda m, x: m.nn.functional.max_unpool3d(
        *m.nn.functional.max_pool3d(x[0], (2, 3, 1), (2, 2, 1), return_indices=True),
        (2, 3, 1), (2, 2, 1), output_size=x.shape[-3:]),
    lambda m, x: m.nn.functional.max_unpool2d(
        *m.nn.functional.max_pool2d(x[:, 0], 2, return_indices=True), 2,
        output_size=x[:, 0].shape),
    lambda m, x: m.nn.functional.max_unpool2d(
        *m.nn.functional.max_pool2d(x[0, 0], 3, 2, 1, return_indices=True), 3, 2, 1,
        output_size=x.shape[-2:]),
    lambda m, x: m.nn.functional.max_unpool1d(
        *m.nn.functional.max_pool1d(x[:, :, 0, 0], 2, return_indices=True), 2),
    lambda m, x: m.nn.functional.max_unpool1d(
        *m.nn.functional.max_pool1d(x[0, :, 0, 0], 3, 2, 1, return_indices=True), 3, 2, 1,
        output_size=[10]),
])
def test_max_unpool_round_trips(fn) -> None:
    compare(fn, [(2, 3, 8, 6, 10)], dtype="float64")


def test_max_unpool_modules_and_repeated_indices() -> None:
    def round_trip(m, x):
        pool = m.nn.MaxPool2d(2, stride=1, return_indices=True)
        values, indices = pool(x)
        return m.nn.MaxUnpool2d(2, stride=1)(values, indices, output_size=x.size())

    compare(round_trip, [(2, 3, 5, 4)], dtype="float64")  # overlapping: repeated indices
    compare(lambda m, x: m.nn.MaxUnpool3d((1, 2, 2))(
        *m.nn.MaxPool3d((1, 2, 2), return_indices=True)(x)), [(1, 2, 3, 4, 6)], dtype="float32")
    compare(lambda m, x: m.nn.MaxUnpool1d(2, padding=1)(
        *m.nn.MaxPool1d(2, padding=1, return_indices=True)(x)), [(2, 3, 7)], dtype="float32")
    for lib in (torch, ember):
        assert repr(lib.nn.MaxUnpool3d(2, 1)) == \
            "MaxUnpool3d(kernel_size=(2, 2, 2), stride=(1, 1, 1), padding=(0, 0, 0))"


# ------------------------------------------------------------------ gradients
SMALL = [
    (lambda m, x, w: m.nn.functional.conv3d(x, w, stride=(1, 2, 1), padding=1,
                                            dilation=(1, 1, 2)),
     [(1, 2, 3, 4, 5), (2, 2, 2, 2, 2)]),
    (lambda m, x, w: m.nn.functional.conv3d(x, w, groups=2), [(1, 2, 3, 3, 4), (2, 1, 2, 1, 2)]),
    (lambda m, x, w: m.nn.functional.conv_transpose3d(x, w, stride=2, padding=(1, 0, 0),
                                                      output_padding=(1, 0, 1)),
     [(1, 2, 2, 2, 3), (2, 1, 2, 2, 2)]),
    (lambda m, x, w: m.nn.functional.max_pool3d(x * w.sum(), (3, 2, 2), (2, 1, 2), 1),
     [(1, 2, 3, 4, 5), (1,)]),
    (lambda m, x, w: m.nn.functional.avg_pool3d(x * w.sum(), 3, 2, 1, ceil_mode=True,
                                                count_include_pad=False), [(1, 2, 4, 3, 5), (1,)]),
    (lambda m, x, w: m.nn.functional.adaptive_avg_pool3d(x * w.sum(), (2, 3, 2)),
     [(1, 2, 3, 4, 5), (1,)]),
    (lambda m, x, w: m.nn.functional.adaptive_max_pool3d(x * w.sum(), (2, 3, 2)),
     [(1, 2, 3, 4, 5), (1,)]),
    (lambda m, x, w: m.nn.functional.max_unpool3d(
        *m.nn.functional.max_pool3d(x * w.sum(), 2, return_indices=True), 2,
        output_size=x.shape), [(1, 2, 4, 3, 5), (1,)]),
]


@pytest.mark.parametrize("fn,specs", SMALL, ids=[str(i) for i in range(len(SMALL))])
def test_finite_differences_and_double_backward(fn, specs) -> None:
    gradcheck(fn, specs)
    rng = np.random.default_rng(1)
    inputs = tuple(ember.tensor(rng.standard_normal(s), requires_grad=True) for s in specs)
    assert ember.autograd.gradgradcheck(lambda *xs: fn(ember, *xs), inputs)


def test_gradient_penalty_through_3d_layers_matches_torch() -> None:
    """||d critic / d x||^2 backpropagated to the weights: the create_graph backward."""
    x = np.random.default_rng(2).standard_normal((2, 2, 4, 4, 4))
    grads, state = [], None
    for lib in (torch, ember):
        lib.manual_seed(0)
        critic = lib.nn.Sequential(lib.nn.Conv3d(2, 3, 3, 1, 1), lib.nn.Tanh(),
                                   lib.nn.MaxPool3d(2), lib.nn.ConvTranspose3d(3, 2, 2, 2),
                                   lib.nn.Tanh(), lib.nn.AvgPool3d(2)).double()
        if state is None:
            state = critic.state_dict()  # torch's weights, loaded into Ember's next
        else:
            critic.load_state_dict(state)
        xt = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(critic(xt).sum(), xt, create_graph=True)
        (g ** 2).sum().backward()
        grads.append([p.grad.numpy().copy() for p in critic.parameters()])
    for t, e in zip(*grads, strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-8, atol=1e-10)


# ------------------------------------------------------------------ errors
def test_too_small_input_names_layer_and_shows_arithmetic() -> None:
    net = ember.nn.Sequential(ember.nn.Conv3d(1, 4, 3), ember.nn.MaxPool3d(2),
                              ember.nn.Conv3d(4, 8, (1, 3, 3)))
    with pytest.raises(RuntimeError) as err:
        net(ember.randn(1, 1, 8, 8, 6))
    text = str(err.value)
    assert text.startswith("2 (Conv3d): input of shape (1x4x3x3x2) is too small for kernel "
                           "1x3x3 (stride 1, padding 0, dilation 1) along its width")
    assert "Out = floor((In + 2P - K) / S) + 1 = floor((2 + 0 - 3)/1) + 1 = 0" in text
    with pytest.raises(RuntimeError, match=r"^1 \(MaxPool3d\): input of shape \(1x4x1x6x6\) is "
                                           r"too small for a 2x2x2 pooling window along its "
                                           r"depth: .*floor\(\(1 \+ 0 - 2\)/2\) \+ 1 = 0"):
        net(ember.randn(1, 1, 3, 8, 8))


def test_functional_errors_name_the_op() -> None:
    with pytest.raises(RuntimeError, match=r"^conv3d: expected input with 3 channels"):
        F.conv3d(ember.randn(1, 2, 4, 4, 4), ember.randn(2, 3, 3, 3, 3))
    with pytest.raises(RuntimeError, match=r"^conv3d: expected a 5D input \(N, C, D, H, W\)"):
        F.conv3d(ember.randn(2, 4, 4), ember.randn(2, 2, 3, 3, 3))
    with pytest.raises(RuntimeError, match="dilation 2.*along its depth"):
        F.conv3d(ember.randn(1, 1, 4, 9, 9), ember.randn(1, 1, 3, 3, 3), dilation=2)
    with pytest.raises(RuntimeError, match=r"groups=2, expected weight to be divisible by 2"):
        F.conv_transpose3d(ember.randn(1, 3, 4, 4, 4), ember.randn(3, 2, 3, 3, 3), groups=2)
    with pytest.raises(RuntimeError, match=r"^conv_transpose3d: .*gives an empty output"):
        F.conv_transpose3d(ember.randn(1, 1, 1, 2, 2), ember.randn(1, 1, 1, 1, 1), padding=1)
    with pytest.raises(RuntimeError, match="output padding must be smaller"):
        F.conv_transpose3d(ember.randn(1, 1, 2, 2, 2), ember.randn(1, 1, 2, 2, 2),
                           output_padding=1)
    with pytest.raises(RuntimeError, match="not supported for strided"):
        F.conv3d(ember.randn(1, 1, 4, 4, 4), ember.randn(1, 1, 3, 3, 3), stride=2,
                 padding="same")
    with pytest.raises(RuntimeError, match=r"^avg_pool3d: .*along its height"):
        F.avg_pool3d(ember.randn(1, 1, 4, 2, 4), 3)
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool3d(ember.randn(1, 1, 4, 4, 4), 2, padding=2)
    with pytest.raises(RuntimeError, match=r"^adaptive_max_pool3d: expected 4D"):
        F.adaptive_max_pool3d(ember.randn(2, 3, 4), 2)


def test_max_unpool_errors_like_torch() -> None:
    values, indices = F.max_pool2d(ember.randn(1, 1, 4, 4), 2, return_indices=True)
    t_values, t_indices = torch.nn.functional.max_pool2d(torch.randn(1, 1, 4, 4), 2,
                                                         return_indices=True)
    cases = [
        (lambda lib, v, i: lib.nn.functional.max_unpool2d(v, i * 10, 2), RuntimeError,
         r"Found an invalid max index: \d+ \(output volumes are of size 4x4\)"),
        (lambda lib, v, i: lib.nn.functional.max_unpool2d(v, i, 2, output_size=(9, 9)),
         ValueError, r'invalid output_size "\(9, 9\)" \(dim 0 must be between 2 and 6\)'),
        (lambda lib, v, i: lib.nn.functional.max_unpool2d(v, i, 2, output_size=(1, 4, 4)),
         ValueError, "output_size should be a sequence containing 2 or 4 elements"),
        (lambda lib, v, i: lib.nn.functional.max_unpool2d(v, i.float(), 2), RuntimeError,
         "should be type int64"),
        (lambda lib, v, i: lib.nn.functional.max_unpool2d(v[0, 0], i[0, 0], 2), RuntimeError,
         None),
    ]
    for fn, kind, message in cases:
        with pytest.raises(kind, match=message):
            fn(ember, values, indices)
        with pytest.raises(kind, match=message):
            fn(torch, t_values, t_indices)
    with pytest.raises(RuntimeError, match=r"^MaxUnpool2d: Found an invalid max index"):
        ember.nn.MaxUnpool2d(2)(values, indices + 16)


def test_constructor_validation_like_torch() -> None:
    for make, kwargs in [("Conv3d", dict(groups=3)), ("Conv3d", dict(padding="same", stride=2)),
                         ("Conv3d", dict(padding_mode="mirror")),
                         ("ConvTranspose3d", dict(padding_mode="reflect"))]:
        with pytest.raises(ValueError):
            getattr(ember.nn, make)(4, 6, 3, **kwargs)
        with pytest.raises(ValueError):
            getattr(torch.nn, make)(4, 6, 3, **kwargs)
    for lib in (torch, ember):
        assert repr(lib.nn.Conv3d(4, 6, (3, 1, 2), stride=2, padding=1, groups=2, bias=False,
                                  padding_mode="circular")) == (
            "Conv3d(4, 6, kernel_size=(3, 1, 2), stride=(2, 2, 2), padding=(1, 1, 1), "
            "groups=2, bias=False, padding_mode=circular)")
