"""Movement ops: reshape/view, permute/transpose, expand, squeeze/unsqueeze, flip, roll, repeat,
tril/triu, clone/contiguous.

Ops whose result shares memory with the input (`ViewOp`) record how to rebuild that view from
its base tensor, so that an in-place change through the view can update the base's graph
(see `inplace.py`).
"""

from __future__ import annotations

from typing import Any, Sequence

from .. import backend
from ..autograd.grad_mode import state as grad_state
from ..autograd import inference_tensors
from ..autograd.node import (
    Op,
    array_namespace,
    as_output,
    op_watch,
    record,
    refresh_view,
    view_origin,
)
from ..tensor import Tensor
from ._util import as_shape, shape_str, sum_to_shape, torch_named, wrap_dim, wrap_dims

_new = object.__new__
_ndarray = backend.ndarray


class ViewOp(Op):
    """An op whose output may be a view of its (single) tensor input."""

    @classmethod
    def apply(cls, x: Tensor, *args: Any) -> Tensor:
        if op_watch.active:  # profiler / forward-mode AD (autograd/op_watch.py)
            return op_watch.run_op(cls, (x, *args), {})
        if x._view is not None:
            refresh_view(x)
        data = x._data
        node = _new(cls)
        out = node.forward(data, *args)
        if out.__class__ is not _ndarray:
            out = as_output(node, out)
        result = Tensor._make(out)
        owner = data.base if data.base is not None else data
        if out.base is not None and out.base is owner:
            mark_view(result, x, cls, args)
        if x._requires_grad and grad_state.enabled:
            record(node, result, (x,), [data])
        return result

    @classmethod
    def replay(cls, array: Any, *args: Any) -> Any:
        """Apply this view op to a raw array (used to find the region a view covers)."""
        return _new(cls).forward(array, *args)


def mark_view(result: Tensor, x: Tensor, cls: type, args: tuple) -> None:
    """Record that `result` views the same memory as `x`: its root base and how to rebuild it."""
    view = x._view
    if view is None:
        base, steps = x, ()
    else:
        base, steps, _ = view
    result._view = (base, steps + ((cls, args),), view_origin(base))
    result._vc = base._shared_version_counter()
    if inference_tensors.state["seen"]:  # a view is an inference tensor iff its base is one
        inference_tensors.follow(result, x)


class Reshape(ViewOp):
    def forward(self, x: Any, shape: tuple, must_view: bool = False) -> Any:
        self.in_shape = x.shape
        if must_view:
            return backend.reshape_view(x, shape)
        out = backend.module_of(x).reshape(x, shape)
        self.copied = out.base is not (x.base if x.base is not None else x)
        return out

    def name(self) -> str:
        """torch's node: View, or UnsafeView where reshape had to copy (squeeze, unsqueeze
        rename theirs)."""
        return "UnsafeViewBackward0" if getattr(self, "copied", False) else "ViewBackward0"

    def backward(self, grad: Any) -> Any:
        return array_namespace(grad).reshape(grad, self.in_shape)


class Permute(ViewOp):
    def forward(self, x: Any, dims: tuple) -> Any:
        self.dims = dims
        return backend.module_of(x).transpose(x, dims)

    def name(self) -> str:  # transpose() swaps two dims; permute(), movedim(), t() rename
        moved = sum(i != d for i, d in enumerate(self.dims))
        return "TransposeBackward0" if moved == 2 else "PermuteBackward0"

    def backward(self, grad: Any) -> Any:
        inverse = [0] * len(self.dims)
        for i, d in enumerate(self.dims):
            inverse[d] = i
        return array_namespace(grad).transpose(grad, tuple(inverse))


class Expand(ViewOp):
    def forward(self, x: Any, shape: tuple) -> Any:
        self.in_shape = x.shape
        return backend.module_of(x).broadcast_to(x, shape)

    def backward(self, grad: Any) -> Any:
        return sum_to_shape(grad, self.in_shape)


