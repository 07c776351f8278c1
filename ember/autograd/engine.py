"""The backward pass: the chain rule applied to the recorded graph in topological order.

1. Walk the graph from the outputs and count, for every node, how many consumers will send it
   a gradient (its dependencies). The walk is iterative, so deep graphs need no recursion.
2. Start from the outputs with their gradients; a node runs once all of its consumers have
   sent theirs (summed in a buffer), then passes a gradient to each of its inputs.
3. Gradients that reach leaf tensors accumulate into `.grad` (or are returned, for
   `autograd.grad`).
"""

from __future__ import annotations

import itertools
import sys
import warnings
from typing import Any, Iterable, Sequence

from .. import backend
from ..doctor.flags import flags as _doctor
from . import node as node_module
from .grad_mode import state as grad_state
from .gradient_edge import GradientEdge, engine_key
from .node import (
    AccumulateGrad,
    Node,
    accumulators,
    anomaly_state,
    op_watch,
    post_accumulate_hooks,
    tensor_hooks,
)
from .saved_hooks import LeafAlias
from .slice_grad import SliceGrad, materialized

Tensor: Any = None  # set by ember.tensor


def _as_tuple(x: Any) -> tuple:
    if x is None:
        return ()
    if isinstance(x, (Tensor, GradientEdge)):
        return (x,)
    return tuple(x)


def _root_grads(outputs: tuple, grad_outputs: Sequence[Any] | None, create_graph: bool) -> list:
    if grad_outputs is None:
        grad_outputs = (None,) * len(outputs)
    grad_outputs = _as_tuple(grad_outputs) if not isinstance(grad_outputs, list) else grad_outputs
    if len(grad_outputs) != len(outputs):
        raise RuntimeError(
            f"backward: got {len(grad_outputs)} gradients for {len(outputs)} outputs; "
            "pass one gradient per output"
        )
    roots = []
    for i, (out, g) in enumerate(zip(outputs, grad_outputs)):
        if isinstance(out, GradientEdge):
            roots.append(_edge_root(out, g, create_graph))
            continue
        if not isinstance(out, Tensor):
            raise TypeError(f"backward: output {i} is a {type(out).__name__}, not a Tensor")
        if not out.requires_grad:
            raise RuntimeError(
                f"element {i} of tensors does not require grad and does not have a grad_fn. "
                "It was computed from tensors that do not require grad (or inside no_grad()); "
                "call .requires_grad_() on the parameters, or check for a .detach()."
            )
        if g is None:
            if out._data.size != 1:
                raise RuntimeError(
                    "grad can be implicitly created only for scalar outputs: backward() was "
                    f"called on a tensor of shape {tuple(out.shape)}. Reduce it first "
                    "(e.g. loss.mean()) or pass gradient= with the same shape."
                )
            if out._data.dtype.kind == "c":
                raise RuntimeError("grad can be implicitly created only for real scalar "
                                   f"outputs but got {out.dtype!r}")
            xp = backend.module_of(out._data)
            g = xp.ones_like(out._data)
        else:
            if not isinstance(g, Tensor):
                g = Tensor._make(backend.as_array(
                    backend.module_of(out._data).asarray(g, dtype=out._data.dtype)))
            if tuple(g.shape) != tuple(out.shape):
                raise RuntimeError(
                    f"Mismatch in shape: grad_output[{i}] has a shape of {g.shape} and "
                    f"output[{i}] has a shape of {out.shape}."
                )
            if create_graph:
                if g.dtype != out.dtype:
                    g = g.to(out.dtype)
            else:
                g = g._data.astype(out._data.dtype, copy=False)
        if create_graph and not isinstance(g, Tensor):
            g = Tensor._make(g)
        roots.append((node_module.edge_to(out), g))
    return roots


def _edge_root(edge: GradientEdge, g: Any, create_graph: bool) -> tuple:
    """A backward that starts from a GradientEdge: its gradient must be given."""
    if g is None:
        raise RuntimeError("grad can be implicitly created only for scalar outputs")
    if not isinstance(g, Tensor):
        g = Tensor._make(backend.as_array(backend.module_of(g).asarray(g)))
    return engine_key(edge), (g if create_graph else g._data)


