"""ModelSummary: the numbers a summary measured, and the table its str() prints."""

from __future__ import annotations

from typing import Any

from .layer_math import ntuple
from .recorder import LayerSummary

COLUMNS = {  # col_names value -> header
    "input_size": "Input Shape",
    "output_size": "Output Shape",
    "num_params": "Param #",
    "params_percent": "Param %",
    "kernel_size": "Kernel",
    "mult_adds": "MACs",
    "trainable": "Trainable",
    "receptive_field": "RF",
    "jump": "Jump",
}
DEFAULT_COLUMNS = ("output_size", "num_params", "mult_adds", "receptive_field", "jump")
_RIGHT_ALIGNED = {"num_params", "params_percent", "mult_adds", "receptive_field", "jump"}


def _fmt_int(n: int) -> str:
    return f"{n:,}" if n else "--"


def _fmt_dims(t: tuple) -> str:
    parts = [f"{v:g}" if isinstance(v, float) else str(v) for v in t]
    return parts[0] if len(set(parts)) == 1 else "x".join(parts)


def format_shapes(shapes: list) -> str:
    return ", ".join(str(list(s)) for s in shapes) if shapes else "--"


class ModelSummary:
    """What `summary` measured: `str()` is the table; the numbers are attributes.

    `layers` holds one LayerSummary per module call in call order (including those deeper
    than `depth`, which the table folds into their shown ancestor); `summary["features.0"]`
    finds the first call of a layer by path.
    """

    def __init__(self, model: Any, layers: list, inputs: list, depth: int,
                 col_names: tuple) -> None:
        self.model_name = type(model).__name__
        self.layers = layers
        self.depth = depth
        self.col_names = col_names
        self.input_shapes = [tuple(t.shape) for t in inputs]
        params = list(model.parameters())
        self.total_params = sum(p.numel() for p in params)
        self.trainable_params = sum(p.numel() for p in params if p.requires_grad)
        self.non_trainable_params = self.total_params - self.trainable_params
        self.total_macs = sum(row.macs for row in layers)
        self.input_bytes = sum(t.numel() * t.element_size() for t in inputs)
        self.forward_backward_bytes = 2 * sum(r.output_bytes for r in layers
                                              if r.is_leaf and r.num_params)
        self.params_bytes = sum(p.numel() * p.element_size() for p in params)

    total_macs_m = property(lambda self: self.total_macs / 1e6)
    total_macs_g = property(lambda self: self.total_macs / 1e9)
    total_bytes = property(lambda self: self.input_bytes + self.forward_backward_bytes
                           + self.params_bytes)
    input_size_mb = property(lambda self: self.input_bytes / 1e6)
    forward_backward_pass_size_mb = property(lambda self: self.forward_backward_bytes / 1e6)
    params_size_mb = property(lambda self: self.params_bytes / 1e6)
    estimated_total_size_mb = property(lambda self: self.total_bytes / 1e6)
    # torchinfo's names for the same numbers, so scripts written against it run unchanged
    total_mult_adds = property(lambda self: self.total_macs)
    summary_list = property(lambda self: self.layers)
    total_param_bytes = property(lambda self: self.params_bytes)

    def __getitem__(self, path: str) -> LayerSummary:
        for row in self.layers:
            if row.path == path:
                return row
        raise KeyError(f"summary: no layer {path!r} was called; layers: "
                       f"{[r.path for r in self.layers]}")

    def _cell(self, row: LayerSummary, column: str, folded: bool) -> str:
        """One cell; `folded`: the row's children are not shown, so it reports its subtree."""
        if column == "input_size":
            return format_shapes(row.input_shapes)
        if column == "output_size":
            return format_shapes(row.output_shapes)
        if column in ("num_params", "params_percent"):
            n = row.num_params if folded else row.own_params
            if row.is_recursive and n:
                return "(recursive)"
            if column == "num_params":
                return _fmt_int(n)
            return f"{100 * n / self.total_params:.2f}%" if n else "--"
        if column == "mult_adds":
            return _fmt_int(row.subtree_macs if folded else row.macs)
        if column == "kernel_size":
            k = row.kernel_size
            return "--" if k is None else _fmt_dims(tuple(ntuple(k, 1)))
        if column == "trainable":
            if row.num_params == 0:
                return "--"
            return {row.num_params: "True", 0: "False"}.get(row.trainable_params, "Partial")
        if not (row.shows_receptive_field or (folded and row.has_spatial)):
            return ""
        if row.whole_input:
            return "whole" if column == "receptive_field" else "--"
        return _fmt_dims(row.receptive_field if column == "receptive_field" else row.jump)

    def __str__(self) -> str:
        shown = [r for r in self.layers if r.depth <= self.depth]
        has_shown_children = {id(r): False for r in shown}
        parents: list = []
        for r in self.layers:  # a row's children are the deeper rows right after it
            del parents[r.depth:]
            if r.depth <= self.depth and parents:
                has_shown_children[id(parents[-1])] = True
            parents.append(r)
        table = []
        for r in shown:
            indent = "" if r.depth == 0 else ("├─" if r.depth == 1 else "│ " * (r.depth - 1)
                                              + "└─")
            name = f"{r.path} ({r.class_name})" if r.path else r.class_name
            folded = not has_shown_children[id(r)]
            table.append([indent + name] + [self._cell(r, c, folded) for c in self.col_names])
        header = ["Layer (type)"] + [COLUMNS[c] for c in self.col_names]
        widths = [max(len(row[i]) for row in [header, *table]) for i in range(len(header))]
        right = [False] + [c in _RIGHT_ALIGNED for c in self.col_names]

        def line(cells: list) -> str:
            return "  ".join(c.rjust(w) if r else c.ljust(w)
                             for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

        rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
        macs = self.total_macs
        unit = f"{macs / 1e9:.2f} G" if macs >= 1e8 else f"{macs / 1e6:.2f} M"
        lines = [rule, line(header), rule, *map(line, table), rule,
                 f"Total params: {self.total_params:,}",
                 f"Trainable params: {self.trainable_params:,}",
                 f"Non-trainable params: {self.non_trainable_params:,}",
                 f"Total MACs: {macs:,} ({unit})", rule,
                 f"Input size (MB): {self.input_size_mb:.2f}",
                 f"Forward/backward pass size (MB): {self.forward_backward_pass_size_mb:.2f}",
                 f"Params size (MB): {self.params_size_mb:.2f}",
                 f"Estimated total size (MB): {self.estimated_total_size_mb:.2f}", rule]
        return "\n".join(lines)

    __repr__ = __str__
