"""The sequence-model surface as PyTorch scripts use it, against torch: recurrent layers over
flag combinations, packing, scaled_dot_product_attention edge cases (no keys, no queries, bad
masks), MultiheadAttention options, Transformer stacks incl. torch's nested-tensor inference
path, reprs, parameter names, import paths and error kinds."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
import torch
from conformance import Input, compare
from nn_helpers import build_pair, compare_module

import ember
import ember.nn.functional.attention as attention_module

E, HEADS, FF = 8, 2, 16


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # tiny layers: torch's threads only add overhead on 2 busy cores
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _raises_like_torch(fn) -> None:
    """fn(m) raises in torch; Ember must raise an exception of the same kind."""
    with pytest.raises(Exception) as expected:
        fn(torch)
    with pytest.raises(type(expected.value)):
        fn(ember)


# -- recurrent layers ---------------------------------------------------------------------------

RNN_FLAGS = [
    dict(num_layers=n, bias=b, batch_first=bf, bidirectional=bi)
    for n, b, bf, bi in itertools.product([1, 2], [True, False], [False, True], [False, True])
]


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kw", RNN_FLAGS, ids=str)
def test_recurrent_flags_with_states(mode, kw):
    """Every flag combination, initial states given, dropout set but off in eval."""
    kw = dict(kw, dropout=0.3 if kw["num_layers"] > 1 else 0.0)
    states = kw["num_layers"] * (2 if kw["bidirectional"] else 1)
    x = (2, 4, 3) if kw["batch_first"] else (4, 2, 3)
    specs = [x, (states, 2, 5)] + ([(states, 2, 5)] if mode == "LSTM" else [])
    call = (lambda mod, x, h, c: mod(x, (h, c))) if mode == "LSTM" else None
    compare_module(lambda m: getattr(m.nn, mode)(3, 5, **kw), specs, train=False, call=call,
                   rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kw", [dict(), dict(num_layers=3, bidirectional=True),
                                dict(num_layers=2, bidirectional=True, batch_first=True)],
                         ids=str)
def test_lstm_projection_unbatched(kw):
    compare_module(lambda m: m.nn.LSTM(3, 5, proj_size=2, **kw), [(4, 3)], train=False)


def test_training_steps_follow_torch():
    """Parameters updated in place by an optimizer are the ones the next forward uses."""
    t_mod, e_mod = build_pair(lambda m: m.nn.LSTM(3, 4, 2, proj_size=2, bidirectional=True))
    x = np.random.default_rng(0).standard_normal((5, 2, 3)).astype("float32")
    outs = []
    for m, mod in ((torch, t_mod), (ember, e_mod)):
        opt = m.optim.SGD(mod.parameters(), lr=0.1)
        for _ in range(3):
            opt.zero_grad()
            out, (h, _) = mod(m.tensor(x))
            (out.pow(2).mean() + h.sum()).backward()
            opt.step()
        outs.append(mod(m.tensor(x))[0].detach().numpy())
    np.testing.assert_allclose(outs[1], outs[0], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
def test_state_dtype_must_match_input(mode):
    def layer(m):
        h = m.zeros(1, 2, 4, dtype=m.float64)
        mod = getattr(m.nn, mode)(3, 4)
        return mod(m.randn(5, 2, 3), (h, h) if mode == "LSTM" else h)

    def cell(m):
        h = m.zeros(2, 4, dtype=m.float64)
        mod = getattr(m.nn, mode + "Cell")(3, 4)
        return mod(m.randn(2, 3), (h, h) if mode == "LSTM" else h)

    _raises_like_torch(layer)
    _raises_like_torch(cell)


@pytest.mark.parametrize("text", [
    "nn.LSTM(10, 20, 2, batch_first=True)", "nn.GRU(10, 20, 2, dropout=0.5, bidirectional=True)",
    "nn.RNN(3, 4, 2, 'relu', False)", "nn.LSTM(10, 20, proj_size=5)",
    "nn.RNNCell(3, 4, bias=False, nonlinearity='relu')", "nn.LSTMCell(3, 4)",
    "nn.MultiheadAttention(8, 2, kdim=3, vdim=5, batch_first=True)",
    "nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, 16), 2, enable_nested_tensor=False)",
    "nn.Transformer(8, 2, 1, 1, 16)",
])
def test_repr_and_parameters_match_torch(text):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mod, e_mod = (eval(text, {"nn": m.nn}) for m in (torch, ember))
    assert repr(e_mod) == repr(t_mod)
    assert [(n, tuple(p.shape)) for n, p in e_mod.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in t_mod.named_parameters()]
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())


def test_torch_import_paths():
    from ember.nn.modules.rnn import LSTMCell, RNNCellBase  # torch defines cells there
    from ember.nn.modules.transformer import _get_activation_fn

    assert issubclass(LSTMCell, RNNCellBase)
    assert _get_activation_fn("gelu") is ember.nn.functional.gelu
    lstm = ember.nn.LSTM(3, 4, 2, proj_size=2)
    lstm.flatten_parameters()
    assert [[tuple(w.shape) for w in ws] for ws in lstm.all_weights] == \
        [[tuple(w.shape) for w in ws] for ws in torch.nn.LSTM(3, 4, 2, proj_size=2).all_weights]


# -- packed sequences ---------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["RNN", "LSTM", "GRU"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_packed_bidirectional_stack_unsorted(mode, batch_first):
    lengths = [5, 3, 4, 1]

    def run(mod, x):
        m = torch if isinstance(x, torch.Tensor) else ember
        rnn = m.nn.utils.rnn
        packed = rnn.pack_padded_sequence(x, m.tensor(lengths), batch_first=batch_first,
                                          enforce_sorted=False)
        out, h = mod(packed)
        padded, lens = rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=6,
                                               padding_value=-1.0)
        return padded, lens, out.data, out.batch_sizes, out.sorted_indices, h

    x = (4, 5, 3) if batch_first else (5, 4, 3)
    compare_module(lambda m: getattr(m.nn, mode)(3, 4, 2, bidirectional=True,
                                                 batch_first=batch_first),
                   [x], train=False, call=run)


@pytest.mark.parametrize("side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence(side, batch_first):
    compare(lambda m, a, b, c: m.nn.utils.rnn.pad_sequence(
        [a, b, c], batch_first=batch_first, padding_value=2.5, padding_side=side),
        [(3, 2), (5, 2), (1, 2)])


# -- scaled_dot_product_attention -----------------------------------------------------------------

def _sdpa(**kw):
    return lambda m, q, k, v, *mask: m.nn.functional.scaled_dot_product_attention(
        q, k, v, *mask, **kw)


@pytest.mark.parametrize("blocks", [False, True], ids=["one block", "row blocks"])
@pytest.mark.parametrize("shapes", [[(2, 4, 8), (2, 0, 8), (2, 0, 5)],
                                    [(2, 0, 8), (2, 3, 8), (2, 3, 5)]],
                         ids=["no keys", "no queries"])
def test_sdpa_empty_sequences(shapes, blocks, monkeypatch):
    """torch returns zeros (no keys) or an empty output, and zero gradients."""
    if blocks:
        monkeypatch.setattr(attention_module, "BLOCK_ELEMENTS", 1)
    compare(_sdpa(), shapes)


@pytest.mark.parametrize("kw,shapes", [
    (dict(is_causal=True), [(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5)]),  # top-left, Lq < Lk
    (dict(is_causal=True), [(2, 3, 7, 8), (2, 3, 6, 8), (2, 3, 6, 5)]),  # Lq > Lk
    (dict(enable_gqa=True, is_causal=True), [(2, 6, 4, 8), (2, 2, 6, 8), (2, 2, 6, 5)]),
    (dict(scale=0.3), [(4, 8), (6, 8), (6, 5)]),
    (dict(), [(2, 3, 4, 8), (2, 3, 6, 8), (2, 3, 6, 5),
              Input((2, 1, 4, 6), dtype="bool", grad=False)]),
])
def test_sdpa_options(kw, shapes):
    compare(_sdpa(**kw), shapes)


def test_sdpa_errors_match_torch():
    q, k, v = (np.zeros(s, "float32") for s in ((2, 4, 8), (2, 6, 8), (2, 6, 5)))

    def call(mask_shape=None, **kw):
        def fn(m):
            mask = None if mask_shape is None else m.zeros(mask_shape)
            return m.nn.functional.scaled_dot_product_attention(
                m.tensor(q), m.tensor(k), m.tensor(v), mask, **kw)
        return fn

    _raises_like_torch(call((5, 6)))  # mask does not broadcast to (L, S)
    _raises_like_torch(call(dropout_p=1.5))
    _raises_like_torch(call((4, 6), is_causal=True))


# -- MultiheadAttention and Transformers ----------------------------------------------------------

@pytest.mark.parametrize("need_weights", [True, False])
@pytest.mark.parametrize("kw", [dict(kdim=5, vdim=7, add_bias_kv=True, add_zero_attn=True),
                                dict(bias=False, batch_first=True)], ids=str)
def test_mha_masks_and_options(kw, need_weights):
    L, S, N = 4, 6, 3
    bf = kw.get("batch_first", False)
    kpm = np.zeros((N, S), bool)
    kpm[0, 4:] = kpm[2, 1:3] = True

    def run(mod, q, k, v, mask, padding):
        return mod(q, k, v, attn_mask=mask, key_padding_mask=padding,
                   need_weights=need_weights, average_attn_weights=False)

    seq = (lambda n, d: (N, n, d)) if bf else (lambda n, d: (n, N, d))
    compare_module(lambda m: m.nn.MultiheadAttention(E, HEADS, **kw),
                   [seq(L, E), seq(S, kw.get("kdim", E)), seq(S, kw.get("vdim", E)),
                    Input((L, S), grad=False), Input((N, S), values=kpm, grad=False)],
                   train=False, call=run)


def _encoder(batch_first: bool = True, norm_first: bool = False):
    return lambda m: m.nn.TransformerEncoder(
        m.nn.TransformerEncoderLayer(E, HEADS, FF, batch_first=batch_first,
                                     norm_first=norm_first), 2, norm=m.nn.LayerNorm(E))


@pytest.mark.parametrize("kw", [dict(), dict(batch_first=False), dict(norm_first=True)], ids=str)
def test_encoder_padding_mask_inference_path(kw):
    """torch's eval/no-grad encoder runs a left-aligned padding mask on nested tensors and
    returns zeros (then `norm`) at the padded positions; Ember gives the same numbers."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_mod, e_mod = build_pair(_encoder(**kw))
    t_mod.eval()
    e_mod.eval()
    assert e_mod.use_nested_tensor == t_mod.use_nested_tensor
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 6, E) if kw.get("batch_first", True) else (6, 3, E))
    padding = np.zeros((3, 6), bool)
    padding[0, 4:] = padding[1, 1:] = padding[2, 2:] = True
    for grad in (False, True):
        outs = []
        for m, mod in ((torch, t_mod), (ember, e_mod)):
            with m.set_grad_enabled(grad):
                out = mod(m.tensor(x, dtype=m.float32), src_key_padding_mask=m.tensor(padding))
            outs.append(out.detach().numpy())
        np.testing.assert_allclose(outs[1], outs[0], rtol=1e-4, atol=1e-5, equal_nan=True)


