"""Named tuples returned by reductions that give values and indices (torch.return_types)."""

from __future__ import annotations

from typing import Any, NamedTuple


class max(NamedTuple):  # noqa: N801 (torch's names)
    values: Any
    indices: Any


class min(NamedTuple):  # noqa: N801
    values: Any
    indices: Any


class median(NamedTuple):  # noqa: N801
    values: Any
    indices: Any


class kthvalue(NamedTuple):  # noqa: N801
    values: Any
    indices: Any


class mode(NamedTuple):  # noqa: N801
    values: Any
    indices: Any


class sort(NamedTuple):  # noqa: N801
    values: Any
    indices: Any


class topk(NamedTuple):  # noqa: N801
    values: Any
    indices: Any


class cummax(NamedTuple):  # noqa: N801
    values: Any
    indices: Any


class cummin(NamedTuple):  # noqa: N801
    values: Any
    indices: Any
