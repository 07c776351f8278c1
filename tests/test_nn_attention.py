"""scaled_dot_product_attention and MultiheadAttention against torch: outputs and gradients of
query, key, value (and float masks) for bool/float/broadcast masks, is_causal, scale, GQA,
unequal lengths, fully masked rows; double backward; dropout's semantics; what is saved for
backward (P only, never the scores). MultiheadAttention with torch's weights copied in, over
its options and masks. These comparisons take torch's regular MHA path (parameters require
grad); the one no_grad eval test names the fast path it compares with."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conformance import Input, assert_close, compare
from nn_helpers import compare_module

import ember
import ember.nn.functional.attention as attention_module

I = Input  # noqa: E741


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # torch is slow with 2 threads on a busy 2-core machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(params=["one block", "row blocks"])
def blocks(request, monkeypatch):
    """Run each case whole and split into blocks of one query row each."""
    if request.param == "row blocks":
        monkeypatch.setattr(attention_module, "BLOCK_ELEMENTS", 1)
    return request.param


def _sdpa(**kw):
    def fn(m, q, k, v, *mask):
        return m.nn.functional.scaled_dot_product_attention(
            q, k, v, attn_mask=mask[0] if mask else None, **kw)
    return fn


def _bool_mask(shape, seed=0, full_row=False):
    mask = np.random.default_rng(seed).random(shape) < 0.6
    mask[..., 0] |= ~mask.any(-1)  # every row keeps a key ...
    if full_row:
        mask[..., 1, :] = False  # ... except row 1, which has none
    return I(shape, values=mask, grad=False)


def _float_mask(shape, dtype, seed=0, neg_inf=False):
    mask = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    if neg_inf:
        mask[..., 0, 1:] = -np.inf  # row 0 sees only key 0
        mask[..., 2, :] = -np.inf  # row 2 sees nothing: zeros, as in torch
    return I(shape, values=mask, grad=not neg_inf)


QKV = [(2, 3, 5, 8), (2, 3, 7, 8), (2, 3, 7, 6)]  # L=5 queries, S=7 keys, Ev=6


def sdpa_cases(dtype):
    return {
        "plain": ([*QKV], {}),
        "square": ([(2, 3, 6, 4)] * 3, {}),
        "scale": ([*QKV], dict(scale=0.3)),
        "causal square": ([(2, 2, 6, 4)] * 3, dict(is_causal=True)),
        "causal L<S": ([*QKV], dict(is_causal=True)),
        "causal L>S": ([(2, 3, 7, 8), (2, 3, 5, 8), (2, 3, 5, 6)], dict(is_causal=True)),
        "bool mask (L,S)": ([*QKV, _bool_mask((5, 7))], {}),
        "bool mask (B,1,L,S)": ([*QKV, _bool_mask((2, 1, 5, 7))], {}),
        "bool mask (B,H,1,S)": ([*QKV, _bool_mask((2, 3, 1, 7))], {}),
        "bool mask, empty row": ([*QKV, _bool_mask((2, 3, 5, 7), full_row=True)], {}),
        "float mask (L,S)": ([*QKV, _float_mask((5, 7), dtype)], {}),
        "float mask (B,H,L,S)": ([*QKV, _float_mask((2, 3, 5, 7), dtype)], {}),
        "float mask (S,)": ([*QKV, _float_mask((7,), dtype)], {}),
        "float mask -inf": ([*QKV, _float_mask((2, 1, 5, 7), dtype, neg_inf=True)], {}),
        "float mask, scale": ([*QKV, _float_mask((5, 7), dtype)], dict(scale=2.0)),
        "unbatched": ([(5, 8), (7, 8), (7, 6)], dict(is_causal=True)),
        "3-D": ([(3, 5, 8), (3, 7, 8), (3, 7, 8)], {}),
        "broadcast batch": ([(2, 3, 5, 8), (1, 3, 7, 8), (2, 1, 7, 6)], {}),
        "gqa": ([(2, 6, 5, 8), (2, 2, 7, 8), (2, 2, 7, 6)], dict(enable_gqa=True)),
        "gqa causal": ([(1, 4, 6, 4), (1, 1, 6, 4), (1, 1, 6, 4)],
                       dict(enable_gqa=True, is_causal=True)),
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("case", list(sdpa_cases("float32")))
def test_sdpa_matches_torch(case, dtype, blocks):
    specs, kw = sdpa_cases(dtype)[case]
    compare(_sdpa(**kw), specs, dtype=dtype)


SMALL = [(1, 2, 3, 2), (1, 2, 4, 2), (1, 2, 4, 3)]  # float64 numerical checks stay quick
SMALL_CASES = {
    "plain": (SMALL, {}),
    "causal L<S": (SMALL, dict(is_causal=True)),
    "causal L>S": ([(1, 2, 4, 2), (1, 2, 3, 2), (1, 2, 3, 3)], dict(is_causal=True, scale=0.7)),
    "float mask": ([*SMALL, (1, 2, 3, 4)], {}),
    "bool mask, empty row": ([*SMALL, _bool_mask((2, 3, 4), full_row=True)], {}),
    "float mask -inf": ([*SMALL, _float_mask((2, 3, 4), "float64", neg_inf=True)], {}),
    "gqa": ([(1, 4, 3, 2), (1, 2, 4, 2), (1, 2, 4, 3)], dict(enable_gqa=True)),
    "dropout, causal": (SMALL, dict(dropout_p=0.4, is_causal=True)),
}


def _small_inputs(case):
    specs, kw = SMALL_CASES[case]
    tensors = []
    for i, spec in enumerate(specs):
        if isinstance(spec, Input):
            tensors.append(ember.tensor(spec.values))
        else:
            values = np.random.default_rng(i).uniform(-1, 1, spec)
            tensors.append(ember.tensor(values).requires_grad_())

    def fn(*xs):
        ember.manual_seed(3)  # the same dropout mask on every call
        return _sdpa(**kw)(ember, *xs)
    return fn, tuple(tensors)


@pytest.mark.parametrize("case", list(SMALL_CASES))
def test_sdpa_gradcheck(case, blocks):
    fn, inputs = _small_inputs(case)
    assert ember.autograd.gradcheck(fn, inputs)


@pytest.mark.parametrize("case", list(SMALL_CASES))
def test_sdpa_gradgradcheck(case):
    """Double backward rebuilds the op from Tensor ops: its first derivatives must equal the
    fused backward's, and its second ones the numerical derivatives of those."""
    fn, inputs = _small_inputs(case)
    wanted = [x for x in inputs if x.requires_grad]
    out = fn(*inputs)
    grad = ember.tensor(np.random.default_rng(9).uniform(-1, 1, tuple(out.shape)))
    fused = ember.autograd.grad(out, wanted, grad)
    composite = ember.autograd.grad(fn(*inputs), wanted, grad, create_graph=True)
    for i, (f, c) in enumerate(zip(fused, composite, strict=True)):
        assert_close(c, f, 1e-10, 1e-12, f"create_graph gradient {i}")
    assert ember.autograd.gradgradcheck(fn, inputs)


