"""A recurrent layer over a whole sequence, in one direction: one op, forward and backward.

    xg = x W_ih^T + b_ih                    all time steps at once: one (N, H_in) matmul
    for each step t:                        (N = total number of time steps x batch rows)
        hg = h W_hh^T (+ b_hh)              one (B, H) @ (H, gates) matmul
        h, c = cell(xg[t], hg, h, c)        a fused cell from rnn.py (LSTM, GRU, tanh/relu)

`Recurrence` runs that loop on raw arrays and keeps each step's activations; its backward
runs the loop in reverse (backpropagation through time), collecting the gates' gradients of
all steps so that dW_hh is a single (gates, N) @ (N, H) matmul at the end. The whole sequence
is one node in the graph, so Python overhead stays at a few array calls per step.

Sequences are given packed (torch's PackedSequence layout): rows [offset_t, offset_t + B_t)
of `xg` are time step t of the first B_t sequences, with B_t non-increasing. A padded batch
is the special case B_t = B. Going forward in time the batch can only shrink: a sequence that
ends leaves its state as its final state. Going backward in time (the reverse direction of a
bidirectional layer) it can only grow: a sequence that starts takes its initial state.

Under create_graph the backward is rebuilt from each cell's `formula` (Tensor ops), so higher
derivatives follow from the definition.
"""

from __future__ import annotations

from typing import Any

from ...autograd import low_precision
from ...autograd.engine import grad as autograd_grad
from ...autograd.grad_mode import state as grad_state
from ...autograd.node import Op, anomaly_state, edge_to, link_saved, op_watch
from ...backend import module_of
from ...ops.join import cat
from ...tensor import Tensor
from .linear import linear
from .rnn import STEPS

_new = object.__new__


def schedule(batch_sizes: tuple, reverse: bool) -> list:
    """(first row, batch size) of every time step, in the order the layer visits them."""
    steps, offset = [], 0
    for size in batch_sizes:
        steps.append((offset, size))
        offset += size
    return steps[::-1] if reverse else steps


def _resize(xp: Any, state: Any, size: int, initial: Any, final: Any) -> Any:
    """The state for a step over `size` sequences: rows of sequences that have ended are
    written to `final`; rows of sequences that start now are taken from `initial`."""
    rows = state.shape[0]
    if size < rows:
        final[size:rows] = state[size:]
        return state[:size]
    return xp.concatenate((state, initial[rows:size]))


def _resize_grad(xp: Any, grad: Any, rows: int, d_initial: Any, d_final: Any) -> Any:
    """`_resize` backwards: the gradient for the state before the resize (`rows` rows)."""
    size = grad.shape[0]
    if rows < size:
        d_initial[rows:size] = grad[rows:]
        return grad[:rows]
    return xp.concatenate((grad, d_final[size:rows]))


