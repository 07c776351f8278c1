"""Graph nodes: every differentiable op is an `Op` subclass with forward and backward side by side.

    class Mul(Op):
        def forward(self, a, b):          # a, b: backend arrays
            self.save_for_backward(a, b)
            return a * b

        def backward(self, grad):         # d(a*b)/da = b, d(a*b)/db = a
            a, b = self.saved_tensors
            return grad * b, grad * a

`forward` runs on raw arrays (numpy/cupy), so an op costs one array operation plus a little
bookkeeping. `backward` is written once and runs in two ways:

* normally on raw arrays (fast, nothing recorded);
* under `create_graph=True` on Tensors, so the backward pass is itself recorded and can be
  differentiated again (higher-order gradients). `saved_tensors` then returns the Tensors the
  arrays came from, and `array_namespace(grad)` returns `ember.autograd.tensor_math`, a numpy-like
  namespace of differentiable ops, instead of numpy.

Backward formulas therefore use operators, `xp = array_namespace(grad)` functions with numpy's
names, and indexing; never array methods.
"""

from __future__ import annotations

import weakref
from typing import Any

from .. import backend
from ..doctor.flags import flags as _doctor
from . import complex_grad, inference_tensors, low_precision
from .grad_mode import state as grad_state

ndarray = backend.ndarray
_new = object.__new__
_BF16 = backend.BFLOAT16  # ml_dtypes' bfloat16, or None (then no array's dtype is it)
Tensor: Any = None  # set by ember.tensor once the class exists (the two modules need each other)
tensor_math: Any = None  # set by ember.autograd.tensor_math


class _Freed(tuple):
    """Marks saved values released after a backward pass without retain_graph."""


FREED = _Freed()

# Registries kept outside the node objects so that plain nodes stay small.
tensor_hooks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> {nr: [hooks]}
# id(leaf) -> (weakref to leaf, [hooks]); keyed by id because Tensor's == is elementwise
post_accumulate_hooks: dict = {}


class Node:
    """A recorded operation in the graph.

    `next_edges[i]` says where the gradient for forward argument i goes: `None` (no gradient
    wanted), `(node, output_nr)` for a tensor made by another op, or `(tensor, 0)` for a leaf
    tensor whose `.grad` accumulates it.
    """

    next_edges: tuple = ()
    num_outputs = 1
    slice_backward = None  # GetItem's: its gradient as an engine-only SliceGrad
    saved: tuple = ()
    _post_hooks: list | None = None
    _pre_hooks: list | None = None
    _metadata: dict | None = None

    def name(self) -> str:
        return f"{type(self).__name__}Backward0"

    @property
    def next_functions(self) -> tuple:
        """torch's view of the edges: a leaf shows as its `AccumulateGrad` node."""
        return tuple((None, 0) if e is None else (e if isinstance(e[0], Node)
                                                  else (accumulate_grad_of(e[0]), 0))
                     for e in self.next_edges)

    @property
    def metadata(self) -> dict:
        """A dict the user may fill: it lives as long as the node (torch's Node.metadata)."""
        if self._metadata is None:
            self._metadata = {}
        return self._metadata

    def __repr__(self) -> str:
        return f"<{self.name()} object at {id(self):#x}>"

    def register_hook(self, hook: Any) -> Any:
        """Call `hook(grad_inputs, grad_outputs)` after this node's backward (torch's Node hook);
        it may return new grad_inputs."""
        if self._post_hooks is None:
            self._post_hooks = []
        hooks = self._post_hooks
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def register_prehook(self, hook: Any) -> Any:
        """Call `hook(grad_outputs)` before this node's backward; it may return new grad_outputs."""
        if self._pre_hooks is None:
            self._pre_hooks = []
        hooks = self._pre_hooks
        hooks.append(hook)
        return _RemovableHandle(hooks, hook)

    def run_backward(self, grads: tuple) -> tuple:
        raise NotImplementedError  # pragma: no cover (every node class defines it)

    def release(self) -> None:
        """Drop saved values after a backward pass that did not ask to retain the graph."""
        if self.saved:
            self.saved = FREED


class AccumulateGrad(Node):
    """Stands for a leaf in `next_functions` and gradient edges: the step that adds the
    gradient into `.grad`. The engine runs its pre-hooks before and its hooks after that."""

    next_functions: tuple = ()

    def __init__(self, variable: Any) -> None:
        self.variable = variable

    def name(self) -> str:
        return "torch::autograd::AccumulateGrad"

    def __repr__(self) -> str:
        return f"<AccumulateGrad object at {id(self):#x}>"


# id(leaf) -> its AccumulateGrad while anyone holds that node (which holds the leaf, so the id
# stays unique): the same object each time it is asked for, as torch's grad accumulator.
accumulators: weakref.WeakValueDictionary = weakref.WeakValueDictionary()