def test_encoder_nested_tensor_flags():
    for m in (torch, ember):
        with pytest.warns(UserWarning, match="use_nested_tensor is False"):
            m.nn.TransformerEncoder(m.nn.TransformerEncoderLayer(E, HEADS, FF), 1)
    for activation in ("relu", "gelu", torch.tanh):
        act = {torch.tanh: None}.get(activation, activation)
        t = torch.nn.TransformerEncoderLayer(E, HEADS, FF, activation=activation)
        e = ember.nn.TransformerEncoderLayer(E, HEADS, FF, activation=act or ember.tanh)
        assert e.activation_relu_or_gelu == t.activation_relu_or_gelu


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("batch_first", [False, True])
def test_transformer_with_every_mask(norm_first, batch_first):
    S, T, N = 6, 5, 3
    src_pad = np.zeros((N, S), bool)
    src_pad[0, 4:] = True
    tgt_pad = np.zeros((N, T), bool)
    tgt_pad[1, 3:] = True

    def run(mod, src, tgt, memory_mask, src_pad, tgt_pad):
        m = torch if isinstance(src, torch.Tensor) else ember
        mask = m.nn.Transformer.generate_square_subsequent_mask(T)
        return mod(src, tgt, tgt_mask=mask, memory_mask=memory_mask,
                   src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                   memory_key_padding_mask=src_pad, tgt_is_causal=True)

    seq = (lambda n: (N, n, E)) if batch_first else (lambda n: (n, N, E))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare_module(lambda m: m.nn.Transformer(E, HEADS, 2, 2, FF, activation="gelu",
                                                  batch_first=batch_first,
                                                  norm_first=norm_first),
                       [seq(S), seq(T), Input((T, S), grad=False),
                        Input((N, S), values=src_pad, grad=False),
                        Input((N, T), values=tgt_pad, grad=False)],
                       train=False, call=run, rtol=1e-4, atol=2e-5)


def test_pad_sequence_bad_elements():
    _raises_like_torch(lambda m: m.nn.utils.rnn.pad_sequence([[1.0, 2.0]]))
    _raises_like_torch(lambda m: m.nn.utils.rnn.pad_sequence([m.tensor(1.0)]))
    _raises_like_torch(lambda m: m.nn.utils.rnn.pad_sequence([]))
