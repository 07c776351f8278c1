"""Functions composed of other ops (ops/composite.py, solve_triangular) and the small Tensor
methods around them, against torch: values, gradients and error kinds."""

from __future__ import annotations

import pytest
import torch
from conformance import Input, compare

import ember

SPD = Input((3, 3), low=-1, high=1)


def _spd_factor(m, a, upper=False):
    spd = a @ a.mT + 3 * m.eye(3, dtype=a.dtype)
    return m.linalg.cholesky(spd, upper=upper)


CASES = {
    "select_scatter": (lambda m, x, s: m.select_scatter(x, s, 1, -1), [(3, 4), (3,)]),
    "slice_scatter": (lambda m, x, s: x.slice_scatter(s, 1, 1, 4, 2), [(3, 5), (3, 2)]),
    "diagonal_scatter": (lambda m, x, s: m.diagonal_scatter(x, s, 1), [(3, 4), (3,)]),
    "diagonal_scatter_dims": (lambda m, x, s: x.diagonal_scatter(s, 0, 1, 2),
                              [(2, 3, 3), (2, 3)]),
    "diagflat": (lambda m, x: m.diagflat(x, -1), [(2, 2)]),
    "hsplit": (lambda m, x: m.hsplit(x, [1, 3]), [(2, 5, 2)]),
    "hsplit_1d": (lambda m, x: x.hsplit(3), [(6,)]),
    "vsplit": (lambda m, x: m.vsplit(x, 2), [(4, 3)]),
    "dsplit": (lambda m, x: x.dsplit([1]), [(2, 2, 3)]),
    "split_with_sizes": (lambda m, x: x.split_with_sizes([1, 3], 1), [(2, 4)]),
    "sum_to_size": (lambda m, x: x.sum_to_size(3, 1), [(2, 3, 4)]),
    "sum_to_size_tuple": (lambda m, x: x.sum_to_size((1, 4)), [(3, 4)]),
    "narrow_copy": (lambda m, x: m.narrow_copy(x, 1, 1, 2), [(2, 4)]),
    "addbmm": (lambda m, i, a, b: m.addbmm(i, a, b, beta=0.5, alpha=2.0),
               [(3, 4), (2, 3, 5), (2, 5, 4)]),
    "addbmm_broadcast": (lambda m, i, a, b: i.addbmm(a, b), [(4,), (2, 3, 5), (2, 5, 4)]),
    "addmv": (lambda m, i, a, v: i.addmv(a, v, beta=2.0), [(3,), (3, 4), (4,)]),
    "baddbmm": (lambda m, i, a, b: i.baddbmm(a, b, alpha=0.5), [(2, 3, 4), (2, 3, 5), (2, 5, 4)]),
    "cholesky_solve": (lambda m, b, a: m.cholesky_solve(b, _spd_factor(m, a)), [(3, 2), SPD]),
    "cholesky_solve_upper": (lambda m, b, a: b.cholesky_solve(_spd_factor(m, a, True), True),
                             [(3, 2), SPD]),
    "cholesky_inverse": (lambda m, a: m.cholesky_inverse(_spd_factor(m, a)), [SPD]),
    "solve_triangular_lower": (lambda m, a, b: m.linalg.solve_triangular(
        a + 4 * m.eye(3, dtype=a.dtype), b, upper=False), [(3, 3), (3, 2)]),
    "solve_triangular_upper_right": (lambda m, a, b: m.linalg.solve_triangular(
        a + 4 * m.eye(3, dtype=a.dtype), b, upper=True, left=False), [(3, 3), (2, 3)]),
    "solve_triangular_unit_batched": (lambda m, a, b: m.linalg.solve_triangular(
        a, b, upper=True, unitriangular=True), [(2, 3, 3), (2, 3, 1)]),
    "i0": (lambda m, x: m.i0(x), [(5,)]),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_composites_match_torch(name, dtype) -> None:
    fn, specs = CASES[name]
    tol = {"rtol": 1e-4, "atol": 1e-4} if dtype == "float32" else {}
    compare(fn, specs, dtype=dtype, **tol)


@pytest.mark.parametrize("inplace", ["addmm_", "addmv_", "addr_", "baddbmm_", "addbmm_",
                                     "cumsum_", "cumprod_"])
def test_inplace_forms_match_torch(inplace) -> None:
    args = {
        "addmm_": ((3, 4), [(3, 5), (5, 4)]), "addmv_": ((3,), [(3, 4), (4,)]),
        "addr_": ((3, 4), [(3,), (4,)]), "baddbmm_": ((2, 3, 4), [(2, 3, 5), (2, 5, 4)]),
        "addbmm_": ((3, 4), [(2, 3, 5), (2, 5, 4)]), "cumsum_": ((3, 4), []),
        "cumprod_": ((3, 4), []),
    }[inplace]
    extra = (1,) if inplace.startswith("cum") else ()

    def fn(m, x, *others):
        y = x * 1.0
        getattr(y, inplace)(*others, *extra)
        return y

    compare(fn, [args[0], *args[1]], dtype="float64")


@pytest.mark.parametrize("shape,wrap", [((3, 3), False), ((5, 3), False), ((5, 3), True),
                                        ((3, 5), False), ((3, 3, 3), False)])
def test_fill_diagonal_matches_torch(shape, wrap) -> None:
    compare(lambda m, x: (x * 1.0).fill_diagonal_(7.0, wrap=wrap), [shape], dtype="float64")


def test_predicates_and_layout_match_torch() -> None:
    for lib in (torch, ember):
        assert lib.is_nonzero(lib.tensor([1.5])) and not lib.tensor(0).is_nonzero()
        assert lib.zeros(2, 3).is_same_size(lib.ones(2, 3))
        assert not lib.is_same_size(lib.zeros(2, 3), lib.ones(3, 2))
        x = lib.zeros(2)
        assert not x.is_sparse and not x.is_meta and not x.is_conj() and not x.is_neg()
        assert not x.is_inference()
    assert repr(ember.zeros(1).layout) == repr(torch.zeros(1).layout).replace("torch", "ember")
    assert ember.zeros(1).layout is ember.strided


@pytest.mark.parametrize("call", [
    lambda m: m.is_nonzero(m.tensor([1.0, 2.0])),
    lambda m: m.is_nonzero(m.tensor([])),
    lambda m: m.hsplit(m.zeros(2, 3), 2),
    lambda m: m.vsplit(m.zeros(3), 1),
    lambda m: m.zeros(2, 4).split_with_sizes([1, 2], 1),
    lambda m: m.zeros(2, 3).sum_to_size(4),
    lambda m: m.select_scatter(m.zeros(3, 4), m.zeros(4), 1, 0),
    lambda m: m.zeros(2, 3, 4).fill_diagonal_(1.0),
    lambda m: m.addbmm(m.zeros(3, 4), m.zeros(3, 5), m.zeros(5, 4)),
])
def test_errors_are_torch_kinds(call) -> None:
    with pytest.raises(Exception) as theirs:
        call(torch)
    with pytest.raises(Exception) as ours:
        call(ember)
    assert isinstance(ours.value, type(theirs.value)), (type(ours.value), type(theirs.value))
