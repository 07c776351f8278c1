"""Helpers shared by all op families: broadcast reduction, dim handling, operand conversion."""

from __future__ import annotations

import functools
from typing import Any, Iterable

from .. import backend, dtypes
from ..autograd import complex_grad as _complex_grad
from ..tensor import Tensor


def sum_to_shape(grad: Any, shape: tuple) -> Any:
    """Sum a broadcast gradient back to the shape of the input it flows to.

    This is the one place where broadcasting is undone: the chain rule for y = f(broadcast(x))
    adds up the gradient over every position x was copied to. Leading dims that broadcasting
    added are summed away; dims of size 1 that were stretched are summed with keepdims.
    """
    gshape = grad.shape
    if tuple(gshape) == tuple(shape):
        return grad
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and gshape[lead + i] != 1
    )
    from ..autograd.node import array_namespace  # noqa: PLC0415 (node imports tensor)

    xp = array_namespace(grad)
    if axes:
        grad = xp.sum(grad, axis=axes, keepdims=True)
    return xp.reshape(grad, shape)


def sum_first(a: Any) -> Any:
    """Column sums of a 2-D array, as ones @ a.

    numpy reduces a short axis one row or column at a time; a product with a ones vector
    runs in BLAS instead (multi-threaded, 2-5x faster on the shapes of bias, LayerNorm,
    BatchNorm and softmax sums).
    """
    return backend.module_of(a).ones(a.shape[0], dtype=a.dtype) @ a


def sum_last(a: Any) -> Any:
    """Sums over the last axis (kept as size 1), as a @ ones: see sum_first."""
    return (a @ backend.module_of(a).ones(a.shape[-1], dtype=a.dtype))[..., None]


SMALL_MATRIX = 4096  # values per matrix below which right_operand copies a transposed stack


def right_operand(xp: Any, m: Any) -> Any:
    """The right operand (..., k, n) of a stacked matmul, as a contiguous copy when it is a
    transposed view of small matrices on the CPU. OpenBLAS multiplies many small matrices slower
    with a transposed right operand than the copy costs (attention's q @ k^T over 128 heads of
    64 x 32: 0.53 -> 0.40 ms with the copy; dO @ V^T 0.56 -> 0.41 ms); for larger matrices the
    transposed product is faster (heads of 256 x 64: 4.5 ms as views, 5.1 copied). Tensors
    (a create_graph backward) and GPU arrays are returned as they are."""
    if (m.ndim < 3 or xp.__name__ != "numpy" or m.strides[-1] == m.itemsize
            or m.shape[-1] * m.shape[-2] > SMALL_MATRIX or 0 in m.strides):
        return m
    return xp.ascontiguousarray(m)


def shape_str(shape: Iterable[int]) -> str:
    """(32, 784) -> '32x784', as torch prints shapes in messages."""
    dims = tuple(shape)
    return "x".join(str(d) for d in dims) if dims else "scalar"


class WordedValueError(ValueError):
    """A ValueError already worded for the user (a lazy parameter used before its dry run):
    the ops' error translators pass it through unchanged."""


def broadcast_error(op: str, *shapes: tuple) -> RuntimeError:
    """torch's message for shapes that do not broadcast, naming the op and every shape."""
    ndim = max(len(s) for s in shapes)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    names = "abcdefgh"
    for dim in range(ndim - 1, -1, -1):
        sizes = {p[dim] for p in padded} - {1}
        if len(sizes) > 1:
            (i, si), (j, sj) = [(k, p[dim]) for k, p in enumerate(padded) if p[dim] != 1][:2]
            shown = " and ".join(f"({shape_str(s)})" for s in shapes)
            return RuntimeError(
                f"{op}: shapes {shown} cannot be broadcast: the size of tensor {names[i]} "
                f"({si}) must match the size of tensor {names[j]} ({sj}) at non-singleton "
                f"dimension {dim}"
            )
    shown = " and ".join(f"({shape_str(s)})" for s in shapes)
    return RuntimeError(f"{op}: shapes {shown} cannot be broadcast together")


def broadcast_shapes(*shapes: Any) -> tuple:
    """torch.broadcast_shapes: the shape that all `shapes` broadcast to."""
    shapes = [tuple(s) if not isinstance(s, int) else (s,) for s in shapes]
    ndim = max((len(s) for s in shapes), default=0)
    out = []
    for dim in range(-ndim, 0):
        size = 1
        for s in shapes:
            if len(s) >= -dim:
                n = s[dim]
                if n != 1:
                    if size != 1 and n != size:
                        raise broadcast_error("broadcast_shapes", *shapes)
                    size = n
        out.append(size)
    return tuple(out)


def wrap_dim(dim: int, ndim: int, op: str = "") -> int:
    """Turn a possibly negative dim into an index, with torch's error when it is out of range."""
    n = max(ndim, 1)
    if not isinstance(dim, int):
        dim = int(dim)
    if not -n <= dim < n:
        where = f"{op}: " if op else ""
        raise IndexError(
            f"{where}Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
            f"but got {dim})"
        )
    return dim % n if ndim else 0


def wrap_dims(dims: Any, ndim: int, op: str = "") -> tuple:
    """Normalise `dim` arguments that may be None, an int, or a sequence of ints."""
    if dims is None:
        return tuple(range(ndim))
    if isinstance(dims, int) or (hasattr(dims, "__index__") and not isinstance(dims, (tuple, list))):
        return (wrap_dim(int(dims), ndim, op),)
    out = tuple(wrap_dim(d, ndim, op) for d in dims)
    if len(set(out)) != len(out):
        raise RuntimeError(f"{op}: dim {tuple(dims)} appears multiple times in the list of dims")
    return out


