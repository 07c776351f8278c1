"""torch.backends.mha: the switch for torch's nested-tensor inference path of the Transformer
encoder. Ember reproduces that path's visible effect (zeros at padded positions, see
`nn.TransformerEncoder`), and this switch turns it off as torch's does."""

from __future__ import annotations

_fastpath = {"enabled": True}


def get_fastpath_enabled() -> bool:
    return _fastpath["enabled"]


def set_fastpath_enabled(value: bool) -> None:
    _fastpath["enabled"] = bool(value)
