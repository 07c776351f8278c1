"""torch.* functions that are not tensor methods: pairwise distances, set membership, index
arithmetic, window functions, numerical gradients, histograms, and torch's top-level spellings
of functional layers (whose argument orders differ from `nn.functional`'s in places)."""

from __future__ import annotations

import itertools
import math
from typing import Any

from .. import backend, dtypes
from ..tensor import Tensor
from ._util import torch_named, wrap_dim


def _wrap(data: Any) -> Tensor:
    return Tensor._make(backend.as_array(data))


# ------------------------------------------------------------------ distances
def cdist(x1: Tensor, x2: Tensor, p: float = 2.0,
          compute_mode: str = "use_mm_for_euclid_dist_if_necessary") -> Tensor:
    """The p-norm distance between each row of x1 (*, P, M) and each row of x2 (*, R, M)."""
    if x1.ndim < 2 or x2.ndim < 2:
        raise RuntimeError(f"cdist only supports at least 2D tensors, X1 got: {x1.ndim}D, X2 "
                           f"got: {x2.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: "
                           f"{x1.shape[-1]} X2: {x2.shape[-1]}")
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for t in (x1, x2):
        if not t.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, X{1 + (t is x2)} got: "
                               f"{t.dtype}")
    if x1.dtype is not x2.dtype:
        raise RuntimeError(f"cdist: expected scalar type {x1.dtype} but found {x2.dtype} (X1 and "
                           "X2 must have one dtype)")
    diff = x1.unsqueeze(-2) - x2.unsqueeze(-3)  # (*, P, R, M)
    # torch's node: Cdist, or a View where it computes the 2-norm through a matrix product
    by_mm = p == 2 and (compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == "use_mm_for_euclid_dist_if_necessary" and
        (x1.shape[-2] > 25 or x2.shape[-2] > 25)))
    return torch_named(diff.norm(p, dim=-1), "View" if by_mm else "Cdist")


def pdist(input: Tensor, p: float = 2.0) -> Tensor:
    """The distances between all pairs of rows i < j of an (N, M) input, row by row."""
    if input.ndim != 2:
        raise RuntimeError(f"pdist only supports 2D tensors, got: {input.ndim}D")
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"pdist only supports floating-point dtypes, got: {input.dtype}")
    if p < 0:
        raise RuntimeError("pdist only supports non-negative p values")
    n = input.shape[0]
    xp = backend.module_of(input._data)
    i, j = xp.triu_indices(n, 1)
    return torch_named((input[_wrap(i)] - input[_wrap(j)]).norm(p, dim=-1), "Pdist")


# ------------------------------------------------------------------ sets and indices
def isin(elements: Any, test_elements: Any, *, assume_unique: bool = False,
         invert: bool = False) -> Tensor:
    """Whether each element of `elements` occurs in `test_elements` (either may be a number)."""
    from ..creation import as_tensor  # noqa: PLC0415

    if not isinstance(elements, Tensor) and not isinstance(test_elements, Tensor):
        raise TypeError("isin() expects at least one of elements and test_elements to be a "
                        "Tensor")
    device = (elements if isinstance(elements, Tensor) else test_elements).device
    e = elements if isinstance(elements, Tensor) else as_tensor(elements, device=device)
    t = test_elements if isinstance(test_elements, Tensor) else as_tensor(test_elements,
                                                                          device=device)
    if e._data.dtype.kind == "b" or t._data.dtype.kind == "b":
        raise RuntimeError("isin: Unsupported input type encountered for isin(): Bool")
    xp = backend.module_of(e._data)
    return _wrap(xp.isin(e._data, t._data.reshape(-1), invert=invert))


