"""Lazy modules (torch.nn.modules.lazy): layers whose input size is read off the first batch.

    fc = nn.LazyLinear(10)        # in_features unknown: weight is an UninitializedParameter
    fc(torch.randn(32, 784))      # dry run: weight becomes (10, 784), fc becomes an nn.Linear

Until the first forward the parameters (and BatchNorm's running statistics) are placeholders
that refuse to be used; the first forward gives them their shapes, initialises them as the
normal layer does, and turns the module into that layer's class (`cls_to_become`). The
placeholders are the very objects the module keeps, so an optimizer built before the dry run
still updates them.
"""

from __future__ import annotations

import itertools
from typing import Any

from ... import creation, dtypes
from ...autograd.grad_mode import no_grad
from ...backend import numpy  # the CPU placeholder storage below is a numpy subclass
from ...ops._util import WordedValueError
from ...tensor import Tensor
from ..parameter import Parameter
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d, _BatchNorm, _NormBase
from .conv import Conv1d, Conv2d, Conv3d, ConvTranspose1d, ConvTranspose2d, ConvTranspose3d
from .linear import Linear
from .normalization import InstanceNorm1d, InstanceNorm2d, InstanceNorm3d, _InstanceNorm

_USE_ERROR = ("Attempted to use an uninitialized parameter in {}. This error happens when you "
              "are using a `LazyModule` or explicitly manipulating "
              "`torch.nn.parameter.{}` objects. When using LazyModules Call `forward` with a "
              "dummy batch to initialize the parameters before calling torch functions")


class _UnmaterializedArray(numpy.ndarray):
    """A placeholder's CPU storage: numpy computing with it (ufuncs, array functions,
    indexing) raises torch's ValueError, so arithmetic on a lazy parameter before the dry run
    fails loudly instead of returning empty tensors."""

    kind = "UninitializedParameter"

    def _refuse(self, what: Any) -> Any:
        raise WordedValueError(_USE_ERROR.format(what, self.kind))

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        return self._refuse(ufunc if method == "__call__" else f"{ufunc}.{method}")

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        return self._refuse(func.__name__)

    def __getitem__(self, key: Any) -> Any:
        return self._refuse("__getitem__")


def _placeholder_storage(data: Any, kind: str) -> Any:
    """The empty storage of a placeholder: refusing to compute on the CPU (a GPU array keeps
    the plain empty array)."""
    if type(data) is not numpy.ndarray:
        return data
    array = data.view(_UnmaterializedArray)
    array.kind = kind
    return array


