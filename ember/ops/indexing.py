"""Indexing: x[key], index_put (x[key] = v), gather/scatter, index_select/index_add,
masked_fill, where, nonzero.

Reading with an index copies values out; its gradient scatters back into zeros, accumulating
where an index repeats. Writing is the mirror image.
"""

from __future__ import annotations

from typing import Any

from .. import backend, dtypes
from ..autograd import low_precision
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import Op, array_namespace, call, op_watch, record
from ..autograd.slice_grad import SliceGrad
from ..tensor import Tensor
from ._util import (
    WordedValueError,
    broadcast_error,
    broadcast_shapes,
    shape_str,
    sum_to_shape,
    torch_named,
    wrap_dim,
)
from .shape import ViewOp

_new = object.__new__


# ---------------------------------------------------------------------------------------------
# Index keys
# ---------------------------------------------------------------------------------------------


def convert_key(key: Any, x: Any) -> tuple:
    """Turn a torch-style index into a numpy one; returns (key, uses_advanced_indexing)."""
    if isinstance(key, list) and _list_is_tuple(key):
        key = tuple(key)
    items = key if isinstance(key, tuple) else (key,)
    xp = backend.module_of(x)
    out = []
    advanced = False
    for item in items:
        if isinstance(item, Tensor):
            item = item._data
            if item.dtype.kind not in "iub" or item.dtype.kind == "i" and item.itemsize < 4:
                raise IndexError(
                    "tensors used as indices must be long, int, byte or bool tensors "
                    f"(got {dtypes.of_array(item)})"
                )
            if item.dtype.kind == "u":  # torch's legacy byte mask
                item = item.astype(bool)
            if item.ndim == 0 and item.dtype.kind in "iu":  # torch selects, as with an int
                out.append(int(item))
                continue
            item = _on_device_of(x, item)
            advanced = True
        elif isinstance(item, (list, tuple, range)):  # torch reads a range as a list
            item = _list_index(xp, item)
            advanced = True
        elif backend.is_array(item):
            item = _on_device_of(x, item)
            advanced = True
        elif isinstance(item, slice):
            if item.step is not None and int(item.step) <= 0:
                raise ValueError("step must be greater than zero")
        elif item is None or item is Ellipsis or isinstance(item, (int, bool)):
            pass
        elif hasattr(item, "__index__"):
            item = int(item)
        else:
            raise IndexError(
                "only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(item).__name__})"
            )
        out.append(item)
    if advanced and xp is not backend.numpy:
        _check_gpu_bounds(out, x.shape)
    if advanced and any(type(item) is int or item is Ellipsis for item in out):
        return _torch_advanced_layout(tuple(out), x.shape, xp), advanced
    return tuple(out), advanced


def _check_gpu_bounds(key: list, shape: tuple) -> None:
    """cupy wraps out-of-range index arrays around instead of raising: check them here (one
    device sync per indexing op, as torch's device-side assert costs on CUDA)."""
    used = sum(0 if k is None or k is Ellipsis else
               k.ndim if backend.is_array(k) and k.dtype.kind == "b" else 1 for k in key)
    dim = 0
    for k in key:
        if k is None:
            continue
        if k is Ellipsis:
            dim += len(shape) - used
            continue
        if backend.is_array(k) and k.dtype.kind == "b":
            dim += k.ndim
            continue
        if backend.is_array(k) and k.size and dim < len(shape):
            size = shape[dim]
            low, high = int(k.min()), int(k.max())
            if low < -size or high >= size:
                bad = high if high >= size else low
                raise IndexError(f"index {bad} is out of bounds for dimension {dim} with size "
                                 f"{size}")
        dim += 1


def _on_device_of(x: Any, index: Any) -> Any:
    """A CPU index array may index a GPU tensor (torch copies it over); not the other way."""
    if backend.module_of(index) is backend.module_of(x):
        return index
    if backend.device_of(x).type == "cpu":
        raise RuntimeError("indices should be either on cpu or on the same device as the indexed "
                           f"tensor (cpu), got indices on {backend.device_of(index)}")
    return backend.to_device(index, backend.device_of(x))


def _list_is_tuple(key: list) -> bool:
    """torch (like numpy before 1.23) reads a short list holding sequences, tensors, slices,
    None or ... as a tuple of indices: x[[[0, 1], [1, 0]]] is x[[0, 1], [1, 0]]."""
    return len(key) < 32 and any(
        isinstance(k, (list, tuple, slice, Tensor)) or k is None or k is Ellipsis
        or backend.is_array(k) for k in key)


