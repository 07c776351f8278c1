"""`ember.autograd.graph`: torch.autograd.graph's tools for inspecting and steering the graph.

* `saved_tensors_hooks(pack, unpack)`: what the forward keeps for backward goes through pack
  when it is saved and through unpack when backward needs it (offloading, compression,
  checkpointing); `save_on_cpu` is one such pair; `disable_saved_tensors_hooks` forbids them.
* `Node`, `GradientEdge`, `get_gradient_edge`: the graph's nodes and edges; `autograd.grad`
  and `backward(inputs=...)` accept edges where they accept tensors.
* `register_multi_grad_hook`: one hook over the gradients of several tensors.
* `increment_version`: tell autograd a tensor was written behind its back.
* `allow_mutation_on_saved_tensors`: in-place changes to saved tensors clone them first.

    a = ember.ones(5, requires_grad=True)
    with ember.autograd.graph.saved_tensors_hooks(lambda t: t.detach().numpy().copy(),
                                                  lambda arr: ember.from_numpy(arr)):
        y = a.exp()       # the output is saved as a numpy copy
    y.sum().backward()    # ... and rebuilt for the backward
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from . import engine, saved_hooks
from .gradient_edge import GradientEdge, get_gradient_edge
from .node import Node, accumulate_grad_of
from .saved_mutation import allow_mutation_on_saved_tensors

__all__ = [
    "saved_tensors_hooks", "save_on_cpu", "disable_saved_tensors_hooks",
    "register_multi_grad_hook", "allow_mutation_on_saved_tensors", "Node", "GradientEdge",
    "get_gradient_edge", "increment_version", "region_activation_memory_budget",
    "set_warn_on_accumulate_grad_stream_mismatch", "set_override_stale_capture_stream",
]

class saved_tensors_hooks:  # noqa: N801 (torch's name)
    """Context manager: tensors saved for backward while it is open are stored as
    `pack_hook(tensor)` and given back as `unpack_hook(packed)` when backward needs them.

    `unpack_hook(pack_hook(t))` should equal `t` in size, dtype and values. Nested contexts:
    only the innermost pair applies. The hooks in force when a tensor is saved are the ones
    used for it, whenever backward runs.
    """

    def __init__(self, pack_hook: Callable[[Any], Any], unpack_hook: Callable[[Any], Any]
                 ) -> None:
        self.pack_hook = pack_hook
        self.unpack_hook = unpack_hook

    def __enter__(self) -> None:
        saved_hooks.push(self.pack_hook, self.unpack_hook)

    def __exit__(self, *args: object) -> None:
        saved_hooks.pop()


class save_on_cpu(saved_tensors_hooks):  # noqa: N801 (torch's name)
    """Saved tensors are kept on the CPU and copied back to their device for backward (trades
    transfer time for GPU memory). On CPU tensors nothing is copied."""

    def __init__(self, pin_memory: bool = False, device_type: str = "cuda") -> None:
        def pack_to_cpu(tensor: Any) -> tuple:
            packed = tensor.cpu()
            if pin_memory and packed is not tensor:
                packed = packed.pin_memory()
            return tensor.device, packed

        def unpack_from_cpu(packed: tuple) -> Any:
            device, tensor = packed
            return tensor.to(device, non_blocking=pin_memory)

        super().__init__(pack_to_cpu, unpack_from_cpu)


@contextlib.contextmanager
def disable_saved_tensors_hooks(error_message: str) -> Iterator[None]:
    """Inside, registering saved-tensor hooks raises RuntimeError(error_message); entering it
    while hooks are in force raises too (for features that cannot work with them)."""
    state = saved_hooks.state
    prev = state.disabled
    state.disabled = error_message
    try:
        if state.stack:
            raise RuntimeError(error_message)
        yield
    finally:
        state.disabled = prev


def increment_version(tensor: Any | Iterable[Any]) -> None:
    """Record that `tensor` (or each of an iterable of tensors) was modified in place by code
    autograd does not see, so backward through a value saved before raises."""
    from ..tensor import Tensor  # noqa: PLC0415 (ember.tensor imports this package)

    for t in (tensor,) if isinstance(tensor, Tensor) else tensor:
        t._bump_version()


def _grad_fn_or_grad_acc(t: Any) -> Node:
    return t.grad_fn if t.grad_fn is not None else accumulate_grad_of(t)


class _MultiHandle:
    """Removes the per-tensor hooks behind one multi-grad hook."""

    def __init__(self, handles: tuple) -> None:
        self.handles = handles

    def remove(self) -> None:
        for handle in self.handles:
            handle.remove()

    def __enter__(self) -> _MultiHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def register_multi_grad_hook(tensors: Sequence[Any], fn: Callable[..., None], *,
                             mode: str = "all") -> _MultiHandle:
    """Call `fn` once per backward over several tensors' gradients.

    mode="all": after the gradient of every tensor this backward computes is ready, with the
    list of gradients (None for a tensor the pass does not reach, e.g. off the way to
    `inputs`). mode="any": with the first of those gradients.
    """
    supported = ("all", "any")
    if mode not in supported:
        raise ValueError(f"Expects mode to be one of {supported} but got {mode}")
    lock = threading.Lock()
    if mode == "any":
        ran: dict[int, bool] = {}

        def first_only(grad: Any) -> None:
            task = engine.current_graph_task_id()
            with lock:
                prev, ran[task] = ran.get(task, False), True
            if not prev:
                fn(grad)

        return _MultiHandle(tuple(t.register_hook(first_only) for t in tensors
                                  if t.requires_grad))

    count: dict[int, int] = {}
    buffer: dict[int, list] = {}
    grad_fns = [_grad_fn_or_grad_acc(t) for t in tensors]
    nb_calls: list[int] = [0]

    def inner_hook(idx: int) -> Callable[[Any], None]:
        def hook(grad: Any) -> None:
            task = engine.current_graph_task_id()
            with lock:
                seen = count.get(task, 0)
                count[task] = seen + 1
                grads = buffer.setdefault(task, [None] * len(tensors))
                if seen == 0:  # the first gradient of this pass: how many will come
                    nb_calls[0] = sum(map(engine.will_engine_execute_node, grad_fns))
            grads[idx] = grad
            if seen == nb_calls[0] - 1:
                del count[task], buffer[task]
                fn(grads)

        return hook

    return _MultiHandle(tuple(t.register_hook(inner_hook(i)) for i, t in enumerate(tensors)))


def region_activation_memory_budget(budget: float) -> contextlib.AbstractContextManager:
    """torch.compile's activation budget annotation: Ember has no compiler, so like torch in
    eager mode it raises."""
    name = "torch.autograd.graph.region_activation_memory_budget"
    if isinstance(budget, bool) or not isinstance(budget, (int, float)):
        raise TypeError(f"{name}: expects a float, got {type(budget).__name__}")
    if not 0.0 <= budget <= 1.0:
        raise ValueError(f"{name}: must be in [0, 1], got {budget}")
    raise RuntimeError(f"{name} can only be used inside a torch.compile region; it has no "
                       "effect in eager mode.")


_stream_flags = {"warn_on_accumulate_grad_stream_mismatch": True,
                 "override_stale_capture_stream": False}


def set_warn_on_accumulate_grad_stream_mismatch(enabled: bool) -> None:
    """Stored for torch compatibility: Ember's backward runs on one stream."""
    _stream_flags["warn_on_accumulate_grad_stream_mismatch"] = bool(enabled)


def set_override_stale_capture_stream(enabled: bool) -> None:
    """Stored for torch compatibility: Ember has no CUDA graph capture."""
    _stream_flags["override_stale_capture_stream"] = bool(enabled)