def accumulate_grad_of(leaf: Any) -> AccumulateGrad:
    """The one AccumulateGrad node of a leaf tensor."""
    acc = accumulators.get(id(leaf))
    if acc is None or acc.variable is not leaf:
        acc = accumulators[id(leaf)] = AccumulateGrad(leaf)
    return acc


class _RemovableHandle:
    def __init__(self, container: list, item: Any) -> None:
        self._container, self._item = container, item

    def remove(self) -> None:
        if self._item in self._container:
            self._container.remove(self._item)

    def __enter__(self) -> _RemovableHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.remove()


class Op(Node):
    """Base class of Ember's built-in differentiable operations (single output)."""

    _saved_refs: tuple = ()
    # For each saved value, the inputs whose gradient uses it (None: all of them). A value that
    # no wanted gradient uses may be modified in place without error: torch does not even save
    # `a` of a*b unless b requires grad.
    saved_for: tuple | None = None
    # Complex outputs: a holomorphic op's real backward formula serves complex numbers once its
    # gradients are conjugated (autograd/complex_grad.py); others write torch's formula directly.
    holomorphic = True
    # bfloat16 inputs are computed on in float32 and results rounded (low_precision.py); an op
    # whose result dtype is chosen by its caller (a cast) sets this False.
    bf16_in_float32 = True
    bf16_inputs: tuple | None = None  # which inputs held bfloat16, when computed in float32

    # -- used inside forward ---------------------------------------------------------------
    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays for backward; inputs and the output are tracked for in-place checks."""
        self.saved = values

    # -- used inside backward --------------------------------------------------------------
    @property
    def saved_tensors(self) -> tuple:
        saved = self.saved
        if saved is FREED:
            raise RuntimeError(
                f"{self.name()}: trying to backward through the graph a second time (or to "
                "read saved tensors after they have been freed). Saved intermediate values are "
                "freed after .backward() or autograd.grad(); pass retain_graph=True the first "
                "time if you need to backward twice."
            )
        refs = self._saved_refs
        for i, ref in enumerate(refs):
            if ref is not None:
                source, version = ref
                current = source[0] if source.__class__ is list else source._version
                if current != version and self._uses_saved(i):
                    self._raise_modified(i, saved[i], current, version)
        if not grad_state.create_graph:
            return saved
        return tuple(self._unpack(v, ref) for v, ref in zip(saved, refs or (None,) * len(saved)))

    def _unpack(self, value: Any, ref: Any) -> Any:
        """The Tensor behind a saved array, connected to the graph (for create_graph)."""
        if ref is None:
            return Tensor._make(value) if backend.is_array(value) else value
        source = ref[0]
        if source.__class__ is list:  # our own output: rebuild it, pointing at this node
            out = Tensor._make(value, True, self)
            out._vc = source
            return out
        if source._data.dtype != value.dtype:  # the op computed in a promoted dtype
            return source.to(dtype=value.dtype)
        return source

    def _uses_saved(self, index: int) -> bool:
        """Whether the gradients wanted from this node need saved value `index`."""
        saved_for = self.saved_for
        edges = self.next_edges
        return saved_for is None or any(edges[i] is not None for i in saved_for[index])

    def _raise_modified(self, index: int, value: Any, current: int, version: int) -> None:
        shape = "x".join(str(s) for s in getattr(value, "shape", ())) or "scalar"
        raise RuntimeError(
            "one of the variables needed for gradient computation has been modified by an "
            f"inplace operation: [{value.dtype}, shape ({shape})] (saved tensor {index} of "
            f"{self.name()}) is at version {current}; expected version {version} instead. "
            "Hint: replace the in-place op (x += ..., x.add_(...), x[i] = ...) on that tensor "
            "by its out-of-place form, or .clone() it before modifying it."
        )

    @property
    def needs_input_grad(self) -> tuple:
        return tuple(e is not None for e in self.next_edges)

    # -- the two halves of every op ---------------------------------------------------------
    def forward(self, *args: Any) -> Any:
        raise NotImplementedError  # pragma: no cover

    def backward(self, grad: Any) -> Any:
        raise NotImplementedError  # pragma: no cover

    def run_backward(self, grads: tuple) -> tuple:
        if self.bf16_inputs is not None:
            return low_precision.run_backward(self, grads, Op._backward_tuple)
        return self._backward_tuple(grads)

    def _backward_tuple(self, grads: tuple) -> tuple:
        result = self.backward(grads[0])
        return result if result.__class__ is tuple else (result,)

    # -- recording --------------------------------------------------------------------------
    @classmethod
    def apply(cls, *args: Any, **kwargs: Any) -> Any:
        """Run forward on the arguments' arrays and, if any input requires grad, record a node."""
        if op_watch.active:  # a profiler or forward-mode AD sees the op (see op_watch.py)
            return op_watch.run_op(cls, args, kwargs)
        arrays = []
        wants_grad = False
        bf16 = False
        for a in args:
            if isinstance(a, Tensor):
                if a._view is not None:
                    refresh_view(a)
                data = a._data
                arrays.append(data)
                if a._requires_grad:
                    wants_grad = True
                if data.dtype is _BF16:
                    bf16 = True
            else:
                arrays.append(a)
        node = _new(cls)
        if bf16 and cls.bf16_in_float32:
            arrays, node.bf16_inputs = low_precision.widen(arrays)
        try:
            out = node.forward(*arrays, **kwargs)
        except (TypeError, ValueError):
            moved = backend.align_devices(cls.__name__.lower(), arrays)
            if moved is None:
                raise
            arrays = moved
            out = node.forward(*arrays, **kwargs)
        if out.__class__ is not ndarray:
            out = as_output(node, out)
        if node.bf16_inputs is not None:
            out = low_precision.narrow(node, out)
        result = Tensor._make(out)
        if wants_grad and grad_state.enabled:
            record(node, result, args, arrays)
        elif wants_grad and _doctor.cuts:  # under no_grad: the doctor notes the cut
            _doctor.no_grad_use(args)
        return result


