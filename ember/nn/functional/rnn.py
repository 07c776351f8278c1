"""The recurrent cells: Elman RNN (tanh/relu), LSTM and GRU, one time step each.

Every cell sees its gate pre-activations in two parts, computed outside the cell:

    xg = W_ih x_t + b_ih      (for all time steps at once: one matmul, see recurrence.py)
    hg = W_hh h_{t-1} + b_hh  (one matmul per step)

Each cell class below holds the cell three ways, side by side:

* `formula(xg, hg, h, c, w_hr) -> (h', c')`: the equations on Tensors, as in the papers. It
  is the definition, and it serves double backward (create_graph), where the recurrence is
  rebuilt from it.
* `forward(xg, hg, h, c) -> (h', c', saved)`: the same math fused on raw arrays;
* `backward(dh', dc', saved) -> (d xg, d hg, dh, dc)`: the hand-derived gradient of that step
  (dh: the part that reaches h directly, not through hg).

On arrays the gates come gate-major, (gates, B, H), so `i, f, g, o = a` gives contiguous
(B, H) blocks: elementwise math on those is several times faster than on column slices.
Gate order and parameter layout are torch's, so torch weights load as they are:
LSTM rows are (i, f, g, o), GRU rows are (r, z, n).
"""

from __future__ import annotations

from typing import Any

from ...tensor import Tensor


def _sigmoid_in_place(xp: Any, a: Any) -> Any:
    """sigma(a) = (1 + tanh(a / 2)) / 2, in place: one tanh, never overflows."""
    a *= 0.5
    xp.tanh(a, out=a)
    a *= 0.5
    a += 0.5
    return a


class RNNTanhStep:
    """Elman RNN:  h' = tanh(W_ih x + b_ih + W_hh h + b_hh)."""

    gates = 1
    has_cell_state = False
    hidden_bias_in_input = True  # b_hh can be added to b_ih once, before the loop
    shares_gate_grad = True  # d(xg) == d(hg): the two parts are simply added

    def __init__(self, xp: Any, w_hr: Any = None) -> None:
        self.xp = xp

    @staticmethod
    def formula(xg: Tensor, hg: Tensor, h: Tensor, c: Any, w_hr: Any) -> tuple:
        return (xg + hg).tanh(), None

    def forward(self, xg: Any, hg: Any, h: Any, c: Any) -> tuple:
        hg += xg
        h_new = self.xp.tanh(hg[0], out=hg[0])
        return h_new, None, h_new

    def backward(self, dh: Any, dc: Any, h_new: Any) -> tuple:
        d = (dh * (1 - h_new * h_new))[None]  # d/dx tanh = 1 - tanh^2
        return d, d, None, None


class RNNReluStep(RNNTanhStep):
    """Elman RNN with ReLU:  h' = relu(W_ih x + b_ih + W_hh h + b_hh)."""

    @staticmethod
    def formula(xg: Tensor, hg: Tensor, h: Tensor, c: Any, w_hr: Any) -> tuple:
        return (xg + hg).relu(), None

    def forward(self, xg: Any, hg: Any, h: Any, c: Any) -> tuple:
        hg += xg
        h_new = self.xp.maximum(hg[0], 0, out=hg[0])
        return h_new, None, h_new

    def backward(self, dh: Any, dc: Any, h_new: Any) -> tuple:
        d = (dh * (h_new > 0))[None]  # relu' = 1 where the output is positive
        return d, d, None, None