def backward(
    tensors: Any,
    grad_tensors: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    inputs: Any = None,
) -> None:
    """Accumulate d(tensors)/d(leaf) into every leaf's `.grad` (torch.autograd.backward)."""
    outputs = _as_tuple(tensors)
    if retain_graph is None:
        retain_graph = create_graph
    _doctor.backward_calls += 1
    if _doctor.backward:  # the training doctor's loss trend
        _doctor.on_backward(outputs)
    roots = _root_grads(outputs, grad_tensors, create_graph)
    targets = None if inputs is None else _as_tuple(inputs)
    if targets is not None and not targets:
        raise RuntimeError("backward: 'inputs' argument to backward() cannot be empty.")
    _execute(roots, retain_graph, create_graph, targets, accumulate=True)


def grad(
    outputs: Any,
    inputs: Any,
    grad_outputs: Any = None,
    retain_graph: bool | None = None,
    create_graph: bool = False,
    only_inputs: bool = True,
    allow_unused: bool | None = None,
    is_grads_batched: bool = False,
    materialize_grads: bool = False,
) -> tuple:
    """Return d(outputs)/d(inputs) without touching `.grad` (torch.autograd.grad).

    With `create_graph=True` the returned gradients are part of a new graph, so they can be
    differentiated again (gradient penalties, Hessian-vector products). `inputs` may hold
    `GradientEdge`s, and may be a dict of tensors (the result is then a dict with its keys).
    `only_inputs` is torch's deprecated argument, accepted (WGAN-GP code passes it) and ignored.
    """
    if not only_inputs:
        warnings.warn("only_inputs argument is deprecated and is ignored now (defaults to True). "
                      "To accumulate gradient for other parts of the graph, please use "
                      "torch.autograd.backward.", FutureWarning, stacklevel=2)
    if is_grads_batched:
        return _batched_grad(outputs, inputs, grad_outputs, retain_graph, create_graph,
                             allow_unused, materialize_grads)
    if isinstance(inputs, dict):
        names = list(inputs)
        result = grad(outputs, list(inputs.values()), grad_outputs, retain_graph, create_graph,
                      True, allow_unused, is_grads_batched, materialize_grads)
        return dict(zip(names, result, strict=True))  # type: ignore[return-value]
    outs = _as_tuple(outputs)
    targets = _as_tuple(inputs)
    if not targets:
        raise RuntimeError("grad requires non-empty inputs.")
    for i, t in enumerate(targets):
        if isinstance(t, GradientEdge):
            continue
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: inputs[{i}] is a {type(t).__name__}, not a Tensor")
        if not t.requires_grad:
            raise RuntimeError(f"One of the differentiated Tensors (inputs[{i}]) does not "
                               "require grad")
    if retain_graph is None:
        retain_graph = create_graph
    if materialize_grads and allow_unused is False:
        raise ValueError("Expected allow_unused to be True or not passed when "
                         "materialize_grads=True, but got: allow_unused=False.")
    if allow_unused is None:
        allow_unused = materialize_grads
    roots = _root_grads(outs, grad_outputs, create_graph)
    captured = _execute(roots, retain_graph, create_graph, targets, accumulate=False)
    result = []
    for i, (t, g) in enumerate(zip(targets, captured)):
        if g is None:
            if materialize_grads and isinstance(t, GradientEdge):
                raise RuntimeError("materialize_grads cannot be used when the given input is a "
                                   "GradientEdge")
            if materialize_grads:
                result.append(t.detach().new_zeros(t.shape))
                continue
            if not allow_unused:
                raise RuntimeError(
                    f"One of the differentiated Tensors (inputs[{i}]) appears to not have been "
                    "used in the graph. Set allow_unused=True if this is the desired behavior."
                )
            result.append(None)
        else:
            data = getattr(t, "_data", None)  # None for a GradientEdge
            if (data.__class__ is g.__class__ and g.strides != data.strides
                    and g.shape == data.shape):
                g = _in_layout_of(g, data)  # a conv's input gradient, a transposed product's
            elif (g.__class__ is Tensor and g._data.__class__ is data.__class__
                    and g._data.strides != data.strides and g.shape == data.shape):
                g = _recorded_in_layout_of(g, t)  # create_graph: the same contract
            result.append(_wrap(g))
    return tuple(result)