def _gate_major(rows: Any, gates: int) -> Any:
    """(B, gates * H) -> a (gates, B, H) view: row block of gate j at [j]."""
    return rows.reshape(rows.shape[0], gates, rows.shape[1] // gates).transpose(1, 0, 2)


class Recurrence(Op):
    """(xg, h0, c0, W_hh, b_hh, W_hr) -> (output, h_n[, c_n]) for one layer and direction."""

    recording = False

    def name(self) -> str:
        return f"{self.mode.replace('_', '')}Backward0"

    @classmethod
    def apply(cls, xg: Tensor, h0: Any, c0: Any, w_hh: Tensor, b_hh: Any, w_hr: Any,
              mode: str, batch_sizes: tuple, reverse: bool) -> tuple:  # type: ignore[override]
        """Like `Op.apply`, for several outputs: each output Tensor is one slot of the node."""
        if op_watch.active:  # profiler / forward-mode AD (autograd/op_watch.py)
            return op_watch.run_op(cls, (xg, h0, c0, w_hh, b_hh, w_hr, mode, batch_sizes,
                                         reverse), {})
        args = (xg, h0, c0, w_hh, b_hh, w_hr)
        arrays = [a._data if isinstance(a, Tensor) else a for a in args]
        wants_grad = grad_state.enabled and any(
            isinstance(a, Tensor) and a._requires_grad for a in args)
        node = _new(cls)
        node.recording = wants_grad
        results = tuple(Tensor._make(out) for out in
                        node.forward(*arrays, mode, batch_sizes, reverse))
        if wants_grad and xg._data.dtype.kind in "fV":
            node.num_outputs = len(results)
            node.next_edges = tuple(edge_to(a) if isinstance(a, Tensor) else None for a in args)
            for nr, out in enumerate(results):
                out.grad_fn, out._requires_grad, out._output_nr = node, True, nr
            link_saved(node, results[0], args, arrays)
            if anomaly_state.enabled:
                for out in results:
                    anomaly_state.on_forward(node, out, arrays)
        return results

    def forward(self, xg: Any, h0: Any, c0: Any, w_hh: Any, b_hh: Any, w_hr: Any,
                mode: str, batch_sizes: tuple, reverse: bool) -> tuple:
        xp = module_of(xg)
        cell = STEPS[mode]
        step = cell(xp, w_hr)
        steps = schedule(batch_sizes, reverse)
        gates, hidden, width = cell.gates, w_hh.shape[0] // cell.gates, w_hh.shape[1]
        # hg[j] = h @ W_hh[j]^T for gate j: gate-major (gates, B, H), see rnn.py
        w_gates = xp.ascontiguousarray(w_hh.reshape(gates, hidden, width).transpose(0, 2, 1))
        b_gates = None if b_hh is None else b_hh.reshape(gates, 1, hidden)
        out = xp.empty((xg.shape[0], width), dtype=xg.dtype)
        h_n = xp.empty_like(h0)
        c_n = None if c0 is None else xp.empty_like(c0)
        keep = self.recording
        h_prev = xp.empty_like(out) if keep else None  # each step's input state, for dW_hh
        saved = []
        h = h0[:0]
        c = None if c0 is None else c0[:0]
        for start, size in steps:
            if size != h.shape[0]:
                h = _resize(xp, h, size, h0, h_n)
                if c is not None:
                    c = _resize(xp, c, size, c0, c_n)
            hg = xp.matmul(h, w_gates)
            if b_gates is not None:
                hg += b_gates
            h_new, c_new, cache = step.forward(_gate_major(xg[start:start + size], gates), hg,
                                               h, c)
            out[start:start + size] = h_new
            if keep:
                h_prev[start:start + size] = h
                saved.append(cache)
            h, c = h_new, c_new
        h_n[:h.shape[0]] = h
        if c is not None:
            c_n[:c.shape[0]] = c
        if keep:
            self.save_for_backward(xg, h0, c0, w_hh, b_hh, w_hr)
            self.mode, self.batch_sizes, self.reverse = mode, batch_sizes, reverse
            self.steps, self.cache, self.h_prev = steps, saved, h_prev
        return (out, h_n) if c0 is None else (out, h_n, c_n)

    def run_backward(self, grads: tuple) -> tuple:
        if self.bf16_inputs is not None:  # bfloat16 inputs: computed in float32
            return low_precision.run_backward(self, grads, type(self)._backward_float)
        return self._backward_float(grads)

    def _backward_float(self, grads: tuple) -> tuple:
        if any(isinstance(g, Tensor) for g in grads):
            return self._backward_composite(grads)
        xg, h0, c0, w_hh, b_hh, w_hr = self.saved_tensors
        g_out, g_hn = grads[0], grads[1]
        g_cn = grads[2] if len(grads) > 2 else None
        xp = module_of(xg)
        cell = STEPS[self.mode]
        step = cell(xp, w_hr)
        steps, cache, gates = self.steps, self.cache, cell.gates
        d_xg = xp.empty_like(xg)
        d_hg = d_xg if cell.shares_gate_grad else xp.empty_like(xg)
        d_h0 = xp.zeros_like(h0)
        d_c0 = None if c0 is None else xp.zeros_like(c0)
        if g_hn is None:
            g_hn = xp.zeros_like(h0)
        if c0 is not None and g_cn is None:
            g_cn = xp.zeros_like(c0)
        last = steps[-1][1]
        dh = g_hn[:last]
        dc = None if c0 is None else g_cn[:last]
        for k in range(len(steps) - 1, -1, -1):
            start, size = steps[k]
            rows = slice(start, start + size)
            if g_out is not None:
                dh = dh + g_out[rows]
            dx_gates, dh_gates, dh_direct, dc = step.backward(dh, dc, cache[k])
            _gate_major(d_xg[rows], gates)[...] = dx_gates
            if dh_gates is not dx_gates:
                _gate_major(d_hg[rows], gates)[...] = dh_gates
            dh = xp.matmul(d_hg[rows], w_hh)  # through hg = h W_hh^T
            if dh_direct is not None:
                dh += dh_direct
            before = steps[k - 1][1] if k else 0  # rows of the state before this step
            if before != size:
                dh = _resize_grad(xp, dh, before, d_h0, g_hn)
                if dc is not None:
                    dc = _resize_grad(xp, dc, before, d_c0, g_cn)
        need = self.needs_input_grad
        d_w_hh = xp.matmul(d_hg.T, self.h_prev) if need[3] else None
        d_b_hh = d_hg.sum(0) if need[4] else None
        return (d_xg if need[0] else None, d_h0 if need[1] else None,
                d_c0 if need[2] else None, d_w_hh, d_b_hh, step.d_w_hr if need[5] else None)

    def _backward_composite(self, grads: tuple) -> tuple:
        """create_graph: rebuild the loop from the cell's Tensor formula and differentiate it."""
        inputs = self.saved_tensors
        outs = recurrence_formula(*inputs, self.mode, self.batch_sizes, self.reverse)
        pairs = [(o, g) for o, g in zip(outs, grads) if g is not None]
        wanted = [i for i, (x, e) in enumerate(zip(inputs, self.next_edges))
                  if e is not None and isinstance(x, Tensor) and x._requires_grad]
        result: list = [None] * len(inputs)
        if wanted and pairs:
            found = autograd_grad([o for o, _ in pairs], [inputs[i] for i in wanted],
                                  [g for _, g in pairs], create_graph=True, allow_unused=True)
            for i, g in zip(wanted, found):
                result[i] = g
        return tuple(result)

    def release(self) -> None:
        super().release()
        self.cache = self.h_prev = None


def recurrence_formula(xg: Tensor, h0: Tensor, c0: Any, w_hh: Tensor, b_hh: Any, w_hr: Any,
                       mode: str, batch_sizes: tuple, reverse: bool) -> tuple:
    """The same loop as `Recurrence`, on Tensors with the cell's formula (differentiable)."""
    formula = STEPS[mode].formula
    outs, h_final, c_final = [], [], []
    h = h0[:0]
    c = None if c0 is None else c0[:0]
    for start, size in schedule(batch_sizes, reverse):
        rows = h.shape[0]
        if size < rows:  # sequences ending here keep their state as the final one
            h_final.append((size, h[size:]))
            h = h[:size]
            if c is not None:
                c_final.append((size, c[size:]))
                c = c[:size]
        elif size > rows:  # sequences starting here take their initial state
            h = cat([h, h0[rows:size]])
            if c is not None:
                c = cat([c, c0[rows:size]])
        hg = h @ w_hh.T
        if b_hh is not None:
            hg = hg + b_hh
        h, c = formula(xg[start:start + size], hg, h, c, w_hr)
        outs.append((start, h))
    h_final.append((0, h))
    c_final.append((0, c))

    def in_order(pieces: list) -> Tensor:
        return cat([p for _, p in sorted(pieces, key=lambda item: item[0])])

    result = (in_order(outs), in_order(h_final))
    return result if c0 is None else result + (in_order(c_final),)


def recurrent_layer(mode: str, input: Tensor, h0: Tensor | None, c0: Tensor | None,
                    w_ih: Tensor, w_hh: Tensor, b_ih: Tensor | None, b_hh: Tensor | None,
                    w_hr: Tensor | None, batch_sizes: tuple, reverse: bool = False) -> tuple:
    """One layer, one direction over a packed sequence: input (N, H_in), h0 (B, H_out),
    c0 (B, H) for LSTM (None: zeros). Returns (output (N, H_out), h_n, c_n or None)."""
    cell = STEPS[mode]
    for state in (h0, c0):  # the raw loop would silently promote a mixed-dtype state
        if state is not None and state.dtype != input.dtype:
            raise RuntimeError(f"{mode}: the initial state's dtype ({state.dtype}) must match "
                               f"the input's ({input.dtype})")
    bias, hidden_bias = b_ih, b_hh
    if cell.hidden_bias_in_input and b_ih is not None:
        bias, hidden_bias = b_ih + b_hh, None  # one bias for the sum xg + hg
    xg = linear(input, w_ih, bias)
    xp = module_of(xg._data)
    batch = batch_sizes[0] if batch_sizes else 0
    width = w_hh.shape[1]
    if h0 is None:
        h0 = xp.zeros((batch, width), dtype=xg._data.dtype)
    if cell.has_cell_state and c0 is None:
        c0 = xp.zeros((batch, w_hh.shape[0] // cell.gates), dtype=xg._data.dtype)
    outs = Recurrence.apply(xg, h0, c0 if cell.has_cell_state else None, w_hh, hidden_bias, w_hr,
                            mode, tuple(batch_sizes), reverse)
    return outs if cell.has_cell_state else outs + (None,)
