"""Matrix products: matmul (@), mm, bmm, mv, dot, outer, addmm, einsum, tensordot.

For C = A @ B the chain rule gives dA = dC @ B^T and dB = A^T @ dC; batch dimensions that were
broadcast are summed back with the shared `sum_to_shape`.
"""

from __future__ import annotations

import string
from typing import Any

from .. import backend
from ..amp.autocast_mode import cast_inputs
from ..autograd.node import Op, array_namespace
from ..tensor import Tensor
from ._util import right_operand, shape_str, sum_to_shape, torch_named

_MATMUL_NAMES = {(1, 1): "DotBackward0", (2, 1): "MvBackward0", (2, 2): "MmBackward0",
                 (1, 2): "SqueezeBackward4"}


class MatMul(Op):
    saved_for = ((1,), (0,))  # dA needs only B, dB only A

    def forward(self, a: Any, b: Any) -> Any:
        self.save_for_backward(a, b)
        self.ndims = (a.ndim, b.ndim)
        xp = backend.module_of(a)
        return xp.matmul(a, right_operand(xp, b))

    def name(self) -> str:
        """torch's node for the product matmul chose: dot, mv, mm, or a view of a batched one."""
        return _MATMUL_NAMES.get(getattr(self, "ndims", None), "UnsafeViewBackward0")

    def backward(self, grad: Any) -> tuple:
        a, b = self.saved_tensors
        xp = array_namespace(grad)
        need_a, need_b = self.next_edges
        if a.ndim == 1 and b.ndim == 1:  # dot product
            return (grad * b if need_a else None), (grad * a if need_b else None)
        # treat vectors as matrices: a (k,) -> (1, k), b (k,) -> (k, 1)
        a2 = xp.reshape(a, (1,) + tuple(a.shape)) if a.ndim == 1 else a
        b2 = xp.reshape(b, tuple(b.shape) + (1,)) if b.ndim == 1 else b
        g = grad
        if a.ndim == 1:
            g = xp.expand_dims(g, -2)
        if b.ndim == 1:
            g = xp.expand_dims(g, -1)
        ga = gb = None
        if need_a:
            ga = xp.matmul(g, right_operand(xp, xp.swapaxes(b2, -1, -2)))  # dA = dC @ B^T
            ga = xp.reshape(sum_to_shape(ga, tuple(a2.shape)), tuple(a.shape))
        if need_b:
            gb = xp.matmul(xp.swapaxes(a2, -1, -2), g)  # dB = A^T @ dC
            gb = xp.reshape(sum_to_shape(gb, tuple(b2.shape)), tuple(b.shape))
        return ga, gb


def _check_same_dtype(op: str, a: Tensor, b: Tensor) -> None:
    if a._data.dtype != b._data.dtype:
        raise RuntimeError(f"{op}: expected m1 and m2 to have the same dtype, but got: "
                           f"{a.dtype.name} != {b.dtype.name}")


def _check_tensors(op: str, a: Any, b: Any) -> None:
    for name, t in (("input", a), ("other", b)):
        if not isinstance(t, Tensor):
            raise TypeError(f"{op}(): argument '{name}' must be a Tensor, not {type(t).__name__}")


def matmul(input: Tensor, other: Tensor) -> Tensor:
    """Matrix product with numpy/torch rules for 1-D operands and broadcast batch dims."""
    return _matmul(input, other, "matmul")