def _torch_advanced_layout(key: tuple, shape: tuple, xp: Any) -> tuple:
    """Rewrite a key mixing index arrays with ints or `...` to follow torch's placement rule.

    numpy counts an int as an advanced index when arrays are present, and an Ellipsis (even an
    empty one) as a separator, so in x[0, :, idx] or x[idx1, ..., idx2] the advanced indices are
    "separated" and their dims move to the front. torch selects the int dims away first and
    expands the Ellipsis, so idx stays after the slice. The Ellipsis is expanded here; where the
    rules still disagree, the key becomes index arrays only, each shaped to land its dim where
    torch puts it.
    """
    def n_dims(k: Any) -> int:
        if k is None or k is Ellipsis:
            return 0
        return k.ndim if backend.is_array(k) and k.dtype.kind == "b" else 1

    used = sum(n_dims(k) for k in key)
    if used > len(shape) or any(isinstance(k, bool) for k in key):
        return key  # numpy raises (or handles the rare Python bool) as torch does
    items: list = []
    for k in key:
        if k is Ellipsis:
            items.extend([slice(None)] * (len(shape) - used))
        elif backend.is_array(k) and k.dtype.kind == "b":
            dim = sum(n_dims(j) for j in items)
            if tuple(k.shape) != tuple(shape[dim:dim + k.ndim]):
                return key  # numpy raises the mask-shape IndexError
            items.extend(k.nonzero())
        else:
            items.append(k)
    if not any(k is Ellipsis for k in key):
        items.extend([slice(None)] * (len(shape) - used))
    kinds = ["int" if type(k) is int else "array" if backend.is_array(k) else "basic"
             for k in items]
    numpy_adv = [i for i, kind in enumerate(kinds) if kind != "basic"]
    torch_adv = [i for i, kind in enumerate(k for k in kinds if k != "int") if kind == "array"]
    if not torch_adv or numpy_adv == list(range(numpy_adv[0], numpy_adv[-1] + 1)):
        return tuple(items)  # numpy keeps the advanced dims in place, and so does torch
    if torch_adv != list(range(torch_adv[0], torch_adv[-1] + 1)) or torch_adv[0] == 0:
        return tuple(items)  # both rules move the advanced dims to the front
    arrays = [k for k in items if backend.is_array(k)]
    try:
        block = broadcast_shapes(*(a.shape for a in arrays))
    except RuntimeError:
        return key  # numpy raises the shape-mismatch IndexError
    positions, pos, start = {}, 0, None
    for i, kind in enumerate(kinds):
        if kind == "array" and start is None:
            start, pos = pos, pos + len(block)
        elif kind == "basic":
            positions[i], pos = pos, pos + 1
    out_ndim, new_key, dim = pos, [], 0
    for i, (k, kind) in enumerate(zip(items, kinds)):
        if k is None:
            continue  # its size-1 output dim comes from broadcasting the index arrays
        view = [1] * out_ndim
        if kind == "int":
            new_key.append(k)
        elif kind == "array":
            view[start:start + len(block)] = (1,) * (len(block) - k.ndim) + tuple(k.shape)
            new_key.append(k.reshape(view))
        else:
            idx = xp.arange(*k.indices(shape[dim]))
            view[positions[i]] = idx.size
            new_key.append(idx.reshape(view))
        dim += 1
    return tuple(new_key)


def _list_index(xp: Any, items: Any) -> Any:
    def plain(v: Any) -> Any:
        if isinstance(v, Tensor):
            return v._data.tolist() if v._data.__class__ is backend.ndarray else v._data.get().tolist()
        if isinstance(v, (list, tuple)):
            return [plain(u) for u in v]
        return v

    arr = xp.asarray(plain(items))
    if arr.size == 0:
        arr = arr.astype("int64")
    if arr.dtype.kind not in "iub":
        raise IndexError(f"tensors used as indices must be long, int, byte or bool tensors "
                         f"(got a list of {arr.dtype})")
    return arr


def index_error(x_shape: tuple, key: tuple, exc: Exception) -> Exception:
    """Rephrase numpy's IndexError in torch's words, with the indexed shape."""
    if isinstance(exc, WordedValueError):
        return exc
    text = str(exc)
    if "out of bounds for axis" in text:
        text = text.replace("out of bounds for axis", "out of bounds for dimension")
        return IndexError(text)
    if "boolean index did not match" in text:
        return IndexError(f"The shape of the mask does not match the shape of the indexed tensor "
                          f"[{', '.join(map(str, x_shape))}] ({text})")
    if "too many indices" in text:
        return IndexError(f"too many indices for tensor of dimension {len(x_shape)}")
    return IndexError(f"index {key!r} is invalid for a tensor of shape ({shape_str(x_shape)}): "
                      f"{text}")


def scatter_into_zeros(shape: tuple, key: tuple, values: Any, accumulate: bool) -> Any:
    """zeros(shape) with `values` written (or added, for repeated indices) at `key`."""
    if isinstance(values, Tensor):
        zeros = Tensor._make(backend.module_of(values._data).zeros(shape, values._data.dtype))
        return IndexPut.apply(zeros, key, values, accumulate)
    xp = backend.module_of(values)
    out = xp.zeros(shape, values.dtype)
    if accumulate:
        _add_at(xp, out, key, values)
    else:
        out[key] = values
    return out


