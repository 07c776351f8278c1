"""Scaled dot-product attention (Vaswani et al. 2017) as one fused op:

    attention(Q, K, V) = softmax(Q K^T * scale + mask) V,     scale = 1 / sqrt(d) by default

with Q (..., L, d), K (..., S, d), V (..., S, d_v), and an additive mask (..., L, S) that is 0
where a query may look at a key and -inf where it may not (a bool mask, True = take part, is
turned into one). Dropout, when asked for, drops attention weights (after the softmax).

Memory: the (..., L, S) score matrix dominates. The forward turns the scores into the
probabilities P in place, and backward keeps only P (plus Q, K, V and the output, which are
O(L d)); it never stores the scores. Long sequences are processed in blocks of query rows, so
backward needs one block of temporaries on top of P, and a causal block stops at the last key
its rows can see: the masked upper triangle is neither computed nor stored. See "Attention
memory" in the README for measurements against torch.

A query row whose keys are all masked gets zero weights and a zero output, as torch's
`scaled_dot_product_attention` returns (a plain softmax would give NaN).
"""

from __future__ import annotations

import math
from typing import Any

from ... import dtypes, kernels
from ...amp.autocast_mode import cast_inputs
from ...autograd.node import Op, composite_backward
from ...backend import device_of, module_of, numpy
from ...ops._util import broadcast_shapes, right_operand, shape_str, sum_last, sum_to_shape
from ...ops.softmax import softmax
from ...random import _generator_for
from ...tensor import Tensor

BLOCK_ELEMENTS = 1 << 22  # scores per block of query rows (16 MB in float32)