def unravel_index(indices: Any, shape: Any) -> tuple:
    """Flat indices to coordinates in `shape` (C order), one int64 tensor per dim."""
    from ..creation import as_tensor  # noqa: PLC0415

    idx = indices if isinstance(indices, Tensor) else as_tensor(indices)
    if idx.dtype.is_floating_point or idx.dtype == dtypes.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {idx.dtype}")
    dims = (shape,) if isinstance(shape, int) else tuple(int(s) for s in shape)
    if any(s < 0 for s in dims):
        raise ValueError("'shape' cannot have negative values, but got " + str(tuple(dims)))
    data = idx._data.astype("int64")  # no range check, as torch: floor division wraps
    out = []
    for s in reversed(dims):
        out.append(_wrap(data % s if s else data * 0))
        data = data // s if s else data
    return tuple(reversed(out))


def combinations(input: Tensor, r: int = 2, with_replacement: bool = False) -> Tensor:
    """All length-r combinations of a 1-D tensor's elements, as rows (differentiable)."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty(0)
    pick = itertools.combinations_with_replacement if with_replacement else \
        itertools.combinations
    rows = list(pick(range(input.shape[0]), r))
    if not rows:
        return input.new_empty(0, r)
    xp = backend.module_of(input._data)
    return input[_wrap(xp.asarray(rows, dtype="int64"))]


def vander(x: Tensor, N: int | None = None, increasing: bool = False) -> Tensor:
    """Columns x^0 .. x^(N-1) (reversed unless increasing) of a 1-D x."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    n = x.shape[0] if N is None else int(N)
    if n < 0:
        raise RuntimeError("N must be non-negative.")
    from ..creation import arange  # noqa: PLC0415

    powers = arange(n, device=x.device)
    if not increasing:
        powers = powers.flip(0)
    base = x if x.dtype.is_floating_point else x.to(dtypes.int64)
    return base.unsqueeze(-1) ** powers


# ------------------------------------------------------------------ windows
def _window(name: str, length: int, periodic: bool, dtype: Any, device: Any,
            requires_grad: bool, values: Any) -> Tensor:
    from ..creation import tensor  # noqa: PLC0415

    if length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got "
                           f"window_length={length}")
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    if not d.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {d}")
    if length == 0:
        data = backend.numpy.zeros(0)
    elif length == 1:
        data = backend.numpy.ones(1)
    else:
        n = length + 1 if periodic else length
        data = values(backend.numpy.arange(n, dtype="float64"), n)[:length]
    return tensor(data, dtype=d, device=device, requires_grad=requires_grad)


def hann_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                device: Any = None, requires_grad: bool = False, **_: Any) -> Tensor:
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 0.5 - 0.5 * backend.numpy.cos(2 * math.pi * k / (n - 1)))


def hamming_window(window_length: int, periodic: bool = True, alpha: float = 0.54,
                   beta: float = 0.46, *, dtype: Any = None, device: Any = None,
                   requires_grad: bool = False, **_: Any) -> Tensor:
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: alpha - beta * backend.numpy.cos(2 * math.pi * k / (n - 1)))


def blackman_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    device: Any = None, requires_grad: bool = False, **_: Any) -> Tensor:
    np_ = backend.numpy
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 0.42 - 0.5 * np_.cos(2 * math.pi * k / (n - 1))
                   + 0.08 * np_.cos(4 * math.pi * k / (n - 1)))


def bartlett_window(window_length: int, periodic: bool = True, *, dtype: Any = None,
                    device: Any = None, requires_grad: bool = False, **_: Any) -> Tensor:
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: 1 - backend.numpy.abs(2 * k / (n - 1) - 1))


def kaiser_window(window_length: int, periodic: bool = True, beta: float = 12.0, *,
                  dtype: Any = None, device: Any = None, requires_grad: bool = False,
                  **_: Any) -> Tensor:
    np_ = backend.numpy
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad,
                   lambda k, n: np_.i0(beta * np_.sqrt(np_.clip(
                       1 - (2 * k / (n - 1) - 1) ** 2, 0, None))) / np_.i0(beta))