def _add_at(xp: Any, out: Any, key: tuple, values: Any) -> None:
    """out[key] += values, where a repeated index adds each time.

    For one integer index array along dim 0 (embedding and gather gradients), the rows are
    sorted by index and each run summed in one pass (add.reduceat): 3-7x faster than numpy's
    unbuffered add.at, which the other cases use.
    """
    if out.dtype.kind == "b":  # torch adds bools as a logical or
        backend.ufunc_at("logical_or", out, key, values)
        return
    index = key[0] if len(key) == 1 else None
    if (index is not None and getattr(index, "ndim", 0) == 1 and index.dtype.kind in "iu"
            and index.size and values.shape == index.shape + out.shape[1:]
            and hasattr(xp.add, "reduceat")):
        if index.dtype.kind == "i" and index.min() < 0:
            index = xp.where(index < 0, index + out.shape[0], index)  # -1 and n-1: one row
        order = xp.argsort(index, kind="stable")
        ordered = index[order]
        starts = xp.flatnonzero(xp.concatenate((xp.ones(1, dtype=bool),
                                                ordered[1:] != ordered[:-1])))
        out[ordered[starts]] += xp.add.reduceat(values[order], starts, axis=0)
        return
    backend.ufunc_at("add", out, key, values)


# ---------------------------------------------------------------------------------------------
# Ops
# ---------------------------------------------------------------------------------------------


class GetItem(ViewOp):
    def forward(self, x: Any, key: tuple, advanced: bool) -> Any:
        self.in_shape, self.key, self.advanced = x.shape, key, advanced
        try:
            out = x[key]
        except (IndexError, ValueError) as exc:  # cupy: ValueError for unbroadcastable keys
            raise index_error(x.shape, key, exc) from None
        if out.__class__ is not x.__class__ and not advanced and Ellipsis not in key:
            # every dim taken by an integer: numpy hands out a scalar copy, torch a 0-d view
            # (a[4].fill_(9) writes into a); `...` makes numpy return the 0-d view
            out = x[key + (Ellipsis,)]
        elif advanced and not out.flags.c_contiguous:
            # numpy lays x[:, idx] out with the indexed dim outermost; torch's result is
            # contiguous, and code views it (x[:, idx].view(B, -1))
            out = backend.module_of(out).ascontiguousarray(out)
        return out

    def backward(self, grad: Any) -> Any:
        return scatter_into_zeros(self.in_shape, self.key, grad, self.advanced)

    def slice_backward(self, grads: tuple) -> tuple:
        """What the engine gets instead of backward(): the gradient of a basic slice of a real
        float array, unwritten (autograd/slice_grad.py says why)."""
        grad = grads[0]
        if (self.advanced or grad.__class__ is not backend.ndarray or grad.dtype.kind != "f"
                or self.bf16_inputs is not None):
            return self.run_backward(grads)
        return (SliceGrad(self.in_shape, self.key, grad),)

    def name(self) -> str:
        """torch's node for the last step of the index: Index (tensors or lists), Select (an
        int), Slice (a partial slice), Unsqueeze (None), Alias (nothing)."""
        if self.advanced:
            return "IndexBackward0"
        last, dim = "AliasBackward0", 0
        used = sum(k is not None and k is not Ellipsis for k in self.key)
        for k in self.key:
            if k is Ellipsis:
                dim += len(self.in_shape) - used
            elif k is None:
                last = "UnsqueezeBackward0"
            elif isinstance(k, slice):
                if k.indices(self.in_shape[dim]) != (0, self.in_shape[dim], 1):
                    last = "SliceBackward0"
                dim += 1
            else:
                last, dim = "SelectBackward0", dim + 1
        return last


class IndexPut(Op):
    """out = x with `values` written (or added, if accumulate) at `key`."""

    def forward(self, x: Any, key: tuple, values: Any, accumulate: bool) -> Any:
        self.key, self.accumulate = key, accumulate
        self.values_shape = getattr(values, "shape", None)
        out = x.copy()
        write_at(out, key, values, accumulate)
        return out

    def backward(self, grad: Any) -> tuple:
        need_x, _, need_v, _ = self.next_edges
        gx = gv = None
        if need_x:
            gx = grad if self.accumulate else scatter_into_zeros_keep(grad, self.key)
        if need_v:
            gv = sum_to_shape(grad[self.key], self.values_shape)
        return gx, None, gv, None


def scatter_into_zeros_keep(grad: Any, key: tuple) -> Any:
    """grad with the positions at `key` zeroed (they were overwritten in the forward pass)."""
    if isinstance(grad, Tensor):
        return IndexPut.apply(grad, key, 0.0, False)
    out = backend.module_of(grad).array(grad)  # an array even where grad is a 0-d scalar
    out[key] = 0
    return out