def _row_blocks(batch: int, length: int, source_length: int, causal: bool) -> list:
    """(start, stop, keys): query rows start:stop attend to keys 0:keys."""
    rows = max(1, min(length, BLOCK_ELEMENTS // max(1, batch * source_length)))
    return [(i, min(i + rows, length), min(i + rows, source_length) if causal else source_length)
            for i in range(0, length, rows)]


class ScaledDotProductAttention(Op):
    """out = P_drop V with P = softmax(Q K^T * scale + mask); saves P, never the scores."""

    def forward(self, q: Any, k: Any, v: Any, mask: Any, scale: float, dropout_p: float,
                causal: bool) -> Any:
        xp = module_of(q)
        length, source_length = q.shape[-2], k.shape[-2]
        batch = broadcast_shapes(q.shape[:-2], k.shape[:-2], v.shape[:-2],
                                 () if mask is None else mask.shape[:-2])
        q_all = xp.broadcast_to(q, batch + q.shape[-2:])  # views: a mask may add batch dims
        mask_all = None if mask is None else \
            xp.broadcast_to(mask, mask.shape[:-2] + (length, source_length))
        keep = None
        if dropout_p > 0:  # inverted dropout on the weights: keep with 1 - p, scale by 1/(1-p)
            rng = _generator_for(device_of(q), None).rng
            keep = rng.random(batch + (length, source_length), dtype="float32") >= dropout_p
        size = math.prod(batch)
        spans = _row_blocks(size, length, source_length, causal)
        out = xp.empty(batch + (length, v.shape[-1]), dtype=q.dtype)
        probs = []
        k_t = _transposed(xp, k)
        for start, stop, keys in spans:
            rows = slice(start, stop)
            p = xp.matmul(q_all[..., rows, :], k_t[..., :keys])  # scores
            if keys == 0:  # no keys at all: zero weights and output, as torch
                out[..., rows, :] = 0
                probs.append(p)
                continue
            if (mask is None or causal) and _kernel_usable(p):  # one loop per row (ember/kernels)
                kernels.load("softmax").attention_probs(p, scale, start, causal)
            else:
                self._softmax(xp, p, scale, None if mask is None else mask_all[..., rows, :keys])
            weights = p if keep is None else p * keep[..., rows, :keys] * _keep_scale(dropout_p)
            xp.matmul(weights, v[..., :keys, :], out=out[..., rows, :])  # no temporary
            probs.append(p)
        self.scale, self.dropout_p, self.spans = scale, dropout_p, spans
        self.save_for_backward(q, k, v, mask, tuple(probs), keep, out)
        return out

    @staticmethod
    def _softmax(xp: Any, p: Any, scale: float, mask: Any) -> None:
        """P = softmax(S * scale + mask) in place: exp(s - max) / sum exp(s - max)."""
        p *= scale
        if mask is not None:
            p += mask
        row_max = xp.amax(p, axis=-1, keepdims=True)
        if mask is not None:  # a row with every key masked: exp(-inf) = 0 everywhere, P = 0
            row_max[row_max == -math.inf] = 0
        p -= row_max
        xp.exp(p, out=p)
        denom = sum_last(p)
        if mask is not None:
            denom[denom == 0] = 1
        p /= denom

    def backward(self, grad: Any) -> tuple:
        q, k, v, mask, probs, keep, out = self.saved_tensors
        scale, dropout_p = self.scale, self.dropout_p
        need_q, need_k, need_v, need_mask = self.next_edges[:4]
        if isinstance(grad, Tensor):  # create_graph: differentiate the composite instead
            def compute(q_: Any, k_: Any, v_: Any, mask_: Any) -> Any:
                return _attention_composite(q_, k_, v_, mask_, scale, dropout_p, keep)

            return composite_backward(compute, (q, k, v, mask), grad,
                                      (need_q, need_k, need_v, need_mask)) + (None,) * 3
        xp = module_of(grad)
        batch = grad.shape[:-2]
        q_all = xp.broadcast_to(q, batch + q.shape[-2:])
        gq_rows = []
        gk = xp.zeros(batch + k.shape[-2:], dtype=k.dtype) if need_k else None
        gv = xp.zeros(batch + v.shape[-2:], dtype=v.dtype) if need_v else None
        gmask = xp.zeros(batch + (grad.shape[-2], k.shape[-2]), dtype=q.dtype) \
            if need_mask else None
        v_t = _transposed(xp, v) if need_q or need_k or need_mask else None
        for (start, stop, keys), p in zip(self.spans, probs, strict=True):
            rows = slice(start, stop)
            g = grad[..., rows, :]
            drop = None if keep is None else keep[..., rows, :keys] * _keep_scale(dropout_p)
            if need_v:  # dV = P_drop^T dO
                weights = p if drop is None else p * drop
                gv[..., :keys, :] += xp.matmul(xp.swapaxes(weights, -1, -2), g)
            if not (need_q or need_k or need_mask):
                continue
            ds = xp.matmul(g, v_t[..., :keys])  # dP_drop = dO V^T
            if drop is not None:
                ds *= drop
            # softmax: dS = P * (dP - rowsum(dP * P)), and rowsum(dP * P) = rowsum(dO * out)
            # (FlashAttention's identity), so no second (L, S) temporary is needed.
            rowsum = sum_last(g * out[..., rows, :])
            if not need_mask and keys and _kernel_usable(ds, p, rowsum):
                kernels.load("softmax").attention_probs_backward(ds, p, rowsum, scale)
            else:
                ds -= rowsum
                ds *= p
                if need_mask:
                    gmask[..., rows, :keys] = ds
                ds *= scale
            if need_q:  # dQ = dS K * scale
                gq_rows.append(xp.matmul(ds, k[..., :keys, :]))
            if need_k:  # dK = dS^T Q * scale
                gk[..., :keys, :] += xp.matmul(xp.swapaxes(ds, -1, -2), q_all[..., rows, :])
        gq = None
        if need_q and not gq_rows:  # no query rows: nothing flows back to q
            gq = xp.zeros_like(q)
        elif need_q:
            gq = gq_rows[0] if len(gq_rows) == 1 else xp.concatenate(gq_rows, axis=-2)
            gq = sum_to_shape(gq, q.shape)
        return (gq, None if gk is None else sum_to_shape(gk, k.shape),
                None if gv is None else sum_to_shape(gv, v.shape),
                None if gmask is None else sum_to_shape(gmask, mask.shape), None, None, None)


def _transposed(xp: Any, a: Any) -> Any:
    """a^T over the last two dims, as a right operand of the per-head products."""
    return right_operand(xp, xp.swapaxes(a, -1, -2))


def _kernel_usable(*arrays: Any) -> bool:
    """Whether the compiled softmax kernels may run (contiguous float32 numpy arrays)."""
    return kernels.usable(numpy.float32, *arrays)


def _keep_scale(dropout_p: float) -> float:
    return 0.0 if dropout_p >= 1 else 1.0 / (1.0 - dropout_p)


def _attention_composite(q: Tensor, k: Tensor, v: Tensor, mask: Any, scale: float,
                         dropout_p: float, keep: Any) -> Tensor:
    """The same attention from differentiable Tensor ops (for create_graph=True)."""
    scores = (q @ k.transpose(-2, -1)) * scale
    dead = None
    if mask is not None:
        dead = (mask == -math.inf).all(-1, keepdim=True)  # rows with no key to look at
        if bool(dead.any()):
            mask = mask.masked_fill(dead, 0.0)
        else:
            dead = None
        scores = scores + mask
    weights = softmax(scores, -1)
    if dead is not None:
        weights = weights.masked_fill(dead, 0.0)
    if keep is not None:
        weights = weights * keep.to(weights.dtype) * _keep_scale(dropout_p)
    return weights @ v


def _float_mask(attn_mask: Tensor, dtype: Any, name: str = "attn_mask") -> Tensor:
    """A bool mask (True = take part) as an additive one: 0 where True, -inf where False.

    A float mask is the query's dtype or float32 (torch takes both: a float32 mask with a
    float64 or half query is common), converted to the query's dtype."""
    if attn_mask.dtype.is_floating_point:
        if attn_mask.dtype not in (dtype, dtypes.float32):
            raise RuntimeError(
                f"Expected {name} dtype to be bool or float or to match query dtype, but got "
                f"{name}.dtype: {attn_mask.dtype} and query.dtype: {dtype} instead.")
        return attn_mask.to(dtype)
    if attn_mask.dtype is dtypes.bool_:
        data = attn_mask._data
        xp = module_of(data)
        return Tensor._make(xp.where(data, 0.0, -math.inf).astype(dtype.np))
    raise RuntimeError(f"Expected {name} dtype to be bool or float or to match query dtype, "
                       f"but got {name}.dtype: {attn_mask.dtype} and query.dtype: {dtype} "
                       f"instead.")


def _share_kv_heads(query: Tensor, key: Tensor, value: Tensor) -> tuple:
    """enable_gqa: key and value each repeated so that query head h uses their head
    h // (Hq / Hk) (and h // (Hq / Hv)); their head counts must divide the query's."""
    if query.ndim < 3 or key.ndim < 3 or value.ndim < 3:
        raise RuntimeError(f"scaled_dot_product_attention: enable_gqa needs a heads dim (..., H, "
                           f"L, E), got ({shape_str(query.shape)}), ({shape_str(key.shape)}) and "
                           f"({shape_str(value.shape)})")
    heads = query.shape[-3]
    shared = []
    for x in (key, value):
        kv_heads = x.shape[-3]
        if kv_heads != heads and (kv_heads == 0 or heads % kv_heads):
            raise RuntimeError(f"scaled_dot_product_attention: with enable_gqa the number of "
                               f"query heads ({heads}) must be a multiple of the key/value heads "
                               f"({key.shape[-3]}, {value.shape[-3]})")
        shared.append(x if kv_heads == heads else x.repeat_interleave(heads // kv_heads, dim=-3))
    return tuple(shared)


def _causal_mask(q: Tensor, length: int, source_length: int) -> Tensor:
    """-inf above the diagonal (query i sees keys 0..i), aligned top-left like torch's tril."""
    xp = module_of(q._data)
    full = xp.full((length, source_length), -math.inf, dtype=q._data.dtype)
    return Tensor._make(xp.triu(full, 1))


def _check_mask_shape(mask: Tensor, query: Tensor, key: Tensor) -> None:
    """The mask must broadcast to the scores' shape (..., L, S), torch's RuntimeError if not."""
    scores = tuple(query.shape[:-1]) + (key.shape[-2],)
    try:
        full = broadcast_shapes(tuple(mask.shape), scores)
    except (ValueError, RuntimeError):
        full = None
    if full is None or full[-2:] != scores[-2:]:
        raise RuntimeError(f"scaled_dot_product_attention: attn_mask of shape "
                           f"({shape_str(mask.shape)}) does not broadcast to the attention "
                           f"scores' shape ({shape_str(scores)}) (query L x key S)")


def scaled_dot_product_attention(query: Tensor, key: Tensor, value: Tensor,
                                 attn_mask: Tensor | None = None, dropout_p: float = 0.0,
                                 is_causal: bool = False, scale: float | None = None,
                                 enable_gqa: bool = False) -> Tensor:
    """softmax(query key^T * scale + mask) value, over the last two dims.

    query (..., L, E), key (..., S, E), value (..., S, Ev) -> (..., L, Ev). `attn_mask` is a
    bool mask (True: the query may attend to that key) or a float mask added to the scores;
    it broadcasts over the batch and head dims. `is_causal` masks keys after each query.
    `scale` defaults to 1/sqrt(E). `dropout_p` drops attention weights (always, as in torch:
    pass 0 in evaluation). `enable_gqa` shares each key/value head among Hq/Hkv query heads.

    >>> q = k = v = ember.randn(2, 4, 16, 32)          # (batch, heads, time, head dim)
    >>> F.scaled_dot_product_attention(q, k, v, is_causal=True).shape
    ember.Size([2, 4, 16, 32])
    """
    query, key, value = cast_inputs(query, key, value)
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError(f"scaled_dot_product_attention: query, key and value need at least 2 "
                           f"dims (..., L, E), got ({shape_str(query.shape)}), "
                           f"({shape_str(key.shape)}) and ({shape_str(value.shape)})")
    if not (query.dtype == key.dtype == value.dtype):
        raise RuntimeError(f"Expected query, key, and value to have the same dtype, but got "
                           f"query.dtype: {query.dtype} key.dtype: {key.dtype} and value.dtype: "
                           f"{value.dtype} instead.")
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"scaled_dot_product_attention: expected floating point inputs, got "
                           f"{query.dtype}")
    if query.shape[-1] != key.shape[-1] or key.shape[-2] != value.shape[-2]:
        raise RuntimeError(
            f"scaled_dot_product_attention: query ({shape_str(query.shape)}), key "
            f"({shape_str(key.shape)}) and value ({shape_str(value.shape)}) must be (..., L, E), "
            f"(..., S, E) and (..., S, Ev)")
    if not 0.0 <= dropout_p <= 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")
    if enable_gqa:
        key, value = _share_kv_heads(query, key, value)
    mask = None
    if is_causal:
        if attn_mask is not None:
            raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be "
                               "set when is_causal=True")
        mask = _causal_mask(query, query.shape[-2], key.shape[-2])
    elif attn_mask is not None:
        mask = _float_mask(attn_mask, query.dtype)
        _check_mask_shape(mask, query, key)
    if scale is None:
        scale = 1.0 / math.sqrt(query.shape[-1]) if query.shape[-1] else 1.0
    return ScaledDotProductAttention.apply(query, key, value, mask, float(scale),
                                           float(dropout_p), is_causal)