# ------------------------------------------------------------------ numerical calculus
def gradient(input: Tensor, *, spacing: Any = 1, dim: Any = None, edge_order: int = 1) -> tuple:
    """Central differences inside, one-sided at the edges (numpy.gradient), per dim."""
    dims = list(range(input.ndim)) if dim is None else (
        [dim] if isinstance(dim, int) else list(dim))
    dims = [wrap_dim(d, input.ndim, "gradient") for d in dims]
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if isinstance(spacing, (int, float)):
        steps: list = [float(spacing)] * len(dims)
    else:
        steps = list(spacing)
        if len(steps) != len(dims):
            raise RuntimeError(f"torch.gradient expected spacing to be unspecified, a scalar or "
                               f"it's spacing and dim arguments to have the same length, but "
                               f"got a spacing argument of length {len(steps)} and a dim "
                               f"argument of length {len(dims)}.")
    out = []
    for d, h in zip(dims, steps):
        if input.shape[d] < edge_order + 1:
            raise RuntimeError("torch.gradient expected each dimension size to be at least "
                               "edge_order+1")
        if isinstance(h, Tensor):
            out.append(_gradient_coords(input, d, h, edge_order))
        else:
            out.append(_gradient_uniform(input, d, float(h), edge_order))
    return tuple(out)


def _gradient_uniform(x: Tensor, d: int, h: float, edge_order: int) -> Tensor:
    from .join import cat  # noqa: PLC0415

    n = x.shape[d]
    inner = (x.narrow(d, 2, n - 2) - x.narrow(d, 0, n - 2)) / (2 * h)
    if edge_order == 1:
        first = (x.narrow(d, 1, 1) - x.narrow(d, 0, 1)) / h
        last = (x.narrow(d, n - 1, 1) - x.narrow(d, n - 2, 1)) / h
    else:
        first = (-1.5 * x.narrow(d, 0, 1) + 2 * x.narrow(d, 1, 1) - 0.5 * x.narrow(d, 2, 1)) / h
        last = (0.5 * x.narrow(d, n - 3, 1) - 2 * x.narrow(d, n - 2, 1)
                + 1.5 * x.narrow(d, n - 1, 1)) / h
    return cat([first, inner, last], d)


def _gradient_coords(x: Tensor, d: int, coords: Tensor, edge_order: int) -> Tensor:
    """numpy.gradient with sample coordinates along d (second-order accurate inside)."""
    from .join import cat  # noqa: PLC0415

    n = x.shape[d]
    shape = [1] * x.ndim
    shape[d] = -1
    dx = (coords[1:] - coords[:-1]).reshape(shape)
    h1, h2 = dx.narrow(d, 0, n - 2), dx.narrow(d, 1, n - 2)
    a = -h2 / (h1 * (h1 + h2))
    b = (h2 - h1) / (h1 * h2)
    c = h1 / (h2 * (h1 + h2))
    inner = a * x.narrow(d, 0, n - 2) + b * x.narrow(d, 1, n - 2) + c * x.narrow(d, 2, n - 2)
    if edge_order == 1:
        first = (x.narrow(d, 1, 1) - x.narrow(d, 0, 1)) / dx.narrow(d, 0, 1)
        last = (x.narrow(d, n - 1, 1) - x.narrow(d, n - 2, 1)) / dx.narrow(d, n - 2, 1)
    else:
        h1, h2 = dx.narrow(d, 0, 1), dx.narrow(d, 1, 1)
        first = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * x.narrow(d, 0, 1)
                 + (h1 + h2) / (h1 * h2) * x.narrow(d, 1, 1)
                 - h1 / (h2 * (h1 + h2)) * x.narrow(d, 2, 1))
        h1, h2 = dx.narrow(d, n - 3, 1), dx.narrow(d, n - 2, 1)
        last = (h2 / (h1 * (h1 + h2)) * x.narrow(d, n - 3, 1)
                - (h2 + h1) / (h1 * h2) * x.narrow(d, n - 2, 1)
                + (2 * h2 + h1) / (h2 * (h1 + h2)) * x.narrow(d, n - 1, 1))
    return cat([first, inner, last], d)