def write_at(out: Any, key: tuple, values: Any, accumulate: bool) -> None:
    """out[key] = values (or += with repeats counted) with torch's error messages."""
    if type(values) is int and out.dtype.kind == "u" and -(1 << 8 * out.itemsize) < values < 0:
        values += 1 << 8 * out.itemsize  # torch wraps negative ints into unsigned dtypes
    try:
        if accumulate:
            _add_at(backend.module_of(out), out, key, values)
        else:
            out[key] = values
    except IndexError as exc:
        raise index_error(out.shape, key, exc) from None
    except OverflowError as exc:
        raise RuntimeError(f"value cannot be converted to type {out.dtype} without overflow "
                           f"({exc})") from None
    except ValueError as exc:
        target = getattr(out[key], "shape", ())
        raise RuntimeError(
            f"shape mismatch: value tensor of shape [{', '.join(map(str, values.shape))}] "
            f"cannot be broadcast to indexing result of shape "
            f"[{', '.join(map(str, target))}] ({exc})"
        ) from None


def dim_index(index: Any, dim: int, ndim: int) -> tuple:
    """The numpy key that reads x[..., index[i,j,k] (at `dim`), ...] at every position of index."""
    xp = backend.module_of(index)
    key = []
    for d in range(ndim):
        if d == dim:
            key.append(index)
        else:
            shape = [1] * ndim
            shape[d] = index.shape[d]
            key.append(xp.arange(index.shape[d]).reshape(shape))
    return tuple(key)


class Gather(Op):
    def forward(self, x: Any, dim: int, index: Any) -> Any:
        self.in_shape = x.shape
        self.key = dim_index(index, dim, x.ndim)
        return x[self.key]

    def backward(self, grad: Any) -> tuple:
        return scatter_into_zeros(self.in_shape, self.key, grad, True), None, None


class Scatter(Op):
    """out = x, then out[index[i] along dim] = src[i] (src may be a number)."""

    def name(self) -> str:  # torch's: scatter of a tensor, of a number, and scatter_add
        if self.reduce == "add":
            return "ScatterAddBackward0"
        return "ScatterBackward1" if self.src_shape is None else "ScatterBackward0"

    def forward(self, x: Any, dim: int, index: Any, src: Any, reduce: str | None) -> Any:
        self.key = dim_index(index, dim, x.ndim)
        self.src_shape = getattr(src, "shape", None)
        self.reduce = reduce
        values = src[tuple(slice(0, n) for n in index.shape)] if self.src_shape else src
        out = x.copy()
        if reduce is None:
            out[self.key] = values
        elif reduce == "add":
            _add_at(backend.module_of(x), out, self.key, values)
        elif reduce == "multiply":
            backend.ufunc_at("multiply", out, self.key, values)
        return out

    def backward(self, grad: Any) -> tuple:
        if self.reduce == "multiply":
            raise RuntimeError("scatter(reduce='multiply') is not differentiable in torch either; "
                               "use scatter_reduce(reduce='prod')")
        need_x, _, _, need_src, _ = self.next_edges
        gx = gsrc = None
        if need_x:
            gx = grad if self.reduce == "add" else scatter_into_zeros_keep(grad, self.key)
        if need_src:
            gsrc = _pad_to(grad[self.key], self.src_shape)
        return gx, None, None, gsrc, None


