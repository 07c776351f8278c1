"""BatchNorm1d/2d/3d: normalize each channel with batch statistics while training and with
running averages of them in evaluation."""

from __future__ import annotations

from typing import Any

from ... import creation, dtypes
from ...tensor import Tensor
from .. import functional as F
from .. import init
from ..errors import LayerInputError
from ..parameter import Parameter
from .module import Module


class BatchStatisticsError(LayerInputError, ValueError):
    """A training-mode BatchNorm given one value per channel (a ValueError, as in torch)."""


class ChannelMismatchError(LayerInputError, ValueError):
    """Input channels differ from num_features: torch raises RuntimeError here (this is one)
    and Ember's earlier ValueError is kept as a base for code that catches it."""


class _NormBase(Module):
    """What BatchNorm and InstanceNorm share (torch's _NormBase): the affine parameters, the
    running statistics and their resets."""

    # state_dict format 2 added num_batches_tracked: checkpoints without a version (plain
    # dicts) or older ones load without it, newer ones must have it (torch's rule)
    _version: int = 2

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device: Any = None,
                 dtype: Any = None, *, bias: bool = True) -> None:
        super().__init__()
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        kw = dict(device=device, dtype=dtype)
        if affine:
            self.weight = Parameter(creation.ones(num_features, **kw))
            if bias:
                self.bias = Parameter(creation.zeros(num_features, **kw))
            else:
                self.register_parameter("bias", None)
        else:
            self.register_parameter("weight", None)
            self.register_parameter("bias", None)
        if track_running_stats:
            self.register_buffer("running_mean", creation.zeros(num_features, **kw))
            self.register_buffer("running_var", creation.ones(num_features, **kw))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=dtypes.int64, device=device))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              *args: Any) -> None:
        version = local_metadata.get("version")
        key = prefix + "num_batches_tracked"
        if (version is None or version < 2) and self.track_running_stats and \
                key not in state_dict:  # a checkpoint from before the counter existed
            state_dict[key] = self.num_batches_tracked if self.num_batches_tracked is not None \
                else creation.tensor(0, dtype=dtypes.int64)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, *args)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean.zero_()
            self.running_var.fill_(1)
            self.num_batches_tracked.zero_()

    def reset_parameters(self) -> None:
        self.reset_running_stats()
        if self.affine:
            init.ones_(self.weight)
            if self.bias is not None:
                init.zeros_(self.bias)


class _BatchNorm(_NormBase):
    _expected_dims: tuple = ()

    def _check_input_dim(self, input: Tensor) -> None:
        if input.ndim not in self._expected_dims:
            wanted = " or ".join(f"{d}D" for d in self._expected_dims)
            raise ValueError(f"{type(self).__name__}: expected {wanted} input (got "
                             f"{input.ndim}D input of shape {list(input.shape)})")
        if input.shape[1] != self.num_features:
            raise ChannelMismatchError(f"expected {self.num_features} channels in dim 1 "
                                       f"(num_features), got input of shape "
                                       f"{list(input.shape)}")

    def forward(self, input: Tensor) -> Tensor:
        self._check_input_dim(input)
        if self.training and input.numel() == input.shape[1] > 0:  # one value per channel
            raise BatchStatisticsError(
                f"Expected more than 1 value per channel when training, got input size "
                f"{list(input.shape)}: in training mode BatchNorm normalizes with the "
                "statistics of the batch, which one value per channel does not have. A batch "
                "of one sample is usually the last, incomplete batch of an epoch (use "
                "DataLoader(..., drop_last=True)); for inference, call model.eval() first.")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats and self.num_batches_tracked is not None:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:  # cumulative moving average
                factor = 1.0 / float(self.num_batches_tracked.item())
        use_batch_stats = self.training or (self.running_mean is None and
                                            self.running_var is None)
        running = not self.training or self.track_running_stats
        return F.batch_norm(input, self.running_mean if running else None,
                            self.running_var if running else None, self.weight, self.bias,
                            use_batch_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, bias={self.bias is not None}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """For (N, C) or (N, C, L) input."""

    _expected_dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """For (N, C, H, W) input."""

    _expected_dims = (4,)


class BatchNorm3d(_BatchNorm):
    """For (N, C, D, H, W) input."""

    _expected_dims = (5,)


class SyncBatchNorm(_BatchNorm):
    """BatchNorm over any input of 2 or more dims whose statistics, in torch, are gathered from
    every process of a distributed job. Ember runs one process per model replica and has no
    process group here, so the statistics are this process's batch: exactly torch's result for
    a world size of 1 (documented difference for several processes)."""

    _expected_dims = tuple(range(2, 9))

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, process_group: Any = None,
                 device: Any = None, dtype: Any = None) -> None:
        super().__init__(num_features, eps, momentum, affine, track_running_stats, device=device,
                         dtype=dtype)
        self.process_group = process_group

    @classmethod
    def convert_sync_batchnorm(cls, module: Module, process_group: Any = None) -> Module:
        """A copy of `module`'s structure with every BatchNorm*d replaced by SyncBatchNorm (same
        parameters and running statistics), as torch's recipe for DistributedDataParallel."""
        out = module
        if isinstance(module, _BatchNorm) and not isinstance(module, SyncBatchNorm):
            out = SyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                                module.track_running_stats, process_group)
            if module.affine:
                out.weight, out.bias = module.weight, module.bias
            out.running_mean, out.running_var = module.running_mean, module.running_var
            out.num_batches_tracked = module.num_batches_tracked
            out.training = module.training
        for name, child in module.named_children():
            out.add_module(name, cls.convert_sync_batchnorm(child, process_group))
        return out