def cumulative_trapezoid(y: Tensor, x: Tensor | None = None, *, dx: float | None = None,
                         dim: int = -1) -> Tensor:
    """Running trapezoid-rule integral of y along dim (one element shorter)."""
    d = wrap_dim(dim, y.ndim, "cumulative_trapezoid")
    n = y.shape[d]
    if n == 0:
        return y.narrow(d, 0, 0)
    mids = (y.narrow(d, 1, n - 1) + y.narrow(d, 0, n - 1)) / 2
    if x is not None:
        steps = x.diff(dim=-1 if x.ndim == 1 else d)
        if x.ndim == 1:
            shape = [1] * y.ndim
            shape[d] = -1
            steps = steps.reshape(shape)
        mids = mids * steps
    else:
        mids = mids * (1.0 if dx is None else dx)
    return mids.cumsum(d)


def histogram(input: Tensor, bins: Any = 100, *, range: Any = None, weight: Tensor | None = None,
              density: bool = False) -> tuple:
    """(hist, bin_edges) of a float tensor's values (numpy.histogram), on the CPU as torch."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"torch.histogram: input tensor and bins tensors should have the "
                           f"same dtype, but got input {input.dtype}")
    np_ = backend.numpy
    values = backend.to_numpy(input.detach()._data).reshape(-1)
    w = None if weight is None else backend.to_numpy(weight.detach()._data).reshape(-1)
    d = input.dtype.np
    if isinstance(bins, Tensor):
        hist, bin_edges = np_.histogram(values, bins=backend.to_numpy(bins.detach()._data),
                                        range=range, weights=w, density=density)
    else:
        hist, bin_edges = _linear_histogram(values, int(bins), range, w, density, input.dtype)
    from .. import return_types  # noqa: PLC0415

    return return_types.histogram(_wrap(hist.astype(d)), _wrap(bin_edges.astype(d)))


def _linear_histogram(values: Any, bins: int, range: Any, weight: Any, density: bool,
                      dtype: Any) -> tuple:
    """torch's histogram with `bins` equal bins: the edges are torch's linspace in the input's
    dtype, and a value is counted in the bin those edges put it in (numpy's own edges differ in
    the last bit, and -1.0 can land one bin off)."""
    from ..creation import linspace  # noqa: PLC0415

    np_ = backend.numpy
    if range is not None:
        lo, hi = float(range[0]), float(range[1])
    else:
        lo, hi = (float(values.min()), float(values.max())) if values.size else (0.0, 1.0)
    if lo == hi:  # an empty range grows by half a unit each side, as numpy and torch
        lo, hi = lo - 0.5, hi + 0.5
    edges = backend.to_numpy(linspace(lo, hi, bins + 1, dtype=dtype)._data)
    inside = (values >= edges[0]) & (values <= edges[-1])
    pos = np_.searchsorted(edges, values[inside], side="right") - 1
    pos[pos == bins] = bins - 1  # the last bin includes its right edge
    hist = np_.bincount(pos, None if weight is None else weight[inside], minlength=bins)
    hist = hist.astype(dtype.np)
    if density:
        hist = hist / hist.sum() / np_.diff(edges)
    return hist, edges


def chain_matmul(*matrices: Tensor) -> Tensor:
    from .decomp import multi_dot  # noqa: PLC0415

    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(list(matrices))


# ------------------------------------------------------------------ predicates
def is_complex(input: Tensor) -> bool:
    return input._data.dtype.kind == "c"


def is_signed(input: Tensor) -> bool:
    return input.dtype.np.kind in "fiV"  # "V": bfloat16


# ------------------------------------------------------------------ torch.* spellings of layers
def dropout(input: Tensor, p: float, train: bool) -> Tensor:
    from ..nn import functional as F  # noqa: PLC0415

    return F.dropout(input, p, train)


def layer_norm(input: Tensor, normalized_shape: Any, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, cudnn_enable: bool = True) -> Tensor:
    from ..nn import functional as F  # noqa: PLC0415

    return F.layer_norm(input, normalized_shape, weight, bias, eps)


def group_norm(input: Tensor, num_groups: int, weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5, cudnn_enabled: bool = True) -> Tensor:
    from ..nn import functional as F  # noqa: PLC0415

    return F.group_norm(input, num_groups, weight, bias, eps)


def batch_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
               running_mean: Tensor | None, running_var: Tensor | None, training: bool,
               momentum: float, eps: float, cudnn_enabled: bool = True) -> Tensor:
    from ..nn import functional as F  # noqa: PLC0415

    return F.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)


def instance_norm(input: Tensor, weight: Tensor | None, bias: Tensor | None,
                  running_mean: Tensor | None, running_var: Tensor | None,
                  use_input_stats: bool, momentum: float, eps: float,
                  cudnn_enabled: bool = True) -> Tensor:
    from ..nn import functional as F  # noqa: PLC0415

    return F.instance_norm(input, running_mean, running_var, weight, bias, use_input_stats,
                           momentum, eps)


def embedding(weight: Tensor, indices: Tensor, padding_idx: int = -1,
              scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """torch.embedding(weight, indices, ...): the table first (F.embedding takes it second)."""
    from ..nn import functional as F  # noqa: PLC0415

    return F.embedding(indices, weight, None if padding_idx < 0 else padding_idx,
                       scale_grad_by_freq=scale_grad_by_freq, sparse=sparse)


# ------------------------------------------------------------------ buffers and matrix norms
def frombuffer(buffer: Any, *, dtype: Any, count: int = -1, offset: int = 0,
               requires_grad: bool = False) -> Tensor:
    """A 1-D tensor over the memory of a Python buffer (bytes, bytearray, array.array...),
    sharing it (read-only buffers give a read-only tensor, as torch warns)."""
    from .. import dtypes as _dtypes  # noqa: PLC0415

    np_dtype = backend.numpy.dtype(_dtypes.to_dtype(dtype).np)
    try:
        nbytes = memoryview(buffer).nbytes
    except TypeError:
        raise TypeError(f"frombuffer(): object of type {type(buffer).__name__} does not "
                        f"implement the buffer protocol") from None
    if offset < 0 or offset > nbytes:
        raise ValueError(f"offset ({offset} bytes) must be non-negative and no greater than "
                         f"buffer length ({nbytes} bytes) minus 1.")
    if count == 0 or (count < 0 and nbytes == offset):
        raise ValueError("both buffer length (%d) and count (%d) must not be 0" % (nbytes, count))
    if count < 0:
        if (nbytes - offset) % np_dtype.itemsize:
            raise ValueError(f"buffer length ({nbytes - offset} bytes) after offset ({offset} "
                             f"bytes) must be a multiple of element size ({np_dtype.itemsize})")
        count = (nbytes - offset) // np_dtype.itemsize
    if offset + count * np_dtype.itemsize > nbytes:
        raise ValueError(f"requested buffer length ({count} * {np_dtype.itemsize} bytes) after "
                         f"offset ({offset} bytes) must not be greater than actual buffer "
                         f"length ({nbytes} bytes)")
    data = backend.numpy.frombuffer(buffer, dtype=np_dtype, count=count, offset=offset)
    out = Tensor._make(data)
    return out.requires_grad_(True) if requires_grad else out


# ------------------------------------------------------------- torch.nuclear_norm / frobenius_norm
def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False, *,
                 out: Any = None) -> Tensor:
    """Sum of singular values over `dim` (the last two dims of a 2-D input by default)."""
    from .decomp import matrix_norm  # noqa: PLC0415

    if isinstance(dim, bool):  # nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    if dim is None:
        if input.dim() != 2:
            raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 "
                               "dimensions.") if input.dim() < 2 else RuntimeError(
                "nuclear_norm: Expected a 2-D tensor when dim is not given")
        dim = (0, 1)
    return matrix_norm(input, "nuc", tuple(dim), keepdim)


def frobenius_norm(input: Tensor, dim: Any = (-2, -1), keepdim: bool = False, *,
                   out: Any = None) -> Tensor:
    """sqrt(sum |x|^2) over `dim` (one or two dims)."""
    from .reduce import norm  # noqa: PLC0415

    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    if len(dims) > 2:
        raise RuntimeError(f"frobenius_norm: Expected at most 2 dimensions, but got {len(dims)} "
                           f"dimensions instead.")
    return norm(input, 2, dims, keepdim)


# ------------------------------------------------------------------ more torch.* spellings
def qr(input: Tensor, some: bool = True, *, out: Any = None) -> tuple:
    """The old torch.qr: `some=True` is linalg.qr's 'reduced' mode, False its 'complete'."""
    from .. import linalg, return_types  # noqa: PLC0415

    q, r = linalg.qr(input, mode="reduced" if some else "complete")
    return return_types.qr(q, r)


