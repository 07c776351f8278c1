"""The numba kernels (ember/kernels) against torch, and the numpy formulas they replace.

Every op that has a kernel is run twice, with the kernels on and off, and both are compared with
torch (forward and gradients), so neither path can drift. The arithmetic approximations
(erf32, exp32, tanh32) are measured against float64 references over their whole range.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import ember
from ember import kernels

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def small_arrays_too(monkeypatch):
    """The tests' small arrays reach the kernels (they normally start at MIN_ELEMENTS)."""
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 0)


@pytest.fixture(params=["kernels", "numpy"])
def path(request):
    """Run the test once through the compiled kernels and once through the numpy formulas."""
    kernels.set_enabled(request.param == "kernels")
    yield request.param
    kernels.set_enabled(True)


@pytest.fixture
def calls(monkeypatch):
    """Count the calls reaching each kernel module function (proves which path ran)."""
    counts: dict = {}

    def spy(module_name, name):
        module = kernels.load(module_name)
        original = getattr(module, name)

        def counted(*args, **kwargs):
            counts[f"{module_name}.{name}"] = counts.get(f"{module_name}.{name}", 0) + 1
            return original(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)

    for module_name, names in {"gelu": ["exact_forward", "exact_backward", "tanh_forward",
                                        "tanh_backward"],
                               "layer_norm": ["forward", "backward"],
                               "softmax": ["attention_probs", "attention_probs_backward",
                                           "rows", "rows_backward"],
                               "batch_norm": ["statistics", "normalize", "backward"],
                               "relu": ["forward", "backward"],
                               "im2col": ["im2col", "col2im"],
                               "max_pool": ["forward_tiles", "backward"],
                               "adam": ["step"]}.items():
        for name in names:
            spy(module_name, name)
    return counts


def both(fn, *arrays, requires_grad=True):
    """fn(lib, *tensors) in torch and in Ember: outputs, and the gradients of sum(out * w)."""
    results = []
    for lib in (torch, ember):
        tensors = [lib.tensor(a, requires_grad=requires_grad) for a in arrays]
        out = fn(lib, *tensors)
        w = np.random.RandomState(1).randn(*out.shape).astype(arrays[0].dtype)
        (out * lib.tensor(w)).sum().backward()
        results.append((out.detach().numpy(), [t.grad.numpy() for t in tensors]))
    return results


def assert_matches(results, rtol=2e-5, atol=2e-6):
    (t_out, t_grads), (e_out, e_grads) = results
    np.testing.assert_allclose(e_out, t_out, rtol=rtol, atol=atol)
    for t_g, e_g in zip(t_grads, e_grads, strict=True):
        np.testing.assert_allclose(e_g, t_g, rtol=rtol, atol=atol * 10)


# ------------------------------------------------------------------------ approximations


def _vectorised(name):
    """A numba loop applying approx.<name> elementwise (float32 in and out)."""
    import numba

    from ember.kernels import approx

    scalar = getattr(approx, name)

    @numba.njit
    def apply(x, out):
        for i in range(x.size):
            out[i] = scalar(x[i])

    def run(x):
        out = np.empty_like(x)
        apply(x, out)
        return out

    return run


def test_erf_error_over_its_range():
    import numba

    from ember.kernels.approx import erf

    @numba.njit
    def apply(x, out):
        for i in range(x.size):
            out[i] = erf(x[i])

    x = np.linspace(-7, 7, 400_001)
    got = np.empty_like(x)
    apply(x, got)
    want = np.array([math.erf(v) for v in x])
    assert np.abs(got - want).max() < 1e-8


def test_erf32_error_over_its_range():
    x = np.linspace(-7, 7, 400_001, dtype=np.float32)
    got = _vectorised("erf32")(x).astype(np.float64)
    want = np.array([math.erf(v) for v in x.astype(np.float64)])
    assert np.abs(got - want).max() < 4e-7


