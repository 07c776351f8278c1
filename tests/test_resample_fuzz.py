"""Regressions found by randomized differential testing of resampling and unpooling against
torch: interpolate with antialias, max_unpool, grid_sample, affine_grid and fractional max
pooling (outputs, input gradients, errors)."""

import numpy as np
import pytest
import torch

import ember


def _input(shape, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


def _run(module, fn_name, arrays, kwargs, weight):
    """F.<fn_name>(*arrays, **kwargs) in `module` (torch or ember), differentiating the float
    arrays: the output and the gradients of sum(out * weight) (weight None: no backward)."""
    args = [module.tensor(a, requires_grad=a.dtype.kind == "f" and weight is not None)
            for a in arrays]
    out = getattr(module.nn.functional, fn_name)(*args, **kwargs)
    first = out[0] if isinstance(out, tuple) else out
    grads = []
    if weight is not None:
        (first * module.tensor(weight(tuple(first.shape)))).sum().backward()
        grads = [a.grad.numpy() for a in args if a.requires_grad]
    outs = out if isinstance(out, tuple) else (out,)
    return [o.detach().numpy() for o in outs], grads


def _compare(fn_name, *arrays, grad=True, tol=1e-12, **kwargs):
    """Outputs (and the gradients of every float input) of F.<fn_name> agree with torch's."""
    weight = (lambda shape: _input(shape, seed=1, dtype=arrays[0].dtype)) if grad else None
    t_outs, t_grads = _run(torch, fn_name, arrays, kwargs, weight)
    e_outs, e_grads = _run(ember, fn_name, arrays, kwargs, weight)
    for e, t in zip(e_outs, t_outs, strict=True):
        assert e.shape == t.shape and e.dtype == t.dtype
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)
    for e, t in zip(e_grads, t_grads, strict=True):
        np.testing.assert_allclose(e, t, rtol=tol, atol=tol)


# --- max_unpool ------------------------------------------------------------------------------


@pytest.mark.parametrize("fn,shape,kwargs", [
    ("max_unpool1d", (2, 3, 1), dict(kernel_size=2, padding=1)),  # (1 - 1) 2 - 2 + 2 = 0
    ("max_unpool1d", (3, 1), dict(kernel_size=2, padding=1)),  # unbatched
    ("max_unpool2d", (1, 2, 1, 3), dict(kernel_size=2, padding=1)),  # (0, 4)
    ("max_unpool3d", (1, 2, 1, 2, 2), dict(kernel_size=2, padding=(1, 0, 0))),  # (0, 4, 4)
])
@pytest.mark.parametrize("index", [0, 7, -1])
def test_max_unpool_to_an_empty_output_ignores_the_indices(fn, shape, kwargs, index):
    # torch reads no index when the output has no element
    indices = np.full(shape, index, dtype=np.int64)
    _compare(fn, _input(shape), indices, grad=False, **kwargs)
    module = getattr(ember.nn, "MaxUnpool" + fn[-2:])(**kwargs)
    out = module(ember.tensor(_input(shape)), ember.tensor(indices))
    assert tuple(out.shape) == tuple(getattr(torch.nn.functional, fn)(
        torch.tensor(_input(shape)), torch.tensor(indices), **kwargs).shape)


def test_max_unpool_to_an_empty_output_has_a_zero_gradient():
    # torch's backward raises here (its gather reads index 0 of nothing); nothing of the input
    # reaches the output, so the gradient is zero
    x = ember.tensor(_input((1, 2, 1, 3)), requires_grad=True)
    out = ember.nn.functional.max_unpool2d(x, ember.zeros((1, 2, 1, 3), dtype=ember.int64), 2,
                                           padding=1)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.zeros((1, 2, 1, 3)))


def test_max_unpool_index_past_a_nonempty_output_still_raises():
    x, indices = ember.tensor(_input((1, 2, 2, 2))), ember.full((1, 2, 2, 2), 4, dtype=ember.int64)
    with pytest.raises(RuntimeError, match="max_unpool2d.*invalid max index"):
        ember.nn.functional.max_unpool2d(x, indices, 2, padding=1)