def _batched_grad(outputs: Any, inputs: Any, grad_outputs: Any, retain_graph: bool | None,
                  create_graph: bool, allow_unused: bool | None, materialize_grads: bool) -> Any:
    """grad(..., is_grads_batched=True): the first dim of each grad_output is a batch of
    cotangents; torch vmaps the backward, Ember runs one backward per batch entry and stacks."""
    from ..ops.join import stack  # noqa: PLC0415

    outs = _as_tuple(outputs)
    gos = _as_tuple(grad_outputs) if not isinstance(grad_outputs, list) else grad_outputs
    if grad_outputs is None or len(gos) != len(outs) or any(g is None for g in gos):
        raise RuntimeError("grad: is_grads_batched=True needs one batched grad_output per "
                           "output (the first dim of each is the batch)")
    sizes = set()
    for i, (out, g) in enumerate(zip(outs, gos, strict=True)):
        if not isinstance(g, Tensor) or g.ndim == 0 or tuple(g.shape[1:]) != tuple(out.shape):
            raise RuntimeError(
                "If `is_grads_batched=True`, we interpret the first dimension of each "
                "grad_output as the batch dimension. The sizes of the remaining dimensions are "
                "expected to match the shape of corresponding output, but a mismatch was "
                f"detected: grad_output[{i}] has a shape of {getattr(g, 'shape', None)} and "
                f"output[{i}] has a shape of {out.shape}.")
        sizes.add(g.shape[0])
    if len(sizes) != 1:
        raise RuntimeError(f"grad: is_grads_batched=True: the grad_outputs have different "
                           f"batch sizes {sorted(sizes)}")
    rows = [grad(outputs, inputs, [g[b] for g in gos], True if b < n - 1 else retain_graph,
                 create_graph, True, allow_unused, False, materialize_grads)
            for n in sizes for b in range(n)]
    if isinstance(inputs, dict):
        return {k: None if rows[0][k] is None else stack([r[k] for r in rows])
                for k in inputs}
    return tuple(None if col[0] is None else stack(list(col)) for col in zip(*rows, strict=True))


# ---------------------------------------------------------------------------------------------


def _discover(root_nodes: Iterable[Node]) -> dict:
    """Count, for each node and leaf below the roots, how many edges point at it."""
    deps: dict = dict.fromkeys(root_nodes, 0)
    stack = list(deps)
    while stack:
        for edge in stack.pop().next_edges:
            if edge is None:
                continue
            target = edge[0]
            if target in deps:
                deps[target] += 1
            else:
                deps[target] = 1
                if isinstance(target, Node):
                    stack.append(target)
    return deps


def _needed(root_nodes: list, wanted: set) -> set:
    """Nodes whose backward must run: those with an edge to a wanted node or leaf, or to a
    needed node. A wanted node itself only has its incoming gradient captured."""
    needed: set = set()
    done: set = set()
    for root in root_nodes:
        if root in done:
            continue
        done.add(root)
        stack = [(root, iter(root.next_edges))]
        while stack:
            fn, edges = stack[-1]
            for edge in edges:
                if edge is None:
                    continue
                target = edge[0]
                if isinstance(target, Node) and target not in done:
                    done.add(target)
                    stack.append((target, iter(target.next_edges)))
                    break
            else:
                stack.pop()
                if any(e is not None and (e[0] in needed or e[0] in wanted)
                       for e in fn.next_edges):
                    needed.add(fn)
    return needed