def test_exact_gelu_kernel_error_is_torch_s():
    """GELU through erf32 against float64: as close as torch's float32 GELU (both lose digits
    to 1 + erf(x / sqrt 2) for negative x; the kernel's erf32 adds little to that)."""
    x = np.linspace(-8, 8, 200_001, dtype=np.float32)
    want = np.array([v * 0.5 * (1 + math.erf(v / math.sqrt(2))) for v in x.astype(np.float64)])
    ours = np.abs(kernels.load("gelu").exact_forward(x)[0] - want).max()
    theirs = np.abs(torch.nn.functional.gelu(torch.tensor(x)).double().numpy() - want).max()
    assert ours < 1.5e-6 and ours < 1.5 * theirs


def test_exp32_relative_error_and_special_values():
    x = np.linspace(-87, 88, 400_001, dtype=np.float32)
    got = _vectorised("exp32")(x).astype(np.float64)
    want = np.exp(x.astype(np.float64))
    assert (np.abs(got - want) / want).max() < 4e-7
    special = np.array([np.nan, -np.inf, np.inf, -1000, 1000, 0, -0.0], dtype=np.float32)
    got = _vectorised("exp32")(special)
    assert np.isnan(got[0])
    np.testing.assert_array_equal(got[1:], [0, np.inf, 0, np.inf, 1, 1])


def test_tanh32_absolute_error():
    x = np.concatenate([np.linspace(-12, 12, 200_001), [1e-30, -1e-7, 3e-3, 5e-3]]).astype(
        np.float32)
    got = _vectorised("tanh32")(x).astype(np.float64)
    want = np.tanh(x.astype(np.float64))
    assert np.abs(got - want).max() < 4e-7
    small = np.abs(x) < 1e-3
    np.testing.assert_allclose(got[small], want[small], rtol=1e-6)
    assert np.isnan(_vectorised("tanh32")(np.array([np.nan], np.float32))[0])


# ------------------------------------------------------------------------------- GELU


@pytest.mark.parametrize("approximate", ["none", "tanh"])
@pytest.mark.parametrize("shape", [(7,), (64, 130), (2, 3, 5, 9)])
def test_gelu_matches_torch(path, calls, approximate, shape):
    x = (np.random.RandomState(0).randn(*shape) * 3).astype(np.float32)
    x.reshape(-1)[:3] = [-9.0, 0.0, 7.5]
    assert_matches(both(lambda lib, t: lib.nn.functional.gelu(t, approximate=approximate), x))
    kind = "exact" if approximate == "none" else "tanh"
    ran = calls.get(f"gelu.{kind}_forward", 0) == 1 and calls.get(f"gelu.{kind}_backward", 0) == 1
    assert ran == (path == "kernels")


def test_gelu_kernel_special_values_as_the_numpy_formula():
    """NaN stays NaN, +-inf and large inputs as the numpy formula gives them (torch's exact
    GELU of +inf is NaN on the CPU, an artefact of its vectorised erf; its tanh GELU gives inf)."""
    x = np.array([np.nan, np.inf, -np.inf, 1.0, -50.0, 50.0, 0.0], dtype=np.float32)
    for approximate in ("none", "tanh"):
        got = []
        for enabled in (True, False):
            kernels.set_enabled(enabled)
            t = ember.tensor(x, requires_grad=True)
            y = ember.nn.functional.gelu(t, approximate=approximate)
            y.backward(ember.ones_like(y))
            got.append((y.detach().numpy(), t.grad.numpy()))
        kernels.set_enabled(True)
        for kernel_result, numpy_result in zip(*got, strict=True):
            np.testing.assert_allclose(kernel_result[3:], numpy_result[3:], rtol=1e-6)
            assert np.isnan(kernel_result[0]) and np.isnan(numpy_result[0])
        np.testing.assert_array_equal(got[0][0][1:3], got[1][0][1:3])


