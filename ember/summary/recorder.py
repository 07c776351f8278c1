"""Forward hooks that record one LayerSummary per module call, following each tensor's
receptive field from the layer that produced it."""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import Any

from .. import nn
from ..tensor import Tensor
from .layer_math import DENSE_KINDS, KINDS, SPATIAL_KINDS, Field, count_macs, propagate


@dataclass
class LayerSummary:
    """One call of one module during the summary's forward pass."""

    path: str  # dotted path in the model, "" for the model itself
    class_name: str
    depth: int  # 0 for the model, 1 for its children, ...
    kind: str | None = None  # "conv", "pool", "linear", "norm", ... or None
    input_shapes: list = field(default_factory=list)
    output_shapes: list = field(default_factory=list)
    num_params: int = 0  # parameters of the module and its submodules
    own_params: int = 0  # parameters registered on the module itself
    trainable_params: int = 0
    macs: int = 0  # this module's own MACs (0 for containers)
    subtree_macs: int = 0  # MACs of this call including every nested call
    output_bytes: int = 0
    kernel_size: Any = None
    is_leaf: bool = True
    is_recursive: bool = False  # the module was called before (shared weights)
    has_spatial: bool = False  # the module or one inside it is a convolution or pooling
    receptive_field: tuple | None = None  # per spatial dim; None when whole_input
    jump: tuple | None = None
    whole_input: bool = False

    @property
    def output_shape(self) -> tuple | None:
        return self.output_shapes[0] if self.output_shapes else None

    @property
    def shows_receptive_field(self) -> bool:
        return self.kind in SPATIAL_KINDS or (self.kind in DENSE_KINDS and self.whole_input)


def tensors_in(obj: Any) -> list:
    """The tensors in a (nested) output or argument structure, in order."""
    if isinstance(obj, Tensor):
        return [obj]
    if isinstance(obj, (tuple, list)):
        return [t for item in obj for t in tensors_in(item)]
    if isinstance(obj, dict):
        return [t for item in obj.values() for t in tensors_in(item)]
    return []


class Recorder:
    """Forward hooks that build one LayerSummary per module call and follow each tensor's
    receptive field from the layer that produced it."""

    def __init__(self, model: Any) -> None:
        self.names = {id(m): name for name, m in model.named_modules()}
        self.rows: list[LayerSummary] = []
        self.stack: list[LayerSummary] = []
        self.called: set[int] = set()
        self.kinds: dict[type, tuple] = {}
        self.fields: dict[int, tuple] = {}  # id(tensor) -> (weakref to it, its Field)
        self.widest: dict[tuple, Field] = {}  # shape -> largest field of that shape so far
        self.latest = Field()

    def kind_of(self, module: Any) -> tuple:
        """(kind, number of spatial dims from the class name or 0) of a module."""
        cls = type(module)
        if cls not in self.kinds:
            self.kinds[cls] = (None, 0)
            for kind, names in KINDS.items():
                # isinstance(x, ()) is False: a class ember.nn does not have yet never matches
                found = [n for n in names if isinstance(module, getattr(nn, n, ()))]
                if found:  # the most derived match (AdaptiveMaxPool1d may subclass ...2d)
                    name = min(found, key=lambda n: cls.__mro__.index(getattr(nn, n)))
                    dims = int(name[-2]) if name[-1] == "d" and name[-2].isdigit() else 0
                    self.kinds[cls] = (kind, dims)
                    break
        return self.kinds[cls]

    def record(self, t: Tensor, f: Field) -> None:
        self.fields[id(t)] = (weakref.ref(t), f)
        shape = tuple(t.shape)
        if shape not in self.widest or f.key() > self.widest[shape].key():
            self.widest[shape] = f
        self.latest = f

    def lookup(self, t: Tensor) -> Field:
        entry = self.fields.get(id(t))
        if entry is not None and entry[0]() is t:
            return entry[1]
        return self.widest.get(tuple(t.shape), self.latest)

    def before(self, module: Any, args: tuple, kwargs: dict) -> None:
        params = list(module.parameters())
        row = LayerSummary(
            path=self.names.get(id(module), "?"), class_name=type(module).__name__,
            depth=len(self.stack), kind=self.kind_of(module)[0],
            input_shapes=[tuple(t.shape) for t in tensors_in((args, kwargs))],
            num_params=sum(p.numel() for p in params),
            own_params=sum(p.numel() for p in module.parameters(recurse=False)),
            trainable_params=sum(p.numel() for p in params if p.requires_grad),
            kernel_size=getattr(module, "kernel_size", None),
            is_leaf=next(iter(module.children()), None) is None,
            is_recursive=id(module) in self.called)
        self.called.add(id(module))
        self.rows.append(row)
        self.stack.append(row)

    def after(self, module: Any, args: tuple, kwargs: dict, output: Any) -> None:
        row = self.stack.pop()
        inputs, outputs = tensors_in((args, kwargs)), tensors_in(output)
        row.output_shapes = [tuple(t.shape) for t in outputs]
        row.output_bytes = sum(t.numel() * t.element_size() for t in outputs)
        kind, dims = self.kind_of(module)
        row.macs = count_macs(kind, module, inputs, outputs)
        row.subtree_macs += row.macs
        row.has_spatial = row.has_spatial or kind in SPATIAL_KINDS
        if self.stack:
            self.stack[-1].subtree_macs += row.subtree_macs
            self.stack[-1].has_spatial = self.stack[-1].has_spatial or row.has_spatial
        if row.is_leaf or kind is not None:
            fin = Field.merge([self.lookup(t) for t in inputs]) if inputs else self.latest
            fout = propagate(kind, dims, module, fin, inputs, outputs)
            found = [fout] * len(outputs)
        else:  # a container: its output came from its children (or a function of theirs)
            found = [self.lookup(t) for t in outputs]
        for t, f in zip(outputs, found, strict=True):
            self.record(t, f)
        if found:
            f = found[0]
            row.whole_input = f.whole
            if not f.whole:
                n = max(len(row.output_shapes[0]) - 2, len(f.rf))
                row.receptive_field, row.jump = f.dims(n)