def _execute(
    roots: list,
    retain_graph: bool,
    create_graph: bool,
    targets: tuple | None,
    accumulate: bool,
) -> list:
    """Run the backward pass; return the gradients of `targets` (if any) in order."""
    buffers: dict = {}
    root_nodes = []
    user_arrays = set()
    for (fn, nr), g in roots:
        _add_to_buffer(buffers, fn, nr, g)
        user_arrays.add(id(g))
        if isinstance(fn, Node) and fn not in root_nodes:
            root_nodes.append(fn)

    capture: dict = {}  # target key -> index in targets
    wanted: set | None = None
    if targets is not None:
        wanted = set()
        for i, t in enumerate(targets):
            key = _target_key(t)
            capture[key] = i
            wanted.add(key[0])
    captured: list = [None] * (len(targets) if targets is not None else 0)

    deps = _discover(root_nodes)
    needed = _needed(root_nodes, wanted) if wanted is not None else None
    ready = [fn for fn in root_nodes if deps[fn] == 0]
    has_hooks = bool(tensor_hooks)

    prev_enabled, prev_create = grad_state.enabled, grad_state.create_graph
    grad_state.enabled = create_graph
    grad_state.create_graph = create_graph
    whole_passes.append(targets is None)
    graph_tasks.append(GraphTask(deps, needed, wanted, capture))
    try:
        while ready:
            fn = ready.pop()
            if fn.num_outputs == 1:
                g = buffers.pop(fn, None)
                if g.__class__ is SliceGrad:  # inline: this runs once per node
                    g = g.materialize()
                grads: tuple = (g,)
                empty = g is None
            else:
                grads = _pop_buffer(buffers, fn)
                empty = all(g is None for g in grads)
            skipped = needed is not None and fn not in needed
            if skipped and fn not in wanted:  # off the way to the inputs: torch runs no hook
                pass
            elif has_hooks and fn in tensor_hooks:
                grads = _run_tensor_hooks(fn, grads, create_graph)
            if fn._pre_hooks and not skipped:
                grads = _run_node_hooks(fn._pre_hooks, grads, create_graph)
            if capture:
                for nr in range(fn.num_outputs):
                    i = capture.get((fn, nr))
                    if i is not None:
                        captured[i] = grads[nr]
            edges = fn.next_edges
            if empty or skipped:
                input_grads: tuple = (None,) * len(edges)
            else:
                if op_watch.active:  # the profiler times each node (autograd/op_watch.py)
                    input_grads = op_watch.run_backward(fn, grads)
                elif (fn.slice_backward is not None and not anomaly_state.enabled
                      and not fn._post_hooks):  # x[key]: a SliceGrad, see slice_grad.py
                    input_grads = fn.slice_backward(grads)
                else:
                    input_grads = fn.run_backward(grads)
                if anomaly_state.enabled:
                    anomaly_state.on_backward(fn, input_grads)
                if fn._post_hooks:
                    input_grads = _run_node_hooks(fn._post_hooks, input_grads, create_graph, grads)
                if not retain_graph:
                    fn.release()
            for edge, g in zip(edges, input_grads):
                if edge is None:
                    continue
                target = edge[0]
                if isinstance(target, Node):
                    if g is not None:
                        if target.num_outputs == 1:
                            old = buffers.get(target)
                            buffers[target] = g if old is None else _sum_into(old, g)
                        else:
                            _add_to_buffer(buffers, target, edge[1], g)
                    left = deps[target] - 1
                    deps[target] = left
                    if left == 0:
                        ready.append(target)
                elif g is not None:  # a leaf tensor
                    old = buffers.get(target)
                    buffers[target] = g if old is None else _sum_into(old, g)
        # Whatever is left in the buffers belongs to leaf tensors.
        handed_out: set = set(user_arrays)
        for leaf, g in buffers.items():
            if isinstance(leaf, Node) or (capture and (leaf, 0) not in capture):
                continue  # with inputs=..., other leaves are left alone, hooks included
            g = materialized(g)
            if leaf._hooks:
                g = _run_leaf_hooks(leaf, g, create_graph)
            i = capture.get((leaf, 0)) if capture else None
            if i is not None:
                captured[i] = g
            elif accumulate and targets is None:
                _accumulate_leaf(leaf, g, create_graph, handed_out)
        if accumulate and targets is not None:  # backward(inputs=...): fill only those
            for t, g in zip(targets, captured):
                if g is None:
                    continue
                if isinstance(t, GradientEdge):  # torch fills .grad only for a leaf's edge
                    if isinstance(t.node, AccumulateGrad):
                        _accumulate_leaf(t.node.variable, g, create_graph, handed_out)
                elif t.grad_fn is None:
                    _accumulate_leaf(t, g, create_graph, handed_out)
                else:
                    t._grad = _wrap(g)
    finally:
        grad_state.enabled, grad_state.create_graph = prev_enabled, prev_create
        whole_passes.pop()
        graph_tasks.pop()
    return captured