def unsafe_chunk(input: Tensor, chunks: int, dim: int = 0) -> tuple:
    """chunk without torch's view-aliasing checks (Ember makes none), so the same pieces."""
    return input.chunk(chunks, dim)


def unsafe_split(tensor: Tensor, split_size_or_sections: Any, dim: int = 0) -> tuple:
    return tensor.split(split_size_or_sections, dim)


def unsafe_split_with_sizes(input: Tensor, split_sizes: Any, dim: int = 0) -> tuple:
    return input.split(list(split_sizes), dim)


def get_device(input: Tensor) -> int:
    return input.get_device()


def is_neg(input: Tensor) -> bool:
    return input.is_neg()


def is_inference(input: Tensor) -> bool:
    return input.is_inference()


def empty_permuted(size: Any, physical_layout: Any, *, dtype: Any = None, layout: Any = None,
                   device: Any = None, requires_grad: bool = False,
                   pin_memory: bool = False) -> Tensor:
    """An uninitialized tensor of logical shape `size` whose memory is laid out in the dim order
    `physical_layout` (outermost first): empty_permuted((N, C, H, W), (0, 2, 3, 1)) is
    channels-last."""
    from .. import creation  # noqa: PLC0415

    size, order = tuple(size), tuple(physical_layout)
    if sorted(order) != list(range(len(size))):
        raise RuntimeError(f"empty_permuted: physical_layout must be a permutation of "
                           f"0..{len(size) - 1}, got {order}")
    physical = creation.empty(tuple(size[d] for d in order), dtype=dtype, device=device)
    inverse = [order.index(d) for d in range(len(size))]
    return physical.permute(*inverse).requires_grad_(requires_grad)


