"""In-place operations (x.add_(y), x[i] = v, x.copy_(y)...) and how they stay correct for autograd.

An in-place op computes its result out of place, then writes it into the tensor's memory and
bumps the tensor's version counter (shared with its views), so any op that saved the old value
for backward raises a clear error instead of silently using the new one.

When autograd is involved, the tensor's graph is rebased: it now comes from the new op. If the
tensor is a view of a base tensor, the base's graph becomes `CopySlices`: gradient for the base
flows to the old base outside the written region and to the new values inside it.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

from .. import backend
from ..autograd.grad_mode import state as grad_state
from ..autograd.node import Op, edge_to, op_watch, refresh_view
from ..tensor import Tensor
from ._util import torch_named


class CopySlices(Op):
    """base_new = base_old with the region covered by a view replaced by `values`."""

    def name(self) -> str:
        return "torch::autograd::CopySlices"

    def __repr__(self) -> str:
        return f"<CopySlices object at {id(self):#x}>"

    def forward(self, base: Any, values: Any, region: Any) -> Any:
        self.region = region  # flat indices into base, in the view's shape
        self.base_shape = base.shape
        return base

    def backward(self, grad: Any) -> tuple:
        need_base, need_values, _ = self.next_edges
        flat = grad.reshape(-1) if not isinstance(grad, Tensor) else grad.reshape(-1)
        g_values = flat[self.region] if need_values else None
        g_base = None
        if need_base:
            from .indexing import scatter_into_zeros_keep  # noqa: PLC0415

            g_base = scatter_into_zeros_keep(flat, (self.region.reshape(-1),))
            g_base = g_base.reshape(self.base_shape)
        return g_base, g_values, None


class Overwritten(Op):
    """t after an in-place write of values that do not depend on t's old ones (zero_, fill_,
    copy_): t stays in the graph, as in torch, with a zero gradient for its old history and
    the gradient itself for the new values' own history (a `src` that requires grad)."""

    def backward(self, grad: Any) -> tuple:
        need_old, need_new = self.next_edges
        zeros = backend.module_of(grad).zeros_like(grad) if need_old else None
        return zeros, grad if need_new else None


def _overwritten(t: Tensor, result: Tensor, name: str) -> None:
    """Make t's grad_fn an Overwritten node shown as torch's (ZeroBackward0, FillBackward2...)."""
    node = object.__new__(Overwritten)
    node.next_edges = (edge_to(t), edge_to(result))
    t.grad_fn, t._output_nr, t._requires_grad = node, 0, True
    torch_named(t, name)


def _check_leaf(t: Tensor) -> None:
    if t.grad_fn is None and t._requires_grad:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation. Wrap "
            "parameter updates in `with ember.no_grad():`, or use the out-of-place op."
        )
    view = t._view
    if view is not None and view[0].grad_fn is None and view[0]._requires_grad:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place "
            "operation. Wrap it in `with ember.no_grad():`, or clone() the tensor first."
        )


def _check_writable(t: Tensor, result: Tensor) -> None:
    if result._data.shape != t._data.shape:
        raise RuntimeError(
            f"output with shape [{', '.join(map(str, t._data.shape))}] doesn't match the "
            f"broadcast shape [{', '.join(map(str, result._data.shape))}]"
        )
    rk, tk = result._data.dtype.kind, t._data.dtype.kind
    order = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}  # V: bfloat16
    if order[rk] > order[tk]:
        raise RuntimeError(
            f"result type {result.dtype.name.capitalize()} can't be cast to the desired output "
            f"type {t.dtype.name.capitalize()}"
        )
    if not backend.is_writeable(t._data):
        raise RuntimeError(
            "unsupported operation: more than one element of the written-to tensor refers to a "
            "single memory location. Please clone() the tensor before performing the operation."
        )


def apply_inplace(t: Tensor, compute: Callable[[Tensor], Tensor], saves_input: bool = True,
                  others: tuple = (), overwrites: str | None = None) -> Tensor:
    """Write `compute(t)` into `t` and keep autograd's view of `t` correct. Returns `t`.
    `overwrites`: the new values do not depend on t's old ones; torch's node name for that."""
    if op_watch.active:  # forward-mode AD moves tangents along (autograd/op_watch.py)
        return op_watch.run_inplace(t, compute, _write_inplace, saves_input, others)
    return _write_inplace(t, compute, saves_input, others, overwrites)


