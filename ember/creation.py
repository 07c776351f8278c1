"""Making tensors: tensor, as_tensor, from_numpy, zeros/ones/full/empty, arange, linspace, eye...

Dtypes follow torch: Python floats become the default dtype (float32), ints become int64,
bools become bool; numpy arrays keep their dtype.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy

from . import backend, dtypes
from .doctor.flags import flags as _doctor
from .ops._util import as_shape, torch_named
from .tensor import Tensor


def _finish(data: Any, device: Any, requires_grad: bool) -> Tensor:
    """`data` as a tensor on `device`; None means the default device (set_default_device), and
    with the default on the CPU a GPU array stays where it is, as torch.tensor(cuda_tensor)."""
    if device is not None or backend.default_device().type != "cpu":
        dev = backend.as_device(device)
        if dev != backend.device_of(data):
            data = backend.to_device(data, dev)
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _plain(data: Any, leaf_dtypes: set) -> Any:
    """Replace tensors inside nested sequences by numpy values, for numpy's converter, and
    collect the dtype torch gives each leaf (tensors and numpy values keep theirs)."""
    if isinstance(data, (list, tuple)):
        return [_plain(d, leaf_dtypes) for d in data]
    if isinstance(data, Sequence) and not isinstance(data, (str, bytes, Tensor)):
        return [_plain(d, leaf_dtypes) for d in data]  # a deque, range or array.array
    if isinstance(data, Tensor):
        leaf_dtypes.add(data.dtype)
        return backend.to_numpy(data._data)
    if isinstance(data, (numpy.ndarray, numpy.generic)):
        leaf_dtypes.add(dtypes.to_dtype(data.dtype))
    elif isinstance(data, bool):
        leaf_dtypes.add(dtypes.bool_)
    elif isinstance(data, int):
        leaf_dtypes.add(dtypes.int64)
    elif isinstance(data, float):
        leaf_dtypes.add(dtypes.get_default_dtype())
    elif isinstance(data, complex):
        leaf_dtypes.add(dtypes.default_complex())
    else:
        leaf_dtypes.add(None)  # not a number: numpy's converter decides what to reject
    return data


def _first_leaf(plain: Any) -> Any:
    while isinstance(plain, list) and plain:
        plain = plain[0]
    return plain


def _ragged_where(plain: Any, dim: int = 0) -> str:
    """Torch's words for the first place where nested lists differ in length."""
    if not isinstance(plain, list) or not plain:
        return "ragged nested sequences"
    sizes = [len(p) if isinstance(p, list) else None for p in plain]
    first = sizes[0]
    for size in sizes[1:]:
        if size != first:
            got = "a scalar" if size is None else size
            want = "a scalar" if first is None else f"sequence of length {first}"
            return f"expected {want} at dim {dim + 1} (got {got})"
    for p in plain:
        found = _ragged_where(p, dim + 1)
        if found != "ragged nested sequences":
            return found
    return "ragged nested sequences"


