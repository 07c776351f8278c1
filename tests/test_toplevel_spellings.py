"""torch's ATen-level top-level spellings (torch.kl_div, torch.lstm_cell, torch.convolution...),
the legacy typed-tensor classes (torch.FloatTensor...), memory formats (channels_last) and the
process-wide switches, against torch."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from conformance import Input, assert_close, compare

import ember

IDX = Input((4,), values=np.array([1, 0, 1, 1]), grad=False)
SIGNS = Input((4,), values=np.array([1.0, -1.0, 1.0, -1.0], dtype=np.float32), grad=False)
PROBS = Input((3, 4), low=0.05, high=0.95, grad=False)

LOSSES = {
    "kl_div": (lambda m, a, b: m.kl_div(a, b, 1), [(3, 4), PROBS]),
    "kl_div_sum_log_target": (lambda m, a, b: m.kl_div(a, b, 2, log_target=True),
                              [(3, 4), (3, 4)]),
    "bce_with_logits": (lambda m, a, b: m.binary_cross_entropy_with_logits(a, b), [(3, 4), PROBS]),
    "bce_with_logits_weights": (lambda m, a, b, w, pw: m.binary_cross_entropy_with_logits(
        a, b, w, pw, 1), [(3, 4), PROBS, Input((4,), low=0.5, high=1.5, grad=False),
                          Input((4,), low=0.5, high=2.0, grad=False)]),
    "cosine_embedding": (lambda m, a, b, y: m.cosine_embedding_loss(a, b, y, 0.1, 2),
                         [(4, 3), (4, 3), SIGNS]),
    "hinge_embedding": (lambda m, a, y: m.hinge_embedding_loss(a, y, 0.5, 1), [(4,), SIGNS]),
    "margin_ranking": (lambda m, a, b, y: m.margin_ranking_loss(a, b, y, 0.2, 0),
                       [(4,), (4,), SIGNS]),
    "triplet_margin": (lambda m, a, p, n: m.triplet_margin_loss(a, p, n, 1.0, 2.0, 1e-6, True, 1),
                       [(4, 3), (4, 3), (4, 3)]),
    "defaults_unreduced": (lambda m, a, b, y: [
        m.kl_div(a, b), m.binary_cross_entropy_with_logits(a, b),
        m.cosine_embedding_loss(a, b, y[:3]), m.hinge_embedding_loss(a, b),
        m.margin_ranking_loss(a[0], b[0], y), m.triplet_margin_loss(a, b, a * 2),
        m.ctc_loss(a.reshape(3, 1, 4).log_softmax(2), m.tensor([[1]]), [3], [1])],
        [(3, 4), PROBS, SIGNS]),
    "poisson_nll": (lambda m, a, b: m.poisson_nll_loss(a, b, True, True, 1e-8, 1),
                    [(3, 4), Input((3, 4), low=0.0, high=4.0, grad=False)]),
    "poisson_nll_rates": (lambda m, a, b: m.poisson_nll_loss(a, b, False, False, 1e-8, 2),
                          [Input((3, 4), low=0.1, high=3.0), Input((3, 4), low=0, high=4,
                                                                   grad=False)]),
}

LAYERS = {
    "threshold": (lambda m, a: m.threshold(a, 0.3, -1.0), [(3, 4)]),
    "rms_norm": (lambda m, a, w: m.rms_norm(a, (4,), w, 1e-6), [(3, 4), (4,)]),
    "rms_norm_default_eps": (lambda m, a: m.rms_norm(a, [3, 4]), [(2, 3, 4)]),
    "constant_pad_nd": (lambda m, a: m.constant_pad_nd(a, (1, 2, 0, 1), 0.5), [(2, 3, 4)]),
    "constant_pad_nd_negative": (lambda m, a: m.constant_pad_nd(a, (-1, 1)), [(2, 5)]),
    "convolution_2d": (lambda m, x, w, b: m.convolution(x, w, b, [2, 1], [1, 0], [1, 1], False,
                                                        [0, 0], 1), [(2, 4, 6, 5), (6, 4, 3, 2),
                                                                     (6,)]),
    "convolution_1d_groups": (lambda m, x, w: m.convolution(x, w, None, [1], [1], [2], False, [0],
                                                            2), [(2, 4, 7), (4, 2, 3)]),
    "convolution_transposed": (lambda m, x, w: m.convolution(x, w, None, [2, 2], [1, 1], [1, 1],
                                                             True, [1, 0], 1),
                               [(1, 3, 4, 4), (3, 2, 3, 3)]),
    "convolution_3d": (lambda m, x, w: m.convolution(x, w, None, [1, 1, 1], [0, 0, 0],
                                                     [1, 1, 1], False, [0, 0, 0], 1),
                       [(1, 2, 3, 4, 4), (3, 2, 2, 2, 2)]),
    "grid_sampler_bilinear_border": (lambda m, x, g: m.grid_sampler(x, g, 0, 1, False),
                                     [(1, 2, 4, 5), Input((1, 3, 3, 2), low=-1.1, high=1.1)]),
    "grid_sampler_nearest_zeros": (lambda m, x, g: m.grid_sampler(x, g, 1, 0, True),
                                   [(1, 2, 4, 5), Input((1, 3, 3, 2), low=-0.9, high=0.9,
                                                        grad=False)]),
    "affine_grid_generator": (lambda m, t: m.affine_grid_generator(t, [2, 3, 4, 5], False),
                              [(2, 2, 3)]),
    "max_pool1d_with_indices": (lambda m, x: m.max_pool1d_with_indices(x, [2], [2]),
                                [(2, 3, 8)]),
    "lstm_cell": (lambda m, x, h, c, wi, wh, bi, bh: m.lstm_cell(x, [h, c], wi, wh, bi, bh),
                  [(3, 4), (3, 5), (3, 5), (20, 4), (20, 5), (20,), (20,)]),
    "gru_cell": (lambda m, x, h, wi, wh, bi, bh: m.gru_cell(x, h, wi, wh, bi, bh),
                 [(3, 4), (3, 5), (15, 4), (15, 5), (15,), (15,)]),
    "gru_cell_no_bias": (lambda m, x, h, wi, wh: m.gru_cell(x, h, wi, wh),
                         [(3, 4), (3, 5), (15, 4), (15, 5)]),
    "rnn_tanh_cell": (lambda m, x, h, wi, wh, bi, bh: m.rnn_tanh_cell(x, h, wi, wh, bi, bh),
                      [(3, 4), (3, 5), (5, 4), (5, 5), (5,), (5,)]),
    "rnn_relu_cell": (lambda m, x, h, wi, wh: m.rnn_relu_cell(x, h, wi, wh),
                      [(3, 4), (3, 5), (5, 4), (5, 5)]),
}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_loss_spellings_match_torch(name) -> None:
    fn, specs = LOSSES[name]
    compare(fn, specs, dtype="float64")


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_layer_spellings_match_torch(name) -> None:
    fn, specs = LAYERS[name]
    compare(fn, specs, dtype="float64")


def test_ctc_loss_spelling_matches_torch() -> None:
    rng = np.random.default_rng(0)
    logits = rng.standard_normal((6, 2, 4))
    targets = np.array([[1, 2, 1], [3, 1, 0]])
    out = {}
    for lib in (torch, ember):
        x = lib.tensor(logits, requires_grad=True)
        loss = lib.ctc_loss(x.log_softmax(2), lib.tensor(targets), [6, 5], [3, 2], 0, 1, False)
        loss.backward()
        out[lib.__name__] = (loss, x.grad)
    assert_close(out["ember"][0], out["torch"][0], 1e-9, 1e-10, "ctc loss")
    assert_close(out["ember"][1], out["torch"][1], 1e-9, 1e-10, "ctc gradient")


def test_reduction_enum_is_checked() -> None:
    with pytest.raises(ValueError, match="reduction must be 0"):
        ember.kl_div(ember.zeros(2), ember.zeros(2), 5)
    assert_close(ember.hinge_embedding_loss(ember.ones(3), ember.ones(3), 1.0, "sum"),
                 torch.hinge_embedding_loss(torch.ones(3), torch.ones(3), 1.0, 2), 0, 0,
                 "string reductions accepted")


@pytest.mark.parametrize("name,args", [("selu_", ()), ("celu_", (0.7,)), ("threshold_", (0.1, 2.0)),
                                       ("rrelu_", (0.1, 0.3, False))])
def test_in_place_activations_match_torch(name, args) -> None:
    x = np.random.default_rng(1).standard_normal((3, 4)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    assert getattr(ember, name)(e, *args) is e
    getattr(torch, name)(t, *args)
    assert_close(e, t, 1e-6, 1e-6, name)


def test_dropout_spellings_follow_torchs_rules() -> None:
    x = ember.ones(4, 6, 5, 5)
    assert ember.dropout_(x.clone(), 0.5, False).eq(1).all()
    y = ember.feature_dropout(x, 0.5, True)  # whole channels: each (n, c) map is 0 or 2
    per_channel = y.reshape(4, 6, -1)
    assert ((per_channel.amax(2) == per_channel.amin(2))).all()
    assert set(np.unique(y.numpy()).tolist()) <= {0.0, 2.0}
    z = ember.ones(3, 4, 7)  # 3-D: still whole channels
    w = ember.feature_dropout(z, 0.5, True).reshape(3, 4, -1)
    assert (w.amax(2) == w.amin(2)).all()
    v = ember.ones(8, 8)
    assert ember.feature_dropout_(v, 0.5, True) is v
    a = ember.randn(50, 50)
    ember.manual_seed(0)
    out = ember.alpha_dropout_(a, 0.3, True)
    assert out is a
    with pytest.raises(RuntimeError, match="at least 2 dims"):
        ember.feature_dropout(ember.ones(5), 0.5, True)


def test_embedding_renorm_matches_torch() -> None:
    w = np.random.default_rng(2).standard_normal((6, 3)).astype(np.float32) * 2
    e, t = ember.tensor(w), torch.tensor(w)
    idx = [0, 2, 2, 5]
    ember.embedding_renorm_(e, ember.tensor(idx), 1.0, 2.0)
    torch.embedding_renorm_(t, torch.tensor(idx), 1.0, 2.0)
    assert_close(e, t, 1e-6, 1e-6, "embedding_renorm_")


def test_cell_spelling_errors_name_the_op() -> None:
    with pytest.raises(RuntimeError, match="lstm_cell: hx must be"):
        ember.lstm_cell(ember.zeros(2, 3), [ember.zeros(2, 4)], ember.zeros(16, 3),
                        ember.zeros(16, 4))
    with pytest.raises(RuntimeError, match="gru_cell: input has inconsistent input_size"):
        ember.gru_cell(ember.zeros(2, 5), ember.zeros(2, 4), ember.zeros(12, 3),
                       ember.zeros(12, 4))
    with pytest.raises(RuntimeError, match="torch.convolution: expected a weight"):
        ember.convolution(ember.zeros(1, 1, 3), ember.zeros(3), None, [1], [0], [1], False,
                          [0], 1)


# ------------------------------------------------------------------ other top-level functions
def test_qr_unsafe_split_and_predicates_match_torch() -> None:
    a = np.random.default_rng(3).standard_normal((5, 3))
    for some in (True, False):
        e, t = ember.qr(ember.tensor(a), some), torch.qr(torch.tensor(a), some)
        assert_close(e.Q, t.Q, 1e-10, 1e-10, "Q")
        assert_close(e.R, t.R, 1e-10, 1e-10, "R")
    x = np.arange(10.0)
    for e, t in zip(ember.unsafe_chunk(ember.tensor(x), 3), torch.unsafe_chunk(torch.tensor(x), 3)):
        assert_close(e, t, 0, 0, "unsafe_chunk")
    for e, t in zip(ember.unsafe_split(ember.tensor(x), 4), torch.unsafe_split(torch.tensor(x), 4)):
        assert_close(e, t, 0, 0, "unsafe_split")
    for e, t in zip(ember.unsafe_split_with_sizes(ember.tensor(x), [2, 8]),
                    torch.unsafe_split_with_sizes(torch.tensor(x), [2, 8])):
        assert_close(e, t, 0, 0, "unsafe_split_with_sizes")
    for lib in (ember, torch):
        z = lib.zeros(2)
        assert lib.get_device(z) == -1
        assert lib.is_neg(z) is False
        assert lib.is_inference(z) is False  # (Ember has no inference-tensor kind: README)
    assert ember.newaxis is None and ember.zeros(3)[:, ember.newaxis].shape == (3, 1)


@pytest.mark.parametrize("kwargs", [{"bins": 3}, {"bins": [2, 3]},
                                    {"bins": 2, "range": [-1.0, 1.0, -2.0, 2.0]},
                                    {"bins": 3, "density": True}, {"bins": 2, "weight": True}])
def test_histogramdd_matches_torch(kwargs) -> None:
    rng = np.random.default_rng(4)
    pts = rng.standard_normal((30, 2)).astype(np.float32)
    w = rng.uniform(0, 1, 30).astype(np.float32)
    e_kw, t_kw = dict(kwargs), dict(kwargs)
    if kwargs.get("weight"):
        e_kw["weight"], t_kw["weight"] = ember.tensor(w), torch.tensor(w)
    e = ember.histogramdd(ember.tensor(pts), **e_kw)
    t = torch.histogramdd(torch.tensor(pts), **t_kw)
    assert_close(e.hist, t.hist, 1e-5, 1e-6, "hist")
    assert len(e.bin_edges) == len(t.bin_edges)
    for a, b in zip(e.bin_edges, t.bin_edges):
        assert_close(a, b, 1e-6, 1e-6, "bin_edges")


def test_empty_permuted_and_cond_match_torch() -> None:
    for order in ((0, 2, 3, 1), (1, 0, 2, 3), (3, 2, 1, 0)):
        e = ember.empty_permuted((2, 3, 4, 5), order)
        t = torch.empty_permuted((2, 3, 4, 5), order)
        assert e.shape == t.shape and e.stride() == t.stride(), order
    with pytest.raises(RuntimeError, match="permutation"):
        ember.empty_permuted((2, 3), (0, 0))
    x = ember.tensor([1.0, 2.0])
    for pred in (True, ember.tensor(False)):
        e = ember.cond(pred, lambda a: a * 2, lambda a: a - 1, (x,))
        t = torch.cond(torch.tensor(bool(pred)), lambda a: a * 2, lambda a: a - 1,
                       (torch.tensor([1.0, 2.0]),))
        assert_close(e, t, 0, 0, "cond")


def test_runtime_switches_round_trip_like_torch() -> None:
    try:
        for mode in ("warn", 2, "default", 1, 0):
            ember.set_deterministic_debug_mode(mode)
            torch.set_deterministic_debug_mode(mode)
            assert ember.get_deterministic_debug_mode() == torch.get_deterministic_debug_mode()
            assert (ember.are_deterministic_algorithms_enabled()
                    == torch.are_deterministic_algorithms_enabled())
        with pytest.raises(RuntimeError, match="debug_mode"):
            ember.set_deterministic_debug_mode("loud")
    finally:
        ember.set_deterministic_debug_mode(0)
        torch.set_deterministic_debug_mode(0)
    ember.set_warn_always(True)
    assert ember.is_warn_always_enabled()
    ember.set_warn_always(False)
    assert not ember.is_warn_always_enabled()
    assert isinstance(ember.set_flush_denormal(False), bool)
    ember.init_num_threads()
    # the check_nan flag is its own setting, on by default (torch's answer too)
    assert ember.is_anomaly_check_nan_enabled() == torch.is_anomaly_check_nan_enabled()
    ember.set_anomaly_enabled(True)
    try:
        assert ember.is_anomaly_enabled() and ember.is_anomaly_check_nan_enabled()
    finally:
        ember.set_anomaly_enabled(False)
    assert not ember.is_anomaly_enabled()
    assert ember.GradScaler is ember.amp.GradScaler


# ------------------------------------------------------------------ legacy typed tensors
@pytest.mark.parametrize("name", ["FloatTensor", "DoubleTensor", "HalfTensor", "LongTensor",
                                  "IntTensor", "ShortTensor", "CharTensor", "ByteTensor",
                                  "BoolTensor"])
def test_legacy_tensor_types_match_torch(name) -> None:
    E, T = getattr(ember, name), getattr(torch, name)
    data = [[1, 0], [3, 1]]
    e, t = E(data), T(data)
    assert_close(e, t, 0, 0, name)
    assert E(2, 3).shape == T(2, 3).shape and E(2, 3).dtype.name == str(T(2, 3).dtype)[6:]
    assert E().shape == T().shape == (0,)
    assert isinstance(e, E) and isinstance(t, T)
    other = ember.DoubleTensor if name != "DoubleTensor" else ember.FloatTensor
    assert not isinstance(e, other)
    assert not isinstance(e, getattr(ember.cuda, name))
    assert not isinstance(np.zeros(2), E)
    cast = ember.tensor([1.5, -2.0]).type(E)
    assert_close(cast, torch.tensor([1.5, -2.0]).type(T), 0, 0, f"type({name})")
    assert_close(ember.tensor([1.5, -2.0]).type(f"torch.{name}"),
                 torch.tensor([1.5, -2.0]).type(f"torch.{name}"), 0, 0, "type(str)")
    assert E(e) is not e and E(e).dtype is e.dtype  # same type: an alias of the data
    assert repr(E) == f"<class 'ember.{name}'>"


def test_legacy_tensor_type_errors() -> None:
    with pytest.raises(TypeError, match="expected ember.float32"):
        ember.FloatTensor(ember.zeros(2, dtype=ember.int64))
    with pytest.raises(TypeError, match="takes sizes"):
        ember.FloatTensor(2, 2.5)
    with pytest.raises(ValueError, match="invalid type"):
        ember.zeros(2).type("torch.QuaternionTensor")


def test_set_default_tensor_type_warns_and_sets_the_default_dtype() -> None:
    try:
        with pytest.warns(UserWarning, match="deprecated"):
            ember.set_default_tensor_type(ember.DoubleTensor)
        assert ember.get_default_dtype() is ember.float64 and ember.zeros(1).dtype is ember.float64
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ember.set_default_tensor_type("torch.FloatTensor")
            assert ember.get_default_dtype() is ember.float32
            with pytest.raises(TypeError, match="floating-point"):
                ember.set_default_tensor_type(ember.LongTensor)
    finally:
        ember.set_default_dtype(ember.float32)


# ------------------------------------------------------------------ memory formats
def test_channels_last_layouts_match_torch() -> None:
    x = np.random.default_rng(5).standard_normal((2, 3, 4, 5)).astype(np.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    ec = e.contiguous(memory_format=ember.channels_last)
    tc = t.contiguous(memory_format=torch.channels_last)
    assert ec.stride() == tc.stride()
    assert_close(ec, tc, 0, 0, "values")
    for fmt in ("contiguous_format", "channels_last"):
        assert ec.is_contiguous(memory_format=getattr(ember, fmt)) \
            == tc.is_contiguous(memory_format=getattr(torch, fmt))
        assert e.is_contiguous(memory_format=getattr(ember, fmt)) \
            == t.is_contiguous(memory_format=getattr(torch, fmt))
    assert ec.clone().stride() == tc.clone().stride()  # preserve_format keeps channels-last
    assert ec.clone(memory_format=ember.contiguous_format).stride() \
        == tc.clone(memory_format=torch.contiguous_format).stride()
    assert e.to(memory_format=ember.channels_last).stride() \
        == t.to(memory_format=torch.channels_last).stride()
    assert ember.empty(2, 3, 4, 5, memory_format=ember.channels_last).stride() \
        == torch.empty(2, 3, 4, 5, memory_format=torch.channels_last).stride()
    assert ember.zeros_like(e, memory_format=ember.channels_last).stride() \
        == torch.zeros_like(t, memory_format=torch.channels_last).stride()
    assert ember.zeros_like(ec).stride() == torch.zeros_like(tc).stride()
    v = np.random.default_rng(6).standard_normal((1, 2, 3, 4, 5)).astype(np.float32)
    assert ember.tensor(v).contiguous(memory_format=ember.channels_last_3d).stride() \
        == torch.tensor(v).contiguous(memory_format=torch.channels_last_3d).stride()
    assert repr(ember.channels_last) == "ember.channels_last"


def test_channels_last_gradients_and_conv_match_torch() -> None:
    compare(lambda m, x, w: m.nn.functional.conv2d(
        x.contiguous(memory_format=m.channels_last), w, padding=1) * 2,
        [(2, 3, 5, 5), (4, 3, 3, 3)], dtype="float64")
    compare(lambda m, x: x.to(memory_format=m.channels_last).clone().sum(1),
            [(2, 3, 4, 4)], dtype="float64")


def test_module_to_channels_last_matches_torch() -> None:
    ember.manual_seed(0)
    em = ember.nn.Sequential(ember.nn.Conv2d(3, 4, 3), ember.nn.BatchNorm2d(4))
    tm = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    tm.load_state_dict({k: torch.tensor(v.numpy()) for k, v in em.state_dict().items()})
    assert em.to(memory_format=ember.channels_last) is em
    tm.to(memory_format=torch.channels_last)
    assert em[0].weight.stride() == tm[0].weight.stride()
    assert em[0].bias.stride() == tm[0].bias.stride()
    x = np.random.default_rng(7).standard_normal((2, 3, 6, 6)).astype(np.float32)
    assert_close(em(ember.tensor(x)), tm(torch.tensor(x)), 1e-4, 1e-5, "forward")


def test_memory_format_errors_match_torch() -> None:
    for lib in (ember, torch):
        with pytest.raises(RuntimeError, match="required rank 4 tensor"):
            lib.zeros(2, 3, 4).contiguous(memory_format=lib.channels_last)
    for make in (lambda m: m.zeros(2, 3, 4, 5),
                 lambda m: m.zeros(2, 3, 4, 5).contiguous(memory_format=m.channels_last),
                 lambda m: m.zeros(2, 3, 4, 5).transpose(1, 2)):
        e, t = make(ember), make(torch)
        if t.is_contiguous():
            assert e.contiguous(memory_format=ember.preserve_format) is e
        else:
            with pytest.raises(RuntimeError, match="preserve memory format is unsupported"):
                e.contiguous(memory_format=ember.preserve_format)
        assert e.is_contiguous(memory_format=ember.preserve_format) \
            == t.is_contiguous(memory_format=torch.preserve_format)
    with pytest.raises(TypeError, match="memory_format must be"):
        ember.zeros(2, 3, 4, 5).contiguous(memory_format="channels_last")