def _matmul(input: Tensor, other: Tensor, op: str) -> Tensor:
    """matmul, with errors that name the op the user called (mm, bmm, mv...)."""
    _check_tensors(op, input, other)
    if input._data.dtype.kind == "b" and other._data.dtype.kind == "b":  # torch has no kernel
        dims = (input._data.ndim, other._data.ndim)
        kernel = "dot" if dims == (1, 1) else "addmv_impl_cpu" if 1 in dims else (
            "addmm_impl_cpu_" if dims == (2, 2) else "bmm")
        raise NotImplementedError(f'"{kernel}" not implemented for \'Bool\'')
    if input._sparse_layout or other._sparse_layout:  # COO / CSR products (ops/sparse_coo.py)
        from .sparse_coo import mm as sparse_mm  # noqa: PLC0415

        return sparse_mm(input, other)
    input, other = cast_inputs(input, other)
    a, b = input._data, other._data
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"matmul: both arguments to matmul need to be at least 1D, but they "
                           f"are {a.ndim}D and {b.ndim}D")
    inner_a = a.shape[-1]
    inner_b = b.shape[-2] if b.ndim > 1 else b.shape[0]
    if inner_a != inner_b:
        if op == "mm":  # torch's words
            raise RuntimeError(f"mm: mat1 and mat2 shapes cannot be multiplied "
                               f"({shape_str(a.shape)} and {shape_str(b.shape)})")
        raise RuntimeError(
            f"{op}: ({shape_str(a.shape)}) @ ({shape_str(b.shape)}): inner dimensions "
            f"{inner_a} and {inner_b} differ"
        )
    if a.ndim > 2 or b.ndim > 2:
        from ._util import broadcast_shapes  # noqa: PLC0415

        try:
            broadcast_shapes(a.shape[:-2] if a.ndim > 1 else (), b.shape[:-2] if b.ndim > 1 else ())
        except RuntimeError:
            raise RuntimeError(
                f"{op}: ({shape_str(a.shape)}) @ ({shape_str(b.shape)}): batch dimensions "
                f"{tuple(a.shape[:-2])} and {tuple(b.shape[:-2])} cannot be broadcast"
            ) from None
    _check_same_dtype(op, input, other)
    return MatMul.apply(input, other)


def mm(input: Tensor, mat2: Tensor) -> Tensor:
    _check_tensors("mm", input, mat2)
    if input._data.ndim != 2 or mat2._data.ndim != 2:
        raise RuntimeError(f"mm: expected 2D tensors, got {input._data.ndim}D and "
                           f"{mat2._data.ndim}D (shapes ({shape_str(input.shape)}) and "
                           f"({shape_str(mat2.shape)}))")
    return _matmul(input, mat2, "mm")


def bmm(input: Tensor, mat2: Tensor) -> Tensor:
    _check_tensors("bmm", input, mat2)
    input, mat2 = cast_inputs(input, mat2)
    a, b = input._data, mat2._data
    if a.ndim != 3 or b.ndim != 3:
        raise RuntimeError(f"bmm: batch1 must be a 3D tensor and batch2 must be a 3D tensor "
                           f"(got shapes ({shape_str(a.shape)}) and ({shape_str(b.shape)}))")
    if a.shape[0] != b.shape[0]:
        raise RuntimeError(f"bmm: batch sizes differ: ({shape_str(a.shape)}) @ "
                           f"({shape_str(b.shape)})")
    return torch_named(_matmul(input, mat2, "bmm"), "Bmm")


def mv(input: Tensor, vec: Tensor) -> Tensor:
    if input._data.ndim != 2 or vec._data.ndim != 1:
        raise RuntimeError(f"mv: expected a 2D matrix and a 1D vector, got shapes "
                           f"({shape_str(input.shape)}) and ({shape_str(vec.shape)})")
    return _matmul(input, vec, "mv")


def dot(input: Tensor, other: Tensor) -> Tensor:
    if input._data.ndim != 1 or other._data.ndim != 1:
        raise RuntimeError(f"1D tensors expected, but got {input._data.ndim}D and "
                           f"{other._data.ndim}D tensors")
    if input._data.shape[0] != other._data.shape[0]:
        raise RuntimeError(f"inconsistent tensor size, expected tensor [{input._data.shape[0]}] "
                           f"and src [{other._data.shape[0]}] to have the same number of elements"
                           ", but got {} and {} elements respectively".format(
                               input._data.shape[0], other._data.shape[0]))
    return matmul(input, other)