def _write_inplace(t: Tensor, compute: Callable[[Tensor], Tensor], saves_input: bool,
                   others: tuple, overwrites: str | None = None) -> Tensor:
    if t._view is not None:
        refresh_view(t)
    tracking = grad_state.enabled and (
        t._requires_grad or any(isinstance(o, Tensor) and o._requires_grad for o in others)
    )
    if grad_state.enabled:
        _check_leaf(t)
    if not tracking:
        result = compute(t)
        _check_writable(t, result)
        t._data[...] = result._data
        t._bump_version()
        return t
    # Compute from a snapshot that carries t's graph position, so that what the new op saves
    # for backward is the old value, not the memory we are about to overwrite.
    source = t
    if saves_input:
        source = Tensor._make(t._data.copy(), t._requires_grad, t.grad_fn)
        source._output_nr = t._output_nr
    result = compute(source)
    _check_writable(t, result)
    view = t._view
    base_edge = edge_to(view[0]) if view is not None else None
    t._data[...] = result._data
    t._bump_version()
    if view is None:
        if overwrites is not None:
            _overwritten(t, result, overwrites)
            return t
        t.grad_fn, t._output_nr = result.grad_fn, result._output_nr
        t._requires_grad = result._requires_grad
        return t
    _rebase_view(t, view, result, base_edge)
    return t


def _rebase_view(t: Tensor, view: tuple, result: Tensor, base_edge: Any) -> None:
    """After writing through view t, make its base's graph a CopySlices and t a view of that."""
    base, steps, _ = view
    xp = backend.module_of(base._data)
    region = xp.arange(base._data.size).reshape(base._data.shape)
    for cls, args in steps:
        region = cls.replay(region, *args)
    region = xp.asarray(region)
    node = object.__new__(CopySlices)
    node.region = region
    node.base_shape = base._data.shape
    node.next_edges = (base_edge, (result.grad_fn, result._output_nr) if result._requires_grad
                       else None, None)
    base.grad_fn = node
    base._output_nr = 0
    base._requires_grad = True
    rebuilt = base
    for cls, args in steps:
        rebuilt = cls.apply(rebuilt, *args)
    t.grad_fn, t._output_nr = rebuilt.grad_fn, rebuilt._output_nr
    t._requires_grad = True
    t._view = (base, steps, node)  # t's history now derives from the base's new one


def setitem(t: Tensor, key: Any, value: Any) -> None:
    """t[key] = value."""
    from .indexing import _index_put_key, convert_key, write_at  # noqa: PLC0415

    np_key, _ = convert_key(key, t._data)
    if t._view is not None:
        refresh_view(t)
    value_requires_grad = isinstance(value, Tensor) and value._requires_grad
    if (not grad_state.enabled or not (t._requires_grad or value_requires_grad)) and \
            not op_watch.active:  # watched (forward-mode AD): through apply_inplace below
        if grad_state.enabled:
            _check_leaf(t)
        data = value._data if isinstance(value, Tensor) else value
        if backend.is_array(data) and backend.module_of(data) is not backend.module_of(t._data):
            data = backend.to_device(data, t.device)
        if not backend.is_writeable(t._data):
            _check_writable(t, t)
        write_at(t._data, np_key, data, False)
        t._bump_version()
        return
    apply_inplace(t, lambda src: _index_put_key(src, np_key, value, False), saves_input=False,
                  others=(value,))


def copy_(t: Tensor, src: Any, non_blocking: bool = False) -> Tensor:
    """Copy src's values into t (broadcasting src, converting its dtype and device)."""
    from .shape import clone, expand  # noqa: PLC0415
    from ._util import to_tensor  # noqa: PLC0415

    src = to_tensor(src, t)

    def compute(_: Tensor) -> Tensor:
        moved = src.to(t.device, t.dtype)
        try:
            return clone(expand(moved, t._data.shape))
        except RuntimeError:
            raise RuntimeError(
                f"copy_: the src tensor of shape [{', '.join(map(str, src.shape))}] cannot be "
                f"broadcast to the destination shape [{', '.join(map(str, t.shape))}]"
            ) from None

    return apply_inplace(t, compute, saves_input=False, others=(src,),
                         overwrites="torch::autograd::CopyBackwards")


def copy_into_out(out: Tensor, result: Tensor) -> Tensor:
    """Implement `out=`: write result into `out` (resized if its shape differs)."""
    if grad_state.enabled and (out._requires_grad or result._requires_grad):
        raise RuntimeError(
            "functions with out=... arguments don't support automatic differentiation, but one "
            "of the arguments requires grad."
        )
    if out._data.shape == result._data.shape:
        out._data[...] = result._data
    else:
        if out._data.size:  # torch's deprecation: only empty outputs should be resized
            warnings.warn(
                f"An output with one or more elements was resized since it had shape "
                f"{list(out._data.shape)}, which does not match the required output shape "
                f"{list(result._data.shape)}. This behavior is deprecated, and in a future "
                "PyTorch release outputs will not be resized unless they have zero elements. You "
                "can explicitly reuse an out tensor t by resizing it, inplace, to zero elements "
                "with t.resize_(0).", stacklevel=3)
        out._data = result._data.astype(out._data.dtype, copy=True)
    out._bump_version()
    return out