def histogramdd(input: Tensor, bins: Any, *, range: Any = None, weight: Tensor | None = None,
                density: bool = False) -> tuple:
    """(hist, bin_edges) of the points in input's last dim (numpy.histogramdd), on the CPU."""
    from .. import return_types  # noqa: PLC0415

    if not input.dtype.is_floating_point:
        raise RuntimeError(f"torch.histogramdd: expected a floating-point input, got "
                           f"{input.dtype}")
    np_ = backend.numpy
    points = backend.to_numpy(input.detach()._data)
    points = points.reshape(-1, points.shape[-1])
    if isinstance(bins, Tensor):
        bins = int(bins.item()) if bins.ndim == 0 else [int(b) for b in bins.tolist()]
    elif isinstance(bins, (list, tuple)) and bins and isinstance(bins[0], Tensor):
        bins = [backend.to_numpy(b.detach()._data) for b in bins]
    pairs = None if range is None else list(zip(range[0::2], range[1::2]))
    w = None if weight is None else backend.to_numpy(weight.detach()._data).reshape(-1)
    hist, edges = np_.histogramdd(points, bins=bins, range=pairs, weights=w, density=density)
    d = input.dtype.np
    return return_types.histogramdd(_wrap(hist.astype(d)), [_wrap(e.astype(d)) for e in edges])


def cond(pred: Any, true_fn: Any, false_fn: Any, operands: Any = ()) -> Any:
    """torch.cond's eager meaning: call true_fn(*operands) if pred else false_fn(*operands).
    (torch also compiles both branches under torch.compile; Ember runs eagerly.)"""
    if isinstance(pred, Tensor):
        if pred.numel() != 1:
            raise RuntimeError(f"torch.cond: expected pred to be a bool or a one-element "
                               f"tensor, got shape {tuple(pred.shape)}")
        pred = bool(pred.item())
    return true_fn(*operands) if pred else false_fn(*operands)