def _target_key(t: Any) -> tuple:
    """The engine key of an input of grad/backward: a tensor or a GradientEdge."""
    if isinstance(t, GradientEdge):
        return engine_key(t)
    if t._view is not None:
        node_module.refresh_view(t)
    fn = t.grad_fn
    if fn is None:
        return (t, 0)
    if fn.__class__ is LeafAlias:  # an unpacked saved copy of a leaf stands for the leaf
        return fn.next_edges[0]
    return (fn, t._output_nr)


class GraphTask:
    """What one running backward pass will execute (for `register_multi_grad_hook`)."""

    __slots__ = ("id", "deps", "needed", "wanted", "capture")

    def __init__(self, deps: dict, needed: set | None, wanted: set | None,
                 capture: dict) -> None:
        self.id = next(_task_ids)
        self.deps, self.needed, self.wanted, self.capture = deps, needed, wanted, capture

    def will_execute(self, node: Any) -> bool:
        """Whether this pass runs `node` (its hooks included); a leaf's AccumulateGrad counts
        when the pass delivers the leaf's gradient."""
        if isinstance(node, AccumulateGrad):
            leaf = node.variable
            return leaf in self.deps and (not self.capture or (leaf, 0) in self.capture)
        needed = self.needed
        return node in self.deps and (needed is None or node in needed or node in self.wanted)


_task_ids = itertools.count()
graph_tasks: list[GraphTask] = []  # the running backward passes, innermost last


def current_graph_task_id() -> int:
    """The id of the innermost running backward pass (never reused), -1 outside backward."""
    return graph_tasks[-1].id if graph_tasks else -1


def will_engine_execute_node(node: Any) -> bool:
    """Whether the innermost running backward pass will run `node` (torch's private check)."""
    if not graph_tasks:
        raise RuntimeError("_will_engine_execute_node should only be called during the "
                           "backward pass")
    return graph_tasks[-1].will_execute(node)


def _accumulate_leaf(leaf: Any, g: Any, create_graph: bool, handed_out: set) -> None:
    """The AccumulateGrad step: its node's pre-hooks, `.grad += g`, post-accumulate hooks,
    then its node's hooks (in torch's order)."""
    acc = accumulators.get(id(leaf)) if accumulators else None
    if acc is not None and acc.variable is not leaf:
        acc = None
    if acc is not None and acc._pre_hooks:
        g = _run_node_hooks(acc._pre_hooks, (g,), create_graph)[0]
    _accumulate(leaf, g, create_graph, handed_out)
    if post_accumulate_hooks:
        _run_post_accumulate_hooks(leaf)
    if acc is not None and acc._post_hooks:
        _run_node_hooks(acc._post_hooks, (), create_graph, (g,))


# One entry per running backward pass (innermost last): True for a plain backward(), False for
# autograd.grad or backward(inputs=...), which the reentrant checkpoint cannot serve.
whole_passes: list[bool] = []


def in_whole_backward() -> bool:
    """Whether the innermost running pass is a backward() over the whole graph."""
    return not whole_passes or whole_passes[-1]