class ScatterReduce(Op):
    """scatter_reduce with sum, prod, mean, amax or amin (include_self as in torch)."""

    def forward(self, x: Any, dim: int, index: Any, src: Any, reduce: str,
                include_self: bool) -> Any:
        xp = backend.module_of(x)
        self.key = dim_index(index, dim, x.ndim)
        self.dim, self.index, self.src_shape = dim, index, src.shape
        self.reduce, self.include_self = reduce, include_self
        values = src[tuple(slice(0, n) for n in index.shape)]
        counts = xp.zeros(x.shape, x.dtype)
        _add_at(xp, counts, self.key, xp.ones_like(values))
        touched = counts > 0
        out = x.copy()
        if not include_self:
            fill = {"sum": 0, "mean": 0, "prod": 1, "amax": -xp.inf, "amin": xp.inf}[reduce]
            if x.dtype.kind in "iub" and reduce in ("amax", "amin"):
                info = xp.iinfo(x.dtype) if x.dtype.kind != "b" else None
                fill = (info.min if reduce == "amax" else info.max) if info else reduce == "amin"
            out[touched] = fill
        if reduce in ("sum", "mean"):
            _add_at(xp, out, self.key, values)
        elif reduce == "prod":
            backend.ufunc_at("multiply", out, self.key, values)
        elif reduce == "amax":
            backend.ufunc_at("maximum", out, self.key, values)
        elif reduce == "amin":
            backend.ufunc_at("minimum", out, self.key, values)
        else:
            raise RuntimeError(f"scatter_reduce: reduce argument must be one of sum, prod, mean, "
                               f"amax, amin, got {reduce!r}")
        if reduce == "mean":
            total = counts + (1 if include_self else 0)
            divide = xp.floor_divide if x.dtype.kind in "iu" else xp.true_divide
            out = xp.where(touched, divide(out, xp.where(total == 0, 1, total)), out)
            out = out.astype(x.dtype, copy=False)
            self.total = total
        self.save_for_backward(x, src, out)
        self.touched = touched
        return out

    def _product(self, x: Any, values: Any) -> Any:
        """The forward's prod reduction of values into x (recorded under create_graph)."""
        return call(ScatterReduce, x, self.dim, self.index, values, "prod", self.include_self)

    def backward(self, grad: Any) -> tuple:
        x, src, out = self.saved_tensors
        xp = array_namespace(grad)
        key, touched, reduce = self.key, self.touched, self.reduce
        values = src[tuple(slice(0, n) for n in _index_shape(key))]
        if reduce == "sum":
            gx = grad if self.include_self else xp.where(touched, 0.0, grad)
            gsrc = grad[key]
        elif reduce == "mean":
            scaled = grad / xp.where(self.total == 0, 1, self.total)
            gx = xp.where(touched, scaled if self.include_self else 0.0, grad)
            gsrc = scaled[key]
        elif reduce == "prod":  # each factor's gradient: the product of the others (zeros too)
            if self.include_self:
                ones_for_zeros = xp.where(x == 0, 1, x)
                others = self._product(ones_for_zeros, values)
                gx = xp.where(touched, grad * others / ones_for_zeros, grad)
            else:
                gx = xp.where(touched, 0.0, grad)
            zero = values == 0
            zeros_at = scatter_into_zeros(tuple(out.shape), key, zero * xp.ones_like(values), True)
            single = zero & (zeros_at[key] == 1)  # the only zero of its slot: others' product
            others = self._product(x, xp.where(single, 1, values))[key]
            gsrc = xp.where(single, grad[key] * others,
                            (grad * out)[key] / xp.where(zero, 1, values))
        else:  # amax / amin: the winners share the gradient equally
            hit_x = (x == out) & touched if self.include_self else x != x
            hit_src = values == out[key]
            one = xp.ones_like(values)
            count = scatter_into_zeros(tuple(out.shape), key, hit_src * one, True) + hit_x * \
                xp.ones_like(out)
            share = grad / xp.where(count == 0, 1.0, count)
            gx = xp.where(touched, share * hit_x, grad)
            gsrc = share[key] * hit_src
        return gx, None, None, _pad_to(gsrc, self.src_shape), None, None


def _index_shape(key: tuple) -> tuple:
    shapes = [k.shape for k in key]
    return tuple(max(s[d] for s in shapes) for d in range(len(shapes[0])))


def _pad_to(g: Any, shape: tuple | None) -> Any:
    """Embed g (the part of src that index used) into zeros of src's full shape."""
    if shape is None or tuple(g.shape) == tuple(shape):
        return g
    region = tuple(slice(0, n) for n in g.shape)
    return scatter_into_zeros(shape, region, g, False)


class IndexSelect(Op):
    def forward(self, x: Any, dim: int, index: Any) -> Any:
        self.in_shape, self.dim, self.index = x.shape, dim, index
        return backend.module_of(x).take(x, index, axis=dim)

    def backward(self, grad: Any) -> tuple:
        key = (slice(None),) * self.dim + (self.index,)
        return scatter_into_zeros(self.in_shape, key, grad, True), None, None


class Where(Op):
    def forward(self, cond: Any, a: Any, b: Any) -> Any:
        self.cond = cond
        self.shapes = (getattr(a, "shape", None), getattr(b, "shape", None))
        xp = backend.module_of(cond)
        return xp.where(cond, a, b)

    def backward(self, grad: Any) -> tuple:
        xp = array_namespace(grad)
        _, need_a, need_b = self.next_edges
        sa, sb = self.shapes
        ga = sum_to_shape(xp.where(self.cond, grad, 0.0), sa) if need_a else None
        gb = sum_to_shape(xp.where(self.cond, 0.0, grad), sb) if need_b else None
        return None, ga, gb


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def getitem(x: Tensor, key: Any) -> Tensor:
    np_key, advanced = convert_key(key, x._data)
    return GetItem.apply(x, np_key, advanced)


def index_put(input: Tensor, indices: Any, values: Any, accumulate: bool = False) -> Tensor:
    """Out-of-place x[indices] = values (or += with accumulate=True, counting repeats)."""
    key, _ = convert_key(tuple(indices), input._data)
    return _index_put_key(input, key, values, accumulate)


def _index_put_key(input: Tensor, key: tuple, values: Any, accumulate: bool) -> Tensor:
    if isinstance(values, Tensor):
        if values._data.dtype != input._data.dtype:
            values = values.to(input.dtype)
    elif not isinstance(values, (int, float, bool)):
        from ._util import to_tensor  # noqa: PLC0415

        values = to_tensor(values, input).to(input.dtype)
    return IndexPut.apply(input, key, values, accumulate)


