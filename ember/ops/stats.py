"""Running and order statistics: cummax/cummin, logcumsumexp, quantile, mode, aminmax, dist,
and the counting helpers bincount, histc, searchsorted/bucketize, cov/corrcoef.

Where an op picks elements (cummax, mode, quantile) the indices are found on arrays and the
values are gathered, so gradients flow to exactly the chosen positions through `gather`.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from .. import backend, dtypes, return_types
from ..tensor import Tensor
from ._util import to_tensor, torch_named, wrap_dim
from .indexing import gather, where
from .reduce import NanMedianAll
from .sort import sort_keys


def _long(array: Any) -> Tensor:
    return Tensor._make(backend.as_array(array).astype("int64", copy=False))


def _cumulative_extreme(input: Tensor, dim: int, largest: bool) -> Any:
    name = "cummax" if largest else "cummin"
    kind = return_types.cummax if largest else return_types.cummin
    data = input._data
    if data.ndim == 0:
        return kind(input.clone(), _long(backend.module_of(data).zeros((), "int64")))
    d = wrap_dim(dim, data.ndim, name)
    xp = backend.module_of(data)
    if data.shape[d] == 0:
        return kind(input.clone(), _long(xp.zeros(data.shape, "int64")))
    running = backend.accumulate("maximum" if largest else "minimum", data, d)  # NaN sticks
    best = backend.accumulate("fmax" if largest else "fmin", data, d)
    positions = xp.arange(data.shape[d]).reshape([-1 if i == d else 1 for i in range(data.ndim)])
    hit = data == best  # a new extreme, or a tie with it: torch takes the latest index
    if data.dtype.kind in "fV":
        nan = xp.isnan(data)
        first_nan = backend.accumulate("maximum", xp.where(nan, positions, -1), d)
        hit = hit & ~xp.isnan(running)
    else:
        first_nan = None
    index = backend.accumulate("maximum", xp.where(hit, positions, 0), d)
    if first_nan is not None:  # after a NaN the index stays on the (latest) NaN
        index = xp.where(xp.isnan(running), first_nan, index)
    idx = _long(index)
    return kind(torch_named(gather(input, d, idx), "Cummax" if largest else "Cummin"), idx)


def cummax(input: Tensor, dim: int) -> Any:
    """Running maximum along dim, with the index each value came from."""
    return _cumulative_extreme(input, dim, True)


def cummin(input: Tensor, dim: int) -> Any:
    return _cumulative_extreme(input, dim, False)


def logcumsumexp(input: Tensor, dim: int) -> Tensor:
    """log(cumsum(exp(x))) along dim, shifted by the max so large values do not overflow."""
    if input._data.dtype.kind not in "fV":
        raise NotImplementedError(f"logcumsumexp: not implemented for {input.dtype} input "
                                  "(convert with .float())")
    wider = {dtypes.float16: dtypes.float32, dtypes.bfloat16: dtypes.float32}
    if input.device.type == "cpu":
        wider[dtypes.float32] = dtypes.float64
    if input.dtype in wider:  # accumulated in torch's acc_type, rounded once
        out = logcumsumexp(input.to(wider[input.dtype]), dim).to(input.dtype)
        return torch_named(out, "Logcumsumexp")
    x = input
    if x.dim() == 0:
        return x.clone()
    d = wrap_dim(dim, x.dim(), "logcumsumexp")
    if x.shape[d] == 0:
        return x.clone()
    xd = x.detach()
    m = xd.masked_fill(xd.isnan(), -math.inf).amax(d, keepdim=True)  # a NaN spoils only its own
    m = m.masked_fill(m.isinf(), 0.0)  # and later positions, as in torch
    return torch_named((x - m).exp().cumsum(d).log() + m, "Logcumsumexp")


def aminmax(input: Tensor, *, dim: int | None = None, keepdim: bool = False) -> Any:
    """(min, max) over all elements or along dim."""
    if dim is None:
        if input.numel() == 0:
            raise RuntimeError("aminmax(): cannot compute aminmax over an empty dimension as the "
                               "operation has no identity.")
        lo, hi = input.amin(), input.amax()
        if keepdim:
            shape = (1,) * input.dim()
            lo, hi = lo.reshape(shape), hi.reshape(shape)
        return return_types.aminmax(torch_named(lo, "Aminmax"), torch_named(hi, "Aminmax"))
    if input.dim() and input.shape[wrap_dim(dim, input.dim(), "aminmax")] == 0:
        raise IndexError(f"aminmax(): Expected reduction dim {wrap_dim(dim, input.dim())} to "
                         "have non-zero size.")
    return return_types.aminmax(torch_named(input.amin(dim, keepdim), "Aminmax"),
                                torch_named(input.amax(dim, keepdim), "Aminmax"))


def mode(input: Tensor, dim: int = -1, keepdim: bool = False) -> Any:
    """The most frequent value along dim (the smallest among equally frequent ones) and the
    index of its last occurrence, as torch returns."""
    data = input._data
    xp = backend.module_of(data)
    if data.ndim == 0:
        return return_types.mode(input.clone(), _long(xp.zeros((), "int64")))
    d = wrap_dim(dim, data.ndim, "mode")
    n = data.shape[d]
    if n == 0:
        raise IndexError(f"mode(): Expected reduction dim {d} to have non-zero size.")
    moved = xp.moveaxis(data, d, -1)
    rows = moved.reshape(-1, n)
    keys = sort_keys(rows)
    order = xp.argsort(keys, axis=-1, kind="stable")
    srt = xp.take_along_axis(keys, order, axis=-1)
    # run lengths of equal sorted values: count at each run's last element
    new_run = xp.concatenate([xp.ones((rows.shape[0], 1), bool), srt[:, 1:] != srt[:, :-1]], 1)
    run_id = xp.cumsum(new_run, axis=1) - 1
    counts = xp.zeros(rows.shape, "int64")
    xp.add.at(counts, (xp.arange(rows.shape[0])[:, None], run_id), 1)
    run_count = xp.take_along_axis(counts, run_id, axis=1)
    best = xp.argmax(run_count, axis=1)  # first (smallest) value with the top count
    best_run = run_id[xp.arange(rows.shape[0]), best]
    last_in_run = xp.where(run_id == best_run[:, None], order, -1).max(axis=1)
    index = last_in_run.reshape(moved.shape[:-1])
    idx = _long(xp.expand_dims(index, d))
    values = gather(input, d, idx)
    if not keepdim:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return return_types.mode(torch_named(values, "Mode"), idx)


def nanmedian(input: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:
    """median ignoring NaN: NaN sorts last, so the lower median of the non-NaN values."""
    data = input._data
    xp = backend.module_of(data)
    if dim is None:
        if data.size == 0:
            return Tensor._make(xp.asarray(xp.nan, dtype=data.dtype))
        return NanMedianAll.apply(input, tuple(range(data.ndim)), False)
    d = wrap_dim(dim, data.ndim, "nanmedian") if data.ndim else 0
    if data.ndim and data.shape[d] == 0:
        raise IndexError(f"nanmedian(): Expected reduction dim {d} to have non-zero size.")
    source = input if data.ndim else input.reshape(1)
    arr = source._data
    order = xp.argsort(sort_keys(arr), axis=d, kind="stable")
    valid = (~xp.isnan(arr)).sum(axis=d, keepdims=True) if arr.dtype.kind in "fV" else \
        xp.full([1 if i == d else s for i, s in enumerate(arr.shape)], arr.shape[d])
    pick = xp.maximum(valid - 1, 0) // 2
    idx = _long(xp.take_along_axis(order, pick, axis=d))
    values = gather(source, d, idx)
    if not keepdim or data.ndim == 0:
        values, idx = values.squeeze(d), idx.squeeze(d)
    return return_types.nanmedian(torch_named(values, "NanmedianBackward1"), idx)


_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def quantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
             interpolation: str = "linear", _ignore_nan: bool = False) -> Tensor:
    """The q-th quantiles along dim (of all elements when dim is None), as torch computes them:
    sort, then interpolate between the two neighbouring order statistics."""
    name = "nanquantile" if _ignore_nan else "quantile"
    if input._data.dtype not in ("float32", "float64"):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(f"{name}() interpolation must be one of linear, lower, higher, "
                           f"midpoint or nearest, but got {interpolation}")
    xp = backend.module_of(input._data)
    if isinstance(q, Tensor):
        if q.dim() > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        if q.dtype != input.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
    elif not isinstance(q, numbers.Real) or isinstance(q, bool):
        raise TypeError(f"{name}(): q must be a float or a Tensor, got {type(q).__name__}")
    scalar_q = not isinstance(q, Tensor) or q.dim() == 0  # a 0-d q adds no dim, as torch
    qs = xp.asarray([q] if not isinstance(q, Tensor) else q._data, dtype="float64").reshape(-1)
    if ((qs < 0) | (qs > 1)).any():
        raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    if input._data.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    x = input.reshape(-1) if dim is None else input
    d = 0 if dim is None else wrap_dim(dim, input.dim(), name)
    if x.dim() == 0:
        x = x.reshape(1)
    srt = x.sort(d).values  # NaN sorts last
    n = x.shape[d]
    nan_rows = xp.isnan(srt._data).any(axis=d, keepdims=True)
    if _ignore_nan:
        count = (~xp.isnan(srt._data)).sum(axis=d, keepdims=True).astype("float64")
    outs = []
    for qv in qs.tolist():
        # as torch: a row of NaN picks its last (NaN) element, so the gradient reaches it
        rank = xp.maximum(qv * (count - 1), 0) if _ignore_nan else \
            xp.where(nan_rows, n - 1.0, qv * (n - 1.0))
        lo = xp.floor(rank)
        hi = xp.ceil(rank)
        if interpolation == "lower":
            hi = lo
        elif interpolation == "higher":
            lo = hi
        elif interpolation == "nearest":
            lo = hi = xp.round(rank)  # half to even, as torch
        lo_i = _long(xp.clip(lo, 0, n - 1))
        hi_i = _long(xp.clip(hi, 0, n - 1))
        val = gather(srt, d, lo_i)
        if interpolation in ("linear", "midpoint"):  # torch's lerp (lower/higher/nearest pick)
            w = xp.full(rank.shape, 0.5) if interpolation == "midpoint" else rank - lo
            weight = Tensor._make(backend.as_array(w).astype(input._data.dtype))
            val = val.lerp(gather(srt, d, hi_i), weight)
        outs.append(val if keepdim else val.squeeze(d))
    if dim is None and keepdim:
        outs = [o.reshape((1,) * input.dim()) for o in outs]
    if scalar_q:
        return outs[0]
    from .join import stack  # noqa: PLC0415

    if not outs:  # an empty q: an empty leading dim before the reduced shape
        if dim is None:
            shape = (1,) * input.dim() if keepdim else ()
        else:
            shape = tuple(1 if i == d else s for i, s in enumerate(input.shape)
                          if keepdim or i != d)
        return Tensor._make(xp.zeros((0, *shape), input._data.dtype))
    return stack(outs, 0)


def nanquantile(input: Tensor, q: Any, dim: int | None = None, keepdim: bool = False, *,
                interpolation: str = "linear") -> Tensor:
    return quantile(input, q, dim, keepdim, interpolation=interpolation, _ignore_nan=True)


def dist(input: Tensor, other: Tensor, p: float = 2) -> Tensor:
    """The p-norm of input - other."""
    return torch_named((input - other).norm(p), "Dist")


def renorm(input: Tensor, p: float, dim: int, maxnorm: float) -> Tensor:
    """Rescale each slice along dim whose p-norm exceeds maxnorm down to maxnorm."""
    d = wrap_dim(dim, input.dim(), "renorm")
    others = tuple(i for i in range(input.dim()) if i != d)
    over = input.detach().norm(p, dim=others, keepdim=True) > maxnorm
    # the gradient flows through the norm of the rescaled slices only, as torch's
    # renorm_backward: the others (norm zeroed here) pass it through even when their norm is NaN
    norms = where(over, input, 0.0).norm(p, dim=others, keepdim=True)
    return torch_named(where(over, input * (maxnorm / (norms + 1e-7)), input), "Renorm")


def bincount(input: Tensor, weights: Tensor | None = None, minlength: int = 0) -> Tensor:
    """Count of each value in a 1-D non-negative integer tensor (or the sum of its weights)."""
    data = input._data
    if data.dtype.kind not in "iu":  # torch's type for a float or bool input
        raise NotImplementedError(f"bincount: not implemented for {input.dtype} input; it counts "
                                  "non-negative integers (convert with .long())")
    if data.ndim != 1 or (data.size and int(data.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    xp = backend.module_of(data)
    if weights is None:
        return _long(xp.bincount(data, minlength=minlength))
    w = weights._data
    if w.ndim != 1 or w.shape[0] != data.shape[0]:
        raise RuntimeError("weights should be 1-d and have the same length as input")
    out = xp.bincount(data, weights=w.astype("float64"), minlength=minlength)
    # as torch: float32 weights sum in float32, any other weights in float64
    return Tensor._make(backend.as_array(out).astype("float32" if w.dtype == "float32" else
                                                     "float64"))


def histc(input: Tensor, bins: int = 100, min: float = 0, max: float = 0) -> Tensor:  # noqa: A002
    """Histogram with `bins` equal bins over [min, max] (the data's range when both are 0).

    As torch: a value's bin is int((x - min) * bins / (max - min)) in the input's dtype (so a
    value next to an edge may land in the neighbouring bin), max itself in the last bin; values
    outside [min, max] and NaN are not counted."""
    data = input._data
    if data.dtype.kind not in "fV":
        raise NotImplementedError(f"histc: not implemented for {input.dtype} input (it counts "
                                  "floating point values; convert with .float())")
    xp = backend.module_of(data)
    lo, hi = float(min), float(max)
    if bins <= 0:
        raise RuntimeError(f"histc: bins must be > 0, but got {bins}")
    if lo == hi and data.size:
        lo, hi = float(data.min()), float(data.max())
    if lo == hi:
        lo, hi = lo - 1, hi + 1
    if not (math.isfinite(lo) and math.isfinite(hi)):
        raise RuntimeError(f"torch.histc: range of [{lo}, {hi}] is not finite")
    if lo > hi:
        raise RuntimeError("torch.histc: max must be larger than min")
    flat = data.reshape(-1)
    left, right = xp.asarray(lo, flat.dtype), xp.asarray(hi, flat.dtype)
    inside = flat[(flat >= left) & (flat <= right)]
    with backend.errstate(xp, over="ignore", invalid="ignore"):
        pos = ((inside - left) * xp.asarray(bins, flat.dtype) / (right - left)).astype("int64")
    counts = xp.bincount(xp.minimum(pos, bins - 1), minlength=bins)
    return Tensor._make(backend.as_array(counts).astype(data.dtype))


def searchsorted(sorted_sequence: Tensor, input: Any, *, out_int32: bool = False,
                 right: bool = False, side: str | None = None, sorter: Any = None) -> Tensor:
    """Indices where input's values would be inserted into the sorted innermost dim."""
    name = "torch.searchsorted()"
    seq = sorted_sequence._data
    xp = backend.module_of(seq)
    vals = to_tensor(input, sorted_sequence)._data
    if side not in (None, "left", "right"):
        raise RuntimeError(f"{name}: side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise RuntimeError(f"{name}: side and right can't be set to opposites, got side of left "
                           "while right was True")
    if seq.ndim == 0:
        raise RuntimeError(f"{name}: boundaries tensor should have positive dimension, but got "
                           "0 dimension")
    if seq.ndim > 1 and (vals.ndim != seq.ndim or vals.shape[:-1] != seq.shape[:-1]):
        raise RuntimeError(f"{name}: boundaries tensor should be 1 dimension or the first N-1 "
                           "dimensions of boundaries tensor and input value tensor must match, "
                           f"but we got boundaries tensor {list(seq.shape)} and input value "
                           f"tensor {list(vals.shape)}")
    if sorter is not None:
        if tuple(sorter.shape) != seq.shape:
            raise RuntimeError(f"{name}: boundary and sorter must have the same size, but got "
                               f"boundary tensor {list(seq.shape)} and got sorter tensor "
                               f"{list(sorter.shape)}")
        seq = xp.take_along_axis(seq, sorter._data, axis=-1)
    use_right = right or side == "right"
    kind = "right" if use_right else "left"
    rows = seq.reshape(-1, seq.shape[-1])
    flat_vals = vals.reshape(rows.shape[0] if seq.ndim > 1 else 1, -1)
    if seq.dtype.kind in "fV" and bool(xp.isnan(seq).any()):  # numpy would sort NaN last
        out = _binary_search(xp, rows, flat_vals, use_right).reshape(vals.shape)
    elif seq.ndim == 1:
        out = xp.searchsorted(seq, vals, side=kind)
    elif rows.shape[0] > 4 * rows.shape[1]:  # many short rows: one search over all of them
        out = _binary_search(xp, rows, flat_vals, use_right).reshape(vals.shape)
    else:
        out = xp.stack([xp.searchsorted(s, v, side=kind) for s, v in zip(rows, flat_vals,
                                                                          strict=True)])
        out = out.reshape(vals.shape)
    return Tensor._make(backend.as_array(xp.asarray(out)).astype("int32" if out_int32 else "int64"))


def _binary_search(xp: Any, seq: Any, vals: Any, right: bool) -> Any:
    """torch's lower/upper bound of each row of vals (R, M) in the row of seq (R, N), one halving
    step at a time over all values: a step goes right unless seq[mid] >= v (> v for right), so
    NaN boundaries are passed over exactly as torch does."""
    n = seq.shape[-1]
    lo = xp.zeros(vals.shape, "int64")
    hi = xp.full(vals.shape, n, "int64")
    rows = xp.arange(seq.shape[0])[:, None]
    for _ in range(n.bit_length()):
        mid = (lo + hi) >> 1
        at_mid = seq[rows, xp.minimum(mid, n - 1)]
        with backend.errstate(xp, invalid="ignore"):  # NaN compares false, as in torch
            stop = at_mid > vals if right else at_mid >= vals
        active = lo < hi
        lo = xp.where(active & ~stop, mid + 1, lo)
        hi = xp.where(active & stop, mid, hi)
    return lo


def bucketize(input: Any, boundaries: Tensor, *, out_int32: bool = False,
              right: bool = False) -> Tensor:
    """The bucket index of each value, for 1-D sorted boundaries."""
    if boundaries.dim() != 1:
        raise RuntimeError(f"bucketize(): boundaries tensor must be 1 dimension, but got "
                           f"dim({boundaries.dim()})")
    return searchsorted(boundaries, input, out_int32=out_int32, right=right)


def cov(input: Tensor, *, correction: int = 1, fweights: Any = None,
        aweights: Any = None) -> Tensor:
    """Covariance of the variables in the rows of input (observations in the columns)."""
    if input.dim() > 2:
        raise RuntimeError("cov(): expected input to have two or fewer dimensions but got an "
                           f"input with {input.dim()} dimensions")
    if input._data.dtype.kind == "b":
        raise RuntimeError("cov(): bool dtype is not supported for input")
    observations = input.shape[-1] if input.dim() else 1
    for name, w, kinds, kind_name in (("fweights", fweights, "iu", "integral"),
                                      ("aweights", aweights, "fV", "floating point")):
        if w is None:
            continue
        if w.dim() > 1:
            raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got "
                               f"{name} with {w.dim()} dimensions")
        if w._data.dtype.kind not in kinds:
            raise RuntimeError(f"cov(): expected {name} to have {kind_name} dtype but got "
                               f"{name} with {w.dtype} dtype")
        if w.numel() != observations:
            raise RuntimeError(f"cov(): expected {name} to have the same numel as there are "
                               f"observations in the input but got {w.numel()} != "
                               f"{observations}")
        if w.numel() and bool((w._data < 0).any()):
            raise RuntimeError(f"cov(): {name} cannot be negative")
    x = input if input.dim() == 2 else input.reshape(1, -1)
    if x._data.dtype.kind not in "fV":
        x = x.to(dtypes.get_default_dtype())
    n = x.shape[1]
    w = None
    if fweights is not None:
        w = fweights.to(x.dtype)
    if aweights is not None:
        w = aweights.to(x.dtype) if w is None else w * aweights.to(x.dtype)
    if w is None:
        mean = x.mean(1, keepdim=True)
        centred = x - mean
        out = centred @ centred.t() / max(n - correction, 0)
    else:
        wsum = w.sum()
        mean = (x * w).sum(1, keepdim=True) / wsum
        centred = x - mean
        if aweights is None:
            norm = wsum - correction
        else:
            norm = wsum - correction * (w * aweights.to(x.dtype)).sum() / wsum
        out = (centred * w) @ centred.t() / norm.clamp(min=0)
    return out.reshape(()) if input.dim() < 2 else out


def corrcoef(input: Tensor) -> Tensor:
    """Pearson correlation coefficients of the rows of input."""
    c = cov(input)
    if c.dim() == 0:
        return c / c
    d = c.diagonal().sqrt()
    return (c / d[:, None] / d[None, :]).clamp(-1, 1)