# --- interpolate with antialias --------------------------------------------------------------


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape,size", [
    ((2, 3, 9, 7), (4, 3)), ((1, 2, 5, 6), (11, 13)), ((2, 1, 8, 3), (3, 10)),
    ((1, 1, 1, 6), (3, 2)), ((1, 2, 6, 1), (2, 4)), ((2, 2, 1, 1), (3, 3)),
])
def test_interpolate_antialias_matches_torch(mode, align_corners, shape, size):
    _compare("interpolate", _input(shape), size=size, mode=mode, align_corners=align_corners,
             antialias=True, tol=1e-11)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("scale", [(1.3, 2.0), (1.0, 0.5), (1.3, 1.25)])
def test_interpolate_antialias_copies_a_size_the_scale_factor_leaves_unchanged(mode, scale):
    # floor(3 * 1.3) = 3: torch's forward copies that dim whatever the scale; its backward
    # filters by the scale, so the gradient checked is that of the same resize given by size
    x = _input((2, 2, 3, 4))
    _compare("interpolate", x, grad=False, scale_factor=scale, mode=mode, antialias=True)
    out_size = tuple(int(np.floor(n * s)) for n, s in zip(x.shape[2:], scale, strict=True))
    xe = ember.tensor(x, requires_grad=True)
    ember.nn.functional.interpolate(xe, scale_factor=scale, mode=mode, antialias=True).sum() \
        .backward()
    xt = torch.tensor(x, requires_grad=True)
    torch.nn.functional.interpolate(xt, size=out_size, mode=mode, antialias=True).sum() \
        .backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode", ["bilinear", "bicubic"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("shape,size", [((2, 3, 7, 1), (14, 1)), ((2, 3, 7, 1), (3, 1)),
                                        ((1, 2, 7, 3), (9, 1))])
