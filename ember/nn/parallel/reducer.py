"""DDP's reducer: buckets of gradients, when each is ready, and their all-reduce over MPI.

torch's c10d Reducer, in Python. Each parameter's post-accumulate-grad hook marks it ready;
when every parameter of a bucket is ready the bucket is packed into one flat array, scaled by
1 / world size and all-reduced (SUM) in place; when the last bucket is launched the reducer
waits for them all and writes the mean gradients back into `.grad`. Buckets are launched in
bucket order, so every process issues the same all-reduces in the same order, whatever order
its gradients arrive in.

Ember's engine accumulates leaf gradients at the end of the backward pass, so buckets cannot
overlap computation as torch's do on a GPU; they still bound the size of each message.
"""

from __future__ import annotations

from typing import Any

from ... import backend
from ...backend import numpy
from ...distributed import process_group as _pg
from ...distributed.staging import reduce_dtype
from ...tensor import Tensor


class _Bucket:
    """Parameters of one dtype and device whose gradients travel in one all-reduce.

    `flat` is host memory in the dtype MPI can sum (float16/bfloat16 are summed in float32 and
    rounded once when written back); `views` are each parameter's slice of it.
    """

    def __init__(self, params: list[Tensor], indices: list[int]) -> None:
        self.params, self.indices = params, indices
        self.dtype = params[0]._data.dtype
        sizes = [int(p._data.size) for p in params]
        offsets = [sum(sizes[:i]) for i in range(len(sizes))]
        self.flat = numpy.zeros(sum(sizes), dtype=reduce_dtype(self.dtype))
        self.views = [self.flat[o:o + n].reshape(p.shape)
                      for o, n, p in zip(offsets, sizes, params, strict=True)]
        self.pending = len(params)
        self.request: Any = None

    def can_hold_grads(self) -> bool:
        """gradient_as_bucket_view is possible: same dtype, on the host."""
        return self.flat.dtype == self.dtype and isinstance(self.params[0]._data, numpy.ndarray)


def assign_buckets(params: list[Tensor], cap_bytes: float) -> list[_Bucket]:
    """torch's assignment: parameters in reverse order (the order backward reaches them),
    split by dtype and device, a new bucket whenever one reaches the cap."""
    buckets: list[_Bucket] = []
    open_: dict = {}
    for i in reversed(range(len(params))):
        p = params[i]
        key = (p._data.dtype, str(p.device))
        members, indices, nbytes = open_.get(key, ([], [], 0))
        members, indices = members + [p], indices + [i]
        nbytes += int(p._data.nbytes)
        if nbytes >= cap_bytes:
            buckets.append(_Bucket(members, indices))
            members, indices, nbytes = [], [], 0
        open_[key] = (members, indices, nbytes)
    buckets.extend(_Bucket(m, i) for m, i, _ in open_.values() if m)
    return buckets