class LSTMStep:
    """Long short-term memory (Hochreiter & Schmidhuber 1997, with a forget gate):

        i  = sigma(W_ii x + b_ii + W_hi h + b_hi)     input gate
        f  = sigma(W_if x + b_if + W_hf h + b_hf)     forget gate
        g  = tanh(W_ig x + b_ig + W_hg h + b_hg)      candidate cell
        o  = sigma(W_io x + b_io + W_ho h + b_ho)     output gate
        c' = f * c + i * g
        h' = o * tanh(c')                             (then h' = W_hr h' with proj_size > 0)
    """

    gates = 4
    has_cell_state = True
    hidden_bias_in_input = True
    shares_gate_grad = True

    def __init__(self, xp: Any, w_hr: Any = None) -> None:
        self.xp, self.w_hr = xp, w_hr
        self.d_w_hr = None if w_hr is None else xp.zeros_like(w_hr)
        if w_hr is not None:
            self.w_hr_t = xp.ascontiguousarray(w_hr.T)

    @staticmethod
    def formula(xg: Tensor, hg: Tensor, h: Tensor, c: Tensor, w_hr: Any) -> tuple:
        i, f, g, o = (xg + hg).chunk(4, 1)
        i, f, g, o = i.sigmoid(), f.sigmoid(), g.tanh(), o.sigmoid()
        c_new = f * c + i * g
        h_new = o * c_new.tanh()
        return (h_new if w_hr is None else h_new @ w_hr.T), c_new

    def forward(self, xg: Any, hg: Any, h: Any, c: Any) -> tuple:
        xp = self.xp
        a = hg
        a += xg
        i, f, g, o = a
        _sigmoid_in_place(xp, a[:2])  # i and f
        xp.tanh(g, out=g)
        _sigmoid_in_place(xp, o)
        c_new = f * c
        c_new += i * g
        tanh_c = xp.tanh(c_new)
        h_new = o * tanh_c
        saved = (a, c, tanh_c, h_new)
        if self.w_hr is not None:
            h_new = xp.matmul(h_new, self.w_hr_t)
        return h_new, c_new, saved

    def backward(self, dh: Any, dc: Any, saved: Any) -> tuple:
        xp = self.xp
        a, c, tanh_c, m = saved  # m = o * tanh(c'), before the projection
        i, f, g, o = a
        if self.w_hr is not None:  # h' = W_hr m
            self.d_w_hr += xp.matmul(dh.T, m)
            dh = xp.matmul(dh, self.w_hr)
        # h' = o * tanh(c'):  dc' += dh * o * (1 - tanh^2 c')
        dc = dc + dh * o * (1 - tanh_c * tanh_c)
        # c' = f * c + i * g: each gate's gradient, then through its activation
        d = xp.empty_like(a)
        xp.multiply(dc, g, out=d[0])  # di
        xp.multiply(dc, c, out=d[1])  # df
        xp.multiply(dc, i, out=d[2])  # dg
        xp.multiply(dh, tanh_c, out=d[3])  # do
        slope = a * (1 - a)  # sigma' = sigma (1 - sigma)
        slope[2] = 1 - g * g  # tanh' = 1 - tanh^2
        d *= slope
        return d, d, None, dc * f  # dc = dc' * f


class GRUStep:
    """Gated recurrent unit (Cho et al. 2014), torch's variant (r applied after W_hn):

        r  = sigma(W_ir x + b_ir + W_hr h + b_hr)     reset gate
        z  = sigma(W_iz x + b_iz + W_hz h + b_hz)     update gate
        n  = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h
    """

    gates = 3
    has_cell_state = False
    hidden_bias_in_input = False  # b_hn sits inside r * (...)
    shares_gate_grad = False  # n's hidden part is scaled by r

    def __init__(self, xp: Any, w_hr: Any = None) -> None:
        self.xp = xp

    @staticmethod
    def formula(xg: Tensor, hg: Tensor, h: Tensor, c: Any, w_hr: Any) -> tuple:
        x_r, x_z, x_n = xg.chunk(3, 1)
        h_r, h_z, h_n = hg.chunk(3, 1)
        r = (x_r + h_r).sigmoid()
        z = (x_z + h_z).sigmoid()
        n = (x_n + r * h_n).tanh()
        return (1 - z) * n + z * h, None

    def forward(self, xg: Any, hg: Any, h: Any, c: Any) -> tuple:
        xp = self.xp
        rz = _sigmoid_in_place(xp, hg[:2] + xg[:2])
        r, z = rz
        h_n = hg[2]
        n = r * h_n
        n += xg[2]
        xp.tanh(n, out=n)
        h_new = h - n  # h' = n + z * (h - n)
        h_new *= z
        h_new += n
        return h_new, None, (rz, n, h_n, h)

    def backward(self, dh: Any, dc: Any, saved: Any) -> tuple:
        xp = self.xp
        rz, n, h_n, h = saved
        r, z = rz
        dn = dh * (1 - z)  # h' = (1 - z) n + z h
        dn *= 1 - n * n  # through tanh
        d_x, d_h = xp.empty((2, 3) + n.shape, dtype=n.dtype)  # gates of xg and of hg
        xp.multiply(dn, h_n, out=d_x[0])  # dr
        xp.multiply(dh, h - n, out=d_x[1])  # dz
        d_x[:2] *= rz * (1 - rz)  # through sigma
        d_x[2] = dn
        d_h[:2] = d_x[:2]
        xp.multiply(dn, r, out=d_h[2])  # d(W_hn h + b_hn) = dn * r
        return d_x, d_h, dh * z, None  # h' also depends on h directly, through z * h


STEPS = {"RNN_TANH": RNNTanhStep, "RNN_RELU": RNNReluStep, "LSTM": LSTMStep, "GRU": GRUStep}