def _add_to_buffer(buffers: dict, fn: Any, nr: int, g: Any) -> None:
    if isinstance(fn, Node) and fn.num_outputs != 1:
        slots = buffers.get(fn)
        if slots is None:
            slots = buffers[fn] = [None] * fn.num_outputs
        g = materialized(g)  # slots are popped as they are: no SliceGrad in them
        old = slots[nr]
        slots[nr] = g if old is None else _sum_into(old, g)
        return
    old = buffers.get(fn)
    buffers[fn] = g if old is None else _sum_into(old, g)


_NDARRAY = backend.ndarray
# References to a buffered gradient that nobody else holds: the buffer's own, the caller's
# local `old`, _sum_into's parameter and getrefcount's argument.
_ONLY_OURS = 4


def _sum_into(old: Any, g: Any) -> Any:
    """old + g, written into `old` when the engine holds its only reference.

    A node's gradient often arrives in parts (split/chunk outputs, a tensor used twice): each
    part used to cost a new full-size array. When `old` is a numpy array that no tensor, saved
    value, hook or other buffer references (CPython's reference count says so, the test numpy
    itself uses to reuse temporaries) and g has its shape and dtype, adding in place is
    invisible to everyone else.
    """
    if old.__class__ is SliceGrad:
        if g.__class__ is SliceGrad and old.merge(g):  # pieces of one array: later, at once
            return old
        old = old.materialize()  # a fresh array: only ours
    if g.__class__ is SliceGrad:  # add the slices where they land, not a whole zeros array
        if (old.__class__ is _NDARRAY and old.base is None and old.shape == g.shape
                and old.dtype == g.dtype and sys.getrefcount(old) <= _ONLY_OURS
                and old.flags.writeable):
            return g.add_to(old)
        g = g.materialize()
    if (old.__class__ is _NDARRAY and g.__class__ is _NDARRAY and old.base is None
            and old.shape == g.shape and old.dtype == g.dtype
            and sys.getrefcount(old) <= _ONLY_OURS and old.flags.writeable):
        old += g
        return old
    return old + g


def _pop_buffer(buffers: dict, fn: Node) -> tuple:
    g = buffers.pop(fn, None)
    if fn.num_outputs == 1:
        return (g,)
    return tuple(g) if g is not None else (None,) * fn.num_outputs


def _accumulate(leaf: Any, g: Any, create_graph: bool, handed_out: set) -> None:
    """Add `g` into `leaf.grad`; a fresh `.grad` never aliases another tensor's memory."""
    if isinstance(g, Tensor):  # create_graph: .grad keeps its own graph
        leaf._grad = g if leaf._grad is None else leaf._grad + g
        return
    if g.__class__ is not backend.ndarray:
        accumulate_sparse = getattr(g, "accumulate_into", None)  # a sparse gradient
        if accumulate_sparse is not None:
            accumulate_sparse(leaf)
            return
        g = backend.as_array(g)  # numpy returns scalars for 0-d results
    if g.__class__ is not leaf._data.__class__ and backend.is_array(leaf._data):
        g = backend.to_device(g, leaf.device)  # a 0-d CPU tensor that met GPU tensors
    existing = leaf._grad
    if existing is None:
        data = leaf._data
        if data.__class__ is g.__class__ and g.strides != data.strides and g.shape == data.shape:
            g = _in_layout_of(g, data)
        elif g.base is not None or id(g) in handed_out or not backend.is_writeable(g):
            g = g.copy()
        handed_out.add(id(g))
        leaf._grad = Tensor._make(g)
        return
    watched = _doctor.watched_grads
    if watched and id(existing) in watched:  # the doctor: was this grad already stepped on?
        _doctor.stale_accumulate(existing)
    data = existing._data
    if data.shape == g.shape and backend.is_writeable(data) and existing.grad_fn is None:
        data += g  # in place, as torch does when grad mode is off
        existing._bump_version()
    else:
        leaf._grad = Tensor._make(data + g)


def _in_layout_of(g: Any, data: Any) -> Any:
    """A copy of gradient g with the strides of the tensor it belongs to: torch's layout
    contract for .grad and what its kernels return to autograd.grad (contiguous for a contiguous
    tensor, channels_last for a channels_last one), so g.view(...) works as on torch."""
    fresh = backend.module_of(data).empty_like(data, dtype=g.dtype)
    fresh[...] = g
    return fresh