def test_gelu_float64_and_strided_inputs_take_the_numpy_path(calls):
    x = np.random.RandomState(0).randn(6, 8)
    assert_matches(both(lambda lib, t: lib.nn.functional.gelu(t), x), rtol=1e-10, atol=1e-12)
    x32 = x.astype(np.float32)
    assert_matches(both(lambda lib, t: lib.nn.functional.gelu(t.t()), x32))
    assert not calls  # float64 and a transposed (non-contiguous) view: numpy formulas


def test_gelu_double_backward_through_kernel_forward():
    x = np.random.RandomState(0).randn(5).astype(np.float32)
    grads = []
    for lib in (torch, ember):
        t = lib.tensor(x, requires_grad=True)
        (g,) = lib.autograd.grad(lib.nn.functional.gelu(t).sum(), t, create_graph=True)
        (gg,) = lib.autograd.grad(g.sum(), t)
        grads.append(gg.numpy())
    np.testing.assert_allclose(grads[1], grads[0], rtol=1e-5, atol=1e-6)


# -------------------------------------------------------------------------- LayerNorm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, normalized", [((32, 128), (128,)), ((2, 5, 7), (7,)),
                                               ((3, 4, 6), (4, 6)), ((9, 1), (1,))])
@pytest.mark.parametrize("affine", ["both", "weight", "none"])
def test_layer_norm_matches_torch(path, calls, dtype, shape, normalized, affine):
    rng = np.random.RandomState(0)
    arrays = [(rng.randn(*shape) * 2 + 1).astype(dtype)]
    if affine != "none":
        arrays.append(rng.randn(*normalized).astype(dtype))
    if affine == "both":
        arrays.append(rng.randn(*normalized).astype(dtype))

    def fn(lib, x, *wb):
        return lib.nn.functional.layer_norm(x, normalized, *wb, eps=1e-5)

    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    assert_matches(both(fn, *arrays), **tol)
    assert (calls.get("layer_norm.forward") == 1 and calls.get("layer_norm.backward") == 1) == (
        path == "kernels")


def test_layer_norm_module_in_a_model_trains_like_torch(path):
    rng = np.random.RandomState(0)
    x, y = rng.randn(16, 12).astype(np.float32), rng.randn(16, 1).astype(np.float32)
    losses = []
    torch.manual_seed(0)
    models = {torch: torch.nn.Sequential(torch.nn.Linear(12, 32), torch.nn.LayerNorm(32),
                                         torch.nn.GELU(), torch.nn.Linear(32, 1))}
    models[ember] = ember.nn.Sequential(ember.nn.Linear(12, 32), ember.nn.LayerNorm(32),
                                        ember.nn.GELU(), ember.nn.Linear(32, 1))
    models[ember].load_state_dict({k: v.detach().numpy() for k, v in
                                   models[torch].state_dict().items()})
    for lib, model in models.items():
        opt = lib.optim.Adam(model.parameters(), lr=1e-2)
        run = []
        for _ in range(20):
            opt.zero_grad()
            loss = ((model(lib.tensor(x)) - lib.tensor(y)) ** 2).mean()
            loss.backward()
            opt.step()
            run.append(loss.item())
        losses.append(run)
    np.testing.assert_allclose(losses[1], losses[0], rtol=2e-4)


# -------------------------------------------------------------------------- attention


@pytest.mark.parametrize("case", ["causal", "causal_longer_keys", "causal_shorter_keys",
                                  "no_mask", "float_mask"])
def test_attention_softmax_matches_torch(path, calls, case, monkeypatch):
    rng = np.random.RandomState(0)
    length, source = {"causal_longer_keys": (5, 9), "causal_shorter_keys": (9, 5)}.get(
        case, (12, 12))
    q = rng.randn(2, 3, length, 8).astype(np.float32) * 2
    k = rng.randn(2, 3, source, 8).astype(np.float32) * 2
    v = rng.randn(2, 3, source, 4).astype(np.float32)
    mask = rng.randn(length, source).astype(np.float32)

    def fn(lib, q_, k_, v_):
        kw = {"attn_mask": lib.tensor(mask)} if case == "float_mask" else {
            "is_causal": case.startswith("causal")}
        return lib.nn.functional.scaled_dot_product_attention(q_, k_, v_, **kw)

    assert_matches(both(fn, q, k, v), rtol=1e-4, atol=1e-5)
    used = calls.get("softmax.attention_probs", 0) >= 1 and \
        calls.get("softmax.attention_probs_backward", 0) >= 1
    assert used == (path == "kernels" and case != "float_mask")


