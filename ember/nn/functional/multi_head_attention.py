"""Multi-head attention (the math of nn.MultiheadAttention), with torch's arguments and masks.

    q, k, v = query W_q^T + b_q, key W_k^T + b_k, value W_v^T + b_v     (in-projection)
    head_i  = attention(q_i, k_i, v_i) for each of num_heads slices of width E / num_heads
    output  = concat(head_1, ..., head_h) W_o^T + b_o                    (out-projection)

Inputs are sequence-first, (L, N, E), or unbatched (L, E). Unlike scaled_dot_product_attention,
a bool `attn_mask` or `key_padding_mask` marks with True the positions NOT to attend to; float
masks are added to the scores. With need_weights=False the heads go through the fused
scaled_dot_product_attention; with need_weights=True the weights are computed explicitly (as
torch does), so a query whose keys are all masked gets NaN weights there, like torch's.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

from ... import creation, dtypes
from ...ops.join import cat
from ...ops.linalg import baddbmm, bmm
from ...ops.pad import pad
from ...ops.softmax import softmax
from ...tensor import Tensor
from .attention import scaled_dot_product_attention
from .dropout import dropout
from .linear import linear


def _additive_mask(mask: Tensor | None, dtype: Any, name: str, other: Tensor | None = None,
                   other_name: str = "", other_type: Any = None) -> Tensor | None:
    """A bool mask (True = masked out) as a float one (-inf there, 0 elsewhere). `other` (or
    its dtype, `other_type`): the mask it will be combined with; torch deprecates mixing a bool
    one with a float one."""
    if mask is None:
        return mask
    if not mask.dtype.is_floating_point and mask.dtype is not dtypes.bool_:
        raise AssertionError(f"only bool and floating types of {name} are supported")
    if other is not None:
        other_type = other.dtype
    if other_type is not None and other_type != mask.dtype:
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      "type for both instead.", stacklevel=3)
    if mask.dtype.is_floating_point:
        return mask
    return creation.zeros(tuple(mask.shape), dtype=dtype, device=mask.device).masked_fill(
        mask, -math.inf)


def _check_shapes(query: Tensor, key: Tensor, value: Tensor, key_padding_mask: Any,
                  attn_mask: Any, num_heads: int) -> bool:
    """torch's shape rules; returns whether the input is batched (3-D)."""
    if query.ndim not in (2, 3):
        raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received "
                             f"{query.ndim}-D query tensor")
    batched = query.ndim == 3
    if key.ndim != query.ndim or value.ndim != query.ndim:
        raise AssertionError(f"For {'batched (3-D)' if batched else 'unbatched (2-D)'} `query`, "
                             f"expected `key` and `value` to be {query.ndim}-D but found "
                             f"{key.ndim}-D and {value.ndim}-D tensors respectively")
    if key_padding_mask is not None and key_padding_mask.ndim != query.ndim - 1:
        raise AssertionError(f"expected `key_padding_mask` to be `None` or "
                             f"{query.ndim - 1}-D but found {key_padding_mask.ndim}-D tensor")
    if attn_mask is not None:
        if attn_mask.ndim not in (2, 3):
            raise AssertionError(f"expected `attn_mask` to be `None`, 2-D or 3-D but found "
                                 f"{attn_mask.ndim}-D tensor instead")
        expected = (num_heads, query.shape[0], key.shape[0])
        if not batched and attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
            raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got "
                                 f"{tuple(attn_mask.shape)}")
    return batched


def _in_projection_packed(q: Tensor, k: Tensor, v: Tensor, w: Tensor,
                          b: Tensor | None) -> tuple:
    """q, k, v through the stacked (3E, E) weight; one product when they are the same tensor."""
    e = q.shape[-1]
    if k is v and q is k:  # self-attention
        return linear(q, w, b).chunk(3, -1)
    w_q, w_kv = w[:e], w[e:]
    b_q, b_kv = (None, None) if b is None else (b[:e], b[e:])
    if k is v:  # encoder-decoder attention
        return (linear(q, w_q, b_q),) + tuple(linear(k, w_kv, b_kv).chunk(2, -1))
    w_k, w_v = w_kv[:e], w_kv[e:]
    b_k, b_v = (None, None) if b_kv is None else (b_kv[:e], b_kv[e:])
    return linear(q, w_q, b_q), linear(k, w_k, b_k), linear(v, w_v, b_v)