class UninitializedTensorMixin:
    """What UninitializedParameter and UninitializedBuffer share: an empty placeholder that
    knows its dtype and device, refuses shape queries, and `materialize`s in place."""

    __slots__ = ()
    cls_to_become: type

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        """Give the placeholder real (uninitialised) storage of `shape`; it becomes a plain
        `cls_to_become` (Parameter or Tensor) object, the same object."""
        if isinstance(shape, int):
            shape = (shape,)
        device = self._data_device() if device is None else device
        dtype = self.dtype if dtype is None else dtype
        self._data = creation.empty(tuple(shape), device=device, dtype=dtype)._data
        self.__class__ = self.cls_to_become

    def _data_device(self) -> Any:
        return Tensor.device.__get__(self)

    @property
    def shape(self) -> Any:
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error "
            "usually happens in `load_state_dict` when trying to load an uninitialized "
            "parameter into an initialized one. Call `forward` to initialize the parameters "
            "before accessing their attributes.")

    def _refuse(self, what: str) -> Any:
        raise ValueError(_USE_ERROR.format(what, type(self).__name__))

    def numel(self) -> int:
        return self._refuse("numel")

    def numpy(self, *, force: bool = False) -> Any:
        return self._refuse("numpy")

    def tolist(self) -> Any:
        return self._refuse("tolist")

    def item(self) -> Any:
        return self._refuse("item")

    def dim(self) -> int:
        return self._refuse("dim")

    @property
    def ndim(self) -> int:
        return self._refuse("ndim")

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def __reduce_ex__(self, protocol: int) -> Any:
        return (type(self), (self.requires_grad,))


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """A Parameter with no shape yet (a lazy module's weight before its first forward)."""

    cls_to_become = Parameter

    def __new__(cls, requires_grad: bool = True, device: Any = None,
                dtype: Any = None) -> UninitializedParameter:
        return Tensor.__new__(cls)

    def __init__(self, requires_grad: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        Parameter.__init__(self, creation.empty(0, device=device, dtype=dtype), requires_grad)
        self._data = _placeholder_storage(self._data, "UninitializedParameter")


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer with no shape yet (a lazy BatchNorm's running statistics)."""

    __slots__ = ()
    cls_to_become = Tensor

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None,
                 persistent: bool = True) -> None:
        data = creation.empty(0, device=device, dtype=dtype)
        Tensor._init_slots(self, _placeholder_storage(data._data, "UninitializedBuffer"), False,
                           None)
        self.requires_grad_(requires_grad)


def is_lazy(param: Any) -> bool:
    """Whether `param` is still an uninitialized placeholder."""
    return isinstance(param, UninitializedTensorMixin)


class LazyModuleMixin:
    """Mixed in before a layer class: infers the missing sizes at the first forward
    (`initialize_parameters`), then the module becomes `cls_to_become`."""

    cls_to_become: type | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._load_hook = self.register_load_state_dict_pre_hook(LazyModuleMixin._lazy_load_hook)
        self._initialize_hook = self.register_forward_pre_hook(
            LazyModuleMixin._infer_parameters, with_kwargs=True)

    def has_uninitialized_params(self) -> bool:
        """Whether some parameter or buffer still waits for the first forward."""
        return any(is_lazy(t) for t in itertools.chain(self._parameters.values(),
                                                          self._buffers.values()))

    def initialize_parameters(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            f"initialize_parameters is not implemented for {type(self).__name__}")

    def _infer_parameters(self, args: tuple, kwargs: dict | None = None) -> None:
        with no_grad():
            self.initialize_parameters(*args, **(kwargs or {}))
        if self.has_uninitialized_params():
            raise RuntimeError(f"module {self._get_name()} has not been fully initialized")
        self._initialize_hook.remove()
        self._load_hook.remove()
        del self._initialize_hook
        del self._load_hook
        if self.cls_to_become is not None:
            self.__class__ = self.cls_to_become

    def _lazy_load_hook(self, state_dict: dict, prefix: str, *args: Any) -> None:
        # an initialised checkpoint gives the placeholders their shapes before the copy
        for name, t in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if key in state_dict and t is not None and is_lazy(t):
                value = state_dict[key]
                if not is_lazy(value):
                    with no_grad():
                        t.materialize(tuple(value.shape))

    def _save_to_state_dict(self, destination: dict, prefix: str, keep_vars: bool) -> None:
        # placeholders are saved as themselves (torch's state_dict shows <UninitializedParameter>)
        for name, p in self._parameters.items():
            if p is not None:
                destination[prefix + name] = p if (keep_vars or is_lazy(p)) else p.detach()
        for name, b in self._buffers.items():
            if b is not None and name not in self._non_persistent_buffers_set:
                destination[prefix + name] = b if (keep_vars or is_lazy(b)) else b.detach()

    def _load_from_state_dict(self, state_dict: dict, prefix: str, local_metadata: dict,
                              strict: bool, missing: list, unexpected: list,
                              errors: list) -> None:
        # entries still lazy on both sides have nothing to copy
        skipped = {}
        for name, t in itertools.chain(self._parameters.items(), self._buffers.items()):
            key = prefix + name
            if is_lazy(t) and key in state_dict and is_lazy(state_dict[key]):
                skipped[key] = state_dict.pop(key)
        try:
            super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing,
                                          unexpected, errors)
        finally:
            state_dict.update(skipped)
        for key in skipped:
            if key in missing:
                missing.remove(key)

    def _apply(self, fn: Any, recurse: bool = True) -> Any:
        # .to()/.double() on a placeholder buffer must keep it a placeholder (new dtype/device)
        lazy = {n for n, b in self._buffers.items() if is_lazy(b)}
        super()._apply(fn, recurse)
        for name in lazy:
            b = self._buffers[name]
            if not is_lazy(b):
                placeholder = UninitializedBuffer()
                placeholder._data = b._data
                self._buffers[name] = placeholder
        return self

    def _replicate_for_data_parallel(self) -> Any:
        raise RuntimeError("Modules with uninitialized parameters can't be used with "
                           "`DataParallel`. Run a dummy forward pass to correctly initialize "
                           "the modules")


