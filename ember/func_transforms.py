"""torch.func's transforms on Ember's tape autograd: grad, grad_and_value, vjp, jacrev, jacfwd,
hessian and vmap.

`grad(f)(x)` differentiates f at x by recording f's graph and calling autograd.grad (with
create_graph when an outer transform or tape needs it, so grad(grad(f)) works). `vmap(f)` runs f
once per batch element and stacks the results: the same values and gradients as torch's
batching rules, a Python loop in time (documented in the README).
"""

from __future__ import annotations

from typing import Any, Callable

from . import random as _random
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
        if has_aux and not (isinstance(result, tuple) and len(result) == 2):
            raise RuntimeError("grad_and_value(f)(*args): output of function f should be a "
                               "tuple: (output, aux) if has_aux is True")
        output, aux = (result if has_aux else (result, None))
        if not isinstance(output, Tensor) or output.numel() != 1:
            raise RuntimeError("grad_and_value(f)(*args): Expected f(*args) to return a "
                               "scalar Tensor, got "
                               f"{getattr(output, 'shape', type(output).__name__)}")
        from .autograd import grad as _grad  # noqa: PLC0415

        if output.requires_grad:
            grads = _grad(output, inputs, create_graph=outer_graph, allow_unused=True)
        else:  # f does not depend on its inputs: torch's gradient is zeros
            grads = (None,) * len(inputs)
    grads = tuple(g if g is not None else x.detach().new_zeros(x.shape)
                  for g, x in zip(grads, inputs, strict=True))
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
        return tuple(g if g is not None else x.detach().new_zeros(x.shape)
                     for g, x in zip(grads, inputs, strict=True))

    detached = _map_structure(lambda o: o.detach(), output)
    return (detached, vjp_fn, aux) if has_aux else (detached, vjp_fn)


def _jacobian_transform(func: Callable, argnums: Any, has_aux: bool, name: str) -> Callable:
    """jacrev/jacfwd: arguments and outputs may be pytrees (tuples, lists, dicts of tensors);
    the result has the output's structure, each leaf holding the argument's structure."""
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        nums = _argnums_tuple(argnums, len(args))
        selected = tuple(args[i] for i in nums)
        in_leaves = _leaves(selected)
        aux_box = []
        out_box = []

        def of_leaves(*xs: Any) -> tuple:
            counter = iter(xs)
            rebuilt = _map_structure(lambda _: next(counter), selected)
            full = list(args)
            for i, x in zip(nums, rebuilt, strict=True):
                full[i] = x
            out = func(*full, **kwargs)
            if has_aux:
                if not (isinstance(out, tuple) and len(out) == 2):
                    raise RuntimeError(f"{name}(f, ...)(*args): output of function f should be "
                                       "a tuple: (output, aux) if has_aux is True")
                out, aux = out
                aux_box.append(aux)
            out_box.append(out)
            return tuple(_leaves(out))

        jac = _functional.jacobian(of_leaves, tuple(in_leaves), create_graph=_grad_state.enabled)
        out_counter = iter(jac)

        def per_output(_: Any) -> Any:  # one output leaf: its Jacobians in the args' structure
            row = iter(next(out_counter))
            by_arg = _map_structure(lambda _: next(row), selected)
            return by_arg[0] if isinstance(argnums, int) else by_arg

        result = _map_structure(per_output, out_box[0])
        return (result, aux_box[0]) if has_aux else result

    wrapper.__name__ = name
    return wrapper


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
    if randomness not in ("error", "different", "same"):
        raise RuntimeError("Only allowed values for randomness are 'error', 'different', or "
                           f"'same'. Got {randomness}")

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

        if n == 0:  # one call on a zero sample gives the output's shapes and dtypes
            out = func(*(_zero_sample(a, d) for a, d in zip(args, dims, strict=True)), **kwargs)
            return _stack_results([out], out_dims, empty=True)
        generator = _random.default_generator
        start = generator.rng.bit_generator.state
        results = []
        for i in range(n):
            if i and randomness == "same":
                generator.rng.bit_generator.state = start  # every sample draws the same
            sample = (pick(a, d, i) for a, d in zip(args, dims, strict=True))
            results.append(func(*sample, **kwargs))
            if not i and randomness == "error" and generator.rng.bit_generator.state != start:
                raise RuntimeError("vmap: called random operation while in randomness error "
                                   "mode. Please either use the 'same' or 'different' "
                                   "randomness flags on vmap or perform the randomness "
                                   "operation out of vmap")
        return _stack_results(results, out_dims)

    return wrapper


def _zero_sample(a: Any, d: Any) -> Any:
    """A zero-filled stand-in for one sample of argument `a` mapped over dims `d`."""
    if isinstance(a, (tuple, list, dict)):
        items = a.items() if isinstance(a, dict) else enumerate(a)
        ds = d if isinstance(d, (tuple, list, dict)) else _map_structure(lambda _: d, a)
        picked = {k: _zero_sample(v, ds[k]) for k, v in items}
        return picked if isinstance(a, dict) else type(a)(picked[k] for k in range(len(a)))
    if d is None:
        return a
    shape = list(a.shape)
    del shape[d]
    return a.new_zeros(shape)


def _stack_results(results: list, out_dims: Any, empty: bool = False) -> Any:
    """Join per-sample results along out_dims (`empty`: results[0] is the one zero sample of
    a batch of size 0)."""
    from .ops.join import stack  # noqa: PLC0415

    first = results[0]
    if isinstance(first, (tuple, list)):
        dims = out_dims if isinstance(out_dims, (tuple, list)) else [out_dims] * len(first)
        joined = [_stack_results([r[k] for r in results], dims[k], empty)
                  for k in range(len(first))]
        return type(first)(joined)
    if isinstance(first, dict):
        return {k: _stack_results([r[k] for r in results], out_dims, empty) for k in first}
    if out_dims is None:  # an unbatched output: the same in every sample
        if not all(r is first or (isinstance(r, Tensor) and isinstance(first, Tensor)
                                  and r.shape == first.shape and bool((r == first).all()))
                   or (not isinstance(r, Tensor) and r == first) for r in results[1:]):
            raise ValueError("vmap: `func` can not return a BatchedTensor when out_dim is None")
        return first
    if not isinstance(first, Tensor):
        raise ValueError(f"vmap: `func` must only return Tensors, got type "
                         f"{type(first).__name__}. Did you mean to set out_dims= to None for "
                         "output?")
    if empty:
        dim = out_dims % (first.ndim + 1)
        return first.new_zeros((*first.shape[:dim], 0, *first.shape[dim:]))
    return stack(results, out_dims)