class Reducer:
    """Readiness bookkeeping and the gradient all-reduce for one DistributedDataParallel."""

    def __init__(self, params: list[Tensor], names: list[str], pg: _pg.ProcessGroup,
                 bucket_cap_mb: float, gradient_as_bucket_view: bool) -> None:
        self.params, self.names, self.pg = params, names, pg
        self.as_bucket_view = gradient_as_bucket_view
        self.buckets = assign_buckets(params, bucket_cap_mb * 1024 * 1024)
        self.bucket_of = {i: b for b in self.buckets for i in b.indices}
        self.ready = [False] * len(params)
        self.unused: list[int] = []  # found unused by this iteration's forward
        self.marked_unused = False
        self.expect_hooks = False  # set by prepare_for_backward, cleared by finalize
        self.require_finalize = False  # some parameter was marked ready this iteration
        self.next_bucket = 0
        self.num_iterations = 0
        self.num_buckets_reduced = 0  # in this iteration
        self.skip_unused_buckets = False  # skip_all_reduce_unused_params
        # find_unused_parameters: which parameters got a gradient since the last reduction
        # (no_sync iterations included), all-reduced so a parameter no process used keeps
        # its .grad untouched
        self.find_unused = False
        self.static_graph = False
        self.static_first_done = False
        self.locally_used = [False] * len(params)
        self.globally_used: list[bool] | None = None

    def tracks_use(self) -> bool:
        return self.find_unused and not (self.static_graph and self.static_first_done)

    def prepare_for_backward(self, unused: list[int]) -> None:
        """Expect one gradient per parameter in the coming backward; `unused` (indices the
        forward's outputs do not reach) count as ready at the first hook, as in torch."""
        self.ensure_prior_reduction_finished()
        self.ready = [False] * len(self.params)
        for b in self.buckets:
            b.pending = len(b.params)
        self.unused, self.marked_unused = unused, False
        self.next_bucket, self.expect_hooks = 0, True
        self.num_iterations += 1
        self.num_buckets_reduced = 0

    def autograd_hook(self, index: int) -> None:
        """A parameter's gradient was accumulated into `.grad`."""
        if self.tracks_use():
            self.locally_used[index] = True  # also inside no_sync, as torch
        if not self.expect_hooks:
            return  # no_sync, or a second backward: gradients stay local, as in torch
        if self.static_graph and self.static_first_done and index in self.unused:
            raise RuntimeError("Your training graph has changed in this iteration, e.g., one "
                               "parameter is unused in first iteration, but then got used in "
                               "the second iteration. this is not compatible with "
                               "static_graph set to True.")
        if not self.marked_unused:
            self.marked_unused = True
            for i in self.unused:
                self.mark_ready(i)
        self.mark_ready(index)

    def mark_ready(self, index: int) -> None:
        """Launch every bucket that is now complete, in bucket order."""
        if self.ready[index]:
            raise RuntimeError(
                f"Expected to mark a variable ready only once. This error is caused by one of "
                f"the following reasons: 1) Use of a module parameter outside the `forward` "
                f"function or 2) Reused parameters in multiple reentrant backward passes.\n"
                f"Parameter at index {index} with name {self.names[index]} has been marked as "
                f"ready twice. This means that multiple autograd engine hooks have fired for "
                f"this particular parameter during this iteration.")
        self.ready[index] = True
        self.require_finalize = True
        self.bucket_of[index].pending -= 1
        while (self.next_bucket < len(self.buckets)
               and self.buckets[self.next_bucket].pending == 0):
            self.all_reduce_bucket(self.buckets[self.next_bucket])
            self.next_bucket += 1
        if self.next_bucket == len(self.buckets):
            self.finalize()

    def all_reduce_bucket(self, bucket: _Bucket) -> None:
        """Pack the bucket (a parameter without .grad contributes zeros), scale by 1 / world
        size and start the in-place SUM all-reduce: the mean gradient over processes.
        skip_all_reduce_unused_params leaves out a bucket whose parameters all went unused
        (every process must then agree on that, as in torch)."""
        if self.skip_unused_buckets and set(bucket.indices) <= set(self.unused):
            bucket.request = None
            return
        for p, view in zip(bucket.params, bucket.views, strict=True):
            g = p.grad
            if g is None:
                view[...] = 0
            elif g._data is not view:  # a bucket-view grad is already in place
                view[...] = g._data if isinstance(g._data, numpy.ndarray) else \
                    backend.to_numpy(g._data)
        bucket.flat *= bucket.flat.dtype.type(1.0 / self.pg.size())  # torch's mul by 1/n
        MPI = _pg._mpi()
        bucket.request = self.pg.comm.Iallreduce(MPI.IN_PLACE, bucket.flat, MPI.SUM)
        self.num_buckets_reduced += 1

    def finalize(self) -> None:
        """Wait for the all-reduces and write the mean gradients into `.grad`, except for
        parameters no process used (their .grad is left as it was, as in torch)."""
        used = self._global_use()
        for bucket in self.buckets:
            if bucket.request is None:
                continue  # skipped: every parameter unused
            bucket.request.Wait()
            bucket.request = None
            for p, i, view in zip(bucket.params, bucket.indices, bucket.views,
                                  strict=True):
                if used is None or used[i]:
                    self._write_grad(p, view, bucket.can_hold_grads())
        self.expect_hooks = self.require_finalize = False
        if self.static_graph:
            self.static_first_done = True

    def _global_use(self) -> list[bool] | None:
        """Which parameters some process used (None: assume all, without find_unused)."""
        if self.static_graph and self.static_first_done:
            return self.globally_used
        if not self.find_unused:
            return None
        used = numpy.array(self.locally_used, dtype=numpy.int32)
        MPI = _pg._mpi()
        self.pg.comm.Allreduce(MPI.IN_PLACE, used, MPI.MAX)
        self.locally_used = [False] * len(self.params)
        self.globally_used = used.astype(bool).tolist()
        return self.globally_used

    def _write_grad(self, p: Tensor, view: Any, as_view: bool) -> None:
        g = p.grad
        on_host = isinstance(p._data, numpy.ndarray)
        value = view.astype(p._data.dtype, copy=False)
        if g is not None and g._data is view:
            g._bump_version()
        elif self.as_bucket_view and as_view:
            p.grad = Tensor._make(view)  # .grad lives in the bucket from now on
        elif g is None:
            p.grad = Tensor._make(value.copy() if on_host else
                                  backend.to_device(value, p.device))
        else:
            g._data[...] = value if on_host else backend.to_device(value, p.device)
            g._bump_version()

    def ensure_prior_reduction_finished(self) -> None:
        """torch's check that the previous backward reduced every parameter."""
        if not self.require_finalize:
            return
        missing = [i for i, r in enumerate(self.ready) if not r]
        outputs_hint = ("making sure all `forward` function outputs participate in "
                        "calculating loss. ")
        if self.static_graph:
            msg = ("Expected to have finished reduction in the prior iteration before starting "
                   "a new one. This error indicates that your training graph has changed in "
                   "this iteration, e.g., one parameter is used in first iteration, but then "
                   "got unused in the second iteration. this is not compatible with "
                   "static_graph set to True.")
        elif not self.find_unused:
            msg = ("Expected to have finished reduction in the prior iteration before starting "
                   "a new one. This error indicates that your module has parameters that were "
                   "not used in producing loss. You can enable unused parameter detection by "
                   "passing the keyword argument `find_unused_parameters=True` to "
                   "`torch.nn.parallel.DistributedDataParallel`, and by \n" + outputs_hint)
        else:
            msg = ("Expected to have finished reduction in the prior iteration before starting "
                   "a new one. This error indicates that your module has parameters that were "
                   "not used in producing loss. Since `find_unused_parameters=True` is "
                   "enabled, this likely  means that not all `forward` outputs participate in "
                   "computing loss. You can fix this by " + outputs_hint)
        raise RuntimeError(
            msg + f"\nParameters which did not receive grad for rank {self.pg.rank()}: "
            + ", ".join(self.names[i] for i in missing)
            + f"\nParameter indices which did not receive grad for rank {self.pg.rank()}: "
            + " ".join(map(str, missing)))
