"""Every layer against torch with torch's weights copied in: outputs, input and parameter
gradients, buffers; in float32 and float64, train and eval where they differ."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conformance import Input, compare
from nn_helpers import build_pair, compare_module

I = Input  # noqa: E741

LAYERS = [
    ("Linear", lambda m: m.nn.Linear(5, 3), [(4, 5)]),
    ("Linear_nobias", lambda m: m.nn.Linear(5, 3, bias=False), [(4, 5)]),
    ("Linear_3d_input", lambda m: m.nn.Linear(5, 3), [(2, 4, 5)]),
    ("Linear_1d_input", lambda m: m.nn.Linear(5, 3), [(5,)]),
    ("Bilinear", lambda m: m.nn.Bilinear(3, 4, 2), [(5, 3), (5, 4)]),
    ("Bilinear_nobias", lambda m: m.nn.Bilinear(3, 4, 2, bias=False), [(5, 3), (5, 4)]),
    ("Identity", lambda m: m.nn.Identity(3, unused=True), [(2, 3)]),
    ("Flatten", lambda m: m.nn.Flatten(), [(2, 3, 4)]),
    ("Flatten_range", lambda m: m.nn.Flatten(0, 1), [(2, 3, 4)]),
    ("Unflatten", lambda m: m.nn.Unflatten(1, (2, 6)), [(3, 12)]),
    ("ReLU", lambda m: m.nn.ReLU(), [(3, 4)]),
    ("ReLU6", lambda m: m.nn.ReLU6(), [I((3, 4), low=-8, high=8)]),
    ("LeakyReLU", lambda m: m.nn.LeakyReLU(0.2), [(3, 4)]),
    ("ELU", lambda m: m.nn.ELU(0.7), [(3, 4)]),
    ("CELU", lambda m: m.nn.CELU(1.3), [(3, 4)]),
    ("SELU", lambda m: m.nn.SELU(), [(3, 4)]),
    ("GELU", lambda m: m.nn.GELU(), [I((3, 4), low=-4, high=4)]),
    ("GELU_tanh", lambda m: m.nn.GELU(approximate="tanh"), [I((3, 4), low=-4, high=4)]),
    ("SiLU", lambda m: m.nn.SiLU(), [(3, 4)]),
    ("Mish", lambda m: m.nn.Mish(), [I((3, 4), low=-5, high=5)]),
    ("Sigmoid", lambda m: m.nn.Sigmoid(), [(3, 4)]),
    ("Tanh", lambda m: m.nn.Tanh(), [(3, 4)]),
    ("Softplus", lambda m: m.nn.Softplus(), [I((3, 4), low=-5, high=5)]),
    ("Softplus_beta", lambda m: m.nn.Softplus(beta=2.0, threshold=3.0), [(3, 4)]),
    ("Hardtanh", lambda m: m.nn.Hardtanh(-0.5, 0.8), [(3, 4)]),
    ("Hardsigmoid", lambda m: m.nn.Hardsigmoid(), [I((3, 4), low=-5, high=5)]),
    ("Hardswish", lambda m: m.nn.Hardswish(), [I((3, 4), low=-5, high=5)]),
    ("Softsign", lambda m: m.nn.Softsign(), [(3, 4)]),
    ("LogSigmoid", lambda m: m.nn.LogSigmoid(), [I((3, 4), low=-8, high=8)]),
    ("Tanhshrink", lambda m: m.nn.Tanhshrink(), [(3, 4)]),
    ("Softshrink", lambda m: m.nn.Softshrink(0.3), [(3, 4)]),
    ("Hardshrink", lambda m: m.nn.Hardshrink(0.3), [(3, 4)]),
    ("Threshold", lambda m: m.nn.Threshold(0.1, -2.0), [(3, 4)]),
    ("PReLU", lambda m: m.nn.PReLU(), [(3, 4)]),
    ("PReLU_channels", lambda m: m.nn.PReLU(4, init=0.1), [(2, 4, 3)]),
    ("GLU", lambda m: m.nn.GLU(), [(3, 4)]),
    ("Softmax", lambda m: m.nn.Softmax(dim=1), [(3, 4)]),
    ("LogSoftmax", lambda m: m.nn.LogSoftmax(dim=-1), [(3, 4)]),
    ("Softmin", lambda m: m.nn.Softmin(dim=0), [(3, 4)]),
    ("Softmax2d", lambda m: m.nn.Softmax2d(), [(2, 3, 2, 2)]),
    ("LayerNorm", lambda m: m.nn.LayerNorm(6), [(4, 6)]),
    ("LayerNorm_2d", lambda m: m.nn.LayerNorm([3, 4]), [(2, 3, 4)]),
    ("LayerNorm_noaffine", lambda m: m.nn.LayerNorm(6, elementwise_affine=False), [(4, 6)]),
    ("LayerNorm_nobias", lambda m: m.nn.LayerNorm(6, bias=False), [(2, 3, 6)]),
    ("GroupNorm", lambda m: m.nn.GroupNorm(2, 4), [(3, 4, 5)]),
    ("GroupNorm_4d", lambda m: m.nn.GroupNorm(3, 6, eps=1e-3), [(2, 6, 3, 2)]),
    ("GroupNorm_noaffine", lambda m: m.nn.GroupNorm(1, 4, affine=False), [(3, 4, 2)]),
    ("RMSNorm", lambda m: m.nn.RMSNorm(6), [(4, 6)]),
    ("RMSNorm_eps", lambda m: m.nn.RMSNorm([2, 3], eps=1e-3), [(4, 2, 3)]),
    ("RMSNorm_noaffine", lambda m: m.nn.RMSNorm(6, elementwise_affine=False), [(4, 6)]),
]


# torch computes some float64 gradients with float32 constants (CELU: 1.0 / alpha.toFloat() in
# derivatives.yaml; hardsigmoid_backward: 1.0f / 6.0f), so they are only float32-accurate.
LOOSE_FLOAT64 = {"CELU": 1e-6, "Hardsigmoid": 1e-6}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,make,specs", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_matches_torch(name: str, make, specs, dtype: str) -> None:
    rtol = LOOSE_FLOAT64.get(name) if dtype == "float64" else None
    compare_module(make, specs, dtype=dtype, rtol=rtol)


BATCHNORM = [
    ("BatchNorm1d_2d", lambda m: m.nn.BatchNorm1d(4), [(8, 4)]),
    ("BatchNorm1d_3d", lambda m: m.nn.BatchNorm1d(4, momentum=0.3), [(5, 4, 3)]),
    ("BatchNorm2d", lambda m: m.nn.BatchNorm2d(3), [(4, 3, 5, 5)]),
    ("BatchNorm2d_noaffine", lambda m: m.nn.BatchNorm2d(3, affine=False), [(4, 3, 2, 2)]),
    ("BatchNorm2d_cma", lambda m: m.nn.BatchNorm2d(3, momentum=None), [(4, 3, 2, 2)]),
    ("BatchNorm2d_nostats", lambda m: m.nn.BatchNorm2d(3, track_running_stats=False),
     [(4, 3, 2, 2)]),
    ("BatchNorm1d_nobias", lambda m: m.nn.BatchNorm1d(4, bias=False), [(8, 4)]),
    ("BatchNorm3d", lambda m: m.nn.BatchNorm3d(2), [(3, 2, 2, 2, 2)]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,make,specs", BATCHNORM, ids=[c[0] for c in BATCHNORM])
def test_batchnorm_train_then_eval(name: str, make, specs, dtype: str) -> None:
    """Three training steps (running stats evolve identically), then evaluation."""
    t_mod, e_mod = compare_module(make, specs, dtype=dtype, train=True, steps=3)
    t_mod.eval()
    e_mod.eval()
    rng = np.random.default_rng(7)
    x = rng.standard_normal(specs[0]).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    ex = ember.tensor(x, requires_grad=True)
    t_out, e_out = t_mod(tx), e_mod(ex)
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-4,
                               atol=1e-5)
    g = rng.standard_normal(t_out.shape).astype(dtype)
    t_out.backward(torch.tensor(g))
    e_out.backward(ember.tensor(g))
    np.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-5)


def test_batchnorm_rejects_single_value_per_channel() -> None:
    bn = ember.nn.BatchNorm1d(3)
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        bn(ember.randn(1, 3))
    bn.eval()
    assert bn(ember.randn(1, 3)).shape == (1, 3)


def test_batchnorm_wrong_input_rank() -> None:
    with pytest.raises(ValueError, match="expected 4D input"):
        ember.nn.BatchNorm2d(3)(ember.randn(2, 3))


EMBEDDINGS = [
    ("Embedding", lambda m: m.nn.Embedding(10, 4)),
    ("Embedding_padding", lambda m: m.nn.Embedding(10, 4, padding_idx=2)),
    ("Embedding_neg_padding", lambda m: m.nn.Embedding(10, 4, padding_idx=-1)),
    ("Embedding_scale_freq", lambda m: m.nn.Embedding(10, 4, scale_grad_by_freq=True)),
]


@pytest.mark.parametrize("name,make", EMBEDDINGS, ids=[c[0] for c in EMBEDDINGS])
def test_embedding(name: str, make) -> None:
    idx = np.array([[1, 2, 9, 2], [0, 2, 5, 1]], dtype=np.int64)
    compare_module(make, [Input(idx.shape, values=idx, grad=False)])


def test_embedding_max_norm_renormalises_like_torch() -> None:
    idx = np.array([1, 3, 3, 7])
    t_mod, e_mod = build_pair(lambda m: m.nn.Embedding(10, 4, max_norm=1.0))
    t_out = t_mod(torch.tensor(idx))
    e_out = e_mod(ember.tensor(idx))
    np.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(e_mod.weight.detach().numpy(), t_mod.weight.detach().numpy(),
                               rtol=1e-5, atol=1e-6)


def test_embedding_padding_row_initialised_to_zero() -> None:
    emb = ember.nn.Embedding(5, 3, padding_idx=1)
    assert np.all(emb.weight.detach().numpy()[1] == 0)
    assert np.any(emb.weight.detach().numpy()[0] != 0)


def test_embedding_out_of_range_index_is_clear() -> None:
    emb = ember.nn.Embedding(5, 3)
    with pytest.raises(IndexError, match="index 5 is out of range.*5 rows"):
        emb(ember.tensor([0, 5]))


def test_embedding_from_pretrained() -> None:
    w = np.random.default_rng(0).standard_normal((4, 3)).astype(np.float32)
    t = torch.nn.Embedding.from_pretrained(torch.tensor(w))
    e = ember.nn.Embedding.from_pretrained(ember.tensor(w))
    assert e.weight.requires_grad == t.weight.requires_grad is False
    np.testing.assert_array_equal(e(ember.tensor([3, 0])).numpy(),
                                  t(torch.tensor([3, 0])).numpy())


# ------------------------------------------------------------------ functional forms
FUNCTIONAL = [
    ("F.linear", lambda m, x, w, b: m.nn.functional.linear(x, w, b), [(4, 5), (3, 5), (3,)]),
    ("F.bilinear", lambda m, x, y, w: m.nn.functional.bilinear(x, y, w), [(4, 2), (4, 3),
                                                                          (5, 2, 3)]),
    ("F.layer_norm", lambda m, x, w, b: m.nn.functional.layer_norm(x, (5,), w, b),
     [(3, 5), (5,), (5,)]),
    ("F.group_norm", lambda m, x, w, b: m.nn.functional.group_norm(x, 2, w, b),
     [(3, 4, 5), (4,), (4,)]),
    ("F.batch_norm_train", lambda m, x, w, b: m.nn.functional.batch_norm(
        x, None, None, w, b, training=True), [(6, 3), (3,), (3,)]),
    ("F.rms_norm", lambda m, x, w: m.nn.functional.rms_norm(x, (5,), w), [(3, 5), (5,)]),
    ("F.normalize", lambda m, x: m.nn.functional.normalize(x, dim=1), [(3, 5)]),
    ("F.normalize_p1", lambda m, x: m.nn.functional.normalize(x, p=1, dim=0), [(3, 5)]),
    ("F.cosine_similarity", lambda m, x, y: m.nn.functional.cosine_similarity(x, y),
     [(3, 5), (3, 5)]),
    ("F.cosine_similarity_bcast", lambda m, x, y: m.nn.functional.cosine_similarity(
        x, y, dim=-1), [(3, 5), (5,)]),
    ("F.pairwise_distance", lambda m, x, y: m.nn.functional.pairwise_distance(x, y),
     [(3, 5), (3, 5)]),
    ("F.pairwise_distance_p1", lambda m, x, y: m.nn.functional.pairwise_distance(
        x, y, p=1, keepdim=True), [(3, 5), (3, 5)]),
    ("F.pdist", lambda m, x: m.nn.functional.pdist(x), [(4, 3)]),
    ("F.cdist", lambda m, x, y: m.cdist(x, y) if hasattr(m, "cdist") else
     m.nn.functional.cdist(x, y), [(4, 3), (5, 3)]),
    ("F.glu", lambda m, x: m.nn.functional.glu(x, 0), [(4, 3)]),
    ("F.prelu", lambda m, x, w: m.nn.functional.prelu(x, w), [(2, 3, 4), (3,)]),
    ("F.local_response_norm", lambda m, x: m.nn.functional.local_response_norm(x, 3),
     [(2, 5, 4)]),
    ("F.hardtanh", lambda m, x: m.nn.functional.hardtanh(x, -0.3, 0.4), [(3, 4)]),
    ("F.relu6", lambda m, x: m.nn.functional.relu6(x * 5), [(3, 4)]),
    ("F.elu_inplace_nonleaf", lambda m, x: m.nn.functional.elu(x * 1, inplace=True), [(3, 4)]),
    ("F.leaky_relu_inplace", lambda m, x: m.nn.functional.leaky_relu(x + 0, 0.1, True),
     [(3, 4)]),
    ("F.silu_inplace", lambda m, x: m.nn.functional.silu(x * 2, inplace=True), [(3, 4)]),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,specs", FUNCTIONAL, ids=[c[0] for c in FUNCTIONAL])
def test_functional_matches_torch(name: str, fn, specs, dtype: str) -> None:
    compare(fn, specs, dtype=dtype)


def test_one_hot() -> None:
    idx = np.array([[0, 3], [2, 1]])
    e = ember.nn.functional.one_hot(ember.tensor(idx), 5)
    t = torch.nn.functional.one_hot(torch.tensor(idx), 5)
    assert e.dtype == ember.int64
    np.testing.assert_array_equal(e.numpy(), t.numpy())
    np.testing.assert_array_equal(ember.nn.functional.one_hot(ember.tensor(idx)).numpy(),
                                  torch.nn.functional.one_hot(torch.tensor(idx)).numpy())


# ------------------------------------------------------------------ dropout
def test_dropout_is_identity_in_eval_and_scales_in_training() -> None:
    ember.manual_seed(0)
    drop = ember.nn.Dropout(0.25)
    x = ember.ones(200, 500, requires_grad=True)
    y = drop(x)
    values = np.unique(y.detach().numpy())
    np.testing.assert_allclose(values, [0.0, 1 / 0.75], rtol=1e-6)
    kept = (y.detach().numpy() != 0).mean()
    assert abs(kept - 0.75) < 0.01
    y.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.detach().numpy())  # same mask, same scale
    drop.eval()
    assert drop(x) is x


def test_dropout2d_drops_whole_channels() -> None:
    ember.manual_seed(1)
    y = ember.nn.Dropout2d(0.5)(ember.ones(8, 16, 3, 3)).numpy()
    per_channel = y.reshape(8, 16, 9)
    assert np.all((per_channel == 0).all(-1) | (per_channel == 2.0).all(-1))
    assert 0.3 < (per_channel[..., 0] == 0).mean() < 0.7


def test_dropout_p_one_and_validation() -> None:
    x = ember.randn(3, 4)
    assert np.all(ember.nn.functional.dropout(x, 1.0).numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        ember.nn.Dropout(1.5)


def test_dropout_is_seeded() -> None:
    ember.manual_seed(3)
    a = ember.nn.functional.dropout(ember.ones(50)).numpy()
    ember.manual_seed(3)
    b = ember.nn.functional.dropout(ember.ones(50)).numpy()
    np.testing.assert_array_equal(a, b)


# ------------------------------------------------------------------ shape errors
def test_linear_input_mismatch_names_the_shapes() -> None:
    layer = ember.nn.Linear(784, 256)
    with pytest.raises(RuntimeError, match=r"linear: input \(32x100\).*in_features=784"):
        layer(ember.randn(32, 100))


def test_layer_norm_shape_error() -> None:
    with pytest.raises(RuntimeError, match=r"normalized_shape=\[5\]"):
        ember.nn.LayerNorm(5)(ember.randn(3, 4))


def test_normalization_grad_fn_names_as_torch():
    names = []
    for lib in (torch, ember):
        f = lib.nn.functional
        x = lib.randn(4, 6, 5, requires_grad=True)
        outs = [f.batch_norm(x, None, None, training=True), f.layer_norm(x, (5,)),
                f.group_norm(x, 2), f.group_norm(x, 2, lib.ones(6), lib.zeros(6)),
                f.instance_norm(x), f.instance_norm(x, lib.zeros(6), lib.ones(6),
                                                    use_input_stats=False)]
        names.append([o.grad_fn.name() for o in outs])
    assert names[1] == names[0]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape,features,bias_shape", [
    ((2048, 128), (128, 512), (512,)),  # GPT's MLP up-projection: the bias joins the product
    ((32, 64, 128), (128, 384), (384,)),  # a 3-D input (qkv)
    ((6, 5), (5, 11), ()),  # a scalar bias (below the size threshold unless lowered)
    ((300, 64), (64, 64), (64,)),  # not twice as wide: bias added afterwards
])
def test_linear_with_the_bias_in_the_product_matches_torch(monkeypatch, dtype, x_shape, features,
                                                          bias_shape) -> None:
    import importlib

    linear_module = importlib.import_module("ember.nn.functional.linear")  # not F.linear
    monkeypatch.setattr(linear_module, "BIAS_IN_PRODUCT_OUTPUTS", 64)
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(s).astype(dtype)
              for s in (x_shape, features[::-1], bias_shape)]
    grad = rng.standard_normal(x_shape[:-1] + (features[1],)).astype(dtype)
    results = []
    for lib in (ember, torch):
        x, w, b = (lib.tensor(a, requires_grad=True) for a in arrays)
        y = lib.nn.functional.linear(x, w, b)
        y.backward(lib.tensor(grad))
        results.append([y.detach().numpy(), x.grad.numpy(), w.grad.numpy(), b.grad.numpy()])
    for ours, theirs in zip(*results, strict=True):  # sums of up to 2048 products
        scale = np.abs(theirs).max()
        atol = scale * (2e-6 if dtype == np.float32 else 1e-14)
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=atol)
    used = linear_module._bias_in_product(arrays[0].reshape(-1, x_shape[-1]), arrays[1],
                                          arrays[2])
    assert used == (features[1] >= 2 * features[0])
