"""L-BFGS: limited-memory BFGS, a quasi-Newton method (Nocedal & Wright, *Numerical
Optimization*, ch. 7). It needs a `closure` that re-evaluates the loss, since one `step()` runs
up to `max_iter` iterations.

The inverse Hessian H is never formed: it is implied by the last `history_size` pairs
s = x_new - x_old, y = g_new - g_old (kept only when y.s > 1e-10), and the direction
d = -H g comes from the two-loop recursion (rho_i = 1 / y_i.s_i):

    q = -g
    for i = newest .. oldest:   a_i = rho_i * s_i.q;   q = q - a_i * y_i
    r = gamma * q                                   gamma = y.s / y.y of the newest pair
    for i = oldest .. newest:   b_i = rho_i * y_i.r;   r = r + (a_i - b_i) * s_i
    d = r

The step length is `lr` (the first ever: min(1, 1 / sum|g|) * lr) or, with
`line_search_fn="strong_wolfe"`, a t that satisfies the strong Wolfe conditions

    f(x + t d) <= f(x) + c1 * t * g.d          (enough decrease, c1 = 1e-4)
    |g(x + t d).d| <= c2 * |g.d|               (flat enough, c2 = 0.9)

found by bracketing then zooming with cubic interpolation (N&W Algorithms 3.5 and 3.6).

All parameters are treated as one flat vector. As in torch, the optimizer's whole state is
stored under its first parameter, in torch's layout: `func_evals`, `n_iter`, `d`, `t`,
`old_dirs` (the y's), `old_stps` (the s's), `ro`, `H_diag`, `al`, `prev_flat_grad`,
`prev_loss`. Scalars computed from tensors are 0-d tensors, as in torch.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .. import backend
from ..autograd.grad_mode import enable_grad
from ..doctor.flags import flags as _doctor
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_lr


class LBFGS(Optimizer):
    """L-BFGS, as torch.optim.LBFGS (same arguments, defaults, iterations and state).

    >>> opt = ember.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad()
    ...     loss = loss_fn(model(x), y)
    ...     loss.backward()
    ...     return loss
    >>> opt.step(closure)

    Only one parameter group is supported (as in torch).
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float | Tensor = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        check_lr(lr)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = {
            "lr": lr,
            "max_iter": max_iter,
            "max_eval": max_eval,
            "tolerance_grad": tolerance_grad,
            "tolerance_change": tolerance_change,
            "history_size": history_size,
            "line_search_fn": line_search_fn,
        }
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params: list[Tensor] = self.param_groups[0]["params"]

    # ------------------------------------------------------------------ the flat vector
    def _gather_flat_grad(self) -> Any:
        """All gradients as one new flat array (zeros for a parameter without one)."""
        pieces = []
        for p in self._params:
            data = p._data
            if p.grad is None:
                pieces.append(backend.module_of(data).zeros(data.size, dtype=data.dtype))
            else:
                pieces.append(p.grad._data.reshape(-1))
        return backend.module_of(pieces[0]).concatenate(pieces)

    def _add_grad(self, t: Any, direction: Any) -> None:
        """Move the parameters in place: p = p + t * d (d cut back into their shapes)."""
        offset = 0
        for p in self._params:
            data = p._data
            data += t * direction[offset:offset + data.size].reshape(data.shape)
            offset += data.size
            p._bump_version()

    def _clone_params(self) -> list[Any]:
        return [p._data.copy() for p in self._params]

    def _set_params(self, saved: list[Any]) -> None:
        for p, data in zip(self._params, saved, strict=True):
            p._data[...] = data
            p._bump_version()

    def _evaluate_at(self, closure: Callable[[], Any], x: list[Any], direction: Any,
                     t: Any) -> _Trial:
        """Loss and gradient at x + t d; the parameters are put back to x afterwards."""
        self._add_grad(t, direction)
        with enable_grad():
            loss = float(closure())
        grad = self._gather_flat_grad()
        self._set_params(x)
        return _Trial(t, loss, grad, grad.dot(direction))

    # ------------------------------------------------------------------ one step
    def step(self, closure: Callable[[], Any]) -> Any:  # type: ignore[override]
        """Run up to `max_iter` L-BFGS iterations; returns the loss of the first evaluation."""
        if len(self.param_groups) != 1:
            raise AssertionError(
                f"Expected exactly one param_group, but got {len(self.param_groups)}"
            )
        group = self.param_groups[0]
        lr = float(group["lr"]) if isinstance(group["lr"], Tensor) else group["lr"]
        max_iter, max_eval = group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        line_search_fn, history_size = group["line_search_fn"], group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        if _doctor.optimizer:  # the training doctor checks the gradients the closure made
            _doctor.before_step(self)

        flat_grad = self._gather_flat_grad()
        xp = backend.module_of(flat_grad)
        if xp.abs(flat_grad).max() <= tolerance_grad:  # already at a stationary point
            if _doctor.optimizer:
                _doctor.after_step(self)
            return orig_loss

        # the memory carried over from the previous step() (arrays and scalars, unwrapped)
        d, t = _unwrap(state.get("d")), _unwrap(state.get("t"))
        old_dirs = [_unwrap(v) for v in state.get("old_dirs", [])]  # the y's
        old_stps = [_unwrap(v) for v in state.get("old_stps", [])]  # the s's
        ro = [_unwrap(v) for v in state.get("ro", [])]
        H_diag = _unwrap(state.get("H_diag"))
        prev_flat_grad = _unwrap(state.get("prev_flat_grad"))
        prev_loss = state.get("prev_loss")
        al = [_unwrap(v) for v in state["al"]] if "al" in state else None

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1

            # ---- the direction
            if state["n_iter"] == 1:  # the very first iteration: steepest descent
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = y.dot(s)
                if ys > 1e-10:  # keep the pair only if the curvature is positive
                    if len(old_dirs) == history_size:
                        del old_dirs[0], old_stps[0], ro[0]
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)  # gamma: the initial inverse Hessian's scale
                if al is None:
                    al = [None] * history_size
                    state["al"] = al  # (here, so the state's keys come in torch's order)
                d = _two_loop(flat_grad, old_dirs, old_stps, ro, H_diag, al)

            prev_flat_grad = flat_grad.copy()
            prev_loss = loss

            # ---- the step length
            t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr if state["n_iter"] == 1 else lr
            gtd = flat_grad.dot(d)  # the directional derivative g.d
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break

            evals = 0
            if line_search_fn is not None:
                if line_search_fn != "strong_wolfe":
                    raise RuntimeError("only 'strong_wolfe' is supported")
                evaluate = functools.partial(self._evaluate_at, closure, self._clone_params(), d)
                best, evals = _strong_wolfe(
                    evaluate, d, _Trial(0, loss, flat_grad, gtd), t,
                    tolerance_change=tolerance_change, max_ls=max_eval - current_evals,
                )
                loss, flat_grad, t = best.f, best.g, best.t
                self._add_grad(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
            else:
                self._add_grad(t, d)  # a fixed step
                opt_cond = False
                if n_iter != max_iter:  # the last iteration's loss would go unused
                    with enable_grad():
                        loss = float(closure())
                    flat_grad = self._gather_flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tolerance_grad
                    evals = 1
            current_evals += evals
            state["func_evals"] += evals

            # ---- stop?
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tolerance_change:  # the parameters hardly move
                break
            if abs(loss - prev_loss) < tolerance_change:  # nor does the loss
                break

        state["d"] = _wrap(d)
        state["t"] = _wrap(t)
        state["old_dirs"] = [_wrap(v) for v in old_dirs]
        state["old_stps"] = [_wrap(v) for v in old_stps]
        state["ro"] = [_wrap(v) for v in ro]
        state["H_diag"] = _wrap(H_diag)
        state["prev_flat_grad"] = _wrap(prev_flat_grad)
        state["prev_loss"] = prev_loss
        if al is not None:
            state["al"] = [_wrap(v) for v in al]
        if _doctor.optimizer:
            _doctor.after_step(self)
        return orig_loss


def _two_loop(flat_grad: Any, old_dirs: list, old_stps: list, ro: list, H_diag: Any,
              al: list) -> Any:
    """The L-BFGS direction -H g from the (s, y) history; fills `al` with the a_i."""
    q = -flat_grad
    for i in range(len(old_dirs) - 1, -1, -1):  # newest to oldest
        al[i] = old_stps[i].dot(q) * ro[i]
        q -= al[i] * old_dirs[i]
    r = q * H_diag
    for i in range(len(old_dirs)):  # oldest to newest
        b = old_dirs[i].dot(r) * ro[i]
        r += (al[i] - b) * old_stps[i]
    return r


# ---------------------------------------------------------------------- strong Wolfe search
@dataclass
class _Trial:
    """One point of the line search: step length t, loss f, gradient g and slope g.d there."""

    t: Any
    f: float
    g: Any
    gtd: Any


def _cubic_minimizer(a: _Trial, b: _Trial, bounds: tuple[Any, Any] | None = None) -> Any:
    """The minimizer of the cubic through (a.t, a.f) and (b.t, b.f) with slopes a.gtd, b.gtd
    (N&W eq. 3.59), clipped to `bounds` (default: between a.t and b.t); the middle of the
    bounds when the cubic has no minimizer."""
    low, high = bounds if bounds is not None else (min(a.t, b.t), max(a.t, b.t))
    d1 = a.gtd + b.gtd - 3 * (a.f - b.f) / (a.t - b.t)
    d2_square = d1**2 - a.gtd * b.gtd
    if d2_square < 0:
        return (low + high) / 2.0
    d2 = backend.module_of(d2_square).sqrt(d2_square)
    near, far = (a, b) if a.t <= b.t else (b, a)  # the formula measures from the far end
    t = far.t - (far.t - near.t) * ((far.gtd + d2 - d1) / (far.gtd - near.gtd + 2 * d2))
    return min(max(t, low), high)


def _strong_wolfe(evaluate: Callable[[Any], _Trial], d: Any, start: _Trial, t: Any,
                  c1: float = 1e-4, c2: float = 0.9, tolerance_change: float = 1e-9,
                  max_ls: int = 25) -> tuple[_Trial, int]:
    """A step length along `d` satisfying the strong Wolfe conditions, from the trial step `t`.

    Returns the best point found and the number of evaluations. `max_ls` bounds the
    iterations of both phases together (bracketing, then zooming).
    """
    d_norm = backend.module_of(d).abs(d).max()
    f0, slope0 = start.f, start.gtd

    def sufficient_decrease(trial: _Trial) -> bool:
        return not trial.f > f0 + c1 * trial.t * slope0

    def flat_enough(trial: _Trial) -> bool:
        return abs(trial.gtd) <= -c2 * slope0

    # phase 1 (N&W Algorithm 3.5): grow t until [previous, new] brackets an acceptable point
    previous, new = start, evaluate(t)
    evals, iters = 1, 0
    bracket: list[_Trial] = []
    done = False
    while iters < max_ls:
        if not sufficient_decrease(new) or (iters > 1 and new.f >= previous.f):
            bracket = [previous, new]
            break
        if flat_enough(new):
            bracket, done = [new], True
            break
        if new.gtd >= 0:  # the slope turned: a minimum lies behind
            bracket = [previous, new]
            break
        bounds = (new.t + 0.01 * (new.t - previous.t), new.t * 10)
        next_t = _cubic_minimizer(previous, new, bounds)  # extrapolate
        previous, new = new, evaluate(next_t)
        evals += 1
        iters += 1
    if iters == max_ls:  # out of evaluations: settle for the better of start and last
        bracket = [start, new]

    # phase 2 (N&W Algorithm 3.6): shrink the bracket; `low` is its point of least loss
    stalled = False
    low, high = (0, 1) if bracket[0].f <= bracket[-1].f else (1, 0)
    while not done and iters < max_ls:
        a, b = bracket
        if abs(b.t - a.t) * d_norm < tolerance_change:  # the bracket is too small to matter
            break
        trial_t = _cubic_minimizer(a, b)
        # safeguard: a trial too near an end of the bracket (twice, or beyond it) is moved
        # to 10% of the bracket's width inside
        top, bottom = max(a.t, b.t), min(a.t, b.t)
        margin = 0.1 * (top - bottom)
        if min(top - trial_t, trial_t - bottom) < margin:
            if stalled or trial_t >= top or trial_t <= bottom:
                if abs(trial_t - top) < abs(trial_t - bottom):
                    trial_t = top - margin
                else:
                    trial_t = bottom + margin
                stalled = False
            else:
                stalled = True
        else:
            stalled = False

        new = evaluate(trial_t)
        evals += 1
        iters += 1
        if not sufficient_decrease(new) or new.f >= bracket[low].f:
            bracket[high] = new  # the new point replaces the high end
            low, high = (0, 1) if bracket[0].f <= bracket[1].f else (1, 0)
        else:
            if flat_enough(new):
                done = True
            elif new.gtd * (bracket[high].t - bracket[low].t) >= 0:
                bracket[high] = bracket[low]  # keep the minimum between low and new
            bracket[low] = new
    return bracket[low], evals


# ---------------------------------------------------------------------- state <-> arrays
def _wrap(value: Any) -> Any:
    """An array or array scalar becomes a Tensor for the state; Python numbers stay."""
    array = backend.as_array(value)  # an array scalar becomes a 0-d array
    return Tensor._make(array) if backend.is_array(array) else value


def _unwrap(value: Any) -> Any:
    """A state Tensor back to its array (a 0-d one to an array scalar, as dot() returns)."""
    if isinstance(value, Tensor):
        data = value._data
        return data[()] if data.ndim == 0 else data
    return value