def test_sdpa_dropout_drops_weights_and_scales_the_rest(blocks):
    """With V = identity the output is the (dropped) weight matrix itself."""
    rng = np.random.default_rng(0)
    q = ember.tensor(rng.normal(size=(4, 2, 20, 8)))
    k = ember.tensor(rng.normal(size=(4, 2, 30, 8)))
    eye = ember.eye(30, dtype=ember.float64).expand(4, 2, 30, 30)
    weights = ember.nn.functional.scaled_dot_product_attention(q, k, eye).numpy()
    ember.manual_seed(1)
    dropped = ember.nn.functional.scaled_dot_product_attention(q, k, eye, dropout_p=0.3).numpy()
    kept = dropped != 0
    assert 0.25 < 1 - kept.mean() < 0.35
    np.testing.assert_allclose(dropped[kept], weights[kept] / 0.7, rtol=1e-12)
    ember.manual_seed(1)  # same seed, same mask
    again = ember.nn.functional.scaled_dot_product_attention(q, k, eye, dropout_p=0.3).numpy()
    np.testing.assert_array_equal(again, dropped)
    everything = ember.nn.functional.scaled_dot_product_attention(q, k, eye, dropout_p=1.0)
    assert not everything.numpy().any()


def test_sdpa_dropout_gradient_matches_explicit_formula():
    """The fused backward with dropout equals autograd through softmax * mask / (1 - p) @ V."""
    rng = np.random.default_rng(0)
    arrays = [rng.normal(size=(2, 3, 6, 5)) for _ in range(3)]
    eye = ember.eye(6, dtype=ember.float64).expand(2, 3, 6, 6)
    q0, k0 = ember.tensor(arrays[0]), ember.tensor(arrays[1])
    ember.manual_seed(7)
    keep = ember.nn.functional.scaled_dot_product_attention(q0, k0, eye, dropout_p=0.4,
                                                            is_causal=True).numpy() != 0
    q, k, v = (ember.tensor(a).requires_grad_() for a in arrays)
    ember.manual_seed(7)
    out = ember.nn.functional.scaled_dot_product_attention(q, k, v, dropout_p=0.4,
                                                           is_causal=True)
    out.sum().backward()
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in arrays)
    causal = torch.ones(6, 6, dtype=torch.bool).tril()
    scores = (tq @ tk.transpose(-2, -1) / np.sqrt(5)).masked_fill(~causal, -torch.inf)
    expected = (scores.softmax(-1) * torch.tensor(keep) / 0.6) @ tv
    expected.sum().backward()
    assert_close(out, expected, 1e-10, 1e-12, "output")
    for e, t, name in ((q, tq, "q"), (k, tk, "k"), (v, tv, "v")):
        assert_close(e.grad, t.grad, 1e-10, 1e-12, f"{name}.grad")