def _recorded_in_layout_of(g: Tensor, t: Tensor) -> Tensor:
    """_in_layout_of for a gradient recorded under create_graph (a differentiable copy)."""
    from .. import memory_layout  # noqa: PLC0415

    if t.is_contiguous():
        return g.contiguous()
    if t.ndim == 4 and t.is_contiguous(memory_format=memory_layout.channels_last):
        return g.contiguous(memory_format=memory_layout.channels_last)
    return g


def _wrap(g: Any) -> Any:
    if g is None or isinstance(g, Tensor):
        return g
    if getattr(g, "is_sparse_payload", False):  # a sparse gradient (ember/sparse/storage.py)
        return g.as_tensor()
    return Tensor._make(backend.as_array(g))


def _unwrap(g: Any, create_graph: bool) -> Any:
    if g is None or create_graph or not isinstance(g, Tensor):
        return g
    return g._data


def _run_tensor_hooks(fn: Node, grads: tuple, create_graph: bool) -> tuple:
    grads = list(grads)
    for nr, hooks in tensor_hooks[fn].items():
        if grads[nr] is None:
            continue
        for hook in list(hooks):
            new = hook(_wrap(grads[nr]))
            if new is not None:
                grads[nr] = _unwrap(_check_hook_result(hook, grads[nr], new), create_graph)
    return tuple(grads)


def _run_post_accumulate_hooks(leaf: Any) -> None:
    """Tensor.register_post_accumulate_grad_hook: hook(leaf) once .grad holds the new sum."""
    entry = post_accumulate_hooks.get(id(leaf))
    if entry is None or entry[0]() is not leaf:
        return
    for hook in list(entry[1]):
        result = hook(leaf)
        if result is not None and result is not leaf:  # torch lets `p.add_(...)` return p
            raise RuntimeError("Tensor post accumulate grad hooks should return None.")


def _run_leaf_hooks(leaf: Any, g: Any, create_graph: bool) -> Any:
    for hook in list(leaf._hooks):
        new = hook(_wrap(g))
        if new is not None:
            g = _unwrap(_check_hook_result(hook, g, new), create_graph)
    return g


def _check_hook_result(hook: Any, old: Any, new: Any) -> Any:
    """A hook may replace a gradient, but with one of the same shape and dtype (as torch)."""
    name = getattr(hook, "__name__", type(hook).__name__)
    if not isinstance(new, Tensor):
        raise TypeError(f"hook '{name}' returned a {type(new).__name__}; expected a Tensor or "
                        "None")
    if tuple(new.shape) != tuple(old.shape):
        raise RuntimeError(f"hook '{name}' has changed the size of value: the gradient has "
                           f"shape {tuple(old.shape)}, the hook returned {tuple(new.shape)}")
    if new._data.dtype != getattr(old, "_data", old).dtype:
        raise RuntimeError(f"hook '{name}' has changed the type of value (was "
                           f"{_wrap(old).dtype} got {new.dtype})")
    return new


def _run_node_hooks(hooks: list, grads: tuple, create_graph: bool, *extra: tuple) -> tuple:
    """Node pre-hooks (`hook(grad_outputs)`) or post-hooks (`hook(grad_inputs, grad_outputs)`,
    with `extra` the grad_outputs); a hook that returns a tuple replaces `grads`."""
    for hook in list(hooks):
        new = hook(tuple(_wrap(g) for g in grads), *(tuple(_wrap(g) for g in e) for e in extra))
        if new is not None:
            if len(new) != len(grads):
                raise RuntimeError(f"hook '{getattr(hook, '__name__', hook)}' has returned an "
                                   f"incorrect number of values (got {len(new)}, but expected "
                                   f"{len(grads)})")
            if any(old is None and g is not None for old, g in zip(grads, new, strict=True)):
                raise RuntimeError("can't replace a None gradient with a non-None value")
            grads = tuple(_unwrap(g, create_graph) for g in new)
    return grads