def multi_head_attention_forward(
    query: Tensor, key: Tensor, value: Tensor, embed_dim_to_check: int, num_heads: int,
    in_proj_weight: Tensor | None, in_proj_bias: Tensor | None, bias_k: Tensor | None,
    bias_v: Tensor | None, add_zero_attn: bool, dropout_p: float, out_proj_weight: Tensor,
    out_proj_bias: Tensor | None, training: bool = True,
    key_padding_mask: Tensor | None = None, need_weights: bool = True,
    attn_mask: Tensor | None = None, use_separate_proj_weight: bool = False,
    q_proj_weight: Tensor | None = None, k_proj_weight: Tensor | None = None,
    v_proj_weight: Tensor | None = None, static_k: Tensor | None = None,
    static_v: Tensor | None = None, average_attn_weights: bool = True, is_causal: bool = False,
) -> tuple:
    """Multi-head attention on (L, N, E) query and (S, N, E_k/E_v) key/value (or unbatched).

    Returns (output (L, N, E), weights (N, L, S) averaged over heads, (N, H, L, S) per head,
    or None when need_weights=False).
    """
    batched = _check_shapes(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not batched:  # run as a batch of one
        query, key, value = query.unsqueeze(1), key.unsqueeze(1), value.unsqueeze(1)
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _additive_mask(key_padding_mask, query.dtype, "key_padding_mask",
                                      attn_mask, "attn_mask")
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the "
                           "Transformer module method `generate_square_subsequent_mask` to "
                           "create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None  # the hint says the mask is causal: the fused op builds it itself
    else:
        attn_mask = _additive_mask(attn_mask, query.dtype, "attn_mask")
        if key_padding_mask is not None:
            is_causal = False  # the merged mask is no longer causal
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but "
                             f"got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {tuple(key.shape[:2])} do not "
                                 f"match value's {tuple(value.shape[:2])}")
        b_q, b_k, b_v = (None,) * 3 if in_proj_bias is None else in_proj_bias.chunk(3)
        q = linear(query, q_proj_weight, b_q)
        k = linear(key, k_proj_weight, b_k)
        v = linear(value, v_proj_weight, b_v)
    else:
        if tuple(key.shape) != tuple(value.shape):
            raise AssertionError(f"key shape {tuple(key.shape)} does not match value shape "
                                 f"{tuple(value.shape)}")
        q, k, v = _in_projection_packed(query, key, value, in_proj_weight, in_proj_bias)

    src_len = key.shape[0]
    if attn_mask is not None:  # (L, S) or (N * H, L, S)
        want = (tgt_len, src_len) if attn_mask.ndim == 2 else (bsz * num_heads, tgt_len, src_len)
        if tuple(attn_mask.shape) != want:
            raise RuntimeError(f"The shape of the {attn_mask.ndim}D attn_mask is "
                               f"{tuple(attn_mask.shape)}, but should be {want}.")
        if attn_mask.ndim == 2:
            attn_mask = attn_mask.unsqueeze(0)
    if bias_k is not None and bias_v is not None:  # one more learned key and value
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must be given together")

    # (L, N, E) -> (N * H, L, head_dim): every head of every sample is one attention problem
    q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
    k = static_k if static_k is not None else \
        k.reshape(k.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    v = static_v if static_v is not None else \
        v.reshape(v.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if add_zero_attn:  # one more key and value of zeros
        zeros = creation.zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)
        k = cat([k, zeros], dim=1)
        v = cat([v, zeros], dim=1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1]
    if key_padding_mask is not None:  # (N, S) -> (N * H, 1, S), merged into attn_mask
        if tuple(key_padding_mask.shape) != (bsz, src_len):
            raise AssertionError(f"Expected key_padding_mask of shape {(bsz, src_len)}, but got "
                                 f"{tuple(key_padding_mask.shape)}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(
            -1, num_heads, -1, -1).reshape(bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0

    if need_weights:
        scores_q = q * math.sqrt(1.0 / head_dim)
        if attn_mask is not None:
            weights = baddbmm(attn_mask, scores_q, k.transpose(-2, -1))
        else:
            weights = bmm(scores_q, k.transpose(-2, -1))
        weights = softmax(weights, -1)  # (N * H, L, S)
        if dropout_p > 0.0:
            weights = dropout(weights, p=dropout_p)
        out = bmm(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not batched:
            out, weights = out.squeeze(1), weights.squeeze(0)
        return out, weights

    if attn_mask is not None:  # (1, L, S) or (N * H, L|1, S) -> broadcastable to (N, H, L, S)
        if attn_mask.shape[0] == 1:
            attn_mask = attn_mask.unsqueeze(0)
        else:
            attn_mask = attn_mask.reshape(bsz, num_heads, -1, src_len)
    q = q.reshape(bsz, num_heads, tgt_len, head_dim)
    k = k.reshape(bsz, num_heads, src_len, head_dim)
    v = v.reshape(bsz, num_heads, src_len, head_dim)
    out = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    out = out.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)  # (L, N, H, hd) -> (L*N, E)
    out = linear(out, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, -1)
    if not batched:
        out = out.squeeze(1)
    return out, None
