"""Check 4, `loss_input`: a loss fed the wrong kind of scores, read from the graph.

The op that produced a loss's input is found from `input.grad_fn`, looking through ops that
only move or copy values (reshape, view, permute, squeeze, indexing, clone, contiguous, dtype
and device casts). Then:

* `cross_entropy` / `binary_cross_entropy_with_logits` apply softmax / sigmoid themselves: an
  input made by Softmax or Sigmoid (or exp of log_softmax) is probabilities, not logits.
* `nll_loss` expects log-probabilities: an input made by Softmax/Sigmoid (probabilities) or by
  Linear/MatMul/Conv (raw scores, also `x @ W + b`) is wrong. Anything else (LogSoftmax, Log,
  `x - logsumexp(x)`...) is taken as log-probabilities.

No values are inspected, and an input without a graph (under no_grad) is not checked.

Also here: the `target_shape` error for regression losses whose target would broadcast against
the input into a bigger tensor (torch only warns).
"""

from __future__ import annotations

from typing import Any

from ..autograd.node import Node
from ..nn.functional.conv import Conv2d, ConvTranspose2d
from ..nn.functional.linear import Linear
from ..ops._util import broadcast_shapes, shape_str
from ..ops.arith import Add
from ..ops.convert import ToDevice, ToDtype
from ..ops.linalg import MatMul
from ..ops.shape import Clone, Contiguous, ViewOp
from ..ops.softmax import LogSoftmax, Softmax
from ..ops.unary import Exp, Sigmoid
from .config import already_reported, emit
from .where import user_site

CHECK = "loss_input"
_PASS_THROUGH = (ViewOp, Clone, Contiguous, ToDtype, ToDevice)
_SCORES = (Linear, MatMul, Conv2d, ConvTranspose2d)


def _through(fn: Any) -> Any:
    """The first node at or above `fn` that is not a pass-through op."""
    for _ in range(64):
        if not isinstance(fn, _PASS_THROUGH):
            return fn
        edge = fn.next_edges[0] if fn.next_edges else None
        fn = edge[0] if edge is not None and isinstance(edge[0], Node) else None
    return fn


def _kind(fn: Any) -> str | None:
    """'softmax', 'sigmoid', 'probabilities' (exp of log_softmax), 'scores' or None."""
    if isinstance(fn, Softmax):
        return "softmax"
    if isinstance(fn, Sigmoid):
        return "sigmoid"
    if isinstance(fn, Exp):
        edge = fn.next_edges[0]
        if edge is not None and isinstance(_through(edge[0]), LogSoftmax):
            return "probabilities"
        return None
    if isinstance(fn, _SCORES):
        return "scores"
    if isinstance(fn, Add):  # x @ W + b written by hand
        sources = [_through(e[0]) if e is not None and isinstance(e[0], Node) else None
                   for e in fn.next_edges]
        if any(isinstance(s, _SCORES) for s in sources):
            return "scores"
    return None


_MADE_BY = {"softmax": "softmax", "sigmoid": "sigmoid", "probabilities": "exp(log_softmax)",
            "scores": "a linear layer (raw scores)"}


def check_loss_input(loss: str, input: Any) -> None:
    fn = input.grad_fn
    if fn is None:
        return
    source = _through(fn)
    kind = _kind(source)
    if kind is None:
        return
    if loss == "nll_loss":
        wrong = kind in ("softmax", "sigmoid", "probabilities", "scores")
    else:
        wrong = kind in ("softmax", "sigmoid", "probabilities")
    if not wrong:
        return
    site = user_site()
    if already_reported(CHECK, site):
        return
    made = f"{_MADE_BY[kind]} ({source.name()})"
    if loss == "cross_entropy":
        text = (
            f"cross_entropy (CrossEntropyLoss) received the output of {made}, but it expects "
            "raw scores (logits): it applies log_softmax itself, so the probabilities are "
            "treated as logits and softmax is applied twice.\n"
            "  Why it matters: scores squeezed into [0, 1] make every class look almost equally "
            "likely to the loss: its gradients are small and flat, training is slow and stalls "
            "far above the loss it could reach.\n"
            "  Fix: pass the logits: remove the final Softmax from the model (or the softmax "
            "before the loss) and apply softmax only where probabilities are needed, e.g. at "
            "prediction time.")
    elif loss == "binary_cross_entropy_with_logits":
        text = (
            f"binary_cross_entropy_with_logits (BCEWithLogitsLoss) received the output of "
            f"{made}, but it expects logits: it applies sigmoid itself, so the probabilities "
            "are treated as logits and squashed twice.\n"
            "  Why it matters: every prediction then lies between sigmoid(0) = 0.5 and "
            "sigmoid(1) = 0.73: the loss cannot reach low values and its gradients are weak.\n"
            "  Fix: pass the logits (remove the final Sigmoid), or keep the sigmoid and use "
            "binary_cross_entropy (BCELoss), which expects probabilities (less stable).")
    elif kind == "scores":
        text = (
            f"nll_loss (NLLLoss) received the output of {made}, not log-probabilities: "
            "nll_loss only picks -input[target], so it needs log_softmax applied first.\n"
            "  Why it matters: on raw scores the loss is unbounded below: the model lowers it "
            "by inflating the target's score without ever comparing it with the other "
            "classes, and the loss runs off to minus infinity.\n"
            "  Fix: apply log_softmax(dim=1) before nll_loss (e.g. end the model with "
            "nn.LogSoftmax(dim=1)), or use cross_entropy on the raw scores.")
    else:
        text = (
            f"nll_loss (NLLLoss) received the output of {made}: probabilities, not "
            "log-probabilities.\n"
            "  Why it matters: nll_loss computes -input[target]; on probabilities that is -p, "
            "which is not the cross-entropy: it barely penalizes confident mistakes and its "
            "gradients do not push the other classes down.\n"
            "  Fix: use log_softmax instead of softmax before nll_loss, or cross_entropy on the "
            "logits.")
    emit(CHECK, text, site)


def check_target_shape(loss: str, input: Any, target: Any) -> bool:
    """Raise when input and target would broadcast to a shape bigger than both (e.g. (N, 1)
    against (N,) -> (N, N)); return False to let the caller warn as torch does otherwise."""
    a, b = tuple(input.shape), tuple(target.shape)
    try:
        out = tuple(broadcast_shapes(a, b))
    except RuntimeError:
        return False  # the op itself will say that they cannot broadcast
    if out in (a, b):
        return False
    hint = ""
    if len(a) == len(b) + 1 and a[-1] == 1:
        hint = " (here: input.squeeze(-1), or target.unsqueeze(-1))"
    elif len(b) == len(a) + 1 and b[-1] == 1:
        hint = " (here: target.squeeze(-1), or input.unsqueeze(-1))"
    raise ValueError(
        f"{loss}: the target ({shape_str(b)}) and the input ({shape_str(a)}) have different "
        f"shapes that broadcast to ({shape_str(out)}): every prediction would be compared "
        f"with every target, and the loss would be silently wrong (torch only warns here). "
        f"Give them the same shape{hint}. [ember.doctor: target_shape; "
        "ember.doctor.silence(\"target_shape\") turns this back into torch's warning]"
    )
