"""Gradient edges: where in the graph a tensor's gradient is computed, usable without the tensor.

`autograd.grad(loss, get_gradient_edge(h))` gives the same gradient as `autograd.grad(loss, h)`,
but the edge (the node that produced `h` and which of its outputs `h` is) can be kept after `h`
itself is gone; a leaf's edge is its `AccumulateGrad` node.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from .node import AccumulateGrad, Node, accumulate_grad_of, refresh_view


class GradientEdge(NamedTuple):
    """Object representing a given gradient edge within the autograd graph (torch's)."""

    node: Node
    output_nr: int
    ownership_token: Node | None = None


def get_gradient_edge(tensor: Any) -> GradientEdge:
    """The gradient edge of `tensor`: `(tensor.grad_fn or its AccumulateGrad, output_nr)`."""
    if tensor._view is not None:
        refresh_view(tensor)
    if not tensor.requires_grad:
        raise RuntimeError("It is not possible to get the gradient edge for a Tensor that does "
                           "not require gradients")
    fn = tensor.grad_fn
    if fn is None:
        return GradientEdge(accumulate_grad_of(tensor), 0)
    return GradientEdge(fn, tensor._output_nr)


def engine_key(edge: GradientEdge) -> tuple:
    """The engine's form of an edge: `(node, output_nr)`, or `(leaf, 0)` for a leaf."""
    node = edge.node
    if isinstance(node, AccumulateGrad):
        return (node.variable, 0)
    if not isinstance(node, Node):
        raise TypeError(f"GradientEdge.node must be an autograd Node, got {type(node).__name__}")
    return (node, edge.output_nr)