def test_sdpa_saves_probabilities_not_scores():
    """Backward keeps P (causal: only the blocks at or below the diagonal), never the scores."""
    b, h, t, d = 2, 2, 64, 8
    q, k, v = (ember.randn(b, h, t, d, requires_grad=True) for _ in range(3))
    out = ember.nn.functional.scaled_dot_product_attention(q, k, v)
    saved = [a for a in out.grad_fn.saved if a is not None]
    probs = [a for group in saved if isinstance(group, tuple) for a in group]
    np.testing.assert_allclose(np.concatenate(probs, -2).sum(-1), 1, rtol=1e-5)
    full = b * h * t * t * 4
    others = sum(a.nbytes for a in saved if not isinstance(a, tuple))
    assert sum(p.nbytes for p in probs) == full and others <= 4 * b * h * t * d * 4
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(attention_module, "BLOCK_ELEMENTS", b * h * t * 8)  # 8 query rows
        out = ember.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True)
    probs = next(a for a in out.grad_fn.saved if isinstance(a, tuple))
    assert sum(p.nbytes for p in probs) == full * 9 // 16  # blocks 1..8 of 8: 36/64


def test_sdpa_errors():
    q = ember.randn(1, 2, 3, 4)
    with pytest.raises(RuntimeError, match="attn_mask should not be set when is_causal"):
        ember.nn.functional.scaled_dot_product_attention(
            q, q, q, attn_mask=ember.ones(3, 3, dtype=ember.bool), is_causal=True)
    with pytest.raises(RuntimeError, match="same dtype"):
        ember.nn.functional.scaled_dot_product_attention(q, q.double(), q)
    with pytest.raises(RuntimeError, match="attn_mask dtype"):
        ember.nn.functional.scaled_dot_product_attention(q, q, q,
                                                         attn_mask=ember.zeros(3, 3).long())
    with pytest.raises(RuntimeError, match="multiple of the key/value heads"):
        k = ember.randn(1, 3, 3, 4)
        ember.nn.functional.scaled_dot_product_attention(ember.randn(1, 4, 3, 4), k, k,
                                                         enable_gqa=True)


