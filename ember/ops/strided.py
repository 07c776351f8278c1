"""Ops on a tensor's memory layout: as_strided views, empty_strided, set_, resize_.

An Ember tensor wraps a numpy/cupy array; torch's "storage" is the array that owns the memory
(the root of `array.base`), read as a flat run of elements. `as_strided` builds a view over that
run with the asked strides, so writes through it reach the base, as in torch. Its gradient
scatter-adds the output's gradient onto the storage positions it read, then gathers the
positions the input covers.

This module also holds torch's top-level spellings of in-place and tensor-state methods
(`torch.relu_`, `torch.zero_`, `torch.fill`, `torch.detach`, ...): each calls the method.
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import backend
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import array_namespace, op_watch, record, refresh_view
from ..tensor import Tensor
from .shape import ViewOp, mark_view

_new = object.__new__


def _root(data: Any) -> Any:
    """The array that owns `data`'s memory (torch's storage)."""
    cls = type(data)
    root = data
    while isinstance(root.base, cls):
        root = root.base
    return root


def _flat_storage(data: Any) -> tuple:
    """(the storage as a flat array sharing memory, data's offset in it in elements).

    A root that is not contiguous cannot be read as one flat run: then data itself (copied to
    contiguous when needed) is the storage, without sharing memory with the root.
    """
    root = _root(data)
    if root.flags.c_contiguous:
        flat = root.reshape(-1)
        offset = (_ptr(data) - _ptr(root)) // data.itemsize
        return flat, offset
    xp = backend.module_of(data)
    return xp.ascontiguousarray(data).reshape(-1), 0


def _ptr(array: Any) -> int:
    if array.__class__ is backend.ndarray:
        return int(array.__array_interface__["data"][0])
    return int(array.data.ptr)


def _positions(xp: Any, shape: tuple, strides: tuple, offset: int) -> Any:
    """The storage index of every element of a (shape, strides, offset) view, shape `shape`."""
    idx = xp.full(shape, offset, dtype=xp.int64)
    for d, (n, s) in enumerate(zip(shape, strides)):
        view = [1] * len(shape)
        view[d] = n
        idx = idx + (xp.arange(n, dtype=xp.int64) * s).reshape(view)
    return idx


def _check_geometry(op: str, size: tuple, stride: tuple, offset: int, storage_size: int,
                    itemsize: int) -> None:
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    if any(s < 0 for s in stride):
        raise RuntimeError(f"{op}: Negative strides are not supported at the moment, got "
                           f"strides: [{', '.join(map(str, stride))}]")
    if any(n < 0 for n in size):
        raise RuntimeError(f"{op}: negative dimension in size [{', '.join(map(str, size))}]")
    if offset < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {offset}")
    needed = 0 if 0 in size else offset + 1 + sum((n - 1) * s for n, s in zip(size, stride))
    if needed > storage_size:
        raise RuntimeError(
            f"setStorage: sizes [{', '.join(map(str, size))}], strides "
            f"[{', '.join(map(str, stride))}], storage offset {offset}, and itemsize {itemsize} "
            f"requiring a storage size of {needed * itemsize} are out of bounds for storage of "
            f"size {storage_size * itemsize}"
        )


def _int_tuple(op: str, name: str, value: Any) -> tuple:
    if isinstance(value, int):
        return (value,)
    try:
        return tuple(int(v) for v in value)
    except (TypeError, ValueError):
        raise TypeError(f"{op}(): argument '{name}' must be tuple of ints, not "
                        f"{type(value).__name__}") from None


class AsStrided(ViewOp):
    """A view of the input's storage with the given sizes, strides and storage offset."""

    @classmethod
    def apply(cls, x: Tensor, size: tuple, stride: tuple, offset: int) -> Tensor:
        if op_watch.active:  # profiler / forward-mode AD (autograd/op_watch.py)
            return op_watch.run_op(cls, (x, size, stride, offset), {})
        if x._view is not None:
            refresh_view(x)
        node = _new(cls)
        out = node.forward(x._data, size, stride, offset)
        result = Tensor._make(out)
        if node.shares:
            mark_view(result, x, cls, (size, stride, offset))
        if x._requires_grad and grad_state.enabled:
            record(node, result, (x,), [x._data])
        return result

    @classmethod
    def replay(cls, array: Any, size: tuple, stride: tuple, offset: int) -> Any:
        # `array` is the base laid out in C order (positions of the base's own flat storage)
        xp = backend.module_of(array)
        flat = xp.ascontiguousarray(array).reshape(-1)
        return flat[_positions(xp, size, stride, offset)]

    def forward(self, x: Any, size: tuple, stride: tuple, offset: int) -> Any:
        xp = backend.module_of(x)
        flat, x_offset = _flat_storage(x)
        _check_geometry("as_strided", size, stride, offset, flat.size, x.itemsize)
        self.shares = _root(flat) is _root(x)
        self.in_positions = _positions(xp, x.shape, tuple(s // x.itemsize for s in x.strides),
                                       x_offset)
        self.out_positions = _positions(xp, size, stride, offset)
        return _view_of(flat, size, stride, offset)

    def backward(self, grad: Any) -> Any:
        # scatter-add onto the storage span both views touch, then read the input's positions
        from .indexing import scatter_into_zeros  # noqa: PLC0415

        xp = backend.module_of(self.in_positions)
        inp, outp = self.in_positions, self.out_positions
        if inp.size == 0 or outp.size == 0:
            dtype = grad._data.dtype if isinstance(grad, Tensor) else grad.dtype
            return xp.zeros(inp.shape, dtype)
        lo = int(inp.min()) if outp.size == 0 else min(int(inp.min()), int(outp.min()))
        hi = int(inp.max()) if outp.size == 0 else max(int(inp.max()), int(outp.max()))
        flat_grad = array_namespace(grad).reshape(grad, (-1,))
        storage = scatter_into_zeros((hi - lo + 1,), ((outp - lo).reshape(-1),), flat_grad, True)
        result = storage[inp - lo]
        counts = xp.bincount((inp - lo).reshape(-1), minlength=hi - lo + 1)
        if int(counts.max()) > 1:  # the input itself overlaps: share the gradient, as torch
            dtype = grad._data.dtype if isinstance(grad, Tensor) else grad.dtype
            result = result / counts[inp - lo].astype(dtype)
        return result


def as_strided(input: Tensor, size: Sequence[int], stride: Sequence[int],
               storage_offset: int | None = None) -> Tensor:
    """A view of input's memory with the given sizes and strides (in elements), starting
    `storage_offset` elements into its storage (input's own offset by default)."""
    if not isinstance(input, Tensor):
        raise TypeError(f"as_strided(): argument 'input' must be Tensor, not "
                        f"{type(input).__name__}")
    size = _int_tuple("as_strided", "size", size)
    stride = _int_tuple("as_strided", "stride", stride)
    if storage_offset is None:
        storage_offset = input.storage_offset()
    return AsStrided.apply(input, size, stride, int(storage_offset))


def as_strided_(input: Tensor, size: Sequence[int], stride: Sequence[int],
                storage_offset: int | None = None) -> Tensor:
    """In-place as_strided: input itself now views its storage with the new geometry."""
    return input._become(as_strided(input, size, stride, storage_offset))


def as_strided_copy(input: Tensor, size: Sequence[int], stride: Sequence[int],
                    storage_offset: int | None = None) -> Tensor:
    return as_strided(input, size, stride, storage_offset).clone()


def as_strided_scatter(input: Tensor, src: Tensor, size: Sequence[int], stride: Sequence[int],
                       storage_offset: int | None = None) -> Tensor:
    """A copy of input with src written into the positions as_strided(size, stride) covers."""
    from .indexing import index_put  # noqa: PLC0415

    size = _int_tuple("as_strided_scatter", "size", size)
    stride = _int_tuple("as_strided_scatter", "stride", stride)
    if tuple(src.shape) != size:
        raise RuntimeError(f"as_strided_scatter: expected src to have a size equal to the slice "
                           f"of self. src size = {list(src.shape)}, slice size = {list(size)}")
    out = input.contiguous().clone() if input.is_contiguous() else input.contiguous()
    xp = backend.module_of(out._data)
    offset = input.storage_offset() if storage_offset is None else int(storage_offset)
    _check_geometry("as_strided_scatter", size, tuple(stride), offset, out.numel(),
                    out._data.itemsize)
    pos = _positions(xp, size, tuple(stride), offset - input.storage_offset()
                     if storage_offset is None else offset)
    flat = out.reshape(-1)
    return index_put(flat, (Tensor._make(pos.reshape(-1)),), src.reshape(-1)).reshape(out.shape)


def _contiguous_strides(size: tuple) -> tuple:
    strides, acc = [], 1
    for n in reversed(size):
        strides.append(acc)
        acc *= max(n, 1)
    return tuple(reversed(strides))


def empty_strided(size: Sequence[int], stride: Sequence[int], *, dtype: Any = None,
                  layout: Any = None, device: Any = None, requires_grad: bool = False,
                  pin_memory: bool = False) -> Tensor:
    """An uninitialised tensor with the given sizes and strides (in elements)."""
    from ..creation import empty  # noqa: PLC0415

    size = _int_tuple("empty_strided", "size", size)
    stride = _int_tuple("empty_strided", "stride", stride)
    if len(size) != len(stride):
        raise RuntimeError("mismatch in length of strides and shape")
    needed = 0 if 0 in size else 1 + sum((n - 1) * s for n, s in zip(size, stride))
    storage = empty(needed, dtype=dtype, device=device)
    out = Tensor._make(_strided_view(storage._data, size, stride))
    return out.requires_grad_(requires_grad) if requires_grad else out


def _strided_view(flat: Any, size: tuple, stride: tuple, offset: int = 0) -> Any:
    _check_geometry("as_strided", size, stride, offset, flat.size, flat.itemsize)
    return _view_of(flat, size, stride, offset)


def _view_of(flat: Any, size: tuple, stride: tuple, offset: int) -> Any:
    """The (size, stride, offset) view of a flat storage array. On numpy it is built over the
    root array's buffer, so that its `.base` is the root (later views find the same storage)."""
    itemsize = flat.itemsize
    strides = tuple(s * itemsize for s in stride)
    if flat.__class__ is backend.ndarray:
        root = _root(flat)
        start = _ptr(flat) - _ptr(root) + offset * itemsize
        try:
            return backend.ndarray(size, flat.dtype, buffer=root, offset=start, strides=strides)
        except (TypeError, ValueError, BufferError):
            pass
    xp = backend.module_of(flat)
    return xp.lib.stride_tricks.as_strided(flat[offset:] if flat.size > offset else flat,
                                           size, strides)


def new_empty_strided(self: Tensor, size: Sequence[int], stride: Sequence[int], *,
                      dtype: Any = None, layout: Any = None, device: Any = None,
                      requires_grad: bool = False, pin_memory: bool = False) -> Tensor:
    return empty_strided(size, stride, dtype=dtype or self.dtype,
                         device=device or self.device, requires_grad=requires_grad)


def _check_not_grad(t: Tensor, op: str) -> None:
    if t._requires_grad and grad_state.enabled:
        raise RuntimeError("cannot resize variables that require grad")


def resize_(t: Tensor, *sizes: Any, memory_format: Any = None) -> Tensor:
    """Give t the shape `sizes` (contiguous) over its storage, from its storage offset; the
    storage grows (old contents kept, new elements uninitialised) when it is too small."""
    if len(sizes) == 1 and not isinstance(sizes[0], int):
        sizes = tuple(sizes[0])
    size = _int_tuple("resize_", "size", sizes)
    if any(n < 0 for n in size):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(size)}: "
                           f"[{', '.join(map(str, size))}]")
    _check_not_grad(t, "resize_")
    numel = 1
    for n in size:
        numel *= n
    data = t._data
    xp = backend.module_of(data)
    flat, offset = _flat_storage(data)
    if offset + numel > flat.size:
        grown = xp.empty(offset + numel, dtype=data.dtype)
        grown[:flat.size] = flat
        flat = grown
    t._data = _strided_view(flat, size, _contiguous_strides(size), offset)
    t._bump_version()
    return t