def test_attention_kernel_in_row_blocks(calls, monkeypatch):
    """Blocks of query rows: the kernel must place the causal diagonal by the global row."""
    import ember.nn.functional.attention as attention_module

    monkeypatch.setattr(attention_module, "BLOCK_ELEMENTS", 2 * 3 * 12 * 4)
    rng = np.random.RandomState(0)
    q, k, v = (rng.randn(2, 3, 12, 8).astype(np.float32) for _ in range(3))
    assert_matches(both(lambda lib, *t: lib.nn.functional.scaled_dot_product_attention(
        *t, is_causal=True), q, k, v), rtol=1e-4, atol=1e-5)
    assert calls["softmax.attention_probs"] > 1


def test_attention_rows_with_nan_stay_nan(path):
    q = np.ones((1, 3, 4), np.float32)
    q[0, 1, 0] = np.nan
    k = v = np.ones((1, 3, 4), np.float32)
    want = torch.nn.functional.scaled_dot_product_attention(
        *(torch.tensor(a) for a in (q, k, v)), is_causal=True).numpy()
    got = ember.nn.functional.scaled_dot_product_attention(
        *(ember.tensor(a) for a in (q, k, v)), is_causal=True).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-6)


def test_attention_with_a_negative_scale_matches_torch(path):
    # a negative scale turns the largest score into the smallest: the kernel's integer-key max
    # of the raw scores only holds for scale >= 0
    # (torch's is_causal masks before scaling, so its masked -inf scores turn +inf and its rows
    # NaN: Ember's causal rows equal torch's with the same mask given as attn_mask)
    rng = np.random.RandomState(2)
    q, k, v = (rng.randn(2, 2, 70, 8).astype(np.float32) for _ in range(3))
    q *= 8  # scaled scores spread over +-100: a wrong row max overflows exp
    tril = np.tril(np.ones((70, 70), bool))
    for causal in (False, True):
        def attention(lib, *t):
            if causal and lib is torch:
                return lib.nn.functional.scaled_dot_product_attention(
                    *t, attn_mask=lib.tensor(tril), scale=-0.7)
            return lib.nn.functional.scaled_dot_product_attention(*t, is_causal=causal,
                                                                  scale=-0.7)

        assert_matches(both(attention, q, k, v), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape", [(3, 5, 7), (4, 1), (2, 300), (6,)])
def test_softmax_rows_match_torch(path, calls, name, shape):
    rng = np.random.RandomState(0)
    x = (rng.randn(*shape) * 5).astype(np.float32)
    assert_matches(both(lambda lib, t: getattr(lib.nn.functional, name)(t, dim=-1), x),
                   rtol=1e-5, atol=1e-6)
    assert (calls.get("softmax.rows", 0) > 0) == (path == "kernels")
    assert (calls.get("softmax.rows_backward", 0) > 0) == (path == "kernels")


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_rows_with_infinities_and_nan_match_torch(path, name):
    x = np.array([[1.0, -np.inf, 2.0, 0.5], [-np.inf] * 4, [np.inf, 1.0, 0.0, -1.0],
                  [1.0, np.nan, 2.0, 3.0], [-1e30, 3e38, 0.0, -3e38]], np.float32)
    got = getattr(ember.nn.functional, name)(ember.tensor(x), dim=-1).numpy()
    want = getattr(torch.nn.functional, name)(torch.tensor(x), dim=-1).numpy()
    np.testing.assert_array_equal(np.isnan(got), np.isnan(want))
    np.testing.assert_allclose(got[~np.isnan(got)], want[~np.isnan(want)], rtol=1e-6)


def test_softmax_over_other_dims_and_layouts_keeps_numpy(calls):
    rng = np.random.RandomState(1)
    x = rng.randn(4, 6, 5).astype(np.float32)
    for dim, data in ((1, x), (-1, x.transpose(0, 2, 1)), (-1, x.astype(np.float64))):
        got = ember.tensor(data).softmax(dim).numpy()
        want = torch.tensor(data).softmax(dim).numpy()
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    assert calls.get("softmax.rows", 0) == 0


def test_largest32_orders_like_float_max():
    from ember.kernels.approx import largest32

    rng = np.random.RandomState(0)
    row = (rng.randn(70) * 100).astype(np.float32)
    row[[3, 9, 20]] = [-0.0, 0.0, -np.inf]
    for n in (1, 2, 3, 10, 33, 64, 70):
        assert largest32(row, n) == row[:n].max()
    negative = -np.abs(row) - 1
    assert largest32(negative, 70) == negative.max()
    assert largest32(np.full(5, -np.inf, np.float32), 5) == -np.inf
    with_nan = row.copy()
    with_nan[40] = np.nan
    assert np.isnan(largest32(with_nan, 70))
    assert largest32(with_nan, 40) == row[:40].max()  # values past n are never read into m


# ------------------------------------------------------------------------- batch norm


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 3, 5, 7), (4, 6), (5, 4, 9), (2, 3, 2, 3, 4)])
@pytest.mark.parametrize("affine", [True, False])
@pytest.mark.parametrize("training", [True, False])
def test_batch_norm_matches_torch(path, calls, dtype, shape, affine, training):
    rng = np.random.RandomState(0)
    channels = shape[1]
    arrays = [(rng.randn(*shape) * 3 + 2).astype(dtype)]
    if affine:
        arrays += [rng.randn(channels).astype(dtype), rng.randn(channels).astype(dtype)]
    stats = (rng.randn(channels).astype(dtype), (rng.rand(channels) + 0.5).astype(dtype))
    running = {}

    def fn(lib, x, *wb):
        rm, rv = lib.tensor(stats[0]), lib.tensor(stats[1])
        running[lib] = (rm, rv)
        return lib.nn.functional.batch_norm(x, rm, rv, *wb, training=training, momentum=0.3,
                                            eps=1e-4)

    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    assert_matches(both(fn, *arrays), **tol)
    for t, e in zip(running[torch], running[ember], strict=True):  # the running statistics
        np.testing.assert_allclose(e.numpy(), t.numpy(), **tol)
    expected = {"batch_norm.normalize": 1, "batch_norm.backward": 1}
    if training:
        expected["batch_norm.statistics"] = 1
    ran = {k: v for k, v in calls.items() if k.startswith("batch_norm")}
    assert (ran == expected) == (path == "kernels")