# --- MultiheadAttention ---------------------------------------------------------------------


def _mha(**kw):
    return lambda m: m.nn.MultiheadAttention(8, 2, **kw)


def _self_attention(**call_kw):
    return lambda mod, x, *masks: mod(x, x, x, **_masks(call_kw, masks))


def _cross_attention(**call_kw):
    return lambda mod, q, k, v, *masks: mod(q, k, v, **_masks(call_kw, masks))


def _masks(call_kw, masks):
    """Call kwargs whose values are mask names ('key_padding_mask': 0) take masks[0]."""
    return {name: masks[value] if name.endswith("mask") else value
            for name, value in call_kw.items()}


def _kpm(shape, dtype=None, seed=1):
    values = np.random.default_rng(seed).random(shape) < 0.3
    values[..., 0] = False  # no sample loses every key
    if dtype is not None:
        values = np.where(values, -np.inf, 0.0).astype(dtype)
        values[..., 1] = -0.5  # an ordinary additive value as well
    return I(shape, values=values, grad=False)


def _attn_mask(shape, dtype=None, seed=2):
    values = np.random.default_rng(seed).random(shape) < 0.3
    values[..., 0] = False
    if dtype is not None:
        values = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return I(shape, values=values, grad=False)


MHA_CASES = {
    "self": (_mha(), _self_attention(), [(5, 3, 8)]),
    "self, batch_first": (_mha(batch_first=True), _self_attention(), [(3, 5, 8)]),
    "cross": (_mha(), _cross_attention(), [(4, 3, 8), (6, 3, 8), (6, 3, 8)]),
    "cross, batch_first": (_mha(batch_first=True), _cross_attention(),
                           [(3, 4, 8), (3, 6, 8), (3, 6, 8)]),
    "kdim/vdim": (_mha(kdim=5, vdim=3), _cross_attention(), [(4, 3, 8), (6, 3, 5), (6, 3, 3)]),
    "kdim/vdim, no bias": (_mha(kdim=5, vdim=3, bias=False), _cross_attention(),
                           [(4, 3, 8), (6, 3, 5), (6, 3, 3)]),
    "bias=False": (_mha(bias=False), _self_attention(), [(5, 3, 8)]),
    "add_bias_kv": (_mha(add_bias_kv=True), _cross_attention(key_padding_mask=0),
                    [(4, 3, 8), (6, 3, 8), (6, 3, 8), _kpm((3, 6))]),
    "add_zero_attn": (_mha(add_zero_attn=True), _self_attention(attn_mask=0),
                      [(5, 3, 8), _attn_mask((5, 5))]),
    "bias_kv + zero_attn + masks": (
        _mha(add_bias_kv=True, add_zero_attn=True),
        _self_attention(attn_mask=0, key_padding_mask=1),
        [(5, 3, 8), _attn_mask((6, 5, 5)), _kpm((3, 5))]),
    "kpm bool": (_mha(), _self_attention(key_padding_mask=0), [(5, 3, 8), _kpm((3, 5))]),
    "kpm float": (_mha(batch_first=True), _self_attention(key_padding_mask=0),
                  [(3, 5, 8), _kpm((3, 5), "float32")]),
    "attn_mask 2-D bool": (_mha(), _self_attention(attn_mask=0),
                           [(5, 3, 8), _attn_mask((5, 5))]),
    "attn_mask 2-D float": (_mha(), _cross_attention(attn_mask=0),
                            [(4, 3, 8), (6, 3, 8), (6, 3, 8), _attn_mask((4, 6), "float32")]),
    "attn_mask 3-D bool": (_mha(batch_first=True), _self_attention(attn_mask=0),
                           [(3, 5, 8), _attn_mask((6, 5, 5))]),
    "attn_mask 3-D float + kpm": (_mha(), _self_attention(attn_mask=0, key_padding_mask=1),
                                  [(5, 3, 8), _attn_mask((6, 5, 5), "float32"),
                                   _kpm((3, 5), "float32")]),
    "need_weights=False": (_mha(), _self_attention(attn_mask=0, need_weights=False),
                           [(5, 3, 8), _attn_mask((5, 5))]),
    "need_weights=False, kpm": (_mha(batch_first=True),
                                _self_attention(key_padding_mask=0, need_weights=False),
                                [(3, 5, 8), _kpm((3, 5))]),
    "per-head weights": (_mha(), _self_attention(key_padding_mask=0,
                                                 average_attn_weights=False),
                         [(5, 3, 8), _kpm((3, 5))]),
    "unbatched": (_mha(), _cross_attention(key_padding_mask=0, attn_mask=1),
                  [(4, 8), (6, 8), (6, 8), _kpm((6,)), _attn_mask((2, 4, 6))]),
    "unbatched, batch_first ignored": (_mha(batch_first=True), _self_attention(), [(5, 8)]),
    "is_causal hint, fused": (
        _mha(), _self_attention(attn_mask=0, is_causal=True, need_weights=False),
        [(5, 3, 8), I((5, 5), values=np.triu(np.ones((5, 5), bool), 1), grad=False)]),
    "is_causal hint, weights": (
        _mha(), _self_attention(attn_mask=0, is_causal=True),
        [(5, 3, 8), I((5, 5), values=np.triu(np.ones((5, 5), bool), 1), grad=False)]),
}


