"""The CNN surface users reach for, against torch: conv/pool argument forms and error kinds,
LPPool, padding layers, ChannelShuffle, antialiased interpolate, affine_grid/grid_sample, the
model builders' legacy arguments and torchinfo-style summary sizes."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conformance import Input, compare
from nn_helpers import compare_module

import ember
import ember.models

I = Input  # noqa: E741


def raises_like_torch(fn, *arrays) -> None:  # noqa: ANN001
    """fn(torch, ...) and fn(ember, ...) raise exceptions of the same class (or a subclass)."""
    errors = []
    for lib in (torch, ember):
        with pytest.raises(Exception) as info:
            fn(lib, *[lib.tensor(a) for a in arrays])
        errors.append(info.value)
    assert isinstance(errors[1], type(errors[0])), \
        f"torch raised {type(errors[0]).__name__}, Ember {type(errors[1]).__name__}: {errors[1]}"


# --------------------------------------------------------------------------------------------
# Convolutions: argument forms and error kinds
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kw", [
    dict(kernel_size=4, padding="same", dilation=3),
    dict(kernel_size=(2, 5), padding="same", dilation=(2, 1)),
    dict(kernel_size=4, padding="same", padding_mode="reflect"),
    dict(kernel_size=4, padding="same", padding_mode="circular", dilation=2),
    dict(kernel_size=(3, 4), padding=(2, 1), padding_mode="circular"),
    dict(kernel_size=3, padding=(1, 2), padding_mode="replicate", stride=(2, 1)),
    dict(kernel_size=[3, 3], stride=[2, 2], padding=[1, 1], bias=False),
])
def test_conv2d_padding_forms(kw: dict) -> None:
    compare_module(lambda m: m.nn.Conv2d(4, 6, **kw), [(2, 4, 9, 8)], dtype="float64")


def test_conv2d_unbatched_and_permuted_inputs() -> None:
    compare_module(lambda m: m.nn.Conv2d(4, 8, 3, groups=4, padding=1), [(4, 9, 8)])
    compare_module(lambda m: m.nn.Conv2d(4, 6, 3), [(2, 9, 8, 4)],
                   call=lambda mod, x: mod(x.permute(0, 3, 1, 2)))


def test_conv_functional_positional_args() -> None:
    compare(lambda m, x, w, b: m.nn.functional.conv2d(x, w, b, (1, 2), (2, 1), (2, 1), 2),
            [(2, 4, 9, 8), (6, 2, 3, 2), (6,)], dtype="float64")
    compare(lambda m, x, w, b: m.nn.functional.conv1d(x, w, b, 2, 1, 2, 2),
            [(3, 4, 11), (6, 2, 3), (6,)], dtype="float64")
    compare(lambda m, x, w, b: m.nn.functional.conv_transpose2d(x, w, b, 2, 1, 1, 2, 1),
            [(2, 4, 5, 6), (4, 3, 3, 3), (6,)], dtype="float64")


def test_conv_transpose_output_size_argument() -> None:
    compare_module(lambda m: m.nn.ConvTranspose2d(4, 6, 3, stride=2, padding=1),
                   [(2, 4, 5, 6)], call=lambda mod, x: mod(x, output_size=[10, 12]))
    compare_module(lambda m: m.nn.ConvTranspose1d(4, 6, 3, stride=3), [(2, 4, 7)],
                   call=lambda mod, x: mod(x, output_size=[23]))


@pytest.mark.parametrize("call", [
    lambda m, x, w: m.nn.functional.conv2d(x, w, stride=2, padding="same"),
    lambda m, x, w: m.nn.functional.conv2d(x, w, padding="full"),
    lambda m, x, w: m.nn.functional.conv2d(x, w, padding=-1),
    lambda m, x, w: m.nn.functional.conv2d(x, w, stride=0),
    lambda m, x, w: m.nn.functional.conv2d(x, w, dilation=0),
    lambda m, x, w: m.nn.functional.conv2d(x, w, m.zeros(5)),
    lambda m, x, w: m.nn.functional.conv1d(x[0], w[..., 0], stride=0),
    lambda m, x, w: m.nn.functional.conv_transpose2d(x, w.transpose(0, 1), None, 1, 0, 1),
])
def test_conv_error_kinds(call) -> None:  # noqa: ANN001
    rng = np.random.default_rng(0)
    raises_like_torch(call, rng.standard_normal((2, 4, 9, 8)).astype("float32"),
                      rng.standard_normal((6, 4, 3, 3)).astype("float32"))


def test_conv_reversed_padding_attribute() -> None:
    for lib in (torch, ember):
        conv = lib.nn.Conv2d(2, 2, (3, 4), padding="same", padding_mode="reflect")
        assert list(conv._reversed_padding_repeated_twice) == [1, 2, 1, 1]


# --------------------------------------------------------------------------------------------
# Pooling
# --------------------------------------------------------------------------------------------


def test_max_pool_padding_limit_uses_the_kernel_not_the_dilated_window() -> None:
    x = np.random.default_rng(0).standard_normal((2, 3, 9, 8)).astype("float32")
    raises_like_torch(lambda m, t: m.nn.MaxPool2d(3, 2, padding=2, dilation=2)(t), x)
    compare(lambda m, t: m.nn.functional.max_pool2d(t, 3, 2, 1, 2, True, True), [(2, 3, 9, 8)])


def test_avg_pool_integer_input_keeps_dtype() -> None:
    values = np.arange(-30, 34).reshape(1, 1, 8, 8)
    compare(lambda m, t: m.nn.functional.avg_pool2d(t, 3, 2, 1), [I((1, 1, 8, 8), values=values)],
            grad=False)
    compare(lambda m, t: m.nn.functional.avg_pool2d(t, 2), [I((1, 1, 8, 8), values=values)],
            grad=False)


def test_adaptive_pool_to_zero_is_empty() -> None:
    compare(lambda m, t: m.nn.functional.adaptive_avg_pool2d(t, 0), [(2, 3, 5, 5)], grad=False)


@pytest.mark.parametrize("make, shape", [
    (lambda m: m.nn.LPPool2d(2, 3, stride=2), (2, 3, 9, 8)),
    (lambda m: m.nn.LPPool2d(1.5, (2, 3), ceil_mode=True), (2, 3, 9, 8)),
    (lambda m: m.nn.LPPool1d(3, 2), (2, 3, 11)),
    (lambda m: m.nn.LPPool3d(2, 2), (1, 2, 4, 5, 6)),
])
def test_lp_pool(make, shape: tuple) -> None:  # noqa: ANN001
    compare_module(make, [I(shape, low=0.1, high=2.0)], dtype="float64")
    assert repr(make(ember)) == repr(make(torch))


# --------------------------------------------------------------------------------------------
# Padding layers, ChannelShuffle, PixelShuffle errors
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name, spatial", [
    (f"{kind}{n}d", n) for kind in ("ZeroPad", "ConstantPad", "ReflectionPad", "ReplicationPad",
                                    "CircularPad") for n in (1, 2, 3)
])
def test_padding_layers(name: str, spatial: int) -> None:
    extra = (1.5,) if name.startswith("Constant") else ()
    shape = {1: (2, 3, 7), 2: (2, 3, 6, 7), 3: (2, 2, 4, 5, 6)}[spatial]
    asymmetric = (1, 3, 0, 2, 2, 1)[:2 * spatial]
    for padding in (2, asymmetric):
        def make(m, p=padding):  # noqa: ANN001, ANN202
            return getattr(m.nn, name)(p, *extra)

        compare_module(make, [shape], dtype="float64")
        compare_module(make, [shape[1:]], dtype="float64")  # unbatched
        assert repr(make(ember)) == repr(make(torch))
    if not name.startswith(("Constant", "Zero")):
        too_many_dims = np.zeros((1, *shape), dtype="float32")
        raises_like_torch(lambda m, t: getattr(m.nn, name)(1)(t), too_many_dims)


def test_channel_shuffle() -> None:
    compare_module(lambda m: m.nn.ChannelShuffle(3), [(2, 6, 3, 4)])
    compare(lambda m, x: m.nn.functional.channel_shuffle(x, 2), [(2, 6, 5)], grad=False)
    assert repr(ember.nn.ChannelShuffle(2)) == repr(torch.nn.ChannelShuffle(2))


def test_pixel_shuffle_needs_three_dims() -> None:
    x = np.zeros((8, 3), dtype="float32")
    raises_like_torch(lambda m, t: m.nn.PixelShuffle(2)(t), x)


# --------------------------------------------------------------------------------------------
# interpolate: antialias, area in 3-D
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("kw", [dict(size=(5, 6)), dict(size=(20, 9)), dict(scale_factor=0.3),
                                dict(scale_factor=2.5), dict(size=(1, 1))])
def test_interpolate_antialias(mode: str, align_corners: bool, kw: dict) -> None:
    compare(lambda m, x: m.nn.functional.interpolate(x, mode=mode, align_corners=align_corners,
                                                     antialias=True, **kw),
            [(2, 3, 13, 17)], dtype="float64")


def test_interpolate_area_volumes() -> None:
    compare(lambda m, x: m.nn.functional.interpolate(x, size=(2, 3, 4), mode="area"),
            [(1, 2, 3, 4, 5)], dtype="float64")


# --------------------------------------------------------------------------------------------
# affine_grid and grid_sample (spatial transformer networks)
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid(align_corners: bool) -> None:
    compare(lambda m, t: m.nn.functional.affine_grid(t, (2, 3, 4, 5), align_corners),
            [(2, 2, 3)], dtype="float64")
    compare(lambda m, t: m.nn.functional.affine_grid(t, (2, 3, 4, 5, 3), align_corners),
            [(2, 3, 4)], dtype="float64")


@pytest.mark.parametrize("mode", ["bilinear", "nearest", "bicubic"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample(mode: str, padding_mode: str, align_corners: bool) -> None:
    compare(lambda m, x, g: m.nn.functional.grid_sample(
        x, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners),
        [(2, 3, 5, 7), I((2, 4, 6, 2), low=-1.6, high=1.6)], dtype="float64")


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_grid_sample_volumes(mode: str, padding_mode: str, align_corners: bool) -> None:
    compare(lambda m, x, g: m.nn.functional.grid_sample(
        x, g, mode=mode, padding_mode=padding_mode, align_corners=align_corners),
        [(2, 2, 3, 4, 5), I((2, 2, 3, 4, 3), low=-1.4, high=1.4)], dtype="float64")


def test_grid_sample_errors_like_torch() -> None:
    raises_like_torch(lambda m, x, g: m.nn.functional.grid_sample(x, g, mode="bicubic"),
                      np.zeros((1, 1, 2, 2, 2)), np.zeros((1, 1, 1, 1, 3)))
    raises_like_torch(lambda m, x, g: m.nn.functional.grid_sample(x, g),
                      np.zeros((1, 1, 2)), np.zeros((1, 1, 2)))
    raises_like_torch(lambda m, x, g: m.nn.functional.grid_sample(x, g),
                      np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 1, 3)))


def test_spatial_transformer_gradients_reach_theta() -> None:
    theta = np.array([[[0.93, 0.13, 0.051], [-0.17, 1.13, 0.03]]] * 2)

    def stn(m, x, t):  # noqa: ANN001, ANN202
        F = m.nn.functional
        return F.grid_sample(x, F.affine_grid(t, x.size(), align_corners=False),
                             align_corners=False)

    compare(stn, [(2, 3, 8, 8), I((2, 2, 3), values=theta)], dtype="float64")


# --------------------------------------------------------------------------------------------
# Model builders and summary
# --------------------------------------------------------------------------------------------


def test_builders_accept_legacy_pretrained_flag() -> None:
    with pytest.warns(UserWarning, match="pretrained"):
        model = ember.models.resnet18(pretrained=False, num_classes=3)
    assert model.fc.out_features == 3
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="no pretrained weights"):
            ember.models.alexnet(pretrained=True)


def test_efficientnet_dropout_override() -> None:
    model = ember.models.efficientnet_b0(dropout=0.1, num_classes=3)
    assert model.classifier[0].p == 0.1 and model.classifier[1].out_features == 3


def test_summary_takes_torchinfo_sizes_with_the_batch_dim() -> None:
    model = ember.models.resnet18(num_classes=10).eval()
    plain = ember.summary(model, (3, 32, 32), verbose=False)
    with_batch = ember.summary(model, (2, 3, 32, 32), verbose=False)
    assert with_batch.input_shapes == [(2, 3, 32, 32)]
    assert with_batch.total_params == plain.total_params == 11_181_642
    assert with_batch.total_macs == 2 * plain.total_macs


def test_summary_has_torchinfo_attribute_names() -> None:
    s = ember.summary(ember.models.lenet5(), (1, 28, 28), verbose=False)
    assert s.total_mult_adds == s.total_macs == 416_520
    assert s.summary_list is s.layers and s.total_param_bytes == 61_706 * 4