class Diagonal(ViewOp):
    """The diagonal over (dim1, dim2) as the last dim: a writable view, as in torch."""

    def forward(self, x: Any, offset: int, dim1: int, dim2: int) -> Any:
        self.in_shape, self.offset, self.dims = x.shape, offset, (dim1, dim2)
        out = backend.module_of(x).diagonal(x, offset, dim1, dim2)
        if backend.is_writeable(x) and not backend.is_writeable(out):
            out.flags.writeable = True  # numpy marks diagonals read-only; the memory is x's
        return out

    def backward(self, grad: Any) -> Any:
        # write the gradient onto the same diagonal of zeros (dims moved last, then back)
        from .indexing import scatter_into_zeros  # noqa: PLC0415

        xp = array_namespace(grad)
        d1, d2 = self.dims
        rest = [s for i, s in enumerate(self.in_shape) if i not in (d1, d2)]
        rows, cols = self.in_shape[d1], self.in_shape[d2]
        n = grad.shape[-1]
        arange = backend.module_of(grad._data if isinstance(grad, Tensor) else grad).arange
        key = (Ellipsis, arange(n) + max(-self.offset, 0), arange(n) + max(self.offset, 0))
        moved = scatter_into_zeros(tuple(rest) + (rows, cols), key, grad, False)
        return xp.moveaxis(moved, (-2, -1), (d1, d2))


class Clone(Op):
    def forward(self, x: Any, order: str = "C") -> Any:
        return x.copy(order=order)

    def backward(self, grad: Any) -> Any:
        return grad


class Contiguous(Op):
    def name(self) -> str:  # torch's contiguous() is a clone
        return "CloneBackward0"

    def forward(self, x: Any) -> Any:
        return backend.module_of(x).ascontiguousarray(x)

    def backward(self, grad: Any) -> Any:
        return grad


class Flip(Op):
    def forward(self, x: Any, dims: tuple) -> Any:
        self.dims = dims
        return backend.module_of(x).flip(x, dims).copy()  # torch's flip copies

    def backward(self, grad: Any) -> Any:
        return array_namespace(grad).flip(grad, self.dims)


class Roll(Op):
    def forward(self, x: Any, shifts: tuple, dims: tuple | None) -> Any:
        self.shifts, self.dims = shifts, dims
        xp = backend.module_of(x)  # torch's result is a new contiguous tensor
        return xp.ascontiguousarray(xp.roll(x, shifts, dims))

    def backward(self, grad: Any) -> Any:
        back = tuple(-s for s in self.shifts)
        return array_namespace(grad).roll(grad, back, self.dims)


class Repeat(Op):
    """torch's repeat == numpy's tile: copy the whole tensor `reps[d]` times along dim d."""

    def forward(self, x: Any, reps: tuple) -> Any:
        self.orig_shape = x.shape
        self.in_shape = (1,) * (len(reps) - x.ndim) + tuple(x.shape)
        self.reps = reps
        return backend.module_of(x).tile(x, reps)

    def backward(self, grad: Any) -> Any:
        # view the output as (r0, s0, r1, s1, ...) and sum over every r axis
        xp = array_namespace(grad)
        split = []
        for r, s in zip(self.reps, self.in_shape):
            split += [r, s]
        g = xp.sum(xp.reshape(grad, tuple(split)), axis=tuple(range(0, len(split), 2)))
        return xp.reshape(g, self.orig_shape)


class Tril(Op):
    def forward(self, x: Any, k: int) -> Any:
        self.k = k
        return backend.module_of(x).tril(x, k)

    def backward(self, grad: Any) -> Any:
        return array_namespace(grad).tril(grad, self.k)


class Triu(Op):
    def forward(self, x: Any, k: int) -> Any:
        self.k = k
        return backend.module_of(x).triu(x, k)

    def backward(self, grad: Any) -> Any:
        return array_namespace(grad).triu(grad, self.k)


# ---------------------------------------------------------------------------------------------
# Public functions
# ---------------------------------------------------------------------------------------------


