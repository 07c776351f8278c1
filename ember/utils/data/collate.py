"""Turning a list of samples into one batch (`default_collate`), or converting one unbatched
sample (`default_convert`), with torch's rules for every container and number type.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from collections.abc import Callable
from typing import Any

import numpy

from ...creation import from_numpy, tensor
from ...dtypes import float64
from ...ops.join import stack
from ...tensor import Tensor

# numpy dtype codes of bytes, unicode and object arrays, which cannot become tensors
_STRING_OR_OBJECT = re.compile(r"[SaUO]")

default_collate_err_msg_format = (
    "default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; found {}"
)


def _array_to_tensor(array: numpy.ndarray) -> Tensor:
    if not array.flags.c_contiguous:
        array = array.copy(order="C")
    return from_numpy(array)


def collate_tensor_fn(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    """Tensors are stacked along a new first dimension (equal shapes required)."""
    return stack(batch, 0)


def collate_numpy_array_fn(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    """numpy arrays become tensors, then collate as tensors; string/object arrays cannot."""
    elem = batch[0]
    if _STRING_OR_OBJECT.search(elem.dtype.str) is not None:
        raise TypeError(default_collate_err_msg_format.format(elem.dtype))
    return collate([_array_to_tensor(b) for b in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    """numpy scalars keep their dtype."""
    return _array_to_tensor(numpy.asarray(batch))


def collate_float_fn(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python floats become a float64 tensor (as in torch)."""
    return tensor(batch, dtype=float64)


def collate_int_fn(batch: list, *, collate_fn_map: dict | None = None) -> Tensor:
    """Python ints become int64, bools bool (tensor() infers both)."""
    return tensor(batch)


def collate_str_fn(batch: list, *, collate_fn_map: dict | None = None) -> Any:
    """Strings and bytes are kept as given: a list (or a tuple for a field of tuple samples)."""
    return batch


# element type (or tuple of types) -> its collate function; copy and extend it to teach
# `collate` a new type, as with torch.utils.data._utils.collate.default_collate_fn_map
default_collate_fn_map: dict[type | tuple[type, ...], Callable] = {
    Tensor: collate_tensor_fn,
    numpy.ndarray: collate_numpy_array_fn,
    (numpy.bool_, numpy.number, numpy.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def collate(batch: list, *, collate_fn_map: dict[type | tuple[type, ...], Callable] | None = None
            ) -> Any:
    """Collate a batch: the function `collate_fn_map` gives for the first element's type (exact
    type first, then isinstance, in the map's order), else recurse into mappings, namedtuples
    and sequences. `default_collate` is this with `default_collate_fn_map`."""
    elem = batch[0]
    elem_type = type(elem)
    if collate_fn_map is not None:
        if elem_type in collate_fn_map:
            return collate_fn_map[elem_type](batch, collate_fn_map=collate_fn_map)
        for collate_type, fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return fn(batch, collate_fn_map=collate_fn_map)

    def recurse(samples: Any) -> Any:  # a list, or the tuple zip() made (kept: see collate_str_fn)
        return collate(samples, collate_fn_map=collate_fn_map)

    if isinstance(elem, collections.abc.Mapping):
        fields = {key: recurse([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)  # keeps the mapping's own type and attributes
                clone.update(fields)
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return elem_type(*(recurse(field) for field in zip(*batch, strict=True)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [recurse(field) for field in zip(*batch, strict=True)]
        if isinstance(elem, tuple):
            return fields  # torch returns a list for tuples (backwards compatibility)
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, field in enumerate(fields):
                    clone[i] = field
                return clone
            return elem_type(fields)
        except TypeError:
            return fields
    raise TypeError(default_collate_err_msg_format.format(elem_type))


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, recursing into dicts, tuples and lists.

    Tensors are stacked along a new first dimension; numpy arrays become tensors first; Python
    floats become float64, ints int64 and bools bool tensors; numpy scalars keep their dtype;
    strings and bytes are kept as a list. A batch of tuples gives a list of batched fields.

    >>> default_collate([(ember.zeros(2), 0), (ember.ones(2), 1)])
    [tensor([[0., 0.], [1., 1.]]), tensor([0, 1])]
    """
    return collate(batch, collate_fn_map=default_collate_fn_map)


def default_convert(data: Any) -> Any:
    """Convert one unbatched sample (DataLoader with `batch_size=None`): numpy arrays and numpy
    scalars become tensors, containers are converted recursively, everything else is kept."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, numpy.ndarray) and type(data).__module__ == "numpy":
        # numpy's own arrays (ndarray, memmap); subclasses from elsewhere, such as numpy.ma's
        # masked arrays, are kept as torch keeps them
        if _STRING_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return _array_to_tensor(numpy.asarray(data))
    if isinstance(data, numpy.generic) and not isinstance(data, numpy.str_):
        # every numpy scalar but str_ goes to a tensor (torch.as_tensor): datetime64, void and
        # bytes_ raise the TypeError of an unsupported dtype
        return _array_to_tensor(numpy.asarray(data))
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        fields = {key: default_convert(data[key]) for key in data}
        try:
            if isinstance(data, collections.abc.MutableMapping):
                clone = copy.copy(data)
                clone.update(fields)
                return clone
            return type(data)(fields)
        except TypeError:
            return fields
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(default_convert(d) for d in data))
    if isinstance(data, tuple):
        return [default_convert(d) for d in data]
    if isinstance(data, collections.abc.Sequence):
        converted = [default_convert(d) for d in data]
        try:
            if isinstance(data, collections.abc.MutableSequence):
                clone = copy.copy(data)
                for i, d in enumerate(converted):
                    clone[i] = d
                return clone
            return type(data)(converted)
        except TypeError:
            return converted
    return data
