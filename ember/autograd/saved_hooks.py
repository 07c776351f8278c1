"""Saved-tensor hooks: what the graph keeps for backward goes through user pack/unpack functions.

Under `saved_tensors_hooks(pack, unpack)` every tensor a recorded op keeps for its backward is
handed to `pack` as the op is recorded; the node keeps only what pack returned, and `unpack`
gives a tensor back each time a backward needs it (torch.autograd.graph.saved_tensors_hooks).

What a built-in op keeps are backend arrays: the values of `save_for_backward`, and arrays it
holds as attributes (a dropout mask, batch-norm statistics). Each is shown to pack as a Tensor:
the op's input or output tensor itself when the array is one, a new tensor otherwise. The node
then holds placeholders, and its `run_backward` becomes a `PackedNode` that unpacks, runs the
op's own backward, and drops the unpacked arrays again. So nodes recorded without hooks are
untouched: recording checks one flag (`node.saved_hooks.active`) and backward checks nothing.

As in torch, values that no wanted gradient uses (`Op.saved_for`) are not packed, unpacked
tensors are not version-checked (the hooks own the values), and pack runs with grad mode off.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable
from typing import Any

from .. import backend
from . import node as _node
from .grad_mode import state as grad_state
from .node import FREED, Node
from .node import saved_hooks as _flag

_FREED_MESSAGE = (
    "Trying to backward through the graph a second time (or directly access saved tensors "
    "after they have already been freed). Saved intermediate values of the graph are freed "
    "when you call .backward() or autograd.grad(). Specify retain_graph=True if you need to "
    "backward through the graph a second time or if you need to access saved tensors after "
    "calling backward."
)


class _HookState(threading.local):
    """The hooks of this thread (innermost last), and the error message while disabled."""

    def __init__(self) -> None:
        self.stack: list[tuple[Callable, Callable]] = []
        self.disabled: str | None = None


state = _HookState()
_lock = threading.Lock()
_open = [0]  # hook pairs pushed in all threads; the recording flag is on while it is > 0


def push(pack_hook: Callable, unpack_hook: Callable) -> None:
    """Make (pack_hook, unpack_hook) the innermost hooks of this thread."""
    if state.disabled is not None:
        raise RuntimeError(state.disabled)
    state.stack.append((pack_hook, unpack_hook))
    with _lock:
        _open[0] += 1
        _flag.active = True


def pop() -> None:
    state.stack.pop()
    with _lock:
        _open[0] -= 1
        _flag.active = _open[0] > 0


class _Placeholder:
    """Stands in a node for a value that was packed (reading it is a bug: say so)."""

    def __repr__(self) -> str:
        return "<value held by saved_tensors_hooks>"


PLACEHOLDER = _Placeholder()


class _Entry:
    """One packed value: what pack returned, the unpack to call, and what the node expects."""

    __slots__ = ("packed", "unpack", "shape", "dtype", "device", "source")

    def __init__(self, packed: Any, unpack: Callable, array: Any, source: Any) -> None:
        self.packed, self.unpack, self.source = packed, unpack, source
        self.shape, self.dtype, self.device = array.shape, array.dtype, backend.device_of(array)


def _pack(tensor: Any, array: Any, source: Any) -> _Entry:
    pack_hook, unpack_hook = state.stack[-1]
    version = tensor._version
    prev = grad_state.enabled
    grad_state.enabled = False  # torch packs with grad mode off
    try:
        packed = pack_hook(tensor)
    finally:
        grad_state.enabled = prev
    if tensor._version != version:
        raise RuntimeError(
            "A saved tensor pack hook is modifying its input in place. Tensors provided as "
            "input to pack hook cannot be modified by in-place operations as this can lead to "
            "unexpected side-effects. Please open an issue if you need to perform in-place "
            "operations on the input to a pack hook.")
    return _Entry(packed, unpack_hook, array, source)


def _source_of(t: Any, node: Any) -> Any:
    """Where gradient for a saved tensor goes, kept without holding the tensor itself."""
    fn = t.grad_fn
    if fn is node:
        return ("self", t._output_nr)
    if fn is not None:
        return ("fn", fn, t._output_nr)
    return ("leaf", t) if t._requires_grad else None


def _unpack(entry: _Entry, index: int, owner: Node) -> tuple:
    """(the Tensor unpack returned, its array in the dtype and device the node saved)."""
    t = entry.unpack(entry.packed)
    if not isinstance(t, _node.Tensor):
        raise TypeError("Output of saved tensor unpack_hook expected to be a Tensor but got "
                        f"result of type {type(t).__name__}")
    data = t._data
    if tuple(data.shape) != tuple(entry.shape):
        got = ", ".join(map(str, data.shape))
        want = ", ".join(map(str, entry.shape))
        raise RuntimeError(
            f"{owner.name()}: the unpack_hook of saved_tensors_hooks returned a tensor of shape "
            f"[{got}] for saved tensor {index}, which was packed with shape [{want}]; "
            "unpack_hook(pack_hook(t)) must give back a tensor with t's size and values")
    if data.dtype != entry.dtype:
        data = data.astype(entry.dtype)
    if backend.device_of(data) != entry.device:
        data = backend.to_device(data, entry.device)
    return t, data


def connected(t: Any, data: Any, source: Any, owner: Node) -> Any:
    """An unpacked value as a Tensor in the graph, so create_graph backward reaches its
    history (torch rebuilds a saved variable the same way)."""
    if source is None:
        return t if t._data is data else _node.Tensor._make(data)
    kind = source[0]
    if kind == "leaf":
        leaf = source[1]
        if t is leaf:
            return leaf
        return _node.Tensor._make(data, True, LeafAlias(leaf))
    fn, nr = (owner, source[1]) if kind == "self" else (source[1], source[2])
    out = _node.Tensor._make(data, True, fn)
    out._output_nr = nr
    return out


class LeafAlias(Node):
    """Sends the gradient of an unpacked copy of a leaf to the leaf itself."""

    def __init__(self, leaf: Any) -> None:
        self.next_edges = ((leaf, 0),)

    def name(self) -> str:
        return "AliasBackward0"

    def run_backward(self, grads: tuple) -> tuple:
        return grads


# -- built-in ops ----------------------------------------------------------------------------


class PackedNode:
    """Replaces a packed node's `run_backward` and `release` (instance attributes, so nodes
    without hooks pay nothing): unpack, run the op's backward, forget the unpacked arrays.

    `slots` say where each packed array goes back: `("saved", i, pos, k)` or
    `("attr", name, pos, k)`, with `pos` its place in a tuple/list value (None: the value
    itself) and `k` its entry number."""

    __slots__ = ("node", "entries", "slots", "attrs", "__weakref__")

    def __init__(self, node: Node, entries: list, slots: list) -> None:
        self.node = weakref.ref(node)  # the node holds this object: no cycle
        self.entries: list | None = entries
        self.slots = slots
        self.attrs = sorted({key for where, key, _, _ in slots if where == "attr"})

    def __call__(self, grads: tuple) -> tuple:
        node = self.node()
        entries = self.entries
        if entries is None:
            raise RuntimeError(_FREED_MESSAGE)
        create_graph = grad_state.create_graph
        unpacked = [_unpack(e, k, node) for k, e in enumerate(entries)]
        held_saved = node.saved
        held_attrs = {name: getattr(node, name) for name in self.attrs}
        values = {"saved": list(held_saved), "attr": dict(held_attrs)}
        refs: list = [None] * len(held_saved)
        for where, key, pos, k in self.slots:
            t, data = unpacked[k]
            place = values[where]
            if pos is not None:
                items = list(place[key])
                items[pos] = data
                place[key] = type(place[key])(items)
                continue
            place[key] = data
            if create_graph and where == "saved":
                source = entries[k].source
                if source is not None and source[0] == "self":
                    refs[key] = ([0], 0)  # Op._unpack rebuilds the op's own output
                else:
                    tensor = connected(t, data, source, node)
                    refs[key] = (tensor, tensor._version)
        node.saved = tuple(values["saved"])
        node._saved_refs = tuple(refs) if create_graph else ()
        for name, value in values["attr"].items():
            setattr(node, name, value)
        try:
            return type(node).run_backward(node, grads)
        finally:
            if node.saved is not FREED:
                node.saved = held_saved
            node._saved_refs = ()
            for name, value in held_attrs.items():
                setattr(node, name, value)

    def release(self) -> None:
        node = self.node()
        type(node).release(node)
        self.entries = None
        if node.saved:
            node.saved = FREED


def pack_op(node: Any, result: Any, args: tuple, arrays: Any) -> None:
    """Hand what an op node keeps for backward to this thread's pack hook: the arrays of
    `node.saved` and of its attributes, directly or inside a tuple or list."""
    if not state.stack:  # hooks are open only in another thread
        return
    inputs = [(arr, a) for a, arr in zip(args, arrays, strict=False)
              if isinstance(a, _node.Tensor) and backend.is_array(arr)]
    out = result._data
    entries: list = []
    seen: dict = {}  # id(array) -> entry number, so an attribute repeating one is not packed

    def pack_array(value: Any, where: str) -> int:
        k = seen.get(id(value))
        if k is not None and where == "attr":
            return k
        if value is out:
            t, source = result, ("self", 0)
        else:
            t, source = next(((a, _source_of(a, node)) for arr, a in inputs if arr is value),
                             (_node.Tensor._make(value), None))
        seen[id(value)] = k = len(entries)
        entries.append(_pack(t, value, source))
        return k

    def pack_value(where: str, key: Any, value: Any) -> Any:
        """`value` with its arrays packed, as the node holds it meanwhile."""
        if backend.is_array(value):
            slots.append((where, key, None, pack_array(value, where)))
            return PLACEHOLDER
        if type(value) not in (tuple, list) or not any(backend.is_array(v) for v in value):
            return value
        items = list(value)
        for pos, v in enumerate(items):
            if backend.is_array(v):
                slots.append((where, key, pos, pack_array(v, where)))
                items[pos] = PLACEHOLDER
        return type(value)(items)

    slots: list = []
    saved = node.saved
    if saved:
        uses = node._uses_saved if node.saved_for is not None else None
        # a value no wanted gradient needs is not packed (torch does not even save it)
        node.saved = tuple(value if uses is not None and not uses(i)
                           else pack_value("saved", i, value) for i, value in enumerate(saved))
        node._saved_refs = ()
    for name, value in list(vars(node).items()):
        if name != "saved":
            held = pack_value("attr", name, value)
            if held is not value:
                setattr(node, name, held)
    if entries:
        packed = PackedNode(node, entries, slots)
        node.run_backward = packed
        node.release = packed.release


# -- custom autograd.Function ----------------------------------------------------------------


class PackedFunction:
    """What a custom Function's ctx keeps under saved_tensors_hooks; every access to
    `ctx.saved_tensors` unpacks again, as in torch."""

    __slots__ = ("entries", "saved")

    def __init__(self, entries: list, saved: tuple) -> None:
        self.entries, self.saved = entries, saved  # saved: None or an entry number per slot

    def unpack_all(self, ctx: Node) -> tuple:
        out = []
        for k in self.saved:
            if k is None:
                out.append(None)
                continue
            entry = self.entries[k]
            t, data = _unpack(entry, k, ctx)
            out.append(connected(t, data, entry.source, ctx))
        return tuple(out)


def pack_function(ctx: Any) -> None:
    """Hand a custom Function's `ctx.save_for_backward` tensors to the pack hook."""
    if not state.stack:
        return
    entries: list = []
    slots: list = []
    for t in ctx.saved:
        if t is None:
            slots.append(None)
            continue
        slots.append(len(entries))
        entries.append(_pack(t, t._data, _source_of(t, ctx)))
    ctx._packed = PackedFunction(entries, tuple(slots))
    ctx.saved = (PLACEHOLDER,) * len(slots)
    ctx._saved_info = ()


_flag.pack = pack_op  # type: ignore[method-assign]
_flag.pack_function = pack_function  # type: ignore[method-assign]