def as_shape(args: tuple) -> tuple:
    """Accept sizes given as varargs `(2, 3)` or as one sequence `((2, 3),)`."""
    if len(args) == 1 and not isinstance(args[0], int) and hasattr(args[0], "__iter__") \
            and getattr(args[0], "ndim", 1) != 0:  # a 0-d tensor is one size, not a sequence
        args = tuple(args[0])
    try:
        return tuple(int(a) for a in args)
    except (TypeError, ValueError):
        raise TypeError(f"sizes must be ints, got {args!r}") from None


def to_tensor(value: Any, like: Tensor | None = None) -> Tensor:
    """Turn lists, arrays and scalars into tensors on `like`'s device."""
    if isinstance(value, Tensor):
        return value
    from ..creation import tensor  # noqa: PLC0415 (creation imports ops)

    device = like.device if like is not None else None
    return tensor(value, device=device)


def astype(x: Any, np_dtype: Any) -> Any:
    """Cast an array or a Tensor (the latter differentiably)."""
    if isinstance(x, Tensor):
        return x.to(dtypes.to_dtype(np_dtype))
    return x.astype(np_dtype, copy=False)


def complex_error(op: str, x: Any) -> NotImplementedError:
    """torch's refusal of complex input for an op that needs ordered numbers (comparisons,
    max/min, sort, clamp, rounding)."""
    name = "ComplexDouble" if getattr(x, "dtype", None) == "complex128" else "ComplexFloat"
    return NotImplementedError(f"{op}: not implemented for '{name}': complex numbers have no "
                               "order (use .abs() or .real to compare them)")


def is_scalar(x: Any) -> bool:
    return isinstance(x, (bool, int, float)) or (
        not backend.is_array(x) and hasattr(x, "dtype") and getattr(x, "ndim", 1) == 0
        and not isinstance(x, Tensor)
    )


_TORCH_NAMED: dict = {}
_complex_variants = _complex_grad._variants  # variant class -> op class (complex gradients)


def torch_named(out: Tensor, name: str) -> Tensor:
    """Show `out.grad_fn` under torch's name for the whole op (`<{name}Backward0>`): a loss that
    Ember builds from several ops ends in, say, a Div node where torch prints NllLossBackward0.
    The node's class becomes a subclass of its own class, named `name`, that changes nothing
    else."""
    node = out.grad_fn
    if node is None:
        return out
    cls = type(node)
    if cls in _complex_variants:  # a complex graph's node already has a class of its own
        return out
    named = _TORCH_NAMED.get((cls, name))
    if named is None:
        shown = name if "Backward" in name else f"{name}Backward0"
        named = _TORCH_NAMED[(cls, name)] = type(name, (cls,), {
            "__module__": cls.__module__, "name": lambda self: shown})
    if cls is not named:
        node.__class__ = named
    return out


def numpy_spelling(dim: Any, keepdim: Any, axis: Any, keepdims: Any) -> tuple:
    """torch accepts numpy's names for reductions: axis= for dim=, keepdims= for keepdim=."""
    return (dim if axis is None else axis), (keepdim if keepdims is None else keepdims)


# dim-taking functions and methods whose signatures spell only `dim`/`keepdim`: torch's argument
# parser takes numpy's `axis=`/`keepdims=` for them all (torch.cumprod(x, axis=0))
NUMPY_SPELLED = (
    "cumprod", "logcumsumexp", "cummax", "cummin", "mode", "kthvalue", "count_nonzero",
    "nanmean", "diff", "narrow", "select", "quantile", "nanquantile", "aminmax", "nanmedian",
    "repeat_interleave", "tensor_split", "scatter", "scatter_add", "scatter_reduce", "index_add",
    "index_copy", "index_fill", "take_along_dim", "renorm", "std_mean", "var_mean", "trapezoid",
    "cumulative_trapezoid", "cumsum", "squeeze", "unsqueeze", "topk", "sort", "argsort",
    "median", "gather", "index_select", "nansum", "unbind", "chunk", "cumsum_", "cumprod_",
    "scatter_", "scatter_add_", "scatter_reduce_", "index_add_", "index_copy_", "index_fill_",
    "squeeze_", "unsqueeze_", "renorm_",
)


def accepts_numpy_spelling(fn: Any) -> Any:
    """Wrap `fn` so that axis= reaches it as dim= and keepdims= as keepdim=, as torch's parser."""
    if getattr(fn, "__numpy_spelled__", False):
        return fn

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        for numpy_name, torch_name in (("axis", "dim"), ("keepdims", "keepdim")):
            if numpy_name in kwargs:
                if torch_name in kwargs:
                    raise TypeError(f"{fn.__name__}() got an unexpected keyword argument "
                                    f"'{numpy_name}'")
                kwargs[torch_name] = kwargs.pop(numpy_name)
        return fn(*args, **kwargs)

    wrapper.__numpy_spelled__ = True
    return wrapper


def spell_numpy_names(namespace: Any) -> None:
    """Wrap the NUMPY_SPELLED entries of a class or module dict whose signatures lack `axis`."""
    import inspect  # noqa: PLC0415

    is_dict = isinstance(namespace, dict)
    for name in NUMPY_SPELLED:
        fn = namespace.get(name) if is_dict else namespace.__dict__.get(name)
        if fn is None or "axis" in inspect.signature(fn).parameters:
            continue
        if is_dict:
            namespace[name] = accepts_numpy_spelling(fn)
        else:
            setattr(namespace, name, accepts_numpy_spelling(fn))