def as_output(node: Op, out: Any) -> Any:
    """`out` as an array (numpy returns 0-d results as scalars). If the op saved `out`, the
    array replaces it there too, so that it is still recognised as the op's own output."""
    array = backend.as_array(out)
    saved = node.saved
    if array is not out and saved and any(v is out for v in saved):
        node.saved = tuple(array if v is out else v for v in saved)
    return array


class NoGradViewOrigin:
    """What a view made under no_grad, of a base that requires grad, remembers of the base's
    history: it must not silently join the graph if that history changes later."""

    __slots__ = ("fn",)

    def __init__(self, fn: Any) -> None:
        self.fn = fn


def view_origin(base: Any) -> Any:
    """The `_view[2]` entry for a new view of `base` (see `refresh_view`)."""
    if base._requires_grad and not grad_state.enabled:
        return NoGradViewOrigin(base.grad_fn)
    return base.grad_fn


def refresh_view(t: Any) -> None:
    """Bring a view's graph up to date after its base got a new history from an in-place op.

    A view remembers the base's grad_fn its own history was derived from (`t._view[2]`). Once
    an in-place op on the base, or on another view of it, gives the base a new grad_fn, the
    view's history is rebuilt from it by replaying the view steps (torch regenerates a view's
    grad_fn the same way). Callers test `t._view is not None` first: that keeps it cheap.
    """
    base, steps, base_fn = t._view
    fn = base.grad_fn
    if fn is base_fn:
        return
    if base_fn.__class__ is NoGradViewOrigin:
        if base_fn.fn is fn:
            return
        raise RuntimeError(
            "A view was created in no_grad mode and its base or another view of its base has "
            "been modified inplace with grad mode enabled. This is ambiguous and therefore "
            "forbidden (as in torch): create the view and do the in-place op both inside the "
            "no_grad block, or both outside it."
        )
    t._view = (base, steps, fn)
    if not base._requires_grad:
        return
    prev = grad_state.enabled
    grad_state.enabled = True
    try:
        rebuilt = base
        for cls, args in steps:
            rebuilt = cls.apply(rebuilt, *args)
    finally:
        grad_state.enabled = prev
    t.grad_fn, t._output_nr, t._requires_grad = rebuilt.grad_fn, rebuilt._output_nr, True


def edge_to(t: Any) -> Any:
    """Where gradient for tensor `t` should flow: its grad_fn, itself if a leaf, or nowhere."""
    if t._view is not None:
        refresh_view(t)
    if not t._requires_grad:
        return None
    fn = t.grad_fn
    return (t, 0) if fn is None else (fn, t._output_nr)


def record(node: Op, result: Any, args: tuple, arrays: list) -> None:
    """Attach `node` to the graph as `result`'s grad_fn (inputs are `args`, seen as `arrays`)."""
    kind = result._data.dtype.kind
    if kind != "f" and kind != "V":  # "V": bfloat16, the one void-kind dtype Ember holds
        if kind != "c":  # integer and bool results carry no gradient
            return
        complex_grad.make_complex(node, args)
    edges = []
    for a in args:
        if isinstance(a, Tensor) and a._view is not None:
            refresh_view(a)
        if isinstance(a, Tensor) and a._requires_grad:
            fn = a.grad_fn
            edges.append((a, 0) if fn is None else (fn, a._output_nr))
        else:
            edges.append(None)
    node.next_edges = tuple(edges)
    result.grad_fn = node
    result._requires_grad = True
    if node.saved:
        link_saved(node, result, args, arrays)
    elif saved_hooks.active:  # (link_saved does it for nodes that saved something)
        saved_hooks.pack(node, result, args, arrays)
    if anomaly_state.enabled:
        anomaly_state.on_forward(node, result, arrays)