def resize_as_(t: Tensor, the_template: Tensor, *, memory_format: Any = None) -> Tensor:
    return resize_(t, tuple(the_template.shape))


def set_(t: Tensor, source: Any = None, storage_offset: int | None = None, size: Any = None,
         stride: Any = None) -> Tensor:
    """Make t share source's memory: a tensor's (with its shape and strides, or the ones
    given), or a storage's (all of it as 1-D, or the given offset, size and strides)."""
    from .. import storage  # noqa: PLC0415 (storage imports this module)
    from . import inplace  # noqa: PLC0415

    if storage_offset is not None and (size is None or not isinstance(storage_offset, int)):
        got = ", ".join(type(a).__name__ for a in (source, storage_offset, size) if a is not None)
        raise TypeError(f"set_() received an invalid combination of arguments - got ({got}), "
                        "but expected one of:\n * ()\n * (ember.Storage source)\n * "
                        "(ember.Storage source, int storage_offset, tuple of ints size, tuple of "
                        "ints stride = None)\n * (Tensor source)\n * (Tensor source, int "
                        "storage_offset, tuple of ints size, tuple of ints stride = None)")
    if size is not None:
        size = _int_tuple("set_", "size", size)
        stride = _contiguous_strides(size) if stride is None else \
            _int_tuple("set_", "stride", stride)
    offset = 0 if storage_offset is None else int(storage_offset)
    if source is None:
        data = backend.module_of(t._data).empty(0, dtype=t._data.dtype)
    elif isinstance(source, Tensor):
        if source._data.dtype != t._data.dtype:
            raise RuntimeError(f"Could not set tensor of type {source.dtype} to a tensor of "
                               f"type {t.dtype}")
        data = source._data
        if size is not None:
            flat, _ = _flat_storage(data)
            data = _strided_view(flat, size, stride, offset)
    elif storage.is_storage(source):
        data = storage.array_on(source, t.dtype, offset, size, stride)
    else:
        raise TypeError(f"set_(): argument 'source' must be Tensor or Storage, not "
                        f"{type(source).__name__}")
    if t.grad_fn is None and t._requires_grad and grad_state.enabled:
        inplace._check_leaf(t)
    t._data = data
    if isinstance(source, Tensor) and source._requires_grad and grad_state.enabled:
        t._requires_grad = True
    elif storage.is_storage(source):
        storage.storage_of(t)  # the storage object keeps track of the tensors on it
    t._bump_version()
    return t