def _infer_shape(op: str, x: Tensor, shape: tuple) -> tuple:
    """Resolve one -1 and check the element count, with torch's message."""
    size = x._data.size
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (got shape {list(shape)})")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid shape dimension {s}")
            known *= s
    if -1 in shape:
        if known == 0 or size % known:
            raise RuntimeError(
                f"{op}: shape '{list(shape)}' is invalid for input of size {size} "
                f"(input shape {shape_str(x.shape)})"
            )
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise RuntimeError(
            f"{op}: shape '{list(shape)}' is invalid for input of size {size} "
            f"(input shape {shape_str(x.shape)})"
        )
    return shape


def reshape(input: Tensor, *shape: Any) -> Tensor:
    shape = _infer_shape("reshape", input, as_shape(shape))
    if shape == input._data.shape:
        return ViewOp_alias(input)
    return Reshape.apply(input, shape)


def view(input: Tensor, *shape: Any) -> Tensor:
    """Like reshape, but never copies: raises if the memory layout does not allow a view."""
    if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and shape[0] is not None \
            and not hasattr(shape[0], "__iter__"):
        from .convert import view_as_dtype  # noqa: PLC0415

        return view_as_dtype(input, shape[0])
    shape = _infer_shape("view", input, as_shape(shape))
    return Reshape.apply(input, shape, True)


def ViewOp_alias(x: Tensor) -> Tensor:  # noqa: N802 (a view op with no change of shape)
    return Reshape.apply(x, x._data.shape)


