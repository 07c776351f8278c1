"""DistributedDataParallel: one model replica per process, gradients averaged over MPI.

The life of one training step, as in torch:
1. construction: rank 0's parameters and buffers are broadcast, so every replica starts equal;
2. forward: rank 0's buffers (BatchNorm statistics) are broadcast again, then the module runs
   on this process's share of the batch;
3. backward: each parameter's gradient, once accumulated, marks it ready (a post-accumulate-
   grad hook); buckets of ready gradients are averaged over the processes by all-reduce
   (reducer.py, the one place gradients cross processes).
The optimizer step then sees identical gradients everywhere, so the replicas stay equal.
"""

from __future__ import annotations

import contextlib
import warnings
import weakref
from collections.abc import Iterator
from typing import Any

from ... import backend
from ...autograd.grad_mode import is_grad_enabled, no_grad
from ...autograd.node import Node
from ...backend import numpy
from ...distributed import process_group as _pg
from ...tensor import Tensor
from ..modules.module import Module
from .data_parallel import _to
from .reducer import Reducer

_DEFAULT_BUCKET_CAP_MB = 25.0


def _tensors_in(obj: Any) -> Iterator[Tensor]:
    """Every tensor inside a forward's output (nested tuples, lists, dicts)."""
    if isinstance(obj, Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for o in obj:
            yield from _tensors_in(o)
    elif isinstance(obj, dict):
        for o in obj.values():
            yield from _tensors_in(o)


def _leaves_reached(outputs: list[Tensor]) -> set[int]:
    """ids of the leaf tensors the autograd graph of `outputs` leads to (used parameters)."""
    seen_nodes: set[int] = set()
    leaves: set[int] = set()
    stack: list[Any] = []
    for t in outputs:
        if t.grad_fn is not None:
            stack.append(t.grad_fn)
        elif t.requires_grad:
            leaves.add(id(t))
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        for edge in node.next_edges:
            if edge is None:
                continue
            target = edge[0]
            if isinstance(target, Node):
                stack.append(target)
            else:
                leaves.add(id(target))
    return leaves


def _host_bytes(t: Tensor) -> Any:
    """A tensor's data as contiguous host bytes."""
    data = backend.to_numpy(t._data) if not isinstance(t._data, numpy.ndarray) else t._data
    return numpy.ascontiguousarray(data).reshape(-1).view(numpy.uint8)


def _broadcast_tensors(pg: _pg.ProcessGroup, tensors: list[Tensor], src: int = 0) -> None:
    """Overwrite `tensors` with `src`'s, all in one broadcast of their bytes."""
    if pg.size() == 1 or not tensors:
        return
    if pg.rank() == src:
        block = numpy.concatenate([_host_bytes(t) for t in tensors])
    else:
        block = numpy.empty(sum(int(t._data.nbytes) for t in tensors), dtype=numpy.uint8)
    pg.comm.Bcast(block, root=src)
    if pg.rank() == src:
        return
    start = 0
    for t in tensors:
        n = int(t._data.nbytes)
        value = block[start:start + n].view(t._data.dtype).reshape(t._data.shape)
        t._data[...] = value if isinstance(t._data, numpy.ndarray) else backend.to_device(
            value, t.device)
        t._bump_version()
        start += n


def _placement(params: list[Tensor], device_ids: list | None,
               output_device: Any) -> tuple[str, list[int] | None, Any]:
    """torch's device checks: the device type, device_ids and output_device to keep (None for
    CPU and multi-device modules, where giving them is an error)."""
    if device_ids is not None and len(device_ids) > 1:
        raise ValueError("device_ids can only be None or contain a single element.")
    devices = {p.device for p in params}
    device_types = {d.type for d in devices}
    if len(device_types) != 1:
        raise ValueError(f"DistributedDataParallel's input module must be on the same type of "
                         f"devices, but input module parameters locate in {device_types}.")
    device_type = next(iter(device_types))
    if not device_ids or device_type == "cpu" or len(devices) > 1:
        if device_ids or output_device:
            raise ValueError(f"DistributedDataParallel device_ids and output_device arguments "
                             f"only work with single-device/multiple-device GPU modules or CPU "
                             f"modules, but got device_ids {device_ids}, output_device "
                             f"{output_device}, and module parameters {devices}.")
        return device_type, None, None
    ids = [d.index or 0 if isinstance(d, backend.device) else int(d) for d in device_ids]
    return device_type, ids, ids[0] if output_device is None else output_device


def _buffer_sync(broadcast_buffers: bool | None,
                 forward_sync_buffers: bool | None) -> tuple[bool, bool]:
    """(sync buffers at each forward, sync them at construction) from torch's two flags, with
    its deprecation warning for broadcast_buffers."""
    if broadcast_buffers is not None:
        warnings.warn("Both `broadcast_buffers` and `forward_sync_buffers` were specified. "
                      "`broadcast_buffers` is deprecated and its value is ignored when "
                      "`forward_sync_buffers` is provided." if forward_sync_buffers is not None
                      else "`broadcast_buffers` is deprecated. Use `forward_sync_buffers` "
                      "instead. IMPORTANT: unlike `broadcast_buffers=False`, "
                      "`forward_sync_buffers=False` still syncs buffers at init. If you rely "
                      "on buffers NOT being synced at init (e.g. rank-local buffers), keep "
                      "using `broadcast_buffers=False` until `init_sync_buffers` is available.",
                      FutureWarning, stacklevel=3)
    if forward_sync_buffers is not None:
        return forward_sync_buffers, True
    sync = True if broadcast_buffers is None else broadcast_buffers
    return sync, sync


class DistributedDataParallel(Module):
    """Data parallelism over processes: wrap the model once per process (after
    `dist.init_process_group()`), feed each process its share of the batch
    (DistributedSampler), and backward() leaves every replica with the mean gradient.

    >>> model = DistributedDataParallel(model)       # under `mpiexec -n 2 python train.py`
    >>> loss_fn(model(x), y).backward()               # grads now averaged over both processes

    torch's arguments are all accepted. `batched_grad_copy` and `dim` change nothing here,
    `bucket_cap_mb_list` caps every bucket at its largest entry; delay_all_reduce_named_params,
    param_to_hook_all_reduce, mixed_precision and device_mesh are refused.
    """

    def __init__(self, module: Module, device_ids: list | None = None,
                 output_device: Any = None, dim: int = 0, broadcast_buffers: bool | None = None,
                 init_sync: bool = True, process_group: _pg.ProcessGroup | None = None,
                 bucket_cap_mb: float | None = None, find_unused_parameters: bool = False,
                 check_reduction: bool = False, gradient_as_bucket_view: bool = False,
                 static_graph: bool = False, delay_all_reduce_named_params: Any = None,
                 param_to_hook_all_reduce: Any = None, mixed_precision: Any = None,
                 device_mesh: Any = None, skip_all_reduce_unused_params: bool = False,
                 bucket_cap_mb_list: list[int] | None = None, batched_grad_copy: bool = False,
                 forward_sync_buffers: bool | None = None) -> None:
        super().__init__()
        for name, value in [("delay_all_reduce_named_params", delay_all_reduce_named_params),
                            ("param_to_hook_all_reduce", param_to_hook_all_reduce),
                            ("mixed_precision", mixed_precision), ("device_mesh", device_mesh)]:
            if value is not None:
                raise NotImplementedError(f"DistributedDataParallel: {name} is not supported by "
                                          f"Ember (expected None, got {value!r})")
        pg = _pg.resolve(process_group)
        if pg is None:
            raise ValueError("DistributedDataParallel: this process is not a member of "
                             "process_group")
        self.parameters_to_ignore = set(getattr(module, "_ddp_params_and_buffers_to_ignore", ()))
        named = [(n, p) for n, p in module.named_parameters()
                 if n not in self.parameters_to_ignore and p.requires_grad]
        if not named:
            raise RuntimeError("DistributedDataParallel is not needed when a module doesn't "
                               "have any parameter that requires a gradient.")
        self.device_type, self.device_ids, self.output_device = _placement(
            [p for _, p in named], device_ids, output_device)
        self.device = named[0][1].device
        self.forward_sync_buffers, init_sync_buffers = _buffer_sync(broadcast_buffers,
                                                                    forward_sync_buffers)
        if check_reduction:
            warnings.warn("The `check_reduction` argument in `DistributedDataParallel` module is "
                          "deprecated. Please avoid using it.", FutureWarning, stacklevel=2)
        self.module = module
        self.process_group = pg
        self.dim = dim
        self.find_unused_parameters = find_unused_parameters
        self.gradient_as_bucket_view = gradient_as_bucket_view
        self.skip_all_reduce_unused_params = skip_all_reduce_unused_params
        self.batched_grad_copy = batched_grad_copy
        self.static_graph = False
        self.bucket_cap_mb = (max(bucket_cap_mb_list) if bucket_cap_mb_list else
                              _DEFAULT_BUCKET_CAP_MB if bucket_cap_mb is None else bucket_cap_mb)
        self.bucket_bytes_cap = int(self.bucket_cap_mb * 1024 * 1024)
        self.require_backward_grad_sync = True
        self.require_forward_param_sync = True
        self._static_unused: list[int] | None = None
        params = [p for _, p in named]
        if init_sync:  # every parameter (frozen ones too) and buffer, as torch's
            self._verify_same_model(named)
            states = [p for n, p in module.named_parameters()
                      if n not in self.parameters_to_ignore]
            states += self._synced_buffers() if init_sync_buffers else []
            with no_grad():
                _broadcast_tensors(pg, states)
        self.reducer = Reducer(params, [n for n, _ in named], pg, self.bucket_cap_mb,
                               gradient_as_bucket_view)
        self.reducer.find_unused = find_unused_parameters
        self.reducer.skip_unused_buckets = skip_all_reduce_unused_params
        me = weakref.ref(self)  # the hook table must not keep the wrapper alive
        self._hook_handles = [
            p.register_post_accumulate_grad_hook(
                lambda _p, i=i: (ddp := me()) is not None and ddp.reducer.autograd_hook(i))
            for i, p in enumerate(params)]
        if static_graph:
            self._set_static_graph()

    def _synced_buffers(self) -> list[Tensor]:
        return [b for n, b in self.module.named_buffers() if n not in self.parameters_to_ignore]

    def _verify_same_model(self, named: list) -> None:
        """Every process must wrap the same architecture (torch's parameter-shape check)."""
        pg = self.process_group
        mine = [(n, tuple(p.shape), str(p.dtype)) for n, p in named]
        every = pg.comm.allgather(mine)
        for r, theirs in enumerate(every):
            if theirs != every[0]:
                diff = next(((a, b) for a, b in zip(every[0], theirs, strict=False) if a != b),
                            (f"{len(every[0])} parameters", f"{len(theirs)} parameters"))
                raise RuntimeError(f"DDP expects same model across all ranks, but rank "
                                   f"{pg.ranks[r]} has {diff[1]} where rank {pg.ranks[0]} has "
                                   f"{diff[0]}")

    def _set_static_graph(self) -> None:
        """The graph is the same every iteration: unused parameters are found once, in the
        first forward, and their use is agreed once, after the first backward."""
        if self.static_graph:
            warnings.warn("You've set static_graph to be True, no need to set it again.",
                          stacklevel=2)
            return
        if self.reducer.num_iterations:
            raise RuntimeError("set_static_graph() should be called before training loop starts "
                               "and after DistributedDataParallel is constructed.")
        self.static_graph = self.reducer.static_graph = self.reducer.find_unused = True
        if self.find_unused_parameters:
            warnings.warn("You passed find_unused_parameters=true to DistributedDataParallel, "
                          "`_set_static_graph` will detect unused parameters automatically, so "
                          "you do not need to set find_unused_parameters=true, just be sure "
                          "these unused parameters will not change during training loop while "
                          "calling `_set_static_graph`.", stacklevel=2)

    @staticmethod
    def _set_params_and_buffers_to_ignore_for_model(module: Module,
                                                    params_and_buffers_to_ignore: Any) -> None:
        """Names (dotted, as in state_dict) that DDP neither broadcasts nor all-reduces."""
        module._ddp_params_and_buffers_to_ignore = params_and_buffers_to_ignore

    def will_sync_module_buffers(self) -> bool:
        return (self.require_forward_param_sync and self.forward_sync_buffers
                and bool(self._synced_buffers()))

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        sync = is_grad_enabled() and self.require_backward_grad_sync
        if sync:
            self.reducer.ensure_prior_reduction_finished()
        if self.will_sync_module_buffers():
            with no_grad():
                _broadcast_tensors(self.process_group, self._synced_buffers())
        if self.device_ids:
            dev = backend.device("cuda", self.device_ids[0])
            inputs, kwargs = _to(inputs, dev), _to(kwargs, dev)
        output = self.module(*inputs, **kwargs)
        if sync:
            self.require_forward_param_sync = True
            self.reducer.prepare_for_backward(self._unused_indices(output))
        else:
            self.require_forward_param_sync = False
        return output

    def _unused_indices(self, output: Any) -> list[int]:
        """Indices of the parameters this forward's outputs do not reach: searched every
        iteration with find_unused_parameters, once with static_graph, never otherwise."""
        if self.static_graph and self._static_unused is not None:
            return self._static_unused
        if not (self.find_unused_parameters or self.static_graph):
            return []
        reached = _leaves_reached(list(_tensors_in(output)))
        unused = [i for i, p in enumerate(self.reducer.params) if id(p) not in reached]
        if self.static_graph:
            self._static_unused = unused
        return unused

    @contextlib.contextmanager
    def no_sync(self) -> Iterator[None]:
        """Inside, forward/backward accumulate gradients locally; the first backward after
        (with its forward outside) all-reduces the accumulated sum."""
        old = self.require_backward_grad_sync
        self.require_backward_grad_sync = False
        try:
            yield
        finally:
            self.require_backward_grad_sync = old

    @property
    def broadcast_buffers(self) -> bool:
        return self.forward_sync_buffers

    @broadcast_buffers.setter
    def broadcast_buffers(self, value: bool) -> None:
        self.forward_sync_buffers = value