# ------------------------------------------------------------- torch.* spellings of methods
def _method_alias(name: str) -> Any:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:
        if not isinstance(input, Tensor):
            raise TypeError(f"{name}(): argument 'input' (position 1) must be Tensor, not "
                            f"{type(input).__name__}")
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"torch.{name}(input, ...): the same as input.{name}(...)."
    return function


_ALIASES = (
    "abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
    "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
    "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_", "exp2_", "exp_",
    "expm1_", "fix_", "floor_", "frac_", "gcd_", "lcm_", "ldexp_", "log10_", "log1p_", "log2_",
    "log_", "logit_", "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_",
    "round_", "rsqrt_", "sigmoid_", "sin_", "sinc_", "sinh_", "sqrt_", "square_", "tan_",
    "tanh_", "trunc_", "xlogy_", "zero_", "fill_", "detach", "detach_", "index_put_",
    "i0_", "addmv_",
)
for _name in _ALIASES:
    globals()[_name] = _method_alias(_name)


def fill(input: Tensor, value: Any) -> Tensor:
    """torch.fill: a new tensor like input holding `value` (no gradient flows to input)."""
    return input.detach().clone().fill_(value)


def typename(obj: Any) -> str:
    """torch.typename: 'torch.FloatTensor' style names for tensors, the qualified class name
    for anything else."""
    if isinstance(obj, Tensor):
        return obj.type()
    module = getattr(obj, "__module__", "") or ""
    name = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    if not hasattr(obj, "__qualname__"):
        module = type(obj).__module__
    return name if module in ("", "builtins") else f"{module}.{name}"
