"""Gradients through complex numbers, in torch's convention.

For a real loss L of a complex z = x + iy, torch stores in `z.grad` the conjugate Wirtinger
derivative times two: dL/dx + i dL/dy. A node receives that for its output and must return it
for its inputs. For an op that is holomorphic (complex-differentiable: mul, div, exp, matmul,
sum, reshape...), with f'(z) its derivative, the chain rule in this convention reads

    grad_in = grad_out * conj(f'(z))  =  conj( conj(grad_out) * f'(z) )

and `grad_out * f'(z)` is exactly what every real backward formula in Ember computes. So a
holomorphic op needs no complex formula of its own: its node is given a variant class whose
`run_backward` conjugates the incoming gradient, runs the op's ordinary backward, and
conjugates what comes out. Only nodes whose output is complex get the variant (chosen once,
when the node is recorded), so real-valued graphs pay nothing.

Ops that are not holomorphic (conj, abs, angle, real, imag, complex(), polar, view_as_real...)
set `holomorphic = False` and write their backward directly in torch's convention; ops with a
real output never get the variant.
"""

from __future__ import annotations

from typing import Any

_variants: dict = {}


def conj(g: Any) -> Any:
    """The conjugate of a gradient (array or, under create_graph, Tensor); real ones unchanged."""
    if g is None:
        return None
    data = getattr(g, "_data", None)
    if data is None:  # an array, or a numpy scalar from a reduction
        return g.conjugate() if g.dtype.kind == "c" else g
    if data.dtype.kind != "c":
        return g
    from ..ops.complex import conj_physical  # noqa: PLC0415 (ops import autograd)

    return conj_physical(g)


def real_part(g: Any) -> Any:
    """The real part of a gradient bound for a real input (torch drops the imaginary part)."""
    if g is None:
        return None
    data = getattr(g, "_data", None)
    if data is None:
        return g.real if g.dtype.kind == "c" else g
    if data.dtype.kind != "c":
        return g
    from ..ops.complex import real  # noqa: PLC0415

    return real(g)


def _conjugated_run_backward(self: Any, grads: tuple) -> tuple:
    holomorphic_base = _variants[type(self)]
    out = list(holomorphic_base.run_backward(self, tuple(conj(g) for g in grads)))
    real_inputs = self.real_inputs
    for i, g in enumerate(out):
        out[i] = real_part(g) if i in real_inputs else conj(g)
    return tuple(out)


def make_complex(node: Any, args: tuple) -> None:
    """Give a holomorphic node with a complex output the conjugating backward (see above).

    `args` are the op's inputs: the gradient of a real tensor among them keeps only its real
    part, as in torch."""
    cls = type(node)
    if not cls.holomorphic or cls in _variants:  # explicit formula, or already converted
        return
    variant = _variants.get(("variant", cls))
    if variant is None:
        variant = type(cls.__name__, (cls,), {"run_backward": _conjugated_run_backward,
                                              "__module__": cls.__module__})
        _variants[("variant", cls)] = variant
        _variants[variant] = cls
    node.real_inputs = frozenset(i for i, a in enumerate(args)
                                 if getattr(a, "_data", None) is not None
                                 and a._data.dtype.kind != "c")
    node.__class__ = variant