def _infer_array(data: Any, dtype: dtypes.dtype | None) -> numpy.ndarray:
    """A host array from Python data, with torch's dtype inference: the leaves' dtypes promoted
    together (so [int32 tensor, int32 tensor] stays int32 and [1, 2.5] is the default float)."""
    if isinstance(data, numpy.ndarray) or isinstance(data, numpy.generic):
        arr = numpy.asarray(data)
        if dtype is None:
            dtypes.to_dtype(arr.dtype)  # raises for unsupported numpy dtypes
        return arr
    leaf_dtypes: set = set()
    plain = _plain(data, leaf_dtypes)
    try:
        arr = numpy.array(plain)
    except ValueError:
        where = _ragged_where(plain)
        error = TypeError if where.endswith("(got a scalar)") else ValueError  # torch's types
        raise error(f"tensor(): {where}: nested sequences must form a rectangular array (pad "
                    "them to one length first)") from None
    numbers_only = None not in leaf_dtypes
    whole = numbers_only and bool(leaf_dtypes) and all(d is dtypes.int64 or d is dtypes.bool_
                                                       for d in leaf_dtypes)
    if numbers_only and (arr.dtype == object or arr.dtype == numpy.uint64 or
                         (whole and arr.dtype.kind == "f")):  # numpy 2 makes [2**63, 1] float
        if dtype is None or not dtype.is_floating_point:
            raise ValueError("tensor(): a Python int is too large for int64 (overflow)")
        arr = numpy.array(plain, dtype=numpy.float64)  # huge ints are fine as floats
    if arr.dtype == object:
        raise TypeError(f"tensor(): could not infer a dtype for {type(data).__name__} data "
                        "(expected numbers, bools, nested sequences of them, or arrays)")
    if arr.dtype.kind in "US":  # torch: ValueError if the first value is a string, else TypeError
        if not isinstance(_first_leaf(plain), str):
            raise TypeError("tensor(): invalid data type 'str' (expected numbers, bools or "
                            "nested sequences of them)")
        raise ValueError(f"tensor(): cannot build a tensor from strings (got {type(data).__name__}"
                         " data holding str); expected numbers, bools or nested sequences of them")
    if dtype is None:
        if not numbers_only or arr.dtype.kind not in "biufc":
            raise TypeError(f"tensor(): could not infer a dtype for data of numpy type {arr.dtype}")
        inferred = None
        for d in leaf_dtypes:
            inferred = d if inferred is None else dtypes.promote_types(inferred, d)
        with numpy.errstate(over="ignore"):  # tensor(1e40) is inf in float32, silently
            arr = arr.astype((inferred or dtypes.get_default_dtype()).np, copy=False)
    return arr


def tensor(data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False,
           pin_memory: bool = False) -> Tensor:
    """A new tensor that copies `data` (a number, nested sequence, array or tensor)."""
    d = dtypes.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        if data._requires_grad and _doctor.cuts:  # the doctor notes where graphs get cut
            _doctor.cut("tensor", data)
        arr = data._data.copy()
        if device is None:
            device = data.device
    elif backend.is_array(data) and not isinstance(data, numpy.ndarray):  # a cupy array
        arr = data.copy()
        if device is None:
            device = backend.device_of(data)
    elif isinstance(data, (str, bytes)):
        raise TypeError(f"tensor(): invalid data type '{type(data).__name__}' (expected a number, "
                        "a nested sequence of numbers, an array or a tensor)")
    else:
        arr = numpy.array(_infer_array(data, d), copy=True)
    if d is not None and arr.dtype != d.np:
        arr = arr.astype(d.np)
    return _finish(arr, device, requires_grad)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """Like tensor(), but shares memory with `data` when dtype and device already match."""
    d = dtypes.to_dtype(dtype) if dtype is not None else None
    if isinstance(data, Tensor):
        out = data
        if device is not None or d is not None:
            out = out.to(device=device, dtype=d)
        return out
    if backend.is_array(data):
        dtypes.to_dtype(data.dtype)
        arr = data if d is None else data.astype(d.np, copy=False)
        return _finish(arr, device, False)
    arr = _infer_array(data, d)
    if d is not None:
        arr = arr.astype(d.np, copy=False)
    return _finish(arr, device, False)


def asarray(obj: Any, *, dtype: Any = None, device: Any = None, copy: bool | None = None,
            requires_grad: bool = False) -> Tensor:
    if copy:
        return tensor(obj, dtype=dtype, device=device, requires_grad=requires_grad)
    out = as_tensor(obj, dtype=dtype, device=device)
    if requires_grad:
        out.requires_grad_(True)
    return out