def flatten(input: Tensor, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    nd = input._data.ndim
    if nd == 0:
        wrap_dim(start_dim, 0, "flatten"), wrap_dim(end_dim, 0, "flatten")  # 0 or -1 only
        return reshape(input, (1,))
    start, end = wrap_dim(start_dim, nd, "flatten"), wrap_dim(end_dim, nd, "flatten")
    if start > end:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if start == end:  # nothing to merge: torch returns the tensor itself
        return input
    shape = input._data.shape
    n = 1
    for s in shape[start:end + 1]:
        n *= s
    return reshape(input, shape[:start] + (n,) + shape[end + 1:])


def unflatten(input: Tensor, dim: int, sizes: Sequence[int]) -> Tensor:
    nd = input._data.ndim
    d = wrap_dim(dim, nd, "unflatten")
    shape = input._data.shape
    sizes = tuple(sizes)
    known = 1
    for s in sizes:
        if s != -1:
            known *= s
    if -1 in sizes:
        sizes = tuple(shape[d] // known if s == -1 else s for s in sizes)
    elif known != shape[d]:
        raise RuntimeError(
            f"unflatten: Provided sizes {list(sizes)} don't multiply up to the size of dim "
            f"{dim} ({shape[d]}) in the input tensor"
        )
    return reshape(input, shape[:d] + sizes + shape[d + 1:])


def squeeze(input: Tensor, dim: Any = None) -> Tensor:
    shape = input._data.shape
    if dim is None:
        new = tuple(s for s in shape if s != 1)
    else:
        dims = wrap_dims(dim, len(shape), "squeeze")
        new = tuple(s for i, s in enumerate(shape) if not (i in dims and s == 1))
    out = reshape(input, new) if new != shape else ViewOp_alias(input)
    kind = 0 if dim is None else 2 if isinstance(dim, (tuple, list)) else 1
    return torch_named(out, f"SqueezeBackward{kind}")


def unsqueeze(input: Tensor, dim: int) -> Tensor:
    nd = input._data.ndim
    d = wrap_dim(dim, nd + 1, "unsqueeze")
    shape = input._data.shape
    return torch_named(Reshape.apply(input, shape[:d] + (1,) + shape[d:]), "Unsqueeze")


def permute(input: Tensor, *dims: Any) -> Tensor:
    nd = input._data.ndim
    dims = as_shape(dims)
    if len(dims) != nd:
        raise RuntimeError(
            f"permute: number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    return torch_named(Permute.apply(input, wrap_dims(dims, nd, "permute")), "Permute")


def transpose(input: Tensor, dim0: int, dim1: int) -> Tensor:
    nd = input._data.ndim
    if nd == 0:
        return ViewOp_alias(input)
    d0, d1 = wrap_dim(dim0, nd, "transpose"), wrap_dim(dim1, nd, "transpose")
    order = list(range(nd))
    order[d0], order[d1] = order[d1], order[d0]
    return Permute.apply(input, tuple(order))


swapaxes = swapdims = transpose


def t(input: Tensor) -> Tensor:
    if input._data.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                           f"{input._data.ndim}D")
    return torch_named(transpose(input, 0, 1), "T") if input._data.ndim == 2 else \
        ViewOp_alias(input)


def movedim(input: Tensor, source: Any, destination: Any) -> Tensor:
    nd = input._data.ndim
    src = wrap_dims(source, nd, "movedim")
    dst = wrap_dims(destination, nd, "movedim")
    if len(src) != len(dst):
        raise RuntimeError(f"movedim: Invalid source or destination dims: source ({list(src)} "
                           f"dims) should contain the same number of dims as destination "
                           f"({list(dst)} dims)")
    order = [d for d in range(nd) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return torch_named(Permute.apply(input, tuple(order)), "Permute")


moveaxis = movedim


def expand(input: Tensor, *sizes: Any) -> Tensor:
    sizes = as_shape(sizes)
    shape = input._data.shape
    if len(sizes) < len(shape):
        raise RuntimeError(
            f"expand: the number of sizes provided ({len(sizes)}) must be greater or equal to "
            f"the number of dimensions in the tensor ({len(shape)})"
        )
    lead = len(sizes) - len(shape)
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError(f"expand: the expanded size {s} is not allowed in a leading, "
                                   "non-existing dimension")
            target.append(s)
            continue
        have = shape[i - lead]
        if s == -1:
            s = have
        if have != s and have != 1:
            raise RuntimeError(
                f"expand: the expanded size of the tensor ({s}) must match the existing size "
                f"({have}) at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  "
                f"Tensor sizes: {list(shape)}"
            )
        target.append(s)
    return Expand.apply(input, tuple(target))


def expand_as(input: Tensor, other: Tensor) -> Tensor:
    return expand(input, other._data.shape)


def broadcast_to(input: Tensor, size: Sequence[int]) -> Tensor:
    return expand(input, tuple(size))


def broadcast_tensors(*tensors: Tensor) -> tuple:
    from ._util import broadcast_shapes  # noqa: PLC0415

    shape = broadcast_shapes(*(t._data.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def repeat(input: Tensor, *sizes: Any) -> Tensor:
    reps = as_shape(sizes)
    if len(reps) < input._data.ndim:
        raise RuntimeError(
            "repeat: Number of dimensions of repeat dims can not be smaller than number of "
            f"dimensions of tensor (got {len(reps)} repeats for a {input._data.ndim}-d tensor)"
        )
    return Repeat.apply(input, reps)


def tile(input: Tensor, dims: Sequence[int]) -> Tensor:
    dims = tuple(dims)
    if len(dims) < input._data.ndim:
        dims = (1,) * (input._data.ndim - len(dims)) + dims
    return Repeat.apply(input, dims)


def repeat_interleave(input: Tensor, repeats: Any = None, dim: int | None = None, *,
                      output_size: int | None = None) -> Tensor:
    """Repeat each element `repeats` times (a number, or one count per element).
    repeat_interleave(counts) alone gives each index i repeated counts[i] times."""
    from .indexing import index_select  # noqa: PLC0415

    if repeats is None:
        xp = backend.module_of(input._data)
        return Tensor._make(xp.repeat(xp.arange(input._data.shape[0]), input._data))
    if dim is None:
        input = flatten(input)
        dim = 0
    d = wrap_dim(dim, input._data.ndim, "repeat_interleave")
    n = input._data.shape[d]
    xp = backend.module_of(input._data)
    counts = repeats._data if isinstance(repeats, Tensor) else repeats
    try:
        index = xp.repeat(xp.arange(n), counts)
    except ValueError:  # numpy's words; torch's error names the sizes
        sizes = xp.shape(counts)
        if len(sizes) > 1 or (sizes and sizes[0] not in (1, n)):
            raise RuntimeError(f"repeat_interleave: repeats must have the same size as input "
                               f"along dim, but got repeats.size(0) = {sizes[-1]} and "
                               f"input.size({d}) = {n}") from None
        raise RuntimeError("repeat_interleave: repeats can not be negative") from None
    return index_select(input, d, Tensor._make(index))


def flip(input: Tensor, dims: Any) -> Tensor:
    return Flip.apply(input, wrap_dims(dims, input._data.ndim, "flip"))


def fliplr(input: Tensor) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("fliplr: Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input: Tensor) -> Tensor:
    if input._data.ndim < 1:
        raise RuntimeError("flipud: Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input: Tensor, shifts: Any, dims: Any = None) -> Tensor:
    shifts = (shifts,) if isinstance(shifts, int) else tuple(shifts)
    if dims is None:
        flat = flatten(input)
        return reshape(Roll.apply(flat, shifts, None), input._data.shape)
    dims = wrap_dims(dims, input._data.ndim, "roll")
    if len(shifts) != len(dims):
        raise RuntimeError(f"roll: shifts and dimensions must align. shifts: {len(shifts)}, "
                           f"dims:{len(dims)}")
    return Roll.apply(input, shifts, dims)


def tril(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return Tril.apply(input, diagonal)


def triu(input: Tensor, diagonal: int = 0) -> Tensor:
    if input._data.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return Triu.apply(input, diagonal)


def diagonal(input: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1) -> Tensor:
    """The diagonal over dims dim1 and dim2, appended as the last dim (a view)."""
    nd = input._data.ndim
    d1, d2 = wrap_dim(dim1, nd, "diagonal"), wrap_dim(dim2, nd, "diagonal")
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return Diagonal.apply(input, offset, d1, d2)


def trace(input: Tensor) -> Tensor:
    """The sum of the diagonal."""
    if input.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input.ndim} "
                           f"(shape ({shape_str(input.shape)}))")
    if input._data.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    return torch_named(diagonal(input).sum(), "Trace")


def clone(input: Tensor, *, memory_format: Any = None) -> Tensor:
    """A copy; by default (preserve_format) a channels-last tensor stays channels-last."""
    if memory_format is None and input._data.flags.c_contiguous:
        return Clone.apply(input)
    from .. import memory_layout as mf  # noqa: PLC0415

    fmt = mf.check(memory_format, input._data.ndim, "clone")
    if fmt is mf.preserve_format:
        data = input._data
        if not any(st == 0 and n > 1 for st, n in zip(data.strides, data.shape)):
            # torch keeps a non-overlapping tensor's stride order (x.t().clone() is x.t()'s
            # layout, channels_last stays channels_last): numpy's order="K" does the same
            return Clone.apply(input, "K")
        return Clone.apply(input)  # overlapping (expanded) memory: contiguous, as torch
    return mf.ToMemoryFormat.apply(input, fmt)


def contiguous(input: Tensor, memory_format: Any = None) -> Tensor:
    if memory_format is None:
        if input._data.flags.c_contiguous:
            return input
        return Contiguous.apply(input)
    from .. import memory_layout as mf  # noqa: PLC0415

    fmt = mf.check(memory_format, input._data.ndim, "contiguous")
    if fmt is mf.preserve_format:
        if input._data.flags.c_contiguous:
            return input
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    if mf.is_laid_out(input._data, fmt):
        return input
    return mf.ToMemoryFormat.apply(input, fmt)


def ravel(input: Tensor) -> Tensor:
    return reshape(contiguous(input), (-1,))


def each_tensor(fn: Any, tensors: tuple) -> Any:
    """atleast_*d's calling forms, as torch's: f(t) gives a tensor; f(a, b, ...) and f([a, b])
    or f((a, b)) give a tuple."""
    if len(tensors) == 1 and isinstance(tensors[0], Tensor):
        return fn(tensors[0])
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tensors[0]
    return tuple(fn(t) for t in tensors)


def atleast_1d(*tensors: Any) -> Any:
    def one(input: Tensor) -> Tensor:
        return reshape(input, (1,)) if input._data.ndim == 0 else input

    return each_tensor(one, tensors)


def atleast_2d(*tensors: Any) -> Any:
    def one(input: Tensor) -> Tensor:
        nd = input._data.ndim
        return reshape(input, (1,) * (2 - nd) + input._data.shape) if nd < 2 else input

    return each_tensor(one, tensors)
