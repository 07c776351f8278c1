"""Surface gaps against torch: lazy modules, fractional max pooling, F.pad cropping in every
mode, the torchvision-style model registry, and torch's import paths."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
import torch.nn as tnn
import torch.nn.functional as TF

import ember
import ember.nn as enn
import ember.nn.functional as EF


def _e(t: torch.Tensor, grad: bool = False) -> ember.Tensor:
    return ember.tensor(t.detach().numpy(), requires_grad=grad)


def _check_values_and_grads(fn_t, fn_e, x: torch.Tensor, atol: float = 1e-10) -> None:
    """fn(x) and d(fn(x) . g)/dx agree with torch for a random upstream gradient g."""
    xt = x.clone().requires_grad_(True)
    xe = _e(x, grad=True)
    yt, ye = fn_t(xt), fn_e(xe)
    assert tuple(ye.shape) == tuple(yt.shape)
    np.testing.assert_allclose(ye.detach().numpy(), yt.detach().numpy(), atol=atol)
    if yt.numel() == 0:
        return
    g = torch.randn(yt.shape, dtype=yt.dtype)
    yt.backward(g)
    ye.backward(_e(g))
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), atol=atol)


# ---------------------------------------------------------------------- F.pad cropping

_PAD_CASES_1D = [(-1, 2), (2, -1), (-2, -3), (-1, 0), (-6, 2), (3, -5), (-1, 5), (-5, 5)]


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("pads", _PAD_CASES_1D)
def test_pad_negative_1d_matches_torch(mode: str, pads: tuple) -> None:
    x = torch.randn(2, 3, 6, dtype=torch.float64)
    left = 6 + min(pads[0], 0) + min(pads[1], 0)
    if mode == "circular" and max(pads) > left:
        # torch wraps around less than the padding there: it reads uninitialised memory or
        # raises; Ember raises
        with pytest.raises(RuntimeError, match="wrapping around|empty dimension"):
            EF.pad(_e(x), pads, mode=mode)
        return
    try:
        TF.pad(x, pads, mode=mode)
    except RuntimeError:
        with pytest.raises(RuntimeError):
            EF.pad(_e(x), pads, mode=mode)
        return
    _check_values_and_grads(lambda t: TF.pad(t, pads, mode=mode),
                            lambda t: EF.pad(t, pads, mode=mode), x)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("nd", [2, 3])
def test_pad_negative_nd_matches_torch(mode: str, nd: int) -> None:
    rng = np.random.default_rng(nd)
    shape = (2, 2) + (5, 6, 4)[:nd]
    checked = 0
    for _ in range(30):
        pads = tuple(int(v) for v in rng.choice([-2, -1, 0, 1, 3], 2 * nd))
        if min(pads) >= 0:
            continue
        x = torch.randn(shape, dtype=torch.float64)
        left = [n + min(a, 0) + min(b, 0)
                for n, a, b in zip(shape[::-1], pads[0::2], pads[1::2])]
        if mode == "circular" and any(max(a, b) > k for k, a, b in
                                      zip(left, pads[0::2], pads[1::2])):
            continue  # torch reads uninitialised memory there (see the 1-D test)
        try:
            TF.pad(x, pads, mode=mode)
        except RuntimeError:
            continue
        _check_values_and_grads(lambda t, p=pads: TF.pad(t, p, mode=mode),
                                lambda t, p=pads: EF.pad(t, p, mode=mode), x)
        checked += 1
    assert checked > 5


def test_pad_negative_errors() -> None:
    x = ember.randn(1, 1, 6)
    for mode in ("reflect", "replicate"):
        with pytest.raises(RuntimeError, match="too small"):
            EF.pad(x, (-3, -3), mode=mode)
    with pytest.raises(RuntimeError, match="empty dimension"):
        EF.pad(x, (-4, -3), mode="circular")
    with pytest.raises(RuntimeError, match="wrapping around"):
        EF.pad(x, (-2, 5), mode="circular")  # 4 left after cropping, 5 to wrap
    assert EF.pad(x, (0, -6), mode="circular").shape == (1, 1, 0)


def test_pad_negative_gradcheck() -> None:
    x = ember.randn(1, 2, 5, 4, dtype=ember.float64, requires_grad=True)
    for mode in ("reflect", "replicate", "circular"):
        assert ember.autograd.gradcheck(lambda t, m=mode: EF.pad(t, (-1, 2, 1, -2), mode=m),
                                        (x,))


# ---------------------------------------------------------------------- fractional max pool


def _fractional_case(nd: int, seed: int) -> tuple:
    g = torch.Generator().manual_seed(seed)
    spatial = tuple(int(v) for v in torch.randint(4, 10, (nd,), generator=g))
    kernel = tuple(int(torch.randint(1, 4, (), generator=g)) for _ in spatial)
    strict = 1 if nd == 3 else 0  # torch's 3-D bound is strict
    out = tuple(int(torch.randint(1, s - k + 2 - strict, (), generator=g))
                for s, k in zip(spatial, kernel))
    return spatial, kernel, out


@pytest.mark.parametrize("nd", [2, 3])
@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_fractional_max_pool_matches_torch(nd: int, seed: int, dtype: torch.dtype) -> None:
    spatial, kernel, out = _fractional_case(nd, seed)
    batched = seed % 2 == 0
    shape = ((2, 3) if batched else (3,)) + spatial
    x = torch.randn(shape, dtype=dtype)
    if seed % 3 == 0:  # ties: torch keeps the first maximum in scan order
        x = torch.randint(0, 3, shape).to(dtype)
    samples = torch.rand(2 if batched else 1, 3, nd, dtype=dtype)
    fn_t = TF.fractional_max_pool2d if nd == 2 else TF.fractional_max_pool3d
    fn_e = EF.fractional_max_pool2d if nd == 2 else EF.fractional_max_pool3d
    yt, it = fn_t(x, kernel, output_size=out, return_indices=True, _random_samples=samples)
    ye, ie = fn_e(_e(x), kernel, output_size=out, return_indices=True,
                  _random_samples=_e(samples))
    assert ie.dtype == ember.int64
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    np.testing.assert_array_equal(ye.numpy(), yt.numpy())
    tol = 1e-6 if dtype == torch.float32 else 1e-12
    _check_values_and_grads(lambda t: fn_t(t, kernel, output_size=out, _random_samples=samples),
                            lambda t: fn_e(t, kernel, output_size=out,
                                           _random_samples=_e(samples)), x, atol=tol)


def test_fractional_max_pool_ratio_module_and_nan() -> None:
    x = torch.randn(2, 3, 9, 11, dtype=torch.float64)
    x[0, 0, 1, 1] = float("nan")
    samples = torch.rand(2, 3, 2, dtype=torch.float64)
    mt = tnn.FractionalMaxPool2d((2, 3), output_ratio=(0.5, 0.6), return_indices=True,
                                 _random_samples=samples)
    me = enn.FractionalMaxPool2d((2, 3), output_ratio=(0.5, 0.6), return_indices=True,
                                 _random_samples=_e(samples))
    (yt, it), (ye, ie) = mt(x), me(_e(x))
    np.testing.assert_array_equal(ie.numpy(), it.numpy())
    np.testing.assert_array_equal(ye.numpy(), yt.numpy())
    assert list(me.state_dict()) == list(mt.state_dict()) == ["_random_samples"]
    x3 = torch.randn(2, 3, 7, 8, 9, dtype=torch.float64)
    s3 = torch.rand(2, 3, 3, dtype=torch.float64)
    yt = tnn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=s3)(x3)
    ye = enn.FractionalMaxPool3d(2, output_ratio=0.5, _random_samples=_e(s3))(_e(x3))
    np.testing.assert_array_equal(ye.numpy(), yt.numpy())
    # without samples: random, but the shape and the values (window maxima) are right
    y = enn.FractionalMaxPool2d(3, output_size=4)(_e(x))
    assert y.shape == (2, 3, 4, 4)
    assert not enn.FractionalMaxPool2d(2, output_ratio=0.5).state_dict()


def test_fractional_max_pool_gradcheck() -> None:
    x = ember.randn(1, 2, 7, 6, dtype=ember.float64, requires_grad=True)
    samples = ember.rand(1, 2, 2, dtype=ember.float64)
    assert ember.autograd.gradcheck(
        lambda t: EF.fractional_max_pool2d(t, 3, output_size=(3, 3), _random_samples=samples),
        (x,))


def test_fractional_max_pool_errors_match_torch() -> None:
    x = torch.randn(2, 3, 9, 11)
    cases = [
        lambda F, t: F.fractional_max_pool2d(t, 2),  # neither size nor ratio
        lambda F, t: F.fractional_max_pool2d(t, 2, output_size=(9, 3)),  # window too large
        lambda F, t: F.fractional_max_pool2d(t, 2, output_size=5,
                                             _random_samples=t.new_zeros(2, 3, 3)),
        lambda F, t: F.fractional_max_pool2d(t, 2, output_size=5,
                                             _random_samples=t.new_zeros(1, 3, 2)),
        lambda F, t: F.fractional_max_pool2d(t, 2, output_size=(5, 5, 5)),
        lambda F, t: F.fractional_max_pool2d(t, 2, output_ratio=(0.5, 0.5, 0.5)),
        lambda F, t: F.fractional_max_pool2d(t[0, 0], 2, output_size=3),
        lambda F, t: F.fractional_max_pool3d(t.unsqueeze(2).expand(2, 3, 7, 9, 11), 2,
                                             output_size=(6, 3, 3)),
    ]
    for case in cases:
        with pytest.raises(Exception) as expected:
            case(TF, x)
        with pytest.raises(expected.type):
            case(EF, _e(x))
    for args in [dict(), dict(output_size=3, output_ratio=0.5), dict(output_ratio=1.5)]:
        with pytest.raises(ValueError):
            tnn.FractionalMaxPool2d(2, **args)
        with pytest.raises(ValueError):
            enn.FractionalMaxPool2d(2, **args)


# ---------------------------------------------------------------------- lazy modules

_LAZY_CASES = [
    ("LazyLinear", "Linear", (5,), {}, (4, 7), lambda i: (5, i)),
    ("LazyConv1d", "Conv1d", (4, 3), {"padding": 1}, (2, 3, 8), lambda i: (4, i, 3)),
    ("LazyConv2d", "Conv2d", (4, 3), {"stride": 2, "groups": 1}, (2, 3, 8, 8),
     lambda i: (4, i, 3, 3)),
    ("LazyConv3d", "Conv3d", (2, 2), {}, (1, 3, 4, 5, 6), lambda i: (2, i, 2, 2, 2)),
    ("LazyConvTranspose1d", "ConvTranspose1d", (4, 3), {"stride": 2}, (2, 3, 5),
     lambda i: (i, 4, 3)),
    ("LazyConvTranspose2d", "ConvTranspose2d", (4, 3), {"stride": 2}, (2, 3, 5, 5),
     lambda i: (i, 4, 3, 3)),
    ("LazyConvTranspose3d", "ConvTranspose3d", (2, 2), {}, (1, 3, 3, 4, 3),
     lambda i: (i, 2, 2, 2, 2)),
    ("LazyBatchNorm1d", "BatchNorm1d", (), {}, (4, 3), lambda i: (i,)),
    ("LazyBatchNorm2d", "BatchNorm2d", (), {"momentum": 0.3}, (2, 3, 4, 4), lambda i: (i,)),
    ("LazyBatchNorm3d", "BatchNorm3d", (), {}, (2, 3, 2, 3, 2), lambda i: (i,)),
    ("LazyInstanceNorm1d", "InstanceNorm1d", (), {}, (2, 3, 6), lambda i: (i,)),
    ("LazyInstanceNorm2d", "InstanceNorm2d", (), {"affine": False}, (2, 3, 4, 4),
     lambda i: (i,)),
    ("LazyInstanceNorm3d", "InstanceNorm3d", (), {}, (2, 3, 2, 3, 2), lambda i: (i,)),
]


@pytest.mark.parametrize("lazy_name, normal_name, args, kwargs, in_shape, weight_shape",
                         _LAZY_CASES, ids=[c[0] for c in _LAZY_CASES])
def test_lazy_module_becomes_normal_layer(lazy_name, normal_name, args, kwargs, in_shape,
                                          weight_shape) -> None:
    tm = getattr(tnn, lazy_name)(*args, **kwargs)
    em = getattr(enn, lazy_name)(*args, **kwargs)
    assert em.has_uninitialized_params() == tm.has_uninitialized_params() is True
    assert repr(em) == repr(tm)
    assert list(em.state_dict()) == list(tm.state_dict())
    assert all(isinstance(p, enn.UninitializedParameter) for p in em.parameters())
    x = torch.randn(in_shape, dtype=torch.float64)
    tm.double()
    em.double()
    yt = tm(x)
    ye = em(_e(x))
    assert type(em) is getattr(enn, normal_name)
    assert type(tm) is getattr(tnn, normal_name)
    assert not hasattr(em, "_initialize_hook") and not hasattr(em, "has_uninitialized_params")
    assert repr(em) == repr(tm)
    assert {k: tuple(v.shape) for k, v in em.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in tm.state_dict().items()}
    assert all(type(p) is enn.Parameter and p.dtype == ember.float64 for p in em.parameters())
    # with torch's values loaded, the layer computes what torch's does
    em.load_state_dict(tm.state_dict())
    np.testing.assert_allclose(em(_e(x)).detach().numpy(), tm(x).detach().numpy(), atol=1e-10)
    assert ye.shape == yt.shape


@pytest.mark.parametrize("lazy_name, normal_name, args, kwargs, in_shape, weight_shape",
                         _LAZY_CASES[:7], ids=[c[0] for c in _LAZY_CASES[:7]])
def test_lazy_init_equals_normal_init(lazy_name, normal_name, args, kwargs, in_shape,
                                      weight_shape) -> None:
    in_features = in_shape[-1] if lazy_name == "LazyLinear" else in_shape[1]
    ember.manual_seed(3)
    normal = getattr(enn, normal_name)(in_features, *args, **kwargs)
    ember.manual_seed(3)
    lazy = getattr(enn, lazy_name)(*args, **kwargs)
    lazy(ember.zeros(*in_shape))
    assert type(lazy) is type(normal)
    for (n1, p1), (n2, p2) in zip(normal.named_parameters(), lazy.named_parameters()):
        assert n1 == n2
        assert tuple(p1.shape) == tuple(p2.shape)
        np.testing.assert_array_equal(p1.detach().numpy(), p2.detach().numpy())
    assert tuple(lazy.weight.shape) == weight_shape(in_features)


# ---------------------------------------------------------------------- model registry


def test_list_models_sorted_and_filtered() -> None:
    import ember.models as M

    names = M.list_models()
    assert names == sorted(names)
    for expected in ("alexnet", "lenet5", "resnet18", "resnet20", "vgg16_bn", "efficientnet_b0",
                     "vit_b_16"):
        assert expected in names
    assert M.list_models(include="resnet*", exclude=["resnet1*", "resnet5?"]) == [
        "resnet20", "resnet32", "resnet34", "resnet44"]
    assert M.list_models(include=["vgg1?", "alex*"]) == ["alexnet", "vgg11", "vgg13", "vgg16",
                                                         "vgg19"]
    assert M.list_models(module=M) == names
    assert M.list_models(module=ember.nn) == []


def test_get_model_and_builder() -> None:
    import ember.models as M

    model = M.get_model("resnet18", num_classes=7)
    assert isinstance(model, M.ResNet) and model.fc.out_features == 7
    assert M.get_model_builder("LeNet5") is M.lenet5
    assert isinstance(M.get_model("lenet5", num_classes=3), M.LeNet5)
    with pytest.raises(ValueError, match="Unknown model not_a_model"):
        M.get_model("not_a_model")
    with pytest.raises(ValueError, match="Unknown model"):
        M.get_model_builder("resnet9000")


# ---------------------------------------------------------------------- import paths


def test_torch_import_paths() -> None:
    from ember.nn.attention import SDPBackend, sdpa_kernel
    from ember.nn.modules.activation import MultiheadAttention
    from ember.nn.modules.linear import NonDynamicallyQuantizableLinear

    assert ember.nn.attention.sdpa_kernel is sdpa_kernel
    assert ember.nn.attention.SDPBackend is SDPBackend
    assert MultiheadAttention is enn.MultiheadAttention
    assert issubclass(NonDynamicallyQuantizableLinear, enn.Linear)
    assert type(enn.MultiheadAttention(4, 2).out_proj) is NonDynamicallyQuantizableLinear
    assert torch.nn.modules.linear.NonDynamicallyQuantizableLinear  # the oracle has it there
    with sdpa_kernel(SDPBackend.MATH):
        pass


def test_canonical_mask_matches_torch() -> None:
    mask = torch.tensor([[True, False, True], [False, False, True]])
    for target in (torch.float32, torch.float64):
        et = ember.float32 if target == torch.float32 else ember.float64
        want = TF._canonical_mask(mask, "attn_mask", None, "", target)
        got = EF._canonical_mask(_e(mask), "attn_mask", None, "", et)
        assert got.dtype == et
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    fmask = torch.randn(2, 3)
    got = EF._canonical_mask(_e(fmask), "attn_mask", None, "", ember.float32)
    np.testing.assert_array_equal(got.numpy(), fmask.numpy())
    assert EF._canonical_mask(None, "attn_mask", None, "", ember.float32) is None
    with pytest.raises(AssertionError):
        TF._canonical_mask(torch.ones(2, dtype=torch.long), "m", None, "", torch.float32)
    with pytest.raises(AssertionError, match="only bool and floating types of m"):
        EF._canonical_mask(ember.ones(2, dtype=ember.int64), "m", None, "", ember.float32)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        EF._canonical_mask(_e(mask), "attn_mask", ember.float32, "key_padding_mask",
                           ember.float32)
    assert any("mismatched attn_mask and key_padding_mask" in str(w.message) for w in caught)
    assert EF._none_or_dtype(None) is None and EF._none_or_dtype(ember.ones(1)) == ember.float32



def test_lazy_placeholders_refuse_computation_like_torch() -> None:
    import torch

    for lib in (ember, torch):
        w = lib.nn.LazyLinear(3).weight
        for use in (lambda: w + 1, lambda: w.sum(), lambda: w * 2, lambda: w[0], lambda: w.exp(),
                    lambda: lib.matmul(w, w), lambda: w.numpy(), lambda: w.tolist()):
            with pytest.raises(ValueError, match="uninitialized parameter"):
                use()
    m = ember.nn.LazyLinear(3)
    assert m(ember.ones(2, 5)).shape == (2, 3) and (m.weight + 1).shape == (3, 5)