@pytest.mark.parametrize("case", list(MHA_CASES))
def test_multihead_attention_matches_torch(case):
    make, call, specs = MHA_CASES[case]
    compare_module(make, specs, call=call)


@pytest.mark.parametrize("case", ["cross", "kdim/vdim", "attn_mask 3-D float + kpm",
                                  "need_weights=False, kpm"])
def test_multihead_attention_float64(case):
    make, call, specs = MHA_CASES[case]
    specs = [I(s.shape, values=s.values.astype("float64") if s.values.dtype.kind == "f"
               else s.values, grad=False) if isinstance(s, Input) else s for s in specs]
    compare_module(make, specs, call=call, dtype="float64")


def test_multihead_attention_parameters_and_init():
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, kdim=5, vdim=3, add_bias_kv=True)
    e = ember.nn.MultiheadAttention(8, 2, kdim=5, vdim=3, add_bias_kv=True)
    assert [(n, tuple(p.shape)) for n, p in e.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t.named_parameters()]
    assert repr(e) == repr(t)
    e = ember.nn.MultiheadAttention(64, 4)
    bound = np.sqrt(6 / (64 + 3 * 64))  # xavier_uniform_ over the (3E, E) stacked weight
    w = e.in_proj_weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert not e.in_proj_bias.detach().numpy().any()
    assert not e.out_proj.bias.detach().numpy().any()


def test_multihead_attention_fully_masked_rows_like_torch():
    """A sample whose keys are all padding: NaN with need_weights (explicit softmax), zeros
    through the fused path, in both frameworks."""
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2)
    e = ember.nn.MultiheadAttention(8, 2)
    e.load_state_dict(t.state_dict())
    x = np.random.default_rng(0).normal(size=(4, 2, 8)).astype("float32")
    kpm = np.array([[False] * 4, [True] * 4])
    for need_weights in (True, False):
        t_out = t(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm),
                  need_weights=need_weights)
        with np.errstate(invalid="ignore"):
            e_out = e(*[ember.tensor(x)] * 3, key_padding_mask=ember.tensor(kpm),
                      need_weights=need_weights)
        for i, (eo, to) in enumerate(zip(e_out, t_out, strict=True)):
            if to is None:
                assert eo is None
            else:
                assert_close(eo, to, 1e-4, 1e-5, f"need_weights={need_weights}: output {i}")
    assert np.isnan(e_out[0].detach().numpy()).sum() == 0