def link_saved(node: Op, result: Any, args: tuple, arrays: list) -> None:
    """Remember which tensor each saved array came from, and that tensor's version now."""
    out = result._data
    refs = []
    for value in node.saved:
        ref = None
        if value is out:
            if result._vc is None:
                result._vc = [0]
            ref = (result._vc, 0)
        else:
            for a, arr in zip(args, arrays):
                if arr is value and isinstance(a, Tensor):
                    vc = a._vc
                    ref = (a, vc[0] if vc is not None else 0)
                    break
        refs.append(ref)
    node._saved_refs = tuple(refs)
    if inference_tensors.state["seen"]:
        inference_tensors.check_saved(node._saved_refs)
    if saved_hooks.active:
        saved_hooks.pack(node, result, args, arrays)


def array_namespace(x: Any) -> Any:
    """numpy-like functions for `x`: numpy/cupy for arrays, differentiable ones for Tensors."""
    if isinstance(x, Tensor):
        return tensor_math
    return backend.module_of(x)


def call(cls: type, *args: Any) -> Any:
    """Run op `cls` from inside another op's backward: recorded when given Tensors (under
    create_graph), straight on the arrays otherwise."""
    if any(isinstance(a, Tensor) for a in args):
        return cls.apply(*args)
    return _new(cls).forward(*args)


def composite_backward(compute: Any, inputs: tuple, grad: Any, needs: tuple) -> tuple:
    """Backward under create_graph for an op with a hand-fused forward (convolution, pooling).

    The op is rebuilt from differentiable primitives (`compute(*inputs)`, e.g. unfold + matmul
    for a convolution) and that graph is differentiated with create_graph=True, so every
    higher derivative follows without a second hand-written formula. `inputs` are the saved
    Tensors (still connected to the outer graph); `needs[i]` says whether input i wants a
    gradient.
    """
    from .engine import grad as autograd_grad  # noqa: PLC0415 (the engine imports this module)

    out = compute(*inputs)
    wanted = [i for i, (x, need) in enumerate(zip(inputs, needs))
              if need and isinstance(x, Tensor) and x._requires_grad]
    result: list = [None] * len(inputs)
    if wanted:
        grads = autograd_grad(out, [inputs[i] for i in wanted], grad, create_graph=True,
                              allow_unused=True)
        for i, g in zip(wanted, grads):
            result[i] = g
    return tuple(result)


class _OpWatch:
    """Whether something watches every op: the profiler (timing) or forward-mode AD (tangents).

    Every `apply` checks `active` once; while it is False (no profiler, no dual level) ops pay
    nothing else. `ember.autograd.op_watch` installs the methods below and sets `active`.
    """

    active = False

    def run_op(self, cls: type, args: tuple, kwargs: dict) -> Any:  # set by op_watch
        raise NotImplementedError  # pragma: no cover

    def run_call(self, name: str, fn: Any, args: tuple, kwargs: dict) -> Any:  # op_watch
        raise NotImplementedError  # pragma: no cover

    def run_function(self, cls: type, args: tuple, kwargs: dict) -> Any:  # set by op_watch
        raise NotImplementedError  # pragma: no cover

    def run_inplace(self, t: Any, compute: Any, write: Any, *rest: Any) -> Any:  # op_watch
        raise NotImplementedError  # pragma: no cover

    def run_backward(self, node: Node, grads: tuple) -> tuple:  # set by op_watch
        raise NotImplementedError  # pragma: no cover


op_watch = _OpWatch()


class _AnomalyState:
    """Set by ember.autograd.anomaly_mode; checked on every recorded op when enabled."""

    enabled = False

    def on_forward(self, node: Node, result: Any, inputs: list) -> None:  # set by anomaly_mode
        pass

    def on_backward(self, node: Node, grads: tuple) -> None:  # set by anomaly_mode
        pass


anomaly_state = _AnomalyState()


class _SavedTensorHooks:
    """True while a `saved_tensors_hooks` context is open in any thread (autograd/saved_hooks.py
    installs `pack`). It is the one check recording pays for the feature: then every recorded
    node hands what it keeps for backward to the innermost hooks of the current thread."""

    active = False

    def pack(self, node: Node, result: Any, args: tuple, arrays: Any) -> None:  # saved_hooks
        raise NotImplementedError  # pragma: no cover

    def pack_function(self, ctx: Node) -> None:  # set by saved_hooks (custom Functions)
        raise NotImplementedError  # pragma: no cover


saved_hooks = _SavedTensorHooks()