def test_batch_norm_kernel_sums_a_large_channel_accurately(path):
    # 64 x 32 x 32 values per channel with a large mean: float32 sums must not drift
    x = (np.random.RandomState(0).randn(64, 2, 32, 32) + 1000).astype(np.float32)
    xt = torch.tensor(x.astype(np.float64))
    want = torch.nn.functional.batch_norm(xt, None, None, training=True).numpy()
    got = ember.nn.functional.batch_norm(ember.tensor(x), None, None, training=True).numpy()
    np.testing.assert_allclose(got, want, atol=2e-3)  # float32 of values ~1000 holds 6e-5


def test_batch_norm_module_in_a_cnn_trains_like_torch(path):
    rng = np.random.RandomState(0)
    x = rng.randn(8, 2, 6, 6).astype(np.float32)
    y = rng.randint(0, 3, 8)
    torch.manual_seed(0)

    def build(lib):
        nn = lib.nn
        return nn.Sequential(nn.Conv2d(2, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.Flatten(),
                             nn.Linear(64, 3))

    models = {torch: build(torch), ember: build(ember)}
    models[ember].load_state_dict({k: v.detach().numpy() for k, v in
                                   models[torch].state_dict().items()})
    losses = []
    for lib, model in models.items():
        opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        run = []
        for _ in range(15):
            opt.zero_grad()
            loss = lib.nn.functional.cross_entropy(model(lib.tensor(x)), lib.tensor(y))
            loss.backward()
            opt.step()
            run.append(loss.item())
        model.eval()
        run.append(model(lib.tensor(x)).sum().item())
        losses.append(run)
    np.testing.assert_allclose(losses[1], losses[0], rtol=2e-4, atol=1e-5)


# ----------------------------------------------------------------------- im2col / col2im


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", [
    # (N, C, H, W), (O, C/groups, KH, KW), stride, padding, dilation, groups
    ((2, 3, 14, 14), (4, 3, 5, 5), 1, 0, 1, 1),  # LeNet's second layer: narrow rows
    ((2, 3, 12, 10), (5, 3, 3, 2), 1, 0, (2, 3), 1),  # no padding, dilated: runs inside
    ((2, 4, 9, 8), (6, 4, 3, 3), 2, 1, 1, 1),  # stride 2 (ResNet's downsampling)
    ((3, 2, 7, 9), (5, 2, 2, 3), (2, 1), (1, 2), 1, 1),  # non-square, uneven
    ((2, 4, 11, 10), (4, 2, 3, 3), 1, 3, 2, 2),  # dilation, groups, padding past the reach
    ((2, 3, 8, 8), (7, 3, 1, 1), 2, 0, 1, 1),  # 1x1 shortcut with stride
    ((1, 2, 5, 6), (3, 2, 3, 2), 3, 2, (1, 2), 1),  # stride 3 skipping input rows
])
def test_conv2d_through_im2col_kernels_matches_torch(path, calls, dtype, case):
    x_shape, w_shape, stride, padding, dilation, groups = case
    rng = np.random.RandomState(0)
    arrays = [rng.randn(*x_shape).astype(dtype), rng.randn(*w_shape).astype(dtype),
              rng.randn(w_shape[0]).astype(dtype)]

    def fn(lib, x, w, b):
        return lib.nn.functional.conv2d(x, w, b, stride, padding, dilation, groups)

    tol = dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-9, atol=1e-11)
    assert_matches(both(fn, *arrays), **tol)
    assert (calls.get("im2col.im2col", 0) > 0) == (path == "kernels")