# ---------------------------------------------------------------------- Linear


class LazyLinear(LazyModuleMixin, Linear):
    """nn.Linear whose in_features is input.shape[-1] at the first forward."""

    cls_to_become = Linear

    def __init__(self, out_features: int, bias: bool = True, device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(0, 0, False)
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        self.out_features = out_features
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        if self.has_uninitialized_params():
            self.in_features = _size(input, -1, self)
            self.weight.materialize((self.out_features, self.in_features))
            if self.bias is not None:
                self.bias.materialize((self.out_features,))
            self.reset_parameters()


def _size(input: Any, dim: int, layer: Any) -> int:
    if not isinstance(input, Tensor):
        raise TypeError(f"{type(layer).__name__}: expected a Tensor input to infer its size "
                        f"from, got {type(input).__name__}")
    if input.ndim <= (dim if dim >= 0 else -dim - 1):
        raise ValueError(f"{type(layer).__name__}: cannot infer the input size from dim {dim} "
                         f"of an input of shape {list(input.shape)}")
    return int(input.shape[dim])


# ---------------------------------------------------------------------- convolutions


class _LazyConvXdMixin(LazyModuleMixin):
    """in_channels is input.shape[1] (batched) or input.shape[0] (unbatched)."""

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.in_channels != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor, *args: Any, **kwargs: Any) -> None:
        if not self.has_uninitialized_params():
            return
        self.in_channels = self._get_in_channels(input)
        if self.in_channels % self.groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if self.transposed:
            shape = (self.in_channels, self.out_channels // self.groups, *self.kernel_size)
        else:
            shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight.materialize(shape)
        if self.bias is not None:
            self.bias.materialize((self.out_channels,))
        self.reset_parameters()

    def _get_in_channels(self, input: Tensor) -> int:
        n = self._spatial + 1  # channels + spatial dims, without the batch
        if not isinstance(input, Tensor) or input.ndim not in (n, n + 1):
            got = list(input.shape) if isinstance(input, Tensor) else type(input).__name__
            raise RuntimeError(f"Expected {n}D (unbatched) or {n + 1}D (batched) input to "
                               f"{type(self).__name__}, but got input of size: {got}")
        return int(input.shape[1] if input.ndim == n + 1 else input.shape[0])

    def _lazy_placeholders(self, bias: bool, device: Any, dtype: Any) -> None:
        self.weight = UninitializedParameter(device=device, dtype=dtype)
        if bias:
            self.bias = UninitializedParameter(device=device, dtype=dtype)


class _LazyConvNd(_LazyConvXdMixin):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 dilation: Any = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: Any = None, dtype: Any = None) -> None:
        # in_channels is 0 until the first forward; bias is made lazily below
        super().__init__(0, 0, kernel_size, stride, padding, dilation, groups, False,
                         padding_mode, device=device, dtype=dtype)
        self.out_channels = out_channels
        self._lazy_placeholders(bias, device, dtype)


class _LazyConvTransposeNd(_LazyConvXdMixin):
    def __init__(self, out_channels: int, kernel_size: Any, stride: Any = 1, padding: Any = 0,
                 output_padding: Any = 0, groups: int = 1, bias: bool = True,
                 dilation: Any = 1, padding_mode: str = "zeros", device: Any = None,
                 dtype: Any = None) -> None:
        super().__init__(0, 0, kernel_size, stride, padding, output_padding, groups, False,
                         dilation, padding_mode, device=device, dtype=dtype)
        self.out_channels = out_channels
        self._lazy_placeholders(bias, device, dtype)


class LazyConv1d(_LazyConvNd, Conv1d):
    """nn.Conv1d whose in_channels is read off the first input."""

    cls_to_become = Conv1d