def from_numpy(ndarray: numpy.ndarray) -> Tensor:
    """A tensor that shares memory with a numpy array (changes show through both ways)."""
    if not isinstance(ndarray, numpy.ndarray):
        raise TypeError(f"expected np.ndarray (got {type(ndarray).__name__})")
    try:
        dtypes.to_dtype(ndarray.dtype)
    except TypeError:
        raise TypeError(
            f"can't convert np.ndarray of type {ndarray.dtype}. The only supported types are: "
            "float64, float32, float16, complex64, complex128, int64, int32, int16, int8, "
            "uint8, and bool."
        ) from None
    return Tensor._make(ndarray)


def from_dlpack(ext_tensor: Any) -> Tensor:
    """Import any DLPack producer (torch, cupy, numpy, jax...) or a bare DLPack capsule (the
    legacy `to_dlpack` output) without copying."""
    if isinstance(ext_tensor, Tensor):
        return ext_tensor
    return Tensor._make(backend.as_array(backend.from_dlpack(ext_tensor)))


def _factory_dtype(dtype: Any, default: dtypes.dtype | None = None) -> dtypes.dtype:
    if dtype is not None:
        return dtypes.to_dtype(dtype)
    return default or dtypes.get_default_dtype()


def _filled(size: tuple, fill: Any, dtype: Any, device: Any, requires_grad: bool,
            default: dtypes.dtype | None = None) -> Tensor:
    shape = as_shape(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    d = _factory_dtype(dtype, default)
    xp = backend.module_for(backend.as_device(device))
    if fill is None:
        data = xp.empty(shape, dtype=d.np)
    else:
        _check_fits(fill, d)
        data = xp.full(shape, dtypes.wrap_int_scalar(fill, d.np), dtype=d.np)
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _check_fits(value: Any, d: dtypes.dtype, op: str = "full") -> None:
    """torch's check of a fill value against the dtype: integers take [-max, max] for unsigned
    types (-1 fills uint8 with 255) and [min, max] otherwise, and no NaN or infinity; a finite
    float beyond a float dtype's range and a complex with an imaginary part for a real dtype
    are refused."""
    if value.__class__ is bool or not isinstance(value, (int, float, complex)) or \
            (value.__class__ is int and 0 <= value <= 1):  # zeros and ones always fit
        return
    if isinstance(value, complex):
        if d.category == 3:
            return
        if value.imag != 0:
            raise RuntimeError(f"{op}: value cannot be converted to type {d.name} without "
                               f"overflow (got {value})")
        value = value.real
    if d.category == 1:
        info = numpy.iinfo(d.np)
        low = -int(info.max) if info.min == 0 else int(info.min)
        if not (math.isfinite(value) and low <= value <= int(info.max)):
            raise RuntimeError(f"{op}: value cannot be converted to type {d.name} without "
                               f"overflow (got {value})")
    elif d.category == 2 and math.isfinite(value) and abs(value) > dtypes.finfo(d).max:
        raise RuntimeError(f"{op}: value cannot be converted to type {d.name} without "
                           f"overflow (got {value})")


def zeros(*dims: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, out: Tensor | None = None, layout: Any = None) -> Tensor:
    return _filled(dims if size is None else (size,), 0, dtype, device, requires_grad)


def ones(*dims: Any, size: Any = None, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Tensor | None = None, layout: Any = None) -> Tensor:
    return _filled(dims if size is None else (size,), 1, dtype, device, requires_grad)


def empty(*dims: Any, size: Any = None, dtype: Any = None, device: Any = None,
          requires_grad: bool = False, out: Tensor | None = None, layout: Any = None,
          pin_memory: bool = False, memory_format: Any = None) -> Tensor:
    out = _filled(dims if size is None else (size,), None, dtype, device, requires_grad)
    if memory_format is None:
        return out
    from . import memory_layout as mf  # noqa: PLC0415

    fmt = mf.check(memory_format, out.ndim, "empty")
    if fmt is mf.preserve_format:
        raise RuntimeError("empty(): preserve_format is not supported, use contiguous_format "
                           "or channels_last")
    return _in_format(out, fmt)


def _in_format(t: Tensor, fmt: Any) -> Tensor:
    """t's values, laid out in memory format fmt (a fresh leaf: requires_grad kept)."""
    from . import memory_layout as mf  # noqa: PLC0415

    if mf.is_laid_out(t._data, fmt):
        return t
    return _finish(mf.lay_out(t._data, fmt), t.device, t.requires_grad)


def full(size: Sequence[int], fill_value: Any, *, dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Tensor | None = None, layout: Any = None) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    default = dtypes.python_scalar_dtype(fill_value)
    return _filled((size,) if isinstance(size, int) else size, fill_value, dtype, device,
                   requires_grad, default)


def scalar_tensor(s: Any, *, dtype: Any = None, device: Any = None,
                  requires_grad: bool = False) -> Tensor:
    return full((), float(s) if dtype is None else s, dtype=dtype, device=device,
                requires_grad=requires_grad)


def _like(input: Tensor, dtype: Any, device: Any) -> tuple:
    return (dtype if dtype is not None else input.dtype,
            device if device is not None else input.device)


def _like_filled(input: Tensor, fill: Any, dtype: Any, device: Any, requires_grad: bool,
                 memory_format: Any) -> Tensor:
    """input's shape; on input's device it also keeps input's memory layout, as torch's default
    memory_format (preserve_format) does: zeros_like(x.t()) is transposed too."""
    d, dev = _like(input, dtype, device)
    if memory_format is not None:
        from . import memory_layout as mf  # noqa: PLC0415

        fmt = mf.check(memory_format, input.ndim, "empty_like")
        if fmt is mf.preserve_format:
            memory_format = None
        else:
            return _in_format(_filled(input.shape, fill, d, dev, requires_grad), fmt)
    if backend.as_device(dev) != input.device:
        return _filled(input.shape, fill, d, dev, requires_grad)
    xp = backend.module_of(input._data)
    np_dtype = dtypes.to_dtype(d).np
    src = input._data
    # numpy's default order "K" keeps the stride order; for overlapping (expanded) memory
    # torch falls back to contiguous
    order = "C" if any(st == 0 and n > 1 for st, n in zip(src.strides, src.shape)) else "K"
    if fill is None:
        data = xp.empty_like(src, dtype=np_dtype, order=order)
    else:
        _check_fits(fill, dtypes.to_dtype(d), "full_like")
        fill = dtypes.wrap_int_scalar(fill, np_dtype)  # -1 fills uint8 with 255, as torch
        data = xp.full_like(src, fill, dtype=np_dtype, order=order)
    return _finish(data, input.device, requires_grad)


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return _like_filled(input, 0, dtype, device, requires_grad, memory_format)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return _like_filled(input, 1, dtype, device, requires_grad, memory_format)


def empty_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    return _like_filled(input, None, dtype, device, requires_grad, memory_format)


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, memory_format: Any = None) -> Tensor:
    if isinstance(fill_value, Tensor):
        fill_value = fill_value.item()
    return _like_filled(input, fill_value, dtype, device, requires_grad, memory_format)