# the ops whose out-of-range index torch reports as IndexError (the others: RuntimeError)
_INDEX_ERROR_OPS = frozenset({"index_select", "index_copy", "index_fill", "index_reduce"})


def _check_index_tensor(op: str, x: Tensor, dim: int, index: Tensor, same_ndim: bool) -> Any:
    if not isinstance(index, Tensor):
        raise TypeError(f"{op}(): argument 'index' must be a Tensor, not {type(index).__name__}")
    idx = index._data
    if idx.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index (got {index.dtype})")
    if same_ndim and idx.ndim != max(x._data.ndim, 1) and not (idx.ndim == 0 and x._data.ndim == 0):
        raise RuntimeError(f"{op}(): Index tensor must have the same number of dimensions as "
                           f"input tensor (index is {idx.ndim}-d, input is {x._data.ndim}-d)")
    size = x._data.shape[dim] if x._data.ndim else 1
    low = -size if op == "index_fill" else 0  # only index_fill takes negative indices in torch
    if idx.size and (int(idx.max()) >= size or int(idx.min()) < low):
        bad = int(idx.max()) if int(idx.max()) >= size else int(idx.min())
        error = IndexError if op in _INDEX_ERROR_OPS else RuntimeError
        raise error(f"{op}(): index {bad} is out of bounds for dimension {dim} with size {size}"
                    f" (valid: 0..{size - 1})")
    if same_ndim:
        for d in range(idx.ndim):
            if d != dim and idx.shape[d] > x._data.shape[d]:
                raise RuntimeError(
                    f"{op}(): Size does not match at dimension {d} expected index "
                    f"[{', '.join(map(str, idx.shape))}] to be smaller than self "
                    f"[{', '.join(map(str, x._data.shape))}] apart from dimension {dim}"
                )
    return idx.astype("int64", copy=False)


def gather(input: Tensor, dim: int, index: Tensor, *, sparse_grad: bool = False) -> Tensor:
    d = wrap_dim(dim, input._data.ndim, "gather")
    idx = _check_index_tensor("gather", input, d, index, True)
    if input._data.ndim == 0:
        return input.clone()
    return Gather.apply(input, d, idx)


def take_along_dim(input: Tensor, indices: Tensor, dim: int | None = None) -> Tensor:
    if dim is None:
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    d = wrap_dim(dim, input._data.ndim, "take_along_dim")
    from .shape import broadcast_to  # noqa: PLC0415

    shape_x = list(input._data.shape)
    shape_i = list(indices._data.shape)
    shape_x[d] = shape_i[d] = 1
    from ._util import broadcast_shapes  # noqa: PLC0415

    common = list(broadcast_shapes(tuple(shape_x), tuple(shape_i)))
    x_shape = common.copy()
    x_shape[d] = input._data.shape[d]
    i_shape = common.copy()
    i_shape[d] = indices._data.shape[d]
    return gather(broadcast_to(input, x_shape), d, broadcast_to(indices, i_shape))


def take(input: Tensor, index: Tensor) -> Tensor:
    if isinstance(index, Tensor) and index.dtype != dtypes.int64:
        from .decomp import _torch_dtype_name  # noqa: PLC0415

        raise RuntimeError(f"take(): Expected a long tensor for index, but got "
                           f"{_torch_dtype_name(index._data)}")
    return torch_named(getitem(input.reshape(-1), index), "Take")


def scatter(input: Tensor, dim: int, index: Tensor, src: Any = None, *, value: Any = None,
            reduce: str | None = None) -> Tensor:
    d = wrap_dim(dim, input._data.ndim, "scatter")
    idx = _check_index_tensor("scatter", input, d, index, True)
    if src is None:
        src = value
    if reduce not in (None, "add", "multiply"):
        raise RuntimeError(f"scatter: reduce argument must be either add or multiply, "
                           f"got {reduce!r}")
    if isinstance(src, Tensor):
        if src._data.dtype != input._data.dtype:
            raise RuntimeError(f"scatter(): Expected self.dtype to be equal to src.dtype "
                               f"({input.dtype} vs {src.dtype})")
        _check_src_size("scatter", src, index)
    return Scatter.apply(input, d, idx, src, reduce)


def _check_src_size(op: str, src: Tensor, index: Tensor) -> None:
    for dd in range(index._data.ndim):
        if index._data.shape[dd] > src._data.shape[dd]:
            raise RuntimeError(f"{op}(): Expected index [{', '.join(map(str, index.shape))}] "
                               f"to be smaller than src [{', '.join(map(str, src.shape))}]")


def scatter_add(input: Tensor, dim: int, index: Tensor, src: Tensor) -> Tensor:
    return scatter(input, dim, index, src, reduce="add")


