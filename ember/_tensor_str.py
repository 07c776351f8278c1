"""`repr(tensor)` in torch's format: same number formatting, summarisation and suffixes."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy

from . import backend, dtypes


@dataclass
class _PrintOptions:
    precision: int = 4
    threshold: float = 1000
    edgeitems: int = 3
    linewidth: int = 80
    sci_mode: bool | None = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision: int | None = None, threshold: float | None = None,
                     edgeitems: int | None = None, linewidth: int | None = None,
                     profile: str | None = None, sci_mode: bool | None = None) -> None:
    """Set how tensors print (torch.set_printoptions)."""
    if profile == "default":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, 1000
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    elif profile == "short":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 2, 1000
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 2, 80
    elif profile == "full":
        PRINT_OPTS.precision, PRINT_OPTS.threshold = 4, math.inf
        PRINT_OPTS.edgeitems, PRINT_OPTS.linewidth = 3, 80
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """Chooses integer, fixed or scientific notation and a common width for all elements."""

    def __init__(self, values: numpy.ndarray) -> None:
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        flat = values.reshape(-1)
        p = PRINT_OPTS.precision
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(str(v)))
        else:
            finite = flat[numpy.isfinite(flat) & (flat != 0)].astype(numpy.float64)
            if finite.size:
                abs_vals = numpy.abs(finite)
                lo, hi = abs_vals.min(), abs_vals.max()
                self.int_mode = bool(numpy.all(finite == numpy.ceil(finite)))
                self.sci_mode = (hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4
                                 if PRINT_OPTS.sci_mode is None else PRINT_OPTS.sci_mode)
                if self.sci_mode:  # widths follow the forced mode too, as in torch
                    widths = [len(f"{v:.{p}e}") for v in finite.tolist()]
                elif self.int_mode:
                    widths = [len(f"{v:.0f}") + 1 for v in finite.tolist()]
                else:
                    widths = [len(f"{v:.{p}f}") for v in finite.tolist()]
                self.max_width = max([self.max_width] + widths)

    def format(self, value: Any) -> str:
        p = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                text = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                text = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    text += "."
            else:
                text = f"{value:.{p}f}"
        else:
            text = str(value)
        return (self.max_width - len(text)) * " " + text


class _ComplexFormatter:
    """torch's complex printing: real and imaginary parts each get their own formatter;
    the imaginary part follows with its sign and a 'j'."""

    def __init__(self, values: numpy.ndarray) -> None:
        self.real = _Formatter(values.real)
        self.imag = _Formatter(values.imag)
        self.max_width = self.real.max_width + self.imag.max_width + 1

    def format(self, value: Any) -> str:
        real_str = self.real.format(value.real)
        imag_str = (self.imag.format(value.imag) + "j").lstrip()
        if imag_str[0] in "+-":
            return real_str + imag_str
        return real_str + "+" + imag_str


def _summarized(values: numpy.ndarray) -> numpy.ndarray:
    """Only the elements that will be shown (edge items of every dim)."""
    e = PRINT_OPTS.edgeitems
    if values.ndim == 0:
        return values
    if values.ndim == 1:
        if values.shape[0] > 2 * e:
            return numpy.concatenate([values[:e], values[-e:]])
        return values
    if not e:
        return values[(slice(0, 0),) * values.ndim]
    rows = range(values.shape[0])
    if values.shape[0] > 2 * e:
        rows = list(range(e)) + list(range(values.shape[0] - e, values.shape[0]))
    return numpy.stack([_summarized(values[i]) for i in rows])


def _vector(values: numpy.ndarray, indent: int, summarize: bool, fmt: Any) -> str:
    e = PRINT_OPTS.edgeitems
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / (fmt.max_width + 2))))
    if summarize and not e:
        data = ["..."]
    elif summarize and values.shape[0] > 2 * e:
        data = ([fmt.format(v) for v in values[:e].tolist()] + [" ..."]
                + [fmt.format(v) for v in values[-e:].tolist()])
    else:
        data = [fmt.format(v) for v in values.tolist()]
    lines = [", ".join(data[i:i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + (",\n" + " " * (indent + 1)).join(lines) + "]"


def _nested(values: numpy.ndarray, indent: int, summarize: bool, fmt: Any) -> str:
    if values.ndim == 0:
        return fmt.format(values.item())
    if values.ndim == 1:
        return _vector(values, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    n = values.shape[0]
    if summarize and n > 2 * e:
        parts = ([_nested(values[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
                 + [_nested(values[i], indent + 1, summarize, fmt) for i in range(n - e, n)])
    else:
        parts = [_nested(values[i], indent + 1, summarize, fmt) for i in range(n)]
    return "[" + ("," + "\n" * (values.ndim - 1) + " " * (indent + 1)).join(parts) + "]"


def _add_suffixes(text: str, suffixes: list, indent: int) -> str:
    out = [text]
    last = len(text) - text.rfind("\n") + 1
    for suffix in suffixes:
        if last + len(suffix) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            last = indent + len(suffix)
        else:
            out.append(", " + suffix)
            last += len(suffix) + 2
    out.append(")")
    return "".join(out)


def format_tensor(t: Any) -> str:
    values = backend.to_numpy(t._data)
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    if t.device.type != "cpu":
        suffixes.append(f"device='{t.device}'")
    dtype = dtypes.of_array(values)
    default_dtypes = (dtypes.get_default_dtype(), dtypes.default_complex(), dtypes.int64,
                      dtypes.bool_)
    if values.size == 0:
        if values.ndim != 1:
            suffixes.append(f"size={tuple(values.shape)}")
        if dtype is not dtypes.get_default_dtype():
            suffixes.append(f"dtype={dtype!r}")
        body = "[]"
    else:
        if dtype not in default_dtypes:
            suffixes.append(f"dtype={dtype!r}")
        if values.dtype == numpy.float16 or dtype is dtypes.bfloat16:
            values = values.astype(numpy.float32)
        summarize = values.size > PRINT_OPTS.threshold
        shown = _summarized(values) if summarize else values
        fmt = _ComplexFormatter(shown) if values.dtype.kind == "c" else _Formatter(shown)
        body = _nested(values, indent, summarize, fmt)
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{t.grad_fn.name()}>")
    elif t._requires_grad:
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)
