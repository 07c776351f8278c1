"""Transformer layers against torch (weights copied in): encoder/decoder layers in both norm
orders with relu, gelu and callable activations, masks of every kind, the stacks and the full
Transformer, in train mode with dropout=0 and in eval mode with dropout on. Positional
encodings against their formula.

torch's eval-mode "fast path" (a fused kernel, nested tensors for padded batches) is taken only
under no_grad; the test that uses no_grad turns it off with
torch.backends.mha.set_fastpath_enabled(False), because for padded positions torch's nested
tensors return zeros where the regular path (and Ember) computes values."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest
import torch
from conformance import Input, assert_close
from nn_helpers import build_pair, compare_module

import ember

I = Input  # noqa: E741


@pytest.fixture(autouse=True, scope="module")
def _one_torch_thread():  # torch is slow with 2 threads on a busy 2-core machine
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _causal(n, dtype="float32"):
    """The square subsequent mask, as floats (-inf above the diagonal) or bools (True there)."""
    if dtype == "bool":
        return np.triu(np.ones((n, n), bool), 1)
    return np.triu(np.full((n, n), -np.inf, dtype), 1)


def _padding(batch, length, seed=0):
    mask = np.zeros((batch, length), bool)
    mask[1, length - 2:] = True  # sample 1 has two padded positions at the end
    mask[0, np.random.default_rng(seed).integers(1, length)] = True
    return mask


ACTIVATIONS = {"relu": lambda m: "relu", "gelu": lambda m: "gelu",
               "callable": lambda m: m.nn.functional.silu, "module": lambda m: m.nn.Tanh()}


@pytest.mark.parametrize("activation", list(ACTIVATIONS))
@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer(norm_first, activation):
    act = ACTIVATIONS[activation]
    make = lambda m: m.nn.TransformerEncoderLayer(  # noqa: E731
        8, 2, dim_feedforward=16, dropout=0.0, activation=act(m), norm_first=norm_first)
    masks = [I((5, 5), values=_causal(5, "bool"), grad=False),
             I((3, 5), values=_padding(3, 5), grad=False)]
    compare_module(make, [(5, 3, 8), *masks],
                   call=lambda mod, x, m, kpm: mod(x, src_mask=m, src_key_padding_mask=kpm))


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_layer_batch_first_bool_masks_float64(norm_first):
    make = lambda m: m.nn.TransformerEncoderLayer(  # noqa: E731
        8, 2, dim_feedforward=16, dropout=0.0, batch_first=True, norm_first=norm_first)
    mask = np.random.default_rng(0).random((4, 4)) < 0.3
    np.fill_diagonal(mask, False)
    specs = [(3, 4, 8), I((4, 4), values=mask, grad=False),
             I((3, 4), values=_padding(3, 4), grad=False)]
    compare_module(make, specs, dtype="float64",
                   call=lambda mod, x, m, kpm: mod(x, src_mask=m, src_key_padding_mask=kpm))


@pytest.mark.filterwarnings("ignore:Support for mismatched")  # float and bool masks mixed
@pytest.mark.parametrize("activation", ["relu", "gelu", "callable"])
@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_layer(norm_first, activation):
    act = ACTIVATIONS[activation]
    make = lambda m: m.nn.TransformerDecoderLayer(  # noqa: E731
        8, 2, dim_feedforward=16, dropout=0.0, activation=act(m), norm_first=norm_first)
    memory_mask = np.random.default_rng(1).normal(size=(4, 6)).astype("float32")
    specs = [(4, 3, 8), (6, 3, 8), I((4, 4), values=_causal(4), grad=False),
             I((4, 6), values=memory_mask, grad=False),
             I((3, 4), values=_padding(3, 4), grad=False),
             I((3, 6), values=_padding(3, 6, seed=1), grad=False)]

    def call(mod, tgt, memory, tgt_mask, memory_mask, tgt_kpm, memory_kpm):
        return mod(tgt, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                   tgt_key_padding_mask=tgt_kpm, memory_key_padding_mask=memory_kpm,
                   tgt_is_causal=True)
    compare_module(make, specs, call=call)


@pytest.mark.parametrize("norm_first", [False, True])
def test_encoder_stack_is_deep_copies(norm_first):
    make = lambda m: m.nn.TransformerEncoder(  # noqa: E731
        m.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, batch_first=True,
                                     norm_first=norm_first),
        num_layers=2, norm=m.nn.LayerNorm(8), enable_nested_tensor=False)
    specs = [(3, 5, 8), I((5, 5), values=_causal(5, "bool"), grad=False),
             I((3, 5), values=_padding(3, 5), grad=False)]
    t_mod, e_mod = compare_module(
        make, specs, call=lambda mod, x, m, kpm: mod(x, mask=m, src_key_padding_mask=kpm))
    layers = e_mod.layers
    assert layers[0].linear1.weight is not layers[1].linear1.weight
    layer = ember.nn.TransformerEncoderLayer(8, 2, 16)
    stack = ember.nn.TransformerEncoder(layer, 3)
    assert all(not np.shares_memory(p.detach().numpy(), q.detach().numpy()) for p, q in
               zip(layer.parameters(), stack.layers[2].parameters(), strict=True))
    np.testing.assert_array_equal(stack.layers[2].linear1.weight.detach().numpy(),
                                  layer.linear1.weight.detach().numpy())


def test_decoder_stack_detects_causal_mask():
    make = lambda m: m.nn.TransformerDecoder(  # noqa: E731
        m.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0), num_layers=2,
        norm=m.nn.LayerNorm(8))
    specs = [(4, 2, 8), (5, 2, 8), I((4, 4), values=_causal(4), grad=False)]
    compare_module(make, specs, call=lambda mod, t, mem, m: mod(t, mem, tgt_mask=m))


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")  # torch's, on its fast path
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(norm_first, batch_first):
    make = lambda m: m.nn.Transformer(  # noqa: E731
        d_model=8, nhead=2, num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=16,
        dropout=0.0, activation="gelu", norm_first=norm_first, batch_first=batch_first)
    src, tgt = ((2, 6, 8), (2, 4, 8)) if batch_first else ((6, 2, 8), (4, 2, 8))
    specs = [src, tgt, I((4, 4), values=_causal(4, "bool"), grad=False),
             I((2, 6), values=_padding(2, 6), grad=False)]

    def call(mod, src, tgt, tgt_mask, src_kpm):
        return mod(src, tgt, tgt_mask=tgt_mask, src_key_padding_mask=src_kpm,
                   memory_key_padding_mask=src_kpm)
    t_mod, e_mod = compare_module(make, specs, call=call)
    assert list(e_mod.state_dict()) == list(t_mod.state_dict())


def test_transformer_eval_mode_with_dropout():
    """Dropout 0.1 in eval mode is off in both; grads enabled keeps torch on its regular path."""
    make = lambda m: m.nn.Transformer(  # noqa: E731
        d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1, dim_feedforward=16,
        batch_first=True)
    specs = [(2, 5, 8), (2, 3, 8), I((3, 3), values=_causal(3), grad=False)]
    compare_module(make, specs, train=False,
                   call=lambda mod, src, tgt, m: mod(src, tgt, tgt_mask=m, tgt_is_causal=True))


def test_encoder_eval_no_grad_against_torch_slow_path():
    """Under no_grad torch packs the padded batch into nested tensors and returns zeros at
    padded positions; with the fast path off in both, the padded positions are computed."""
    t_mod, e_mod = build_pair(lambda m: m.nn.TransformerEncoder(
        m.nn.TransformerEncoderLayer(8, 2, 16, batch_first=True), 2))
    t_mod.eval()
    e_mod.eval()
    x = np.random.default_rng(0).normal(size=(3, 5, 8)).astype("float32")
    kpm = _padding(3, 5)
    for fastpath in (False, True):
        torch.backends.mha.set_fastpath_enabled(fastpath)
        ember.backends.mha.set_fastpath_enabled(fastpath)
        try:
            with torch.no_grad():
                expected = t_mod(torch.tensor(x), src_key_padding_mask=torch.tensor(kpm))
            with ember.no_grad():
                out = e_mod(ember.tensor(x), src_key_padding_mask=ember.tensor(kpm))
        finally:
            torch.backends.mha.set_fastpath_enabled(True)
            ember.backends.mha.set_fastpath_enabled(True)
        assert_close(out, expected, 1e-4, 1e-5, f"encoder output (fast path {fastpath})")


def test_unbatched_encoder_and_decoder_layers():
    for make, specs, call in (
        (lambda m: m.nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0), [(5, 8)], None),
        (lambda m: m.nn.TransformerDecoderLayer(8, 2, 16, dropout=0.0, norm_first=True),
         [(4, 8), (6, 8)], None),
    ):
        compare_module(make, specs, call=call)


def test_generate_square_subsequent_mask_and_errors():
    e_mask = ember.nn.Transformer.generate_square_subsequent_mask(5)
    t_mask = torch.nn.Transformer.generate_square_subsequent_mask(5)
    assert_close(e_mask, t_mask, 0, 0, "mask")
    with pytest.raises(RuntimeError, match="activation should be relu/gelu"):
        ember.nn.TransformerEncoderLayer(8, 2, activation="swish")
    model = ember.nn.Transformer(8, 2, 1, 1, 16)
    with pytest.raises(RuntimeError, match="batch number of src and tgt"):
        model(ember.randn(5, 2, 8), ember.randn(4, 3, 8))
    with pytest.raises(RuntimeError, match="feature number"):
        model(ember.randn(5, 2, 8), ember.randn(4, 2, 6))


def test_transformer_init_is_xavier_uniform():
    model = ember.nn.Transformer(d_model=32, nhead=4, num_encoder_layers=1,
                                 num_decoder_layers=1, dim_feedforward=64)
    w = model.encoder.layers[0].linear1.weight.detach().numpy()  # (64, 32)
    bound = math.sqrt(6 / (32 + 64))
    assert bound * 0.9 < np.abs(w).max() <= bound  # not Linear's default 1/sqrt(32) bound
    assert not model.decoder.layers[0].self_attn.in_proj_bias.detach().numpy().any()


# --- positional encodings -------------------------------------------------------------------


def _sinusoid_table(length, d_model):
    pe = np.zeros((length, d_model))
    for pos in range(length):
        for i in range(0, d_model, 2):
            angle = pos / 10000 ** (i / d_model)
            pe[pos, i] = math.sin(angle)
            if i + 1 < d_model:
                pe[pos, i + 1] = math.cos(angle)
    return pe


@pytest.mark.parametrize("d_model", [16, 7])
def test_sinusoidal_encoding_matches_formula(d_model):
    layer = ember.nn.SinusoidalPositionalEncoding(d_model, max_len=50)
    table = _sinusoid_table(50, d_model)
    np.testing.assert_allclose(layer.pe.numpy(), table, atol=1e-6)
    assert layer.pe.dtype == ember.float32 and "pe" not in layer.state_dict()
    x = np.random.default_rng(0).normal(size=(10, 3, d_model)).astype("float32")
    out = layer(ember.tensor(x)).numpy()
    np.testing.assert_allclose(out, x + table[:10, None, :], atol=1e-6)
    batch_first = ember.nn.SinusoidalPositionalEncoding(d_model, 50, batch_first=True)
    xb = x.transpose(1, 0, 2)
    np.testing.assert_allclose(batch_first(ember.tensor(xb)).numpy(),
                               xb + table[None, :10], atol=1e-6)
    np.testing.assert_allclose(layer(ember.tensor(x[:, 0])).numpy(), x[:, 0] + table[:10],
                               atol=1e-6)  # unbatched (T, d_model)
    with pytest.raises(ValueError, match="max_len=50"):
        layer(ember.zeros(51, 1, d_model))


def test_sinusoidal_encoding_dropout_and_gradient():
    layer = ember.nn.SinusoidalPositionalEncoding(8, max_len=20, dropout=0.5)
    x = ember.zeros(20, 4, 8, requires_grad=True)
    out = layer(x)
    zero = out.detach().numpy() == 0
    assert 0.3 < zero.mean() < 0.7
    layer.eval()
    np.testing.assert_allclose(layer(x).detach().numpy()[:, 0], _sinusoid_table(20, 8),
                               atol=1e-6)
    layer(x).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((20, 4, 8)))


def test_learned_positional_embedding():
    ember.manual_seed(0)
    layer = ember.nn.LearnedPositionalEmbedding(12, 6, batch_first=True)
    assert list(layer.state_dict()) == ["embedding.weight"]
    x = ember.randn(2, 5, 6, requires_grad=True)
    out = layer(x)
    table = layer.embedding.weight.detach().numpy()
    np.testing.assert_allclose(out.detach().numpy(), x.detach().numpy() + table[None, :5],
                               rtol=1e-6)
    out.sum().backward()
    grad = layer.embedding.weight.grad.numpy()
    np.testing.assert_array_equal(grad[:5], np.full((5, 6), 2.0))  # summed over the batch
    assert not grad[5:].any()
    seq_first = ember.nn.LearnedPositionalEmbedding(12, 6)
    seq_first.load_state_dict(layer.state_dict())
    y = ember.randn(5, 2, 6)
    np.testing.assert_allclose(seq_first(y).detach().numpy(), y.numpy() + table[:5, None],
                               rtol=1e-6)
    with pytest.raises(ValueError, match="max_len=12"):
        layer(ember.zeros(1, 13, 6))


def test_modules_are_exported():
    for name in ("MultiheadAttention", "Transformer", "TransformerEncoder",
                 "TransformerDecoder", "TransformerEncoderLayer", "TransformerDecoderLayer",
                 "SinusoidalPositionalEncoding", "LearnedPositionalEmbedding"):
        assert name in ember.nn.__all__ and hasattr(ember.nn, name)
    assert ember.nn.functional.scaled_dot_product_attention is not None
    layer = ember.nn.TransformerEncoderLayer(8, 2, 16)
    assert copy.deepcopy(layer).self_attn.in_proj_weight.shape == (24, 8)
