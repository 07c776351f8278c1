"""`ember.summary(model, input_size)`: a torchinfo-style table of a model, from one forward pass.

Every submodule gets a forward hook; one forward pass (under `no_grad`) records, per call, the
layer's path in the model, its output shape, its parameters, its multiply-accumulates and, for
convolutions and poolings, the receptive field and the jump (effective stride) of its output.

Conventions (the numbers are for the whole batch):

- MACs count multiply-accumulates with weights. Conv: output elements x in_channels/groups x
  prod(kernel); ConvTranspose: input elements x out_channels/groups x prod(kernel); Linear:
  output elements x in_features; Bilinear: output elements x in1 x in2. Bias additions are not
  counted (an add is not a multiply-add). Normalization layers (BatchNorm, LayerNorm, GroupNorm,
  InstanceNorm, RMSNorm) count one MAC per output element (normalize, scale and shift fold into
  one multiply-add at inference; torchinfo counts batch x number of parameters instead).
  Activations, pooling, dropout, reshapes and embeddings count 0, and so do function calls in a
  forward (`x + y`, `torch.cat`, `F.relu`): only modules are seen.
- Memory, in MB of 10^6 bytes, as torchinfo counts it (ResNet-18 at 3x224x224: 0.60 + 39.75 +
  46.76 = 87.11): the inputs; the forward/backward pass: the outputs of every call of a leaf
  module (one without children) that has parameters, x2 (the activation and its gradient);
  parameter-free layers (ReLU, pooling) and buffers are left out; the parameters; their sum.
- Receptive field (RF) and jump, in input pixels, per spatial dim: a layer with kernel k,
  stride s and dilation d maps (r, j) to (r + d(k-1) j, j s). A transposed convolution divides
  the jump by s; its outputs are not all alike (some read fewer inputs), so after it the field
  is the largest one, an upper bound for later layers. Adaptive pooling to 1 (global pooling),
  Flatten to (B, F) and Linear on (B, F) make every position depend on the whole input
  ("whole"). Fields follow tensors, so a ResNet's shortcut convolution starts from the block's
  input; a tensor made by a function call (`x + y`, `x * gate`, `x.view(...)`) takes the
  largest field among earlier layer outputs of the same shape (a residual sum: its larger
  branch; a squeeze-and-excitation gate: the gated map's own field), or else the latest
  output's.
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Iterator, Sequence
from typing import Any

from .. import nn
from ..autograd.grad_mode import no_grad
from ..creation import zeros
from ..dtypes import get_default_dtype, to_dtype
from ..random import Generator, get_rng_state, rand, set_rng_state
from ..tensor import Tensor
from .layer_math import Field
from .recorder import LayerSummary, Recorder, tensors_in
from .table import COLUMNS, DEFAULT_COLUMNS, ModelSummary, format_shapes

__all__ = ["COLUMNS", "DEFAULT_COLUMNS", "LayerSummary", "ModelSummary", "summary"]


def _parse_input_size(input_size: Any) -> list:
    """(C, H, W) -> [(C, H, W)]; [(C, H, W), (L,)] -> as is; with clear errors."""
    def one(size: Any) -> tuple:
        try:
            dims = tuple(operator.index(v) for v in size if not isinstance(v, bool))
            ok = len(dims) == len(tuple(size)) and all(v > 0 for v in dims)
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"summary: input_size must be a tuple of positive ints such as "
                             f"(3, 224, 224) (the batch dim is added), or a list of them; got "
                             f"{input_size!r}")
        return dims

    if (isinstance(input_size, (tuple, list)) and input_size
            and all(isinstance(s, (tuple, list)) for s in input_size)):
        return [one(s) for s in input_size]
    return [one(input_size)]


def _model_device(model: Any) -> Any:
    for t in [*model.parameters(), *model.buffers()]:
        return t.device
    return "cpu"


def _make_inputs(model: Any, input_size: Any, input_data: Any, batch_size: int,
                 dtypes: Any, device: Any) -> tuple:
    """(args, kwargs) for the forward pass."""
    if (input_size is None) == (input_data is None):
        raise ValueError("summary: give exactly one of input_size (shapes without the batch "
                         "dim) and input_data (tensors)")
    if input_data is not None:
        if isinstance(input_data, Tensor):
            args, kwargs = [input_data], {}
        elif isinstance(input_data, dict):
            args, kwargs = [], dict(input_data)
        elif isinstance(input_data, (list, tuple)):
            args, kwargs = list(input_data), {}
        else:
            raise TypeError(f"summary: input_data must be a Tensor, a list of them or a dict, "
                            f"got {type(input_data).__name__}")
        if device is not None:
            args = [a.to(device) if isinstance(a, Tensor) else a for a in args]
            kwargs = {k: v.to(device) if isinstance(v, Tensor) else v for k, v in kwargs.items()}
        return args, kwargs
    sizes = _parse_input_size(input_size)
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"summary: batch_size must be a positive int, got {batch_size!r}")
    if dtypes is None:
        dtypes = [get_default_dtype()] * len(sizes)
    elif not isinstance(dtypes, (list, tuple)):
        dtypes = [dtypes] * len(sizes)
    if len(dtypes) != len(sizes):
        raise ValueError(f"summary: {len(dtypes)} dtypes for {len(sizes)} inputs")
    device = _model_device(model) if device is None else device
    generator = Generator().manual_seed(0)  # leaves the global random state alone
    args = []
    for size, dtype in zip(sizes, map(to_dtype, dtypes), strict=True):
        shape = (batch_size, *size)
        x = (rand(*shape, generator=generator, dtype=dtype, device="cpu")
             if dtype.is_floating_point  # index 0 (zeros) is valid for any embedding
             else zeros(shape, dtype=dtype, device="cpu"))
        args.append(x if str(device) == "cpu" else x.to(device))
    return args, {}


@contextlib.contextmanager
def _hooked(model: nn.Module, recorder: Recorder, mode: str | None) -> Iterator[None]:
    """Hooks on every module, no_grad and the requested mode for the block; afterwards the
    model is as it was: hooks removed, modes, buffers and the global random state restored."""
    modes = [(m, m.training) for m in model.modules()]
    with no_grad():
        buffers = [(m, name, b, b.clone()) for m in model.modules()
                   for name, b in m._buffers.items() if b is not None]
    rng_state = get_rng_state()
    handles = []
    try:
        if mode is not None:
            model.train(mode == "train")
        for m in model.modules():
            handles.append(m.register_forward_pre_hook(recorder.before, with_kwargs=True))
            handles.append(m.register_forward_hook(recorder.after, with_kwargs=True))
        with no_grad():
            yield
    finally:
        for handle in handles:
            handle.remove()
        for m, training in modes:
            m.training = training
        with no_grad():
            for m, name, b, saved in buffers:
                m._buffers[name] = b  # in case the forward replaced it
                b.copy_(saved)
        set_rng_state(rng_state)


def _name_the_layer(err: Exception, recorder: Recorder, inputs: list) -> None:
    """Add a note naming the innermost layer that was running (unless the message does)."""
    if not recorder.stack or not hasattr(err, "add_note"):  # add_note: Python >= 3.11
        return
    row = recorder.stack[-1]
    where = f"{row.path} ({row.class_name})" if row.path else row.class_name
    if where not in str(err):
        err.add_note(f"ember.summary: raised in {where} with input "
                     f"{format_shapes(row.input_shapes)} (model input "
                     f"{format_shapes([tuple(t.shape) for t in inputs])})")


def _record(model: nn.Module, args: list, kwargs: dict, mode: str | None) -> tuple:
    """One hooked forward pass: (the Recorder with a row per call, the input tensors)."""
    inputs = tensors_in((args, kwargs))
    recorder = Recorder(model)
    for t in inputs:
        recorder.record(t, Field())  # an input position sees one pixel
    with _hooked(model, recorder, mode):
        try:
            model(*args, **kwargs)
        except Exception as err:
            _name_the_layer(err, recorder, inputs)
            raise
    return recorder, inputs


def _with_batch_dim(input_size: Any, batch_size: int) -> tuple | None:
    """(sizes without their first dim, that dim as the batch size) when input_size may be
    torchinfo-style (batch included: every size has >= 2 dims and one first dim), else None."""
    if input_size is None or batch_size != 1:
        return None
    try:
        sizes = _parse_input_size(input_size)
    except ValueError:
        return None
    if any(len(size) < 2 for size in sizes) or len({size[0] for size in sizes}) != 1:
        return None
    return [size[1:] for size in sizes], sizes[0][0]


def summary(model: nn.Module, input_size: Any = None, *, input_data: Any = None,
            batch_size: int = 1, dtypes: Any = None, device: Any = None, depth: int = 3,
            col_names: Sequence[str] = DEFAULT_COLUMNS, mode: str | None = None,
            verbose: bool = True) -> ModelSummary:
    """Run one forward pass and tabulate every layer: output shape, parameters, MACs, and the
    receptive field and jump of every convolution and pooling; print the table (unless
    `verbose=False`) and return it as a ModelSummary.

    `input_size` is one shape without the batch dim, e.g. (3, 224, 224), or a list of shapes
    for several inputs; `batch_size` is prepended. A torchinfo-style size that includes the
    batch dim, (1, 3, 224, 224), works too: when the model rejects the size with a batch dim
    prepended, its first dim is taken as the batch. Or pass `input_data` (a tensor, a list of
    them, or a dict of keyword arguments). `mode`: "train", "eval", or None to keep the
    model's; modes, buffers (BatchNorm's running statistics) and the global random state are
    restored afterwards. `depth`: deeper layers are folded into their ancestor's row.

    >>> s = ember.summary(ember.models.lenet5(), (1, 28, 28), verbose=False)
    >>> s.total_params, s["features.0"].receptive_field
    (61706, (5, 5))
    """
    col_names = tuple(col_names)
    unknown = [c for c in col_names if c not in COLUMNS]
    if unknown:
        raise ValueError(f"summary: unknown col_names {unknown}; choose from {list(COLUMNS)}")
    if mode not in (None, "train", "eval"):
        raise ValueError(f"summary: mode must be 'train', 'eval' or None, got {mode!r}")
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 0:
        raise ValueError(f"summary: depth must be an int >= 0, got {depth!r}")
    args, kwargs = _make_inputs(model, input_size, input_data, batch_size, dtypes, device)
    try:
        recorder, inputs = _record(model, args, kwargs, mode)
    except Exception as err:
        # torchinfo's input_size includes the batch dim: (1, 3, 224, 224) means a batch of one
        retry = _with_batch_dim(input_size, batch_size)
        if retry is None:
            raise
        try:
            args, kwargs = _make_inputs(model, retry[0], None, retry[1], dtypes, device)
            recorder, inputs = _record(model, args, kwargs, mode)
        except Exception:
            raise err from None
    result = ModelSummary(model, recorder.rows, inputs, depth, col_names)
    if verbose:
        print(result)
    return result
