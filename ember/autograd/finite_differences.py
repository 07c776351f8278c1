"""gradcheck: compare autograd's gradients with central finite differences (use float64).

For every input element x_j, the numerical derivative (f(x + eps e_j) - f(x - eps e_j)) / 2 eps
must match the analytical one that backward computes, within atol + rtol * |numerical|.
gradgradcheck does the same for the gradient of the gradient.
"""

from __future__ import annotations

import warnings
from typing import Any, Callable

from .. import backend
from .engine import grad as autograd_grad
from .grad_mode import enable_grad, no_grad

Tensor: Any = None  # set by ember.tensor


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical gradients disagree."""


def _as_tuple(x: Any) -> tuple:
    return x if isinstance(x, tuple) else (x,) if isinstance(x, Tensor) else tuple(x)


def _outputs(func: Callable, inputs: tuple) -> tuple:
    out = func(*inputs)
    return tuple(o for o in _as_tuple(out) if isinstance(o, Tensor))


def _numerical_jacobian(func: Callable, inputs: tuple, eps: float) -> list:
    """J[i][k] has shape (numel of input i, numel of output k)."""
    with no_grad():
        base = _outputs(func, inputs)
    jac = []
    for t in inputs:
        if not (isinstance(t, Tensor) and t.requires_grad):
            jac.append(None)
            continue
        flat = t._data.reshape(-1)  # a view: perturbing it perturbs t
        if flat.base is None and t._data.size:
            raise RuntimeError("gradcheck: inputs must be contiguous")
        rows = [backend.module_of(t._data).zeros((t._data.size, o._data.size),
                                                 dtype="float64") for o in base]
        for j in range(t._data.size):
            orig = flat[j].item()
            with no_grad():  # copy the outputs at once: they may be views of the input
                flat[j] = orig + eps
                plus = [o._data.astype("float64") for o in _outputs(func, inputs)]
                flat[j] = orig - eps
                minus = [o._data.astype("float64") for o in _outputs(func, inputs)]
                flat[j] = orig
            for k, (p, m) in enumerate(zip(plus, minus)):
                rows[k][j] = (p - m).reshape(-1) / (2 * eps)
        jac.append(rows)
    return jac


def _analytical_jacobian(func: Callable, inputs: tuple) -> list:
    outputs = _outputs(func, inputs)
    diff_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    jac = [[backend.module_of(t._data).zeros((t._data.size, o._data.size), dtype="float64")
            for o in outputs] for t in diff_inputs]
    for k, out in enumerate(outputs):
        if not out.requires_grad:
            continue
        for m in range(out._data.size):
            seed = backend.module_of(out._data).zeros(out._data.size, dtype=out._data.dtype)
            seed[m] = 1
            grads = autograd_grad(out, diff_inputs, Tensor._make(seed.reshape(out._data.shape)),
                                  retain_graph=True, allow_unused=True)
            for i, g in enumerate(grads):
                if g is not None:
                    jac[i][k][:, m] = g._data.astype("float64").reshape(-1)
    return jac


def gradcheck(func: Callable, inputs: Any, *, eps: float = 1e-6, atol: float = 1e-5,
              rtol: float = 1e-3, raise_exception: bool = True, nondet_tol: float = 0.0,
              check_undefined_grad: bool = True, check_grad_dtypes: bool = False,
              check_batched_grad: bool = False, check_batched_forward_grad: bool = False,
              check_forward_ad: bool = False, check_backward_ad: bool = True,
              fast_mode: bool = False, masked: Any = None) -> bool:
    """True if func's backward matches finite differences for every input that requires grad."""
    inputs = _as_tuple(inputs)
    for i, t in enumerate(inputs):
        if isinstance(t, Tensor) and t.requires_grad and t._data.dtype.itemsize < 8:
            warnings.warn(
                f"Input #{i} requires gradient and is not a double precision floating point. "
                "This check will likely fail if all the inputs are not of double precision "
                "floating point.", UserWarning, stacklevel=2)
    numerical = [j for j in _numerical_jacobian(func, inputs, eps) if j is not None]
    analytical = _analytical_jacobian(func, inputs)
    xp_inputs = [t for t in inputs if isinstance(t, Tensor) and t.requires_grad]
    for i, (num_rows, ana_rows) in enumerate(zip(numerical, analytical)):
        for k, (n, a) in enumerate(zip(num_rows, ana_rows)):
            xp = backend.module_of(n)
            if not xp.allclose(a, n, rtol=rtol, atol=atol):
                where = int(xp.argmax(xp.abs(a - n) - atol - rtol * xp.abs(n)))
                j, m = divmod(where, n.shape[1]) if n.shape[1] else (where, 0)
                message = (
                    f"Jacobian mismatch for output {k} with respect to input {i} (shape "
                    f"{tuple(xp_inputs[i].shape)}): at input element {j}, output element {m} "
                    f"numerical {n.reshape(-1)[where]:.8g} vs analytical "
                    f"{a.reshape(-1)[where]:.8g}.\nnumerical:{n}\nanalytical:{a}"
                )
                if raise_exception:
                    raise GradcheckError(message)
                return False
    return True


def gradgradcheck(func: Callable, inputs: Any, grad_outputs: Any = None, *, eps: float = 1e-6,
                  atol: float = 1e-5, rtol: float = 1e-3, gen_non_contig_grad_outputs: bool = False,
                  raise_exception: bool = True, **kwargs: Any) -> bool:
    """gradcheck of the gradient itself (second derivatives through create_graph=True)."""
    inputs = _as_tuple(inputs)
    outputs = _outputs(func, inputs)
    if grad_outputs is None:
        rng = backend.numpy.random.default_rng(0)
        grad_outputs = tuple(
            Tensor._make(backend.to_device(rng.standard_normal(o._data.shape).astype(
                o._data.dtype), o.device), True) for o in outputs)
    grad_outputs = _as_tuple(grad_outputs)
    n_in = len(inputs)
    diff = [i for i, t in enumerate(inputs) if isinstance(t, Tensor) and t.requires_grad]

    def first_grads(*args: Any) -> tuple:
        ins, gos = args[:n_in], args[n_in:]
        with enable_grad():  # gradcheck evaluates under no_grad; the first gradient needs a graph
            outs = _outputs(func, ins)
            grads = autograd_grad(outs, [ins[i] for i in diff], gos, create_graph=True,
                                  allow_unused=True)
        return tuple(g for g in grads if g is not None)

    return gradcheck(first_grads, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception)