def arange(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None,
           device: Any = None, requires_grad: bool = False, out: Tensor | None = None) -> Tensor:
    """Values from start (inclusive) to end (exclusive) in steps of step."""
    if end is None:
        start, end = 0, start
    values = [v.item() if isinstance(v, Tensor) else v for v in (start, end, step)]
    start, end, step = values
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    if not all(math.isfinite(v) for v in values):
        raise RuntimeError(f"arange: unsupported range: {start} -> {end} (step {step})")
    if (end - start) * step < 0 and end != start:
        raise RuntimeError(f"arange: upper bound and larger bound inconsistent with step sign "
                           f"(start={start}, end={end}, step={step})")
    any_float = any(isinstance(v, float) for v in values)
    d = _factory_dtype(dtype, dtypes.get_default_dtype() if any_float else dtypes.int64)
    if d is dtypes.bool_:
        raise NotImplementedError("\"arange_cpu\" not implemented for 'Bool'")
    xp = backend.module_for(backend.as_device(device))
    n = max(math.ceil((end - start) / step), 0)
    if d.is_floating_point:
        data = (start + xp.arange(n, dtype="float64") * step).astype(d.np)
    else:
        # torch truncates start and step (and, for int64, end and the length) to integers first
        istart, iend, istep = int(start), int(end), int(step)
        if d is dtypes.int64:
            if istep == 0:
                raise ValueError(f"arange: step must be nonzero (step={step} truncates to 0)")
            n = max((iend - istart + istep - (1 if istep > 0 else -1)) // istep, 0)
        data = (istart + xp.arange(n, dtype="int64") * istep).astype(d.np)
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def range_(start: Any = 0, end: Any = None, step: Any = 1, *, dtype: Any = None,
          device: Any = None, requires_grad: bool = False) -> Tensor:
    """Deprecated torch.range: like arange but includes `end`, float by default."""
    if end is None:
        start, end = 0, start
    n = int(math.floor((end - start) / step)) + 1
    d = _factory_dtype(dtype)
    xp = backend.module_for(backend.as_device(device))
    data = (start + xp.arange(n, dtype="float64") * step).astype(d.np)
    return _finish(data, backend.device_of(data), requires_grad)


def linspace(start: Any, end: Any, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    if steps < 0:
        raise RuntimeError("linspace: number of steps must be non-negative")
    start = start.item() if isinstance(start, Tensor) else start
    end = end.item() if isinstance(end, Tensor) else end
    if isinstance(start, complex) or isinstance(end, complex) or \
            (dtype is not None and dtypes.to_dtype(dtype).is_complex):  # each part on its own
        d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.default_complex()
        start, end = complex(start), complex(end)
        real = linspace(start.real, end.real, steps, dtype=d.to_real(), device=device)
        imag = linspace(start.imag, end.imag, steps, dtype=d.to_real(), device=device)
        t = Tensor._make((real._data + 1j * imag._data).astype(d.np))
        return t.requires_grad_(True) if requires_grad else t
    d = _factory_dtype(dtype)
    xp = backend.module_for(backend.as_device(device))
    # torch's kernel: the first half counts up from start, the second half down from end, in
    # the output's precision (float64 for integer outputs, after truncating start and end);
    # in float32 and float64 each value is one fused multiply-add (a single rounding), done
    # here in a wider type and rounded once
    work = d.np if d.is_floating_point else numpy.dtype("float64")
    if not d.is_floating_point:
        start, end = int(start), int(end)
    lo, hi = xp.asarray(start, dtype=work), xp.asarray(end, dtype=work)
    idx = xp.arange(steps)
    step = (hi - lo) / work.type(max(steps - 1, 1))
    wide = {4: numpy.dtype("float64"), 8: numpy.dtype(numpy.longdouble) if xp is numpy else work}
    wide = wide.get(work.itemsize, work)
    lo, hi, step = lo.astype(wide), hi.astype(wide), step.astype(wide)
    data = xp.where(idx < steps // 2, lo + step * idx.astype(wide),
                    hi - step * (steps - 1 - idx).astype(wide)).astype(work)
    if steps == 1:
        data = lo.reshape(1)
    t = Tensor._make(data.astype(d.np))
    if requires_grad:
        t.requires_grad_(True)
    return t


def logspace(start: Any, end: Any, steps: int, base: float = 10.0, *, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    exps = linspace(start, end, steps, dtype=dtypes.float64, device=device)
    d = _factory_dtype(dtype)
    t = Tensor._make((base ** exps._data).astype(d.np))
    if requires_grad:
        t.requires_grad_(True)
    return t


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None,
        requires_grad: bool = False) -> Tensor:
    d = _factory_dtype(dtype)
    for name, size in (("n", n), ("m", m)):
        if size is not None and size < 0:
            raise RuntimeError(f"eye: {name} must be greater or equal to 0, got {size}")
    xp = backend.module_for(backend.as_device(device))
    t = Tensor._make(xp.eye(n, n if m is None else m, dtype=d.np))
    if requires_grad:
        t.requires_grad_(True)
    return t


def tril_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    xp = backend.module_for(backend.as_device(device))
    rows, cols = xp.tril_indices(row, offset, col)
    return Tensor._make(xp.stack([rows, cols]).astype(_factory_dtype(dtype, dtypes.int64).np))


def triu_indices(row: int, col: int, offset: int = 0, *, dtype: Any = None,
                 device: Any = None) -> Tensor:
    xp = backend.module_for(backend.as_device(device))
    rows, cols = xp.triu_indices(row, offset, col)
    return Tensor._make(xp.stack([rows, cols]).astype(_factory_dtype(dtype, dtypes.int64).np))


def meshgrid(*tensors: Any, indexing: str | None = None) -> tuple:
    """Coordinate grids; 'ij' (torch's default) or 'xy' indexing."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    indexing = indexing or "ij"
    if indexing not in ("ij", "xy"):
        raise ValueError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    if len({t.dtype for t in tensors}) > 1:
        raise RuntimeError("meshgrid expects all tensors to have the same dtype (got "
                           f"{', '.join(str(t.dtype) for t in tensors)})")
    tensors = [t.reshape(-1) for t in tensors]
    shape = tuple(t.shape[0] for t in tensors)
    n = len(tensors)
    grids = []
    for i, t in enumerate(tensors):
        view_shape = [1] * n
        view_shape[i] = -1
        grids.append(t.reshape(view_shape).expand(shape))
    if indexing == "xy" and n >= 2:  # Cartesian: the first two axes swap roles
        grids = [g.transpose(0, 1) for g in grids]
    return tuple(grids)


def diag(input: Tensor, diagonal: int = 0) -> Tensor:
    """1-D input: a matrix with it on a diagonal; 2-D input: that diagonal as a vector."""
    xp = backend.module_of(input._data)
    k = diagonal
    if input._data.ndim == 1:
        n = input._data.shape[0] + abs(k)
        rows = xp.arange(input._data.shape[0]) + max(-k, 0)
        cols = xp.arange(input._data.shape[0]) + max(k, 0)
        out = zeros(n, n, dtype=input.dtype, device=input.device)
        from .ops.indexing import _index_put_key  # noqa: PLC0415

        return torch_named(_index_put_key(out, (rows, cols), input, False), "DiagEmbed")
    if input._data.ndim == 2:  # torch's node for the diagonal_copy it returns
        from .ops.shape import diagonal  # noqa: PLC0415

        # a copy, as torch's diagonal_copy (a view would share memory and not be contiguous)
        return torch_named(diagonal(input, k, 0, 1).clone(), "DiagonalBackward0_copy")
    raise RuntimeError(f"diag(): Supports 1D or 2D tensors. Got {input._data.ndim}D")


def tensor_from_legacy_args(args: tuple, dtype: Any, device: Any) -> Any:
    """Data for the legacy `Tensor(...)` constructor: sizes or data, float by default."""
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    xp = backend.module_for(backend.as_device(device))
    if not args:
        return xp.empty((0,), dtype=d.np)
    if len(args) == 1 and not isinstance(args[0], int):
        arg = args[0]
        if isinstance(arg, tuple) and all(isinstance(a, int) for a in arg) and \
                type(arg).__name__ == "Size":
            return xp.empty(arg, dtype=d.np)
        arr = _infer_array(arg, d).astype(d.np)
        return backend.to_device(arr, backend.as_device(device)) if device is not None else arr
    return xp.empty(as_shape(args), dtype=d.np)