def test_interpolate_antialias_to_one_column_filters_every_row(mode, align_corners, shape,
                                                                size):
    # torch's CPU forward gives every row of a 1-wide output the first row's value (its
    # vertical pass reuses the first row's weights), while its backward is the true filter's.
    # The output is checked against torch's resize of the width to 1 (a horizontal pass only,
    # right), repeated to two columns, then resized in height (right on two columns)
    x = _input(shape)
    kwargs = dict(mode=mode, align_corners=align_corners, antialias=True)
    narrow = torch.nn.functional.interpolate(torch.tensor(x), size=(shape[2], 1), **kwargs)
    expected = torch.nn.functional.interpolate(narrow.repeat(1, 1, 1, 2), size=(size[0], 2),
                                               **kwargs)[..., :1]
    xe = ember.tensor(x, requires_grad=True)
    out = ember.nn.functional.interpolate(xe, size=size, **kwargs)
    np.testing.assert_allclose(out.detach().numpy(), expected.numpy(), rtol=1e-12, atol=1e-12)
    w = _input(tuple(out.shape), seed=1)
    (out * ember.tensor(w)).sum().backward()
    xt = torch.tensor(x, requires_grad=True)
    (torch.nn.functional.interpolate(xt, size=size, **kwargs) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(xe.grad.numpy(), xt.grad.numpy(), rtol=1e-12, atol=1e-12)


# --- fractional max pooling ------------------------------------------------------------------


def _compare_fractional(nd, x, samples, **kwargs):
    """Values, indices and input gradient of fractional_max_pool{nd}d with given samples."""
    fn = f"fractional_max_pool{nd}d"
    results = []
    for module in (torch, ember):
        xt = module.tensor(x, requires_grad=True)
        out, indices = getattr(module.nn.functional, fn)(
            xt, return_indices=True, _random_samples=module.tensor(samples), **kwargs)
        (out * module.tensor(_input(tuple(out.shape), seed=1))).sum().backward()
        results.append((out.detach().numpy(), indices.numpy(), xt.grad.numpy()))
    for e, t in zip(*results, strict=True):
        assert e.shape == t.shape
        np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize("nd,shape,kwargs", [
    (2, (2, 3, 9, 7), dict(kernel_size=2, output_size=(4, 5))),
    (2, (3, 8, 8), dict(kernel_size=(3, 1), output_ratio=(0.5, 0.7))),  # unbatched
    (2, (1, 2, 6, 5), dict(kernel_size=1, output_size=5)),
    (3, (2, 2, 6, 7, 5), dict(kernel_size=2, output_size=(3, 4, 2))),
    (3, (1, 2, 5, 6, 7), dict(kernel_size=(1, 2, 3), output_ratio=0.5)),
])
@pytest.mark.parametrize("ties", [False, True])
def test_fractional_max_pool_matches_torch(nd, shape, kwargs, ties):
    x = _input(shape)
    x = np.round(x) if ties else x  # tied maxima: the first in scan order
    batch = 1 if len(shape) == nd + 1 else shape[0]
    samples = np.random.default_rng(2).uniform(0, 1, (batch, shape[-nd - 1], nd))
    _compare_fractional(nd, x, samples, **kwargs)


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("nd,size,out_size", [(2, (47, 30), (11, 28)), (3, (23, 20, 25),
                                                                        (15, 15, 14))])
def test_fractional_max_pool_16_bit_window_starts_round_as_torch(dtype, nd, size, out_size):
    # torch computes the window starts in the input's dtype: rounded to 16 bits at every step
    rng = np.random.default_rng(3)
    x = rng.standard_normal((1, 2) + size).astype(np.float32)
    samples = rng.uniform(0, 1, (1, 2, nd)).astype(np.float32)
    name = str(dtype).split(".")[-1]
    results = []
    for module in (torch, ember):
        out, indices = getattr(module.nn.functional, f"fractional_max_pool{nd}d")(
            module.tensor(x).to(getattr(module, name)), 2, output_size=out_size,
            return_indices=True, _random_samples=module.tensor(samples).to(getattr(module, name)))
        results.append((out.float().numpy(), indices.numpy()))
    np.testing.assert_array_equal(results[1][1], results[0][1])
    np.testing.assert_array_equal(results[1][0], results[0][0])


# --- grid_sample / affine_grid (no difference found; kept as coverage) ------------------------


@pytest.mark.filterwarnings("ignore:Default grid_sample")
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("mode,shape,grid_shape", [
    ("bilinear", (2, 3, 5, 4), (2, 3, 6, 2)), ("nearest", (1, 2, 4, 6), (1, 5, 3, 2)),
    ("bicubic", (2, 2, 5, 5), (2, 4, 3, 2)), ("bilinear", (1, 2, 3, 1), (1, 2, 2, 2)),
    ("bilinear", (2, 2, 3, 4, 5), (2, 2, 3, 4, 3)), ("nearest", (1, 3, 4, 3, 2), (1, 3, 2, 2, 3)),
])
def test_grid_sample_matches_torch(mode, shape, grid_shape, padding_mode, align_corners):
    x = _input(shape)
    grid = np.random.default_rng(2).uniform(-1.6, 1.6, grid_shape)
    grid.reshape(-1)[::3] = np.round(grid.reshape(-1)[::3] * 4) / 4  # points on pixels too
    _compare("grid_sample", x, grid, grad=mode != "nearest", tol=1e-10, mode=mode,
             padding_mode=padding_mode, align_corners=align_corners)


@pytest.mark.filterwarnings("ignore:Since version 1.3.0, affine_grid")
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("size", [(2, 3, 4, 5), (2, 1, 1, 3), (2, 2, 3, 4, 2), (2, 1, 1, 1, 3)])
def test_affine_grid_matches_torch(size, align_corners):
    rows = len(size) - 2
    theta = _input((size[0], rows, rows + 1))
    _compare("affine_grid", theta, size=size, align_corners=align_corners)