def test_col2im_kernel_adds_overlapping_windows(path, calls):
    # the input gradient of a layer with more outputs than inputs (col2im, not the flipped
    # convolution), with overlapping windows and a stride
    rng = np.random.RandomState(1)
    arrays = [rng.randn(2, 2, 9, 9).astype(np.float32), rng.randn(8, 2, 3, 3).astype(np.float32)]

    def fn(lib, x, w):
        return lib.nn.functional.conv2d(x, w, stride=2, padding=1)

    assert_matches(both(fn, *arrays), rtol=1e-4, atol=1e-5)
    assert (calls.get("im2col.col2im", 0) > 0) == (path == "kernels")


# --------------------------------------------------------------------------- max pooling


def _pool_both(x, grad, **options):
    """max_pool2d's values, indices and input gradient in torch and in Ember."""
    results = []
    for lib in (torch, ember):
        t = lib.tensor(x, requires_grad=True)
        y, idx = lib.nn.functional.max_pool2d(t, return_indices=True, **options)
        y.backward(lib.tensor(grad))
        results.append((y.detach().numpy(), idx.numpy(), t.grad.numpy()))
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options,tiled", [
    (dict(kernel_size=2), True),  # LeNet's, VGG's
    (dict(kernel_size=(3, 2)), True),  # taps across a row written out for 2 only
    (dict(kernel_size=3), True),
    (dict(kernel_size=(2, 4), stride=(2, 4)), True),
    (dict(kernel_size=3, stride=2, padding=1), False),  # ResNet's stem: overlapping windows
    (dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=2), False),
    (dict(kernel_size=2, ceil_mode=True), False),  # odd sizes: a partial last window
])
def test_max_pool2d_matches_torch(path, calls, dtype, options, tiled):
    rng = np.random.RandomState(0)
    shape = (2, 3, 12, 12) if not options.get("ceil_mode") else (2, 3, 11, 13)
    x = rng.randn(*shape).astype(dtype)
    x[0, 0, :4, :4] = 1.0  # ties: the first maximum wins
    x[1, 2, 5, 5] = x[0, 1, 2, 3] = x[0, 1, 2, 2] = np.nan  # the last NaN of a window wins
    x[1, 1, :, :3] = -np.inf
    x[1, 0, 6, 6] = np.inf
    out_shape = tuple(torch.nn.functional.max_pool2d(torch.tensor(x), **options).shape)
    grad = rng.randn(*out_shape).astype(dtype)
    (ty, ti, tg), (ey, ei, eg) = _pool_both(x, grad, **options)
    np.testing.assert_array_equal(ey, ty)
    np.testing.assert_array_equal(ei, ti)
    np.testing.assert_allclose(eg, tg, rtol=1e-6, atol=1e-7)
    assert (calls.get("max_pool.forward_tiles", 0) == 1) == (path == "kernels" and tiled)
    assert (calls.get("max_pool.backward", 0) == 1) == (path == "kernels")