def test_multihead_attention_dropout_only_in_training():
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True).eval()
    e = ember.nn.MultiheadAttention(8, 2, dropout=0.5, batch_first=True).eval()
    e.load_state_dict(t.state_dict())
    x = np.random.default_rng(0).normal(size=(2, 6, 8)).astype("float32")
    t_out, t_w = t(*[torch.tensor(x)] * 3)
    e_out, e_w = e(*[ember.tensor(x)] * 3)
    assert_close(e_out, t_out, 1e-4, 1e-5, "eval output")
    assert_close(e_w, t_w, 1e-4, 1e-5, "eval weights")
    _, per_head = e(*[ember.tensor(x)] * 3, average_attn_weights=False)
    e.train()
    _, dropped = e(*[ember.tensor(x)] * 3, average_attn_weights=False)
    dropped, per_head = dropped.detach().numpy(), per_head.detach().numpy()
    kept = dropped != 0
    assert 0.3 < 1 - kept.mean() < 0.7
    np.testing.assert_allclose(dropped[kept], per_head[kept] / 0.5, rtol=1e-5)


def test_multihead_attention_eval_no_grad_matches_torch_fast_path():
    """Under no_grad in eval mode torch runs its fused native kernel; Ember (one path) agrees."""
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    e = ember.nn.MultiheadAttention(8, 2, batch_first=True).eval()
    e.load_state_dict(t.state_dict())
    x = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    kpm = np.zeros((3, 5), bool)
    kpm[1, 3:] = True
    with torch.no_grad(), ember.no_grad():
        t_out, t_w = t(*[torch.tensor(x)] * 3, key_padding_mask=torch.tensor(kpm))
        e_out, e_w = e(*[ember.tensor(x)] * 3, key_padding_mask=ember.tensor(kpm))
    assert_close(e_out, t_out, 1e-4, 1e-5, "output")
    assert_close(e_w, t_w, 1e-4, 1e-5, "weights")


def test_multihead_attention_errors():
    with pytest.raises(AssertionError, match="divisible"):
        ember.nn.MultiheadAttention(10, 3)
    mha = ember.nn.MultiheadAttention(8, 2)
    x = ember.randn(5, 3, 8)
    with pytest.raises(RuntimeError, match="2D attn_mask"):
        mha(x, x, x, attn_mask=ember.zeros(4, 5))
    with pytest.raises(RuntimeError, match="Need attn_mask"):
        mha(x, x, x, is_causal=True)
    with pytest.raises(AssertionError, match="only bool and floating"):
        mha(x, x, x, key_padding_mask=ember.zeros(3, 5, dtype=ember.int64))


def test_multi_head_attention_forward_functional():
    torch.manual_seed(0)
    t = torch.nn.MultiheadAttention(8, 2)
    args = lambda m, mod: (mod.embed_dim, mod.num_heads, mod.in_proj_weight,  # noqa: E731
                           mod.in_proj_bias, None, None, False, 0.0, mod.out_proj.weight,
                           mod.out_proj.bias)
    e = ember.nn.MultiheadAttention(8, 2)
    e.load_state_dict(t.state_dict())
    x = np.random.default_rng(0).normal(size=(5, 3, 8)).astype("float32")
    t_out = torch.nn.functional.multi_head_attention_forward(*[torch.tensor(x)] * 3,
                                                             *args(torch, t))
    e_out = ember.nn.functional.multi_head_attention_forward(*[ember.tensor(x)] * 3,
                                                             *args(ember, e))
    assert_close(e_out[0], t_out[0], 1e-4, 1e-5, "output")
    assert_close(e_out[1], t_out[1], 1e-4, 1e-5, "weights")