class LazyConv2d(_LazyConvNd, Conv2d):
    """nn.Conv2d whose in_channels is read off the first input."""

    cls_to_become = Conv2d


class LazyConv3d(_LazyConvNd, Conv3d):
    """nn.Conv3d whose in_channels is read off the first input."""

    cls_to_become = Conv3d


class LazyConvTranspose1d(_LazyConvTransposeNd, ConvTranspose1d):
    """nn.ConvTranspose1d whose in_channels is read off the first input."""

    cls_to_become = ConvTranspose1d


class LazyConvTranspose2d(_LazyConvTransposeNd, ConvTranspose2d):
    """nn.ConvTranspose2d whose in_channels is read off the first input."""

    cls_to_become = ConvTranspose2d


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d):
    """nn.ConvTranspose3d whose in_channels is read off the first input."""

    cls_to_become = ConvTranspose3d


# ---------------------------------------------------------------------- normalization


class _LazyNormBase(LazyModuleMixin, _NormBase):
    """num_features is input.shape[1]; note that, as in torch, the lazy InstanceNorms
    default to affine=True and track_running_stats=True."""

    def __init__(self, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: Any = None, dtype: Any = None,
                 *, bias: bool = True) -> None:
        # built with affine=False and no statistics: the placeholders take their places
        super().__init__(0, eps, momentum, False, False, device, dtype)
        self.affine = affine
        self.track_running_stats = track_running_stats
        if affine:
            self.weight = UninitializedParameter(device=device, dtype=dtype)
            if bias:
                self.bias = UninitializedParameter(device=device, dtype=dtype)
        if track_running_stats:
            self.register_buffer("running_mean", UninitializedBuffer(device=device,
                                                                     dtype=dtype))
            self.register_buffer("running_var", UninitializedBuffer(device=device,
                                                                    dtype=dtype))
            self.register_buffer("num_batches_tracked",
                                 creation.tensor(0, dtype=dtypes.int64, device=device))

    def reset_parameters(self) -> None:
        if not self.has_uninitialized_params() and self.num_features != 0:
            super().reset_parameters()

    def initialize_parameters(self, input: Tensor) -> None:
        if not self.has_uninitialized_params():
            return
        self.num_features = _size(input, 1, self)
        if self.affine:
            self.weight.materialize((self.num_features,))
            if self.bias is not None:
                self.bias.materialize((self.num_features,))
        if self.track_running_stats:
            self.running_mean.materialize((self.num_features,))
            self.running_var.materialize((self.num_features,))
        self.reset_parameters()


class LazyBatchNorm1d(_LazyNormBase, _BatchNorm):
    """nn.BatchNorm1d whose num_features is input.shape[1] at the first forward."""

    cls_to_become = BatchNorm1d
    _expected_dims = BatchNorm1d._expected_dims


class LazyBatchNorm2d(_LazyNormBase, _BatchNorm):
    """nn.BatchNorm2d whose num_features is input.shape[1] at the first forward."""

    cls_to_become = BatchNorm2d
    _expected_dims = BatchNorm2d._expected_dims


class LazyBatchNorm3d(_LazyNormBase, _BatchNorm):
    """nn.BatchNorm3d whose num_features is input.shape[1] at the first forward."""

    cls_to_become = BatchNorm3d
    _expected_dims = BatchNorm3d._expected_dims


class LazyInstanceNorm1d(_LazyNormBase, _InstanceNorm):
    """nn.InstanceNorm1d whose num_features is input.shape[1] at the first forward."""

    cls_to_become = InstanceNorm1d
    _spatial = 1


class LazyInstanceNorm2d(_LazyNormBase, _InstanceNorm):
    """nn.InstanceNorm2d whose num_features is input.shape[1] at the first forward."""

    cls_to_become = InstanceNorm2d
    _spatial = 2


class LazyInstanceNorm3d(_LazyNormBase, _InstanceNorm):
    """nn.InstanceNorm3d whose num_features is input.shape[1] at the first forward."""

    cls_to_become = InstanceNorm3d
    _spatial = 3