def test_max_pool2d_winner_of_an_all_minus_inf_window_lies_inside_the_input(path):
    """The -inf padding never wins: torch's winner is the window's first tap inside."""
    x = np.full((1, 2, 5, 6), -np.inf, dtype=np.float32)
    x[0, 1, 2, 3] = 1.0
    grad = np.arange(1, 19, dtype=np.float32).reshape(1, 2, 3, 3)
    (ty, ti, tg), (ey, ei, eg) = _pool_both(x, grad, kernel_size=3, stride=2, padding=1)
    np.testing.assert_array_equal(ey, ty)
    np.testing.assert_array_equal(ei, ti)
    np.testing.assert_array_equal(eg, tg)


def test_max_pool2d_non_finite_gradients_reach_only_the_winners(path):
    rng = np.random.RandomState(2)
    x = rng.randn(2, 3, 8, 8).astype(np.float32)
    grad = rng.randn(2, 3, 4, 4).astype(np.float32)
    grad[0, 0, 0, 0], grad[1, 2, 1, 1] = np.inf, np.nan
    (_, _, tg), (_, _, eg) = _pool_both(x, grad, kernel_size=2)
    np.testing.assert_array_equal(eg, tg)


# ------------------------------------------------------------------------------- adam


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [
    dict(), dict(weight_decay=0.1), dict(amsgrad=True, weight_decay=0.05),
    dict(maximize=True), dict(betas=(0.8, 0.9), eps=1e-6, amsgrad=True, maximize=True,
                              weight_decay=0.02)])
@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_step_matches_torch(path, calls, dtype, options, name):
    rng = np.random.RandomState(0)
    w0, b0 = rng.randn(5, 7).astype(dtype), rng.randn(7).astype(dtype)
    grads = [(rng.randn(5, 7).astype(dtype), rng.randn(7).astype(dtype)) for _ in range(6)]
    finals = []
    for lib in (torch, ember):
        params = [lib.tensor(w0.copy(), requires_grad=True), lib.tensor(b0.copy(),
                                                                       requires_grad=True)]
        opt = getattr(lib.optim, name)(params, lr=0.05, **options)
        for gw, gb in grads:
            params[0].grad, params[1].grad = lib.tensor(gw), lib.tensor(gb)
            opt.step()
        finals.append([p.detach().numpy() for p in params] + [
            opt.state[params[0]]["exp_avg_sq"].numpy()])
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-12, atol=1e-14)
    for e, t in zip(finals[1], finals[0], strict=True):
        np.testing.assert_allclose(e, t, **tol)
    assert (calls.get("adam.step", 0) == 12) == (path == "kernels")  # 2 params x 6 steps


