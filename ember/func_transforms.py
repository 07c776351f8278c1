"""torch.func's transforms on Ember's tape autograd: grad, grad_and_value, vjp, jacrev, jacfwd,
hessian and vmap.

`grad(f)(x)` differentiates f at x by recording f's graph and calling autograd.grad (with
create_graph when an outer transform or tape needs it, so grad(grad(f)) works). `vmap(f)` runs f
once per batch element and stacks the results: the same values and gradients as torch's
batching rules, a Python loop in time (documented in the README).
"""

from __future__ import annotations

from typing import Any, Callable

from .autograd import functional as _functional
from .autograd.grad_mode import enable_grad
from .autograd.grad_mode import state as _grad_state
from .tensor import Tensor

__all__ = ["grad", "grad_and_value", "hessian", "jacfwd", "jacrev", "vjp", "vmap"]


def _argnums_tuple(argnums: Any, n: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
    if not nums:
        raise RuntimeError("argnums must be non-empty")
    for a in nums:
        if not isinstance(a, int) or not -n <= a < n:
            raise RuntimeError(f"Got argnums={argnums} but only {n} positional inputs")
    return tuple(a % n for a in nums)


_depth = [0]  # how many grad transforms are running (an inner one keeps its graph)


def grad_and_value(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """A function returning (d func / d args[argnums], func(*args)) for a scalar func."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args))
        outer_graph = _grad_state.enabled and (_depth[0] > 0 or any(
            isinstance(args[i], Tensor) and args[i].requires_grad for i in nums))
        _depth[0] += 1
        try:
            return _grad_and_value(func, nums, argnums, has_aux, outer_graph, args, kwargs)
        finally:
            _depth[0] -= 1

    return wrapper


def _grad_and_value(func: Callable, nums: tuple, argnums: Any, has_aux: bool, outer_graph: bool,
                    args: Any, kwargs: dict) -> Any:
    def track(t: Any) -> Tensor:  # each leaf of an argument (a tensor, or dicts/tuples of them)
        if not isinstance(t, Tensor):
            raise RuntimeError(f"grad: expected the differentiated arguments to hold Tensors, "
                               f"got {type(t).__name__}")
        x = t if outer_graph and t.requires_grad else t.detach()
        x = x.view_as(x) if x.requires_grad else x.requires_grad_(True)
        inputs.append(x)
        return x

    with enable_grad():
        args = list(args)
        inputs: list = []
        structures = {}
        for i in nums:
            start = len(inputs)
            args[i] = _map_structure(track, args[i])
            structures[i] = (start, len(inputs))
        result = func(*args, **kwargs)
        output, aux = (result if has_aux else (result, None))
        if has_aux and not (isinstance(result, tuple) and len(result) == 2):
            raise RuntimeError("grad_and_value(f)(*args): output of function f should be a "
                               "tuple: (output, aux) if has_aux is True")
        if not isinstance(output, Tensor) or output.numel() != 1:
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                               "scalar Tensor, got "
                               f"{getattr(output, 'shape', type(output).__name__)}")
        from .autograd import grad as _grad  # noqa: PLC0415

        grads = _grad(output, inputs, create_graph=outer_graph, allow_unused=True)
    grads = tuple(g if g is not None else x.detach() * 0 for g, x in zip(grads, inputs))
    if not outer_graph:
        grads = tuple(g.detach() for g in grads)
        output = output.detach()
    per_arg = []
    for i in nums:  # put each argument's gradients back into its structure
        start, _ = structures[i]
        counter = iter(range(start, structures[i][1]))
        per_arg.append(_map_structure(lambda _: grads[next(counter)], args[i]))
    g = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
    return (g, (output, aux)) if has_aux else (g, output)


def grad(func: Callable, argnums: Any = 0, has_aux: bool = False) -> Callable:
    """A function returning d func / d args[argnums] (and aux, with has_aux) of a scalar func."""
    both = grad_and_value(func, argnums, has_aux)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        g, value = both(*args, **kwargs)
        return (g, value[1]) if has_aux else g

    return wrapper


def vjp(func: Callable, *primals: Any, has_aux: bool = False) -> tuple:
    """(func(*primals), vjp_fn): vjp_fn(v) gives v^T J for each primal."""
    with enable_grad():
        inputs = tuple(p.detach().requires_grad_(True) for p in primals)
        result = func(*inputs)
    output, aux = result if has_aux else (result, None)

    def vjp_fn(cotangents: Any, retain_graph: bool = True,
               create_graph: bool | None = None) -> tuple:
        """v^T J for cotangents of the output's structure (a tensor, tuple, dict...)."""
        from .autograd import grad as _grad  # noqa: PLC0415

        if _structure(cotangents) != _structure(output):
            raise RuntimeError("Expected pytree structure of cotangents to be the same as "
                               "pytree structure of outputs to the function.")
        outs, vs = _leaves(output), _leaves(cotangents)
        for o, v in zip(outs, vs, strict=True):
            if not isinstance(v, Tensor) or tuple(v.shape) != tuple(o.shape):
                raise RuntimeError(f"Mismatch in shape: grad_output has a shape of "
                                   f"{getattr(v, 'shape', type(v).__name__)} and output has a "
                                   f"shape of {o.shape}.")
        grads = _grad(outs, inputs, grad_outputs=vs, retain_graph=retain_graph,
                      create_graph=bool(create_graph), allow_unused=True)
        return tuple(g if g is not None else x.detach() * 0 for g, x in zip(grads, inputs))

    detached = _map_structure(lambda o: o.detach(), output)
    return (detached, vjp_fn, aux) if has_aux else (detached, vjp_fn)


def _jacobian_transform(func: Callable, argnums: Any, has_aux: bool, name: str) -> Callable:
    def wrapper(*args: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args))
        aux_box = []

        def of_selected(*xs: Any) -> Any:
            full = list(args)
            for i, x in zip(nums, xs):
                full[i] = x
            out = func(*full)
            if has_aux:
                out, aux = out
                aux_box.append(aux)
            return out

        jac = _functional.jacobian(of_selected, tuple(args[i] for i in nums),
                                   create_graph=_grad_state.enabled)
        if isinstance(argnums, int):
            jac = _first(jac)
        return (jac, aux_box[0]) if has_aux else jac

    wrapper.__name__ = name
    return wrapper


def _first(jac: Any) -> Any:
    """jacobian(f, (x,)) returns per-input tuples; an int argnums wants the bare Jacobian."""
    if isinstance(jac, tuple) and jac and isinstance(jac[0], tuple):
        return tuple(j[0] for j in jac)
    return jac[0] if isinstance(jac, tuple) else jac


def jacrev(func: Callable, argnums: Any = 0, *, has_aux: bool = False,
           chunk_size: int | None = None) -> Callable:
    """The Jacobian of func with respect to args[argnums], row by row (reverse mode)."""
    return _jacobian_transform(func, argnums, has_aux, "jacrev")


def jacfwd(func: Callable, argnums: Any = 0, has_aux: bool = False, *,
           randomness: str = "error") -> Callable:
    """The same Jacobian as jacrev, computed row by row in reverse mode (equal values; func.jvp
    gives single forward-mode directional derivatives)."""
    return _jacobian_transform(func, argnums, has_aux, "jacfwd")


def hessian(func: Callable, argnums: Any = 0) -> Callable:
    """The Hessian of a scalar func: the Jacobian of its gradient."""
    return jacrev(jacrev(func, argnums), argnums)


def _structure(tree: Any) -> Any:
    return _map_structure(lambda _: None, tree)


# ------------------------------------------------------------------ vmap
def _map_structure(fn: Callable, tree: Any) -> Any:
    if isinstance(tree, tuple):
        return tuple(_map_structure(fn, t) for t in tree)
    if isinstance(tree, list):
        return [_map_structure(fn, t) for t in tree]
    if isinstance(tree, dict):
        return {k: _map_structure(fn, v) for k, v in tree.items()}
    return fn(tree)


def _leaves(tree: Any) -> list:
    out: list = []
    _map_structure(out.append, tree)
    return out


def _broadcast_in_dims(in_dims: Any, args: tuple) -> list:
    if isinstance(in_dims, int) or in_dims is None:
        return [_map_structure(lambda _: in_dims, a) for a in args]
    if not isinstance(in_dims, (tuple, list)) or len(in_dims) != len(args):
        raise ValueError(f"vmap: in_dims is not compatible with the structure of inputs: "
                         f"expected {len(args)} entries, got {in_dims!r}")
    out = []
    for d, a in zip(in_dims, args):
        out.append(_map_structure(lambda _, d=d: d, a) if isinstance(d, int) or d is None
                   else d)
    return out


def vmap(func: Callable, in_dims: Any = 0, out_dims: Any = 0, randomness: str = "error", *,
         chunk_size: int | None = None) -> Callable:
    """func mapped over a batch dimension of its inputs (in_dims) into out_dims of its outputs.

    Runs func once per batch element (slices taken with `select`, results joined with `stack`),
    so values and gradients are those of torch's vmap.
    """
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        dims = _broadcast_in_dims(in_dims, args)
        sizes = set()

        def size_of(pair: Any) -> None:
            x, d = pair
            if d is not None:
                if not isinstance(x, Tensor):
                    raise ValueError(f"vmap: Got in_dim={d} for an input but the input is of "
                                     f"type {type(x).__name__}. We cannot vmap over non-Tensor "
                                     "arguments, please use None as the respective in_dim")
                if not -x.ndim <= d < x.ndim:
                    raise ValueError(f"vmap: Got in_dim={d} for some input, but that input is a "
                                     f"Tensor of dimensionality {x.ndim} so expected in_dim to "
                                     f"satisfy -{x.ndim} <= in_dim < {x.ndim}.")
                sizes.add(x.shape[d])

        for a, d in zip(args, dims):
            for pair in zip(_leaves(a), _leaves(d)):
                size_of(pair)
        if not sizes:
            raise ValueError("vmap: at least one input must be a Tensor with a non-None in_dim")
        if len(sizes) > 1:
            raise ValueError(f"vmap: Expected all tensors to have the same size in the mapped "
                             f"dimension, got sizes {sorted(sizes)} for the mapped dimension")
        n = sizes.pop()

        def pick(a: Any, d: Any, i: int) -> Any:
            if isinstance(a, (tuple, list, dict)):
                items = a.items() if isinstance(a, dict) else enumerate(a)
                ds = d if isinstance(d, (tuple, list, dict)) else _map_structure(lambda _: d, a)
                picked = {k: pick(v, ds[k], i) for k, v in items}
                if isinstance(a, dict):
                    return picked
                return type(a)(picked[k] for k in range(len(a)))
            return a if d is None else a.select(d, i)

        results = [func(*(pick(a, d, i) for a, d in zip(args, dims)), **kwargs)
                   for i in range(n)]
        return _stack_results(results, out_dims)

    return wrapper


def _stack_results(results: list, out_dims: Any) -> Any:
    from .ops.join import stack  # noqa: PLC0415

    first = results[0]
    if isinstance(first, (tuple, list)):
        dims = out_dims if isinstance(out_dims, (tuple, list)) else [out_dims] * len(first)
        joined = [_stack_results([r[k] for r in results], dims[k]) for k in range(len(first))]
        return type(first)(joined)
    if isinstance(first, dict):
        return {k: _stack_results([r[k] for r in results], out_dims) for k in first}
    if not isinstance(first, Tensor):
        raise ValueError(f"vmap: `func` must only return Tensors, got type "
                         f"{type(first).__name__}")
    if out_dims is None:
        return first
    return stack(results, out_dims)