def scatter_reduce(input: Tensor, dim: int, index: Tensor, src: Tensor, reduce: str, *,
                   include_self: bool = True) -> Tensor:
    d = wrap_dim(dim, input._data.ndim, "scatter_reduce")
    if reduce == "mean" and input._data.dtype.kind == "b":
        raise NotImplementedError("\"scatter_gather_tensor_cpu_reduce_mean\" not implemented "
                                  "for 'Bool'")
    idx = _check_index_tensor("scatter_reduce", input, d, index, True)
    _check_src_size("scatter_reduce", src, index)
    return ScatterReduce.apply(input, d, idx, src, reduce, include_self)


def index_select(input: Tensor, dim: int, index: Tensor) -> Tensor:
    if input._sparse_layout:  # sparse COO (ops/sparse_index.py)
        return input.index_select(dim, index)
    d = wrap_dim(dim, input._data.ndim, "index_select")
    if index._data.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    idx = _check_index_tensor("index_select", input, d, index, False).reshape(-1)
    if input._data.ndim == 0:
        return input.clone()
    return IndexSelect.apply(input, d, idx)


def _along(dim: int, index: Any) -> tuple:
    return (slice(None),) * dim + (index,)


def index_add(input: Tensor, dim: int, index: Tensor, source: Tensor, *,
              alpha: Any = 1) -> Tensor:
    d = wrap_dim(dim, input._data.ndim, "index_add")
    idx = _check_index_tensor("index_add", input, d, index, False).reshape(-1)
    if alpha != 1:
        source = source * alpha
    return torch_named(_index_put_key(input, _along(d, idx), source, True), "IndexAdd")