# ------------------------------------------------------------------------------- relu


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_relu_matches_torch_with_special_values(path, calls, dtype):
    x = np.array([-0.0, 0.0, np.nan, -np.inf, np.inf, 2, -3, 1e-30, -1e-30], dtype)
    g = np.array([1, 2, 3, np.nan, 5, np.nan, 7, 8, 9], dtype)
    results = []
    for lib in (torch, ember):
        t = lib.tensor(x, requires_grad=True)
        y = lib.relu(t)
        y.backward(lib.tensor(g))
        results.append((y.detach().numpy(), t.grad.numpy()))
    (ty, tg), (ey, eg) = results
    np.testing.assert_array_equal(ey, ty)
    if path == "kernels":  # torch's rules exactly: relu(-0.0) is -0.0, a NaN gradient of an
        np.testing.assert_array_equal(np.signbit(ey), np.signbit(ty))  # inactive unit is 0
        np.testing.assert_array_equal(eg, tg)
    else:  # numpy's g * (y > 0) differs only at NaNs (a NaN gradient, or a NaN output)
        ordinary = ~np.isnan(g) & ~np.isnan(x)
        np.testing.assert_array_equal(eg[ordinary], tg[ordinary])
    assert (calls.get("relu.forward") == 1 and calls.get("relu.backward") == 1) == (
        path == "kernels")


def test_relu_on_strided_and_integer_inputs_takes_the_numpy_path(calls):
    x = np.random.RandomState(0).randn(6, 4).astype(np.float32)
    for lib_x in (ember.tensor(x).t(), ember.tensor(np.arange(-3, 3))):
        got = ember.relu(lib_x).numpy()
        want = torch.relu(torch.tensor(lib_x.numpy())).numpy()
        np.testing.assert_array_equal(got, want)
    assert not calls


def test_small_arrays_take_the_numpy_formulas(calls, monkeypatch):
    # a small model never imports numba: numpy's passes over a few thousand values cost less
    monkeypatch.setattr(kernels, "MIN_ELEMENTS", 1 << 15)
    x = ember.randn(64, 100, requires_grad=True)  # 6,400 values
    ember.nn.functional.gelu(ember.relu(x)).sum().backward()
    ember.nn.functional.layer_norm(x, (100,)).sum().backward()
    ember.nn.functional.batch_norm(x, None, None, training=True).sum().backward()
    assert not calls
    big = ember.randn(64, 1 << 9, requires_grad=True)  # 32,768 values
    (ember.relu(big) * 2).sum().backward()  # a contiguous gradient reaches relu
    assert calls == {"relu.forward": 1, "relu.backward": 1}


def test_float16_takes_the_numpy_formulas(calls):
    # numba compiles no float16 version: relu, BatchNorm, LayerNorm and Adam must not try
    rng = np.random.RandomState(0)
    x = rng.randn(8, 4, 6, 6).astype(np.float16)
    results = []
    for lib in (torch, ember):
        t = lib.tensor(x, requires_grad=True)
        lib.relu(t).backward(lib.tensor(x))
        normed = lib.nn.functional.batch_norm(t.detach(), None, None, training=True)
        layer = lib.nn.functional.layer_norm(t.detach(), (6,))
        p = lib.tensor(x, requires_grad=True)
        p.grad = lib.tensor(x)
        lib.optim.Adam([p], lr=0.1).step()
        results.append([a.detach().float().numpy() for a in (t.grad, normed, layer, p)])
    for e, t in zip(results[1], results[0], strict=True):
        np.testing.assert_allclose(e, t, rtol=1e-2, atol=1e-2)
    assert not calls


def test_switches():
    assert kernels.is_enabled()
    kernels.set_enabled(False)
    try:
        assert not kernels.is_enabled()
        assert not kernels.usable(np.float32, np.ones(3, np.float32))
    finally:
        kernels.set_enabled(True)
    assert kernels.usable(np.float32, np.ones(3, np.float32))
    assert not kernels.usable(np.float32, np.ones(3))  # float64 for a float32 kernel
    assert not kernels.usable(np.float32, np.ones((3, 3), np.float32).T[:, :2])
