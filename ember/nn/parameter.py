"""`Parameter`: a tensor that a Module registers as something to train."""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf tensor with requires_grad=True that Modules pick up in `parameters()`.

    Assigning one to a module attribute (`self.weight = Parameter(...)`) registers it.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        return super().__new__(cls)

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        from ..creation import empty  # noqa: PLC0415

        if data is None:
            data = empty(0)
        if not isinstance(data, Tensor):
            raise TypeError(f"Parameter expects a Tensor as data, got {type(data).__name__}")
        Tensor._init_slots(self, data._data, False, None)
        self.requires_grad_(requires_grad)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    def __deepcopy__(self, memo: dict) -> Parameter:
        # as torch: a fresh parameter with copied data and the same requires_grad, no .grad
        if id(self) in memo:
            return memo[id(self)]
        result = type(self)(Tensor._make(self._data.copy()), self._requires_grad)
        memo[id(self)] = result
        return result

    def __reduce_ex__(self, protocol: int) -> Any:
        return (_rebuild_parameter, (Tensor._make(self._data), self._requires_grad))


def _rebuild_parameter(data: Tensor, requires_grad: bool) -> Parameter:
    return Parameter(data, requires_grad)


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a module (torch.nn.Buffer)."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Buffer:
        return super().__new__(cls)

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        from ..creation import empty  # noqa: PLC0415

        if data is None:
            data = empty(0)
        Tensor._init_slots(self, data._data, False, None)
        self.persistent = persistent


# torch.nn.parameter's lazy placeholders live with the lazy layers
from .modules.lazy import UninitializedBuffer, UninitializedParameter, is_lazy  # noqa: E402,F401