def index_reduce(input: Tensor, dim: int, index: Tensor, source: Tensor, reduce: str, *,
                 include_self: bool = True) -> Tensor:
    """Reduce (prod, mean, amax, amin) source's slices into input's slices index[i] along dim:
    scatter_reduce with the index spread over source's other dims, so the gradients match."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or "
                           f"amin but got {reduce}.")
    d = wrap_dim(dim, input._data.ndim, "index_reduce")
    if input._data.dtype.kind == "b" and (reduce == "mean" or not include_self):
        kernel = "div_floor_cpu" if include_self else "index_reduce_func_exclude_input_init"
        raise NotImplementedError(f"\"{kernel}\" not implemented for 'Bool'")
    if index._data.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    idx = _check_index_tensor("index_reduce", input, d, index, False).reshape(-1)
    if source.dtype != input.dtype:
        raise RuntimeError(f"index_reduce_(): self ({input.dtype}) and source ({source.dtype}) "
                           f"must have the same scalar type")
    src_shape = source._data.shape if source._data.ndim else (1,)
    if source._data.ndim > 0 and (source._data.ndim != input._data.ndim
                                  or src_shape[d] != idx.shape[0]):
        raise IndexError(
            f"index_reduce_(): Number of indices ({idx.shape[0]}) should be equal to "
            f"source.size(dim) ({src_shape[d] if d < len(src_shape) else 1}) and source "
            f"should have the same number of dims as self")
    if input._data.ndim == 0:
        return ScatterReduce.apply(input.reshape(1), 0, idx, source.reshape(1), reduce,
                                   include_self).reshape(())
    xp = backend.module_of(idx)
    view = [1] * len(src_shape)
    view[d] = idx.shape[0]
    spread = xp.broadcast_to(idx.reshape(view), src_shape).copy()
    for i, (n_src, n_in) in enumerate(zip(src_shape, input._data.shape)):
        if i != d and n_src != n_in:
            raise RuntimeError(f"index_reduce_(): source.size({i}) ({n_src}) must match "
                               f"self.size({i}) ({n_in})")
    return torch_named(ScatterReduce.apply(input, d, spread, source, reduce, include_self),
                       "IndexReduce")


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    d = wrap_dim(dim, input._data.ndim, "index_copy")
    idx = _check_index_tensor("index_copy", input, d, index, False).reshape(-1)
    return torch_named(_index_put_key(input, _along(d, idx), source, False), "IndexCopy")


def index_fill(input: Tensor, dim: int, index: Tensor, value: Any) -> Tensor:
    d = wrap_dim(dim, input._data.ndim, "index_fill")
    idx = _check_index_tensor("index_fill", input, d, index, False).reshape(-1)
    if isinstance(value, Tensor) and idx.size:  # each position once: value's gradient as torch's
        idx = backend.module_of(idx).unique(idx % input._data.shape[d])
    out = _index_put_key(input, _along(d, idx), value, False)
    # torch's overloads: a number, a 0-d tensor
    return torch_named(out, "IndexFillBackward1" if isinstance(value, Tensor) else
                       "IndexFillBackward0")


def where(condition: Tensor, input: Any = None, other: Any = None) -> Any:
    """where(cond, a, b): a where cond is true, else b. where(cond): nonzero(as_tuple=True)."""
    if input is None and other is None:
        return nonzero(condition, as_tuple=True)
    if op_watch.active:  # profiler / forward-mode AD (autograd/op_watch.py)
        return op_watch.run_call("where", where, (condition, input, other), {})
    if not isinstance(condition, Tensor):
        from ._util import to_tensor  # noqa: PLC0415

        condition = to_tensor(condition)
    cond = condition._data
    if cond.dtype.kind != "b":
        if cond.dtype != "uint8":
            raise RuntimeError("where expected condition to be a boolean tensor, but got a "
                               f"tensor with dtype {condition.dtype.name.capitalize()}")
        cond = cond.astype(bool)
    a, b = input, other
    target = dtypes.result_type(a, b)
    a_data = _where_operand(a, target)
    b_data = _where_operand(b, target)
    try:
        from ._util import broadcast_shapes  # noqa: PLC0415

        broadcast_shapes(cond.shape, getattr(a_data, "shape", ()), getattr(b_data, "shape", ()))
    except RuntimeError:
        raise broadcast_error("where", cond.shape, getattr(a_data, "shape", ()),
                              getattr(b_data, "shape", ())) from None
    node = _new(Where)
    if target.np is backend.BFLOAT16:  # computed in float32 (autograd/low_precision.py)
        (a_data, b_data), flags = low_precision.widen([a_data, b_data])
        node.bf16_inputs = (False, *flags)
    out = backend.as_array(node.forward(cond, a_data, b_data))
    if out.dtype != target.np:
        out = out.astype(target.np)
    result = Tensor._make(out)
    wants = (isinstance(a, Tensor) and a._requires_grad) or (isinstance(b, Tensor) and
                                                             b._requires_grad)
    if wants and grad_state.enabled:
        a_in = a if isinstance(a, Tensor) and a._data.dtype == target.np else (
            a.to(target) if isinstance(a, Tensor) else a)
        b_in = b if isinstance(b, Tensor) and b._data.dtype == target.np else (
            b.to(target) if isinstance(b, Tensor) else b)
        record(node, result, (condition, a_in, b_in), [cond, a_data, b_data])
    return result


def _where_operand(v: Any, target: dtypes.dtype) -> Any:
    if isinstance(v, Tensor):
        data = v._data
        return data if data.dtype == target.np else data.astype(target.np)
    return v


def masked_fill(input: Tensor, mask: Tensor, value: Any) -> Tensor:
    if not isinstance(mask, Tensor) or mask._data.dtype.kind != "b":
        raise RuntimeError(
            "masked_fill_ only supports boolean masks, but got mask with dtype "
            f"{getattr(mask, 'dtype', type(mask).__name__)}"
        )
    if isinstance(value, Tensor):
        if value._data.ndim != 0:
            raise RuntimeError("masked_fill_ only supports a 0-dimensional value tensor, but got "
                               f"tensor with {value._data.ndim} dimension(s).")
        value = value.to(input.dtype)
        return torch_named(where(mask, value, input), "MaskedFillBackward1")  # torch's overloads
    return torch_named(where(mask, _cast_scalar(value, input), input), "MaskedFillBackward0")


def _cast_scalar(value: Any, like: Tensor) -> Any:
    kind = like._data.dtype.kind
    if kind == "b":
        return bool(value)
    if kind in "iu":
        return int(value)
    return float(value)


def masked_select(input: Tensor, mask: Tensor) -> Tensor:
    from .shape import broadcast_tensors  # noqa: PLC0415

    x, m = broadcast_tensors(input, mask)
    return torch_named(getitem(x, m), "MaskedSelect")


def nonzero(input: Tensor, *, as_tuple: bool = False) -> Any:
    xp = backend.module_of(input._data)
    data = input._data
    if data.ndim == 0 and not as_tuple:  # one (empty) coordinate row if the value is nonzero
        return Tensor._make(xp.zeros((int(bool(data)), 0), "int64"))
    if data.ndim == 0:
        data = data.reshape(1)
    # torch's layout: the coordinates of each dim contiguous, so nonzero() is their (ndim, n)
    # block transposed (not contiguous) and each as_tuple piece is contiguous
    found = xp.stack(xp.nonzero(data)).astype("int64", copy=False)
    if as_tuple:
        return tuple(Tensor._make(i) for i in found)
    return Tensor._make(found.T)


def nonzero_static(input: Tensor, *, size: int, fill_value: int = -1) -> Tensor:
    """nonzero's (n, ndim) coordinates cut or padded with fill_value rows to exactly `size`."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 0:
        raise RuntimeError("nonzero_static: 'size' must be an non-negative integer")
    if isinstance(fill_value, bool) or not isinstance(fill_value, int):
        raise TypeError(f"nonzero_static(): argument 'fill_value' must be int, not "
                        f"{type(fill_value).__name__}")
    found = nonzero(input)._data[:size]
    xp = backend.module_of(found)
    out = xp.full((size, input._data.ndim), fill_value, dtype="int64")
    out[: found.shape[0]] = found
    return Tensor._make(out)


def argwhere(input: Tensor) -> Tensor:
    return nonzero(input)
