"""Regressions found by randomized differential testing of the sequence layers against torch
(RNN/LSTM/GRU and their cells, packed sequences, scaled_dot_product_attention,
MultiheadAttention, the Transformer layers): each case runs the same float64 inputs and copied
weights through both frameworks and compares outputs and gradients."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conformance import assert_close


def _pair(shape, seed, dtype="float64"):
    """The same random values as a torch and an Ember leaf that require grad."""
    values = np.random.default_rng(seed).normal(size=shape).astype(dtype)
    return (torch.tensor(values, requires_grad=True),
            ember.tensor(values.copy(), requires_grad=True))


def _close(expected, actual, tol=1e-10):
    assert_close(actual, expected, rtol=tol, atol=tol, what="ember against torch")


def _sdpa_both(shapes, mask=None, **kwargs):
    """Run scaled_dot_product_attention in both; compare output and q, k, v (mask) gradients."""
    pairs = [_pair(shape, seed) for seed, shape in enumerate(shapes)]
    leaves = list(pairs)
    t_kw, e_kw = dict(kwargs), dict(kwargs)
    if mask is not None:
        t_mask = torch.tensor(mask, requires_grad=True)
        e_mask = ember.tensor(mask.copy(), requires_grad=True)
        t_kw["attn_mask"], e_kw["attn_mask"] = t_mask, e_mask
        leaves.append((t_mask, e_mask))
    t_out = torch.nn.functional.scaled_dot_product_attention(*(t for t, _ in pairs), **t_kw)
    e_out = ember.nn.functional.scaled_dot_product_attention(*(e for _, e in pairs), **e_kw)
    _close(t_out, e_out)
    grad = np.random.default_rng(9).normal(size=tuple(t_out.shape))
    (t_out * torch.tensor(grad)).sum().backward()
    (e_out * ember.tensor(grad)).sum().backward()
    for t_leaf, e_leaf in leaves:
        _close(t_leaf.grad, e_leaf.grad, 1e-6 if t_leaf.dtype == torch.float32 else 1e-10)


@pytest.mark.parametrize("shapes", [
    [(4, 3, 3), (2, 4, 3), (1, 4, 2)],          # key 2 heads, value 1 head
    [(2, 4, 3, 3), (2, 4, 4, 3), (2, 2, 4, 2)],  # key as many heads as query, value fewer
])
def test_sdpa_gqa_key_and_value_heads_differ(shapes):
    # torch repeats key and value separately: each head count only has to divide the query's
    _sdpa_both(shapes, enable_gqa=True)


def test_sdpa_gqa_head_count_not_dividing_raises():
    q, k, v = (ember.randn(*s) for s in ((3, 2, 4), (2, 5, 4), (2, 5, 4)))
    with pytest.raises(RuntimeError):
        ember.nn.functional.scaled_dot_product_attention(q, k, v, enable_gqa=True)


def test_sdpa_float32_mask_with_float64_query():
    # torch takes a float32 ("float") mask with any query dtype, not only the query's own
    mask = np.random.default_rng(5).normal(size=(3, 4)).astype("float32")
    _sdpa_both([(2, 3, 3), (2, 4, 3), (2, 4, 2)], mask)


def test_mha_float32_mask_float64_module_fused_path():
    torch.manual_seed(0)
    t_mha = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    e_mha = ember.nn.MultiheadAttention(4, 2, dtype=ember.float64)
    e_mha.load_state_dict({k: ember.tensor(v.numpy()) for k, v in t_mha.state_dict().items()})
    (t_q, e_q), (t_k, e_k) = _pair((3, 2, 4), 1), _pair((5, 2, 4), 2)
    mask = np.random.default_rng(3).normal(size=(3, 5)).astype("float32")
    t_out = t_mha(t_q, t_k, t_k, attn_mask=torch.tensor(mask), need_weights=False)[0]
    e_out = e_mha(e_q, e_k, e_k, attn_mask=ember.tensor(mask), need_weights=False)[0]
    _close(t_out, e_out)
