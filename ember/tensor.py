"""`Tensor`: a backend array plus what autograd needs to know about it.

A tensor holds its array in `_data`. If it was computed by a recorded op, `grad_fn` is that op's
graph node; if it is a leaf created by the user with `requires_grad=True`, backward accumulates
into its `.grad`. The math methods (`x.exp()`, `x.sum(dim)`, ...) live in `tensor_methods.py`;
this file holds the tensor's state, its autograd controls and its conversions.
"""

from __future__ import annotations

import copy as _copy
import warnings
import weakref as _weakref_module
from typing import Any, Callable

from . import backend
from . import dtypes as _dtypes
from . import tensor_methods
from .autograd import engine as _engine
from .autograd import function as _function
from .autograd import finite_differences as _finite_differences
from .autograd import node as _node
from .autograd import inference_tensors as _inference_tensors
from .autograd.grad_mode import state as _grad_state
from .doctor.flags import flags as _doctor
from .size import Size
from .tensor_methods import TensorMethods

_new = object.__new__
_INFERENCE = False  # an inference_mode() region is open somewhere (autograd/inference_tensors)
_ndarray = backend.ndarray
_BF16 = backend.BFLOAT16  # ml_dtypes' bfloat16 (None without it)


class Tensor(TensorMethods):
    """A multi-dimensional array that can record the operations applied to it.

    >>> x = ember.tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    tensor([2., 4., 6.])
    """

    __slots__ = ("_data", "_requires_grad", "_grad", "grad_fn", "_vc", "_view", "_hooks",
                 "_output_nr", "__weakref__")

    __array_ufunc__ = None  # numpy defers to our reflected operators: ndarray * Tensor -> Tensor
    __array_priority__ = 1000
    __hash__ = object.__hash__

    # ------------------------------------------------------------------ construction
    def __init__(self, *args: Any, dtype: Any = None, device: Any = None) -> None:
        """Legacy constructor: `Tensor(2, 3)` (uninitialised) or `Tensor([1, 2])` (float data)."""
        from .creation import tensor_from_legacy_args  # noqa: PLC0415 (creation imports us)

        data = tensor_from_legacy_args(args, dtype, device)
        Tensor._init_slots(self, data, False, None)

    @staticmethod
    def _init_slots(t: Tensor, data: Any, requires_grad: bool, grad_fn: Any) -> None:
        t._data = data
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._vc = None
        t._view = None
        t._hooks = None
        t._output_nr = 0
        if _INFERENCE and _grad_state.inference:
            _inference_tensors.mark(t)

    @staticmethod
    def _make(data: Any, requires_grad: bool = False, grad_fn: Any = None) -> Tensor:
        """Wrap a backend array without copying (the fast path every op uses)."""
        t = _new(Tensor)
        t._data = data
        t._requires_grad = requires_grad
        t._grad = None
        t.grad_fn = grad_fn
        t._vc = None
        t._view = None
        t._hooks = None
        t._output_nr = 0
        if _INFERENCE and _grad_state.inference:  # made inside inference_mode()
            _inference_tensors.mark(t)
        return t

    # ------------------------------------------------------------------ basic properties
    @property
    def shape(self) -> Size:
        return Size(self._data.shape)

    def size(self, dim: int | None = None) -> Any:
        if dim is None:
            return Size(self._data.shape)
        return self._data.shape[self._wrap_dim(dim)]

    @property
    def dtype(self) -> _dtypes.dtype:
        return _dtypes.FROM_NUMPY[self._data.dtype]

    @property
    def device(self) -> backend.device:
        return backend.device_of(self._data)

    @property
    def is_cuda(self) -> bool:
        return self.device.type == "cuda"

    @property
    def is_cpu(self) -> bool:
        return self.device.type == "cpu"

    @property
    def ndim(self) -> int:
        return self._data.ndim

    def dim(self) -> int:
        return self._data.ndim

    ndimension = dim

    def numel(self) -> int:
        return int(self._data.size)

    nelement = numel

    def element_size(self) -> int:
        return self._data.itemsize

    @property
    def itemsize(self) -> int:
        return self._data.itemsize

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes)

    def is_floating_point(self) -> bool:
        return self._data.dtype.kind in "fV"  # "V": bfloat16 (ml_dtypes), Ember's one void kind

    def is_complex(self) -> bool:
        return self._data.dtype.kind == "c"

    def is_contiguous(self, memory_format: Any = None) -> bool:
        if memory_format is None:
            return bool(self._data.flags.c_contiguous)
        from . import memory_layout as mf  # noqa: PLC0415

        fmt = mf.check(memory_format, self._data.ndim, "is_contiguous")
        if fmt is mf.preserve_format:
            fmt = mf.contiguous_format  # torch asks the plain question here
        return mf.is_laid_out(self._data, fmt)

    def stride(self, dim: int | None = None) -> Any:
        itemsize = self._data.itemsize
        strides = [s // itemsize for s in self._data.strides]
        shape = self._data.shape
        for d in range(len(shape) - 1, -1, -1):
            if shape[d] == 1 and strides[d] == 0:  # numpy's newaxis; torch's unsqueeze rule
                strides[d] = shape[d + 1] * strides[d + 1] if d + 1 < len(shape) else 1
        strides = tuple(strides)
        return strides if dim is None else strides[self._wrap_dim(dim)]

    def data_ptr(self) -> int:
        data = self._data
        if data.__class__ is _ndarray:
            return int(data.__array_interface__["data"][0])
        return int(data.data.ptr)

    def storage_offset(self) -> int:
        """How many elements into the memory it views this tensor starts."""
        root = self._data
        while isinstance(root.base, type(self._data)):
            root = root.base
        return (self.data_ptr() - Tensor._make(root).data_ptr()) // self._data.itemsize

    def is_signed(self) -> bool:
        return self.dtype.is_signed

    def _wrap_dim(self, dim: int) -> int:
        n = max(self._data.ndim, 1)
        if not -n <= dim < n:
            raise IndexError(
                f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], "
                f"but got {dim})"
            )
        return dim % n

    # ------------------------------------------------------------------ autograd state
    @property
    def grad(self) -> Tensor | None:
        """The gradient backward accumulated here (leaves and retain_grad tensors), or None."""
        return self._grad

    @grad.setter
    def grad(self, value: Tensor | None) -> None:
        if value is not None:
            if not isinstance(value, Tensor):
                raise TypeError(f"assigned grad expected to be a Tensor or None but got grad of "
                                f"type {type(value).__name__}")
            if value._data.dtype != self._data.dtype:
                raise RuntimeError(f"attempting to assign a gradient with dtype "
                                   f"'{value.dtype}' to a tensor with dtype '{self.dtype}'. "
                                   "Please ensure that the gradient and the tensor have the same "
                                   "dtype")
            if value._data.shape != self._data.shape:
                raise RuntimeError(f"attempting to assign a gradient of size "
                                   f"'{list(value._data.shape)}' to a tensor of size "
                                   f"'{list(self._data.shape)}'. Please ensure that the gradient "
                                   "and the tensor are the same size")
            if value.device != self.device:
                raise RuntimeError(f"attempting to assign a gradient located on device "
                                   f"'{value.device}' to a tensor located on device "
                                   f"'{self.device}'. Please ensure that the gradient and the "
                                   "tensor are on the same device")
        self._grad = value

    @property
    def requires_grad(self) -> bool:
        if self._view is not None:
            _node.refresh_view(self)
        return self._requires_grad

    @requires_grad.setter
    def requires_grad(self, flag: bool) -> None:
        self.requires_grad_(flag)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Mark a leaf tensor as a parameter to differentiate with respect to (in place)."""
        if requires_grad.__class__ is not bool:
            raise TypeError(f"requires_grad_(): argument 'requires_grad' (position 1) must be "
                            f"bool, not {type(requires_grad).__name__}")
        if self.grad_fn is not None:
            if not requires_grad:
                raise RuntimeError(
                    "you can only change requires_grad flags of leaf variables. If you want to "
                    "use a computed variable in a subgraph that doesn't require differentiation "
                    "use var_no_grad = var.detach()."
                )
            return self
        if requires_grad and self._data.dtype.kind not in "fcV":
            raise RuntimeError(
                "Only Tensors of floating point and complex dtype can require gradients "
                f"(this tensor is {self.dtype}); convert it first, e.g. x.float()"
            )
        self._requires_grad = bool(requires_grad)
        return self

    @property
    def is_leaf(self) -> bool:
        if self._view is not None:
            _node.refresh_view(self)
        return self.grad_fn is None

    @property
    def output_nr(self) -> int:
        return self._output_nr

    @property
    def _version(self) -> int:
        vc = self._vc
        return vc[0] if vc is not None else 0

    def _bump_version(self) -> None:
        vc = self._vc
        if vc is None:
            self._vc = [1]
        else:
            vc[0] += 1

    def _shared_version_counter(self) -> list:
        if self._vc is None:
            self._vc = [0]
        return self._vc

    @property
    def _base(self) -> Tensor | None:
        """The tensor whose memory this view shares (None if this is not a view)."""
        return self._view[0] if self._view is not None else None

    def _is_view(self) -> bool:
        return self._view is not None

    @property
    def data(self) -> Tensor:
        """The same memory as a new tensor outside autograd (in-place changes are not tracked)."""
        if self._requires_grad and _doctor.cuts:  # the doctor notes where graphs get cut
            _doctor.cut("data", self)
        out = Tensor._make(self._data)
        return out

    @data.setter
    def data(self, value: Tensor) -> None:
        if not isinstance(value, Tensor):
            raise TypeError(f"data must be a Tensor, got {type(value).__name__}")
        self._data = value._data

    def detach(self) -> Tensor:
        """A tensor sharing this one's memory but cut off from the graph."""
        if self._requires_grad and _doctor.cuts:  # the doctor notes where graphs get cut
            _doctor.cut("detach", self)
        out = Tensor._make(self._data)
        out._vc = self._shared_version_counter()  # not a view for autograd, as in torch
        return out

    def detach_(self) -> Tensor:
        if self._view is not None:  # torch refuses every view, not only those of graph tensors
            raise RuntimeError("Can't detach views in-place. Use detach() instead.")
        self.grad_fn = None
        self._requires_grad = False
        return self

    def retain_grad(self) -> None:
        """Keep `.grad` for this non-leaf tensor after backward (leaves always keep it)."""
        if self._view is not None:
            _node.refresh_view(self)
        if self.grad_fn is None:
            if not self._requires_grad:
                raise RuntimeError("can't retain_grad on Tensor that has requires_grad=False")
            return
        if self.retains_grad:
            return
        ref = _weakref(self)

        def retain(grad: Tensor) -> None:
            t = ref()
            if t is None:
                return
            if t._grad is None:
                t._grad = grad if _grad_state.create_graph else Tensor._make(grad._data.copy())
            else:
                t._grad = t._grad + grad

        retain._ember_retain = True  # type: ignore[attr-defined]
        hooks = _node.tensor_hooks.setdefault(self.grad_fn, {})
        hooks.setdefault(self._output_nr, []).append(retain)

    @property
    def retains_grad(self) -> bool:
        if self.grad_fn is None:
            return False
        hooks = _node.tensor_hooks.get(self.grad_fn, {}).get(self._output_nr, [])
        return any(getattr(h, "_ember_retain", False) for h in hooks)

    def register_hook(self, hook: Callable[[Tensor], Tensor | None]) -> Any:
        """Call `hook(grad)` when this tensor's gradient is computed; it may return a new grad."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is None:
            if self._hooks is None:
                self._hooks = []
            hooks = self._hooks
        else:
            hooks = _node.tensor_hooks.setdefault(self.grad_fn, {}).setdefault(
                self._output_nr, [])
            # user hooks run before the retain_grad hook, as in torch
            retain = [h for h in hooks if getattr(h, "_ember_retain", False)]
            for h in retain:
                hooks.remove(h)
            hooks.append(hook)
            hooks.extend(retain)
            return _node._RemovableHandle(hooks, hook)
        hooks.append(hook)
        return _node._RemovableHandle(hooks, hook)

    def register_post_accumulate_grad_hook(self, hook: Callable[[Tensor], None]) -> Any:
        """Call `hook(tensor)` after backward has accumulated into this leaf's `.grad`."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        table = _node.post_accumulate_hooks
        key = id(self)
        entry = table.get(key)
        if entry is None or entry[0]() is not self:
            entry = table[key] = (_weakref_with_cleanup(self, table, key), [])
        hooks = entry[1]
        hooks.append(hook)
        return _node._RemovableHandle(hooks, hook)

    def backward(
        self,
        gradient: Any = None,
        retain_graph: bool | None = None,
        create_graph: bool = False,
        inputs: Any = None,
    ) -> None:
        """Compute d(self)/d(leaf) for every leaf and accumulate it into `leaf.grad`."""
        _engine.backward(self, gradient, retain_graph, create_graph, inputs)

    # ------------------------------------------------------------------ conversion
    def item(self) -> Any:
        if self._requires_grad and _doctor.cuts:
            _doctor.cut("item", self)
        if self._data.size != 1:
            raise RuntimeError(
                f"a Tensor with {self._data.size} elements cannot be converted to Scalar "
                "(item() needs exactly one element)"
            )
        return self._data.reshape(()).item() if self._data.ndim else self._data.item()

    def tolist(self) -> Any:
        if self._requires_grad and _doctor.cuts:
            _doctor.cut("tolist", self)
        return backend.to_numpy(self._data).tolist()

    def numpy(self, *, force: bool = False) -> Any:
        """The numpy array behind this CPU tensor (shared memory, like torch)."""
        if self._requires_grad and not force and _grad_state.enabled:  # torch: fine in no_grad
            raise RuntimeError(
                "Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() "
                "instead."
            )
        if self._data.dtype is _BF16 and not force:  # torch has no numpy bfloat16 either
            raise TypeError("Got unsupported ScalarType BFloat16")
        if self._data.__class__ is not _ndarray:
            if not force:
                raise TypeError(
                    f"can't convert {self.device} device type tensor to numpy. Use "
                    "Tensor.cpu() to copy the tensor to host memory first."
                )
            return backend.to_numpy(self._data)
        return self._data

    def __array__(self, dtype: Any = None, copy: Any = None) -> Any:
        arr = self.numpy()
        if dtype is not None:
            arr = arr.astype(dtype, copy=False)
        return arr.copy() if copy else arr

    def __dlpack__(self, stream: Any = None, **kwargs: Any) -> Any:
        """Export without a copy (a copy is made only for layouts DLPack cannot express)."""
        if self._requires_grad:
            raise BufferError(
                "Can't export tensors that require gradient, use tensor.detach()"
            )
        data = self._data
        if not backend.is_writeable(data) or any(s < 0 for s in data.strides):
            data = data.copy()
        if stream is None:
            return data.__dlpack__(**kwargs)
        return data.__dlpack__(stream=stream, **kwargs)

    def __dlpack_device__(self) -> tuple:
        return self._data.__dlpack_device__()

    def __float__(self) -> float:
        if self._requires_grad:  # torch's words (it warns for float(), not int() or item())
            warnings.warn("Converting a tensor with requires_grad=True to a scalar may lead to "
                          "unexpected behavior.\nConsider using tensor.detach() first.",
                          stacklevel=2)
        return float(self._scalar("float"))

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __bool__(self) -> bool:
        if self._data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with more than one value is ambiguous "
                f"(shape {tuple(self.shape)}); use .any() or .all()"
            )
        return bool(self._data.reshape(()).item())

    def __index__(self) -> int:
        if self._data.dtype.kind not in "iub" or self._data.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self._data.reshape(()).item())

    def _scalar(self, kind: str) -> Any:
        if self._data.size != 1:
            raise ValueError(f"only one element tensors can be converted to Python scalars "
                             f"({kind}() of a tensor with {self._data.size} elements)")
        return self._data.reshape(()).item()

    def __len__(self) -> int:
        if self._data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self._data.shape[0]

    def __iter__(self) -> Any:
        if self._data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __reversed__(self) -> Tensor:
        """A tensor, as torch: self.flip(0) (a 0-d tensor is itself)."""
        return self if self._data.ndim == 0 else self.flip(0)

    def __contains__(self, element: Any) -> bool:
        return bool((self == element).any())

    def __format__(self, spec: str) -> str:
        if self._data.ndim == 0:  # torch formats 0-d tensors as their Python number
            return self.item().__format__(spec)
        return object.__format__(self, spec) if spec else repr(self)

    def __repr__(self, *, tensor_contents: Any = None) -> str:
        from ._tensor_str import format_tensor  # noqa: PLC0415 (kept off the import path)

        return format_tensor(self)

    def __deepcopy__(self, memo: dict) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment. If you were attempting to deepcopy a module, "
                "this may be because of a torch.nn.utils.weight_norm usage, see "
                "https://github.com/pytorch/pytorch/pull/103001"
            )
        if id(self) in memo:
            return memo[id(self)]
        new = type(self).__new__(type(self))
        Tensor._init_slots(new, self._data.copy(), self._requires_grad, None)
        if self.grad is not None:
            new.grad = _copy.deepcopy(self.grad, memo)
        extra = getattr(self, "__dict__", None)
        if extra:
            new.__dict__.update(_copy.deepcopy(extra, memo))
        memo[id(self)] = new
        return new

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_tensor, (backend.to_numpy(self._data), self._requires_grad,
                                  str(self.device)))

    def __getstate__(self) -> Any:  # pragma: no cover (pickling goes through __reduce_ex__)
        return None


def _rebuild_tensor(array: Any, requires_grad: bool, device: str) -> Tensor:
    data = backend.to_device(array, backend.as_device(device))
    t = Tensor._make(data)
    t._requires_grad = requires_grad
    return t


def _weakref(t: Tensor) -> Any:
    import weakref  # noqa: PLC0415

    return weakref.ref(t)


# The autograd modules and the op modules need the class; they are wired up here, once it exists.
_node.Tensor = Tensor
_engine.Tensor = Tensor
_function.Tensor = Tensor
_finite_differences.Tensor = Tensor
tensor_methods.bind_ops()


def _weakref_with_cleanup(t: Tensor, table: dict, key: int) -> Any:
    """A weak reference that removes the tensor's entry from `table` when the tensor dies."""
    def drop(ref: Any) -> None:
        entry = table.get(key)
        if entry is not None and entry[0] is ref:
            del table[key]

    return _weakref_module.ref(t, drop)