def vdot(input: Tensor, other: Tensor) -> Tensor:
    """dot of 1-D tensors, the first conjugated when complex."""
    if input._data.dtype.kind == "c":
        input = input.conj()
    return torch_named(dot(input, other), "Vdot")


def inner(input: Tensor, other: Tensor) -> Tensor:
    """Sum of products over the last dims: out[i..., j...] = sum_k a[i..., k] * b[j..., k]
    (a 0-d operand scales the other)."""
    if input._data.ndim == 0 or other._data.ndim == 0:
        return input * other
    if input._data.shape[-1] != other._data.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but "
                           f"got shapes {list(input.shape)} and {list(other.shape)}")
    return tensordot(input, other, dims=([-1], [-1]))


def outer(input: Tensor, vec2: Tensor) -> Tensor:
    """The outer product of two 1-D tensors: out[i, j] = input[i] * vec2[j]."""
    for name, v in (("self", input), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"outer: Expected 1-D argument {name}, but got {v.ndim}-D "
                               f"(shape ({shape_str(v.shape)}))")
    return input.reshape(-1, 1) * vec2.reshape(1, -1)


ger = outer


def addmm(input: Tensor, mat1: Tensor, mat2: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    """beta * input + alpha * (mat1 @ mat2)"""
    product = mm(mat1, mat2)
    if alpha != 1:
        product = product * alpha
    return torch_named(product + (input if beta == 1 else input * beta), "Addmm")


def addmv(input: Tensor, mat: Tensor, vec: Tensor, *, beta: Any = 1, alpha: Any = 1) -> Tensor:
    product = mv(mat, vec)
    if alpha != 1:
        product = product * alpha
    return torch_named(product + (input if beta == 1 else input * beta), "Addmv")


def baddbmm(input: Tensor, batch1: Tensor, batch2: Tensor, *, beta: Any = 1,
            alpha: Any = 1) -> Tensor:
    product = bmm(batch1, batch2)
    if alpha != 1:
        product = product * alpha
    return torch_named(product + (input if beta == 1 else input * beta), "Baddbmm")


# ---------------------------------------------------------------------------------------------
# einsum
# ---------------------------------------------------------------------------------------------


class Einsum(Op):
    def name(self) -> str:
        """torch's einsum ends in its last step's node: a permute, or a sum, of one operand; for
        several, a view of the batched product where some letter is summed, else a product."""
        summed = any(c not in self.output for subs in self.inputs for c in subs)
        if len(self.inputs) == 1:
            return "SumBackward1" if summed else "PermuteBackward0"
        return "ViewBackward0" if summed else "MulBackward0"

    def forward(self, *arrays: Any, inputs: tuple, output: str) -> Any:
        self.inputs, self.output = inputs, output
        self.sizes = {}
        for subs, arr in zip(inputs, arrays):
            for letter, n in zip(subs, arr.shape):
                if n != 1 or letter not in self.sizes:
                    self.sizes[letter] = n
        self.save_for_backward(*arrays)
        xp = backend.module_of(arrays[0])
        equation = ",".join(inputs) + "->" + output
        if len(arrays) == 1:  # a permuted view where it can be, as torch's
            return xp.einsum(equation, *arrays)
        # numpy's contraction order may leave the result transposed; torch's is contiguous
        return _c_contiguous(xp.einsum(equation, *arrays, optimize=True))

    def backward(self, grad: Any) -> tuple:
        saved = self.saved_tensors
        return tuple(
            self._operand_grad(grad, saved, i) if need else None
            for i, need in enumerate(self.next_edges)
        )

    def _operand_grad(self, grad: Any, saved: tuple, i: int) -> Any:
        """d out / d operand i: contract the gradient with every other operand."""
        xp = array_namespace(grad)
        subs = self.inputs[i]
        others = [(s, t) for j, (s, t) in enumerate(zip(self.inputs, saved)) if j != i]
        available = set(self.output).union(*[set(s) for s, _ in others])
        unique = "".join(dict.fromkeys(subs))
        reachable = "".join(c for c in unique if c in available)
        equation = ",".join([self.output] + [s for s, _ in others]) + "->" + reachable
        g = _einsum_call(xp, equation, grad, *[t for _, t in others])
        # letters summed away only inside this operand: the gradient is constant along them
        if reachable != unique:
            shape = tuple(self.sizes[c] for c in unique)
            for pos, c in enumerate(unique):
                if c not in reachable:
                    g = xp.expand_dims(g, pos)
            g = xp.broadcast_to(g, shape)
        if len(unique) != len(subs):  # repeated letters: write onto the diagonal
            arrays = backend.module_of(grad._data if isinstance(grad, Tensor) else grad)
            key = []
            for c in subs:
                idx_shape = [1] * len(unique)
                idx_shape[unique.index(c)] = self.sizes[c]
                key.append(arrays.arange(self.sizes[c]).reshape(idx_shape))
            from .indexing import scatter_into_zeros  # noqa: PLC0415

            shape = tuple(self.sizes[c] for c in subs)
            g = scatter_into_zeros(shape, tuple(key), g, True)
        g = sum_to_shape(g, tuple(saved[i].shape))
        return g if isinstance(g, Tensor) else _c_contiguous(g)  # so that .grad.view() works


def _c_contiguous(a: Any) -> Any:
    """`a` in row-major memory (ascontiguousarray, which would turn a 0-d array 1-d)."""
    return a if a.flags.c_contiguous else backend.module_of(a).ascontiguousarray(a)


def _einsum_call(xp: Any, equation: str, *operands: Any) -> Any:
    if isinstance(operands[0], Tensor):
        return einsum(equation, *operands)
    return xp.einsum(equation, *operands, optimize=len(operands) > 1)


def _parse_einsum(equation: str, shapes: list) -> tuple:
    """Expand '...' into letters and make the output explicit (implicit mode sorts letters)."""
    eq = equation.replace(" ", "")
    if "->" in eq:
        lhs, out = eq.split("->")
        explicit = True
    else:
        lhs, out, explicit = eq, "", False
    terms = lhs.split(",")
    if len(terms) != len(shapes):
        raise RuntimeError(f"einsum(): {len(terms)} operands in the equation '{equation}' but "
                           f"{len(shapes)} tensors were given")
    used = set(eq) - set(".,->")
    spare = [c for c in string.ascii_uppercase + string.ascii_lowercase if c not in used]
    ell_dims = 0
    for term, shape in zip(terms, shapes):
        if "..." in term:
            ell_dims = max(ell_dims, len(shape) - (len(term) - 3))
    ell = "".join(spare[:ell_dims])
    expanded = []
    for term, shape in zip(terms, shapes):
        if "..." in term:
            n = len(shape) - (len(term) - 3)
            term = term.replace("...", ell[ell_dims - n:] if n else "")
        if len(term) != len(shape):
            raise RuntimeError(
                f"einsum(): the number of subscripts in the equation ({len(term)}) does not "
                f"match the number of dimensions ({len(shape)}) for operand "
                f"{len(expanded)} (shape ({shape_str(shape)})) in '{equation}'"
            )
        expanded.append(term)
    if explicit:
        for c in out.replace("...", ""):
            if out.count(c) > 1:
                raise RuntimeError(f"einsum(): output subscript {c} appears more than once in "
                                   "the output")
            if c not in lhs:
                raise RuntimeError(f"einsum(): output subscript {c} does not appear in the "
                                   "equation for any input operand")
        out = out.replace("...", ell)
    else:
        counts: dict = {}
        for term in expanded:
            for c in term:
                counts[c] = counts.get(c, 0) + 1
        out = ell + "".join(sorted(c for c, k in counts.items() if k == 1 and c not in ell))
    sizes: dict = {}
    for term, shape in zip(expanded, shapes):
        for c, n in zip(term, shape):
            if c in sizes and n != sizes[c] and 1 not in (n, sizes[c]):
                raise RuntimeError(
                    f"einsum(): operands do not broadcast with remapped shapes: subscript "
                    f"'{c}' has size {sizes[c]} in one operand and {n} in another "
                    f"('{equation}')"
                )
            if n != 1 or c not in sizes:
                sizes[c] = n
    return tuple(expanded), out


def _sublist_equation(args: tuple) -> tuple:
    """einsum(a, [0, 1], b, [1, 2], [0, 2]) -> ('ab,bc->ac', (a, b)): torch's sublist format,
    subscripts as integers in [0, 52) and Ellipsis."""
    def letters(sublist: Any) -> str:
        out = ""
        for s in sublist:
            if s is Ellipsis:
                out += "..."
            elif isinstance(s, int) and 0 <= s < 52:
                out += string.ascii_letters[s]
            else:
                raise ValueError(f"einsum(): expected subscript to be within the range [0, 52), "
                                 f"but got {s}")
        return out

    operands = args[0::2][: len(args) // 2]
    terms = [letters(sub) for sub in args[1::2][: len(args) // 2]]
    equation = ",".join(terms)
    if len(args) % 2:
        equation += "->" + letters(args[-1])
    return equation, tuple(operands)


def einsum(equation: str, *operands: Any) -> Tensor:
    """Einstein summation, e.g. einsum('bij,bjk->bik', a, b), or in the sublist format
    einsum(a, [0, 1, 2], b, [0, 2, 3], [0, 1, 3])."""
    if not isinstance(equation, str):
        equation, operands = _sublist_equation((equation,) + operands)
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    for i, t in enumerate(operands):
        if not isinstance(t, Tensor):
            raise TypeError(f"einsum(): operand {i} must be a Tensor, not {type(t).__name__}")
    inputs, output = _parse_einsum(equation, [t._data.shape for t in operands])
    dtype = operands[0]._data.dtype
    for t in operands[1:]:
        if t._data.dtype != dtype:
            raise RuntimeError(f"einsum(): expected all operands to have the same dtype, got "
                               f"{operands[0].dtype} and {t.dtype}")
    # numpy's einsum does not broadcast size-1 letters against larger ones: expand them first
    sizes: dict = {}
    for subs, t in zip(inputs, operands):
        for c, n in zip(subs, t._data.shape):
            if sizes.get(c, 1) == 1:  # a size-1 letter takes the other's size, 0 included
                sizes[c] = n
    expanded = []
    for subs, t in zip(inputs, operands):
        target = tuple(sizes[c] for c in subs)
        expanded.append(t.expand(*target) if target != tuple(t._data.shape) else t)
    return Einsum.apply(*expanded, inputs=inputs, output=output)


def tensordot(a: Tensor, b: Tensor, dims: Any = 2) -> Tensor:
    """Contract a's dims_a with b's dims_b: dims=n pairs a's last n dims with b's first n."""
    if isinstance(dims, int):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > min(a._data.ndim, b._data.ndim):
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a = list(range(a._data.ndim - dims, a._data.ndim))
        dims_b = list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a._data.dtype != b._data.dtype:
        raise RuntimeError("both inputs should have same dtype")
    for da, db in zip(dims_a, dims_b, strict=True):
        if a.shape[da] != b.shape[db] and 1 not in (a.shape[da], b.shape[db]):  # 1 broadcasts
            raise RuntimeError(f"contracted dimensions need to match, but first has size "
                               f"{a.shape[da]} in dim {da} and second has size {b.shape[db]} "
                               f"in dim {db}")
    letters = iter(string.ascii_letters)
    sa = [next(letters) for _ in range(a._data.ndim)]
    sb = [next(letters) for _ in range(b._data.ndim)]
    for da, db in zip(dims_a, dims_b):
        sb[db] = sa[da]
    out = [c for i, c in enumerate(sa) if i not in [d % a._data.ndim for d in dims_a]]
    out += [c for i, c in enumerate(sb) if i not in [d % b._data.ndim for d in dims_b]]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", a, b)
