"""Named tuples returned by ops that give values and indices (torch.return_types):
`values, indices = x.max(dim=1)`, or `x.max(dim=1).values`."""

from __future__ import annotations

from typing import Any, NamedTuple


def _values_indices(name: str) -> type:
    return NamedTuple(name, [("values", Any), ("indices", Any)])


max = _values_indices("max")  # noqa: A001 (torch's names)
min = _values_indices("min")  # noqa: A001
median = _values_indices("median")
nanmedian = _values_indices("nanmedian")
kthvalue = _values_indices("kthvalue")
mode = _values_indices("mode")
sort = _values_indices("sort")
topk = _values_indices("topk")
cummax = _values_indices("cummax")
cummin = _values_indices("cummin")
aminmax = NamedTuple("aminmax", [("min", Any), ("max", Any)])
frexp = NamedTuple("frexp", [("mantissa", Any), ("exponent", Any)])
# torch.* and torch.linalg.* spellings return differently named tuples (torch.svd gives V,
# torch.linalg.svd gives Vh)
slogdet = NamedTuple("slogdet", [("sign", Any), ("logabsdet", Any)])
linalg_slogdet = NamedTuple("linalg_slogdet", [("sign", Any), ("logabsdet", Any)])
qr = NamedTuple("qr", [("Q", Any), ("R", Any)])
linalg_qr = NamedTuple("linalg_qr", [("Q", Any), ("R", Any)])
linalg_eigh = NamedTuple("linalg_eigh", [("eigenvalues", Any), ("eigenvectors", Any)])
linalg_eig = NamedTuple("linalg_eig", [("eigenvalues", Any), ("eigenvectors", Any)])
svd = NamedTuple("svd", [("U", Any), ("S", Any), ("V", Any)])
linalg_svd = NamedTuple("linalg_svd", [("U", Any), ("S", Any), ("Vh", Any)])
linalg_lstsq = NamedTuple("linalg_lstsq", [("solution", Any), ("residuals", Any),
                                           ("rank", Any), ("singular_values", Any)])
histogram = NamedTuple("histogram", [("hist", Any), ("bin_edges", Any)])
linalg_cholesky_ex = NamedTuple("linalg_cholesky_ex", [("L", Any), ("info", Any)])
linalg_solve_ex = NamedTuple("linalg_solve_ex", [("result", Any), ("info", Any)])
linalg_inv_ex = NamedTuple("linalg_inv_ex", [("inverse", Any), ("info", Any)])
linalg_lu = NamedTuple("linalg_lu", [("P", Any), ("L", Any), ("U", Any)])
linalg_lu_factor = NamedTuple("linalg_lu_factor", [("LU", Any), ("pivots", Any)])
linalg_lu_factor_ex = NamedTuple("linalg_lu_factor_ex", [("LU", Any), ("pivots", Any),
                                                         ("info", Any)])
lu_unpack = NamedTuple("lu_unpack", [("P", Any), ("L", Any), ("U", Any)])
triangular_solve = NamedTuple("triangular_solve", [("solution", Any),
                                                   ("cloned_coefficient", Any)])
histogramdd = NamedTuple("histogramdd", [("hist", Any), ("bin_edges", Any)])
