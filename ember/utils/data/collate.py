"""Turning a list of samples into one batch (`default_collate`), or converting one unbatched
sample (`default_convert`), with torch's rules for every container and number type.
"""

from __future__ import annotations

import collections.abc
import copy
import re
from typing import Any

import numpy

from ...creation import from_numpy, tensor
from ...dtypes import float64
from ...ops.join import stack
from ...tensor import Tensor

# numpy dtype codes of bytes, unicode and object arrays, which cannot become tensors
_STRING_OR_OBJECT = re.compile(r"[SaUO]")

_ERROR = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
          "found {}")


def _array_to_tensor(array: numpy.ndarray) -> Tensor:
    if not array.flags.c_contiguous:
        array = array.copy(order="C")
    return from_numpy(array)


def default_collate(batch: list) -> Any:
    """Stack a list of samples into a batch, recursing into dicts, tuples and lists.

    Tensors are stacked along a new first dimension; numpy arrays become tensors first; Python
    floats become float64, ints int64 and bools bool tensors; numpy scalars keep their dtype;
    strings and bytes are kept as a list. A batch of tuples gives a list of batched fields.

    >>> default_collate([(ember.zeros(2), 0), (ember.ones(2), 1)])
    [tensor([[0., 0.], [1., 1.]]), tensor([0, 1])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return stack(batch, 0)
    if isinstance(elem, numpy.ndarray):
        if _STRING_OR_OBJECT.search(elem.dtype.str) is not None:
            raise TypeError(_ERROR.format(elem.dtype))
        return default_collate([_array_to_tensor(b) for b in batch])
    if isinstance(elem, (numpy.bool_, numpy.number, numpy.object_)):
        return _array_to_tensor(numpy.asarray(batch))  # numpy scalars keep their dtype
    if isinstance(elem, float):
        return tensor(batch, dtype=float64)
    if isinstance(elem, int):  # bools included: tensor() infers bool for them
        return tensor(batch)
    if isinstance(elem, (str, bytes)):
        return batch  # as given: a list, or a tuple when it is a field of tuple samples
    if isinstance(elem, collections.abc.Mapping):
        fields = {key: default_collate([d[key] for d in batch]) for key in elem}
        try:
            if isinstance(elem, collections.abc.MutableMapping):
                clone = copy.copy(elem)  # keeps the mapping's own type and attributes
                clone.update(fields)
                return clone
            return type(elem)(fields)
        except TypeError:
            return fields
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(field) for field in zip(*batch, strict=True)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if any(len(sample) != size for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(field) for field in zip(*batch, strict=True)]
        if isinstance(elem, tuple):
            return fields  # torch returns a list for tuples (backwards compatibility)
        try:
            if isinstance(elem, collections.abc.MutableSequence):
                clone = copy.copy(elem)
                for i, field in enumerate(fields):
                    clone[i] = field
                return clone
            return type(elem)(fields)
        except TypeError:
            return fields
    raise TypeError(_ERROR.format(type(elem)))


def default_convert(data: Any) -> Any:
    """Convert one unbatched sample (DataLoader with `batch_size=None`): numpy arrays and numpy
    scalars become tensors, containers are converted recursively, everything else is kept."""
    if isinstance(data, Tensor):
        return data
    if isinstance(data, numpy.ndarray):
        if _STRING_OR_OBJECT.search(data.dtype.str) is not None:
            return data
        return _array_to_tensor(data)
    if isinstance(data, (numpy.bool_, numpy.number)):
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
