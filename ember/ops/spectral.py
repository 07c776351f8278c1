"""stft and istft: short-time Fourier transforms, built from differentiable ops (pad, unfold,
fft, index_add), so their gradients follow from those ops'.

stft frames the (optionally centre-padded) signal every `hop_length` samples, multiplies each
frame by the window (zero-padded to n_fft in the middle) and transforms it; istft inverts it by
overlap-adding the windowed inverse transforms and dividing by the overlap-added squared
window (torch's least-squares inverse).
"""

from __future__ import annotations

from typing import Any

from .. import backend
from ..tensor import Tensor


def _window(window: Tensor | None, n_fft: int, win_length: int, like: Tensor, op: str) -> Any:
    """The window zero-padded on both sides to n_fft (ones when not given)."""
    if not 0 < win_length <= n_fft:
        raise RuntimeError(f"{op}: expected 0 < win_length <= n_fft, but got "
                           f"win_length={win_length}")
    if window is None:
        from ..creation import ones  # noqa: PLC0415

        window = ones(win_length, dtype=like.dtype.to_real(), device=like.device)
    elif window.dim() != 1 or window.shape[0] != win_length:
        raise RuntimeError(f"{op}: expected a 1D window tensor of size equal to win_length="
                           f"{win_length}, but got window with size {list(window.shape)}")
    if win_length < n_fft:
        from ..nn.functional import pad  # noqa: PLC0415

        left = (n_fft - win_length) // 2
        window = pad(window, (left, n_fft - win_length - left))
    return window


def stft(input: Tensor, n_fft: int, hop_length: int | None = None,
         win_length: int | None = None, window: Tensor | None = None, center: bool = True,
         pad_mode: str = "reflect", normalized: bool = False, onesided: bool | None = None,
         return_complex: bool | None = None) -> Tensor:
    """The short-time Fourier transform of a 1-D signal or a batch of them: (..., freq, frames).

    As in torch 2, `return_complex` must be given for real input (True is the supported
    form; False returns view_as_real of the result, torch's deprecated layout).
    """
    from .. import fft  # noqa: PLC0415
    from ..nn.functional import pad  # noqa: PLC0415

    if not isinstance(input, Tensor):
        raise TypeError(f"stft(): argument 'input' must be a Tensor, not {type(input).__name__}")
    if input._data.dtype.kind not in "fc":
        raise RuntimeError(f"stft: expected a tensor of floating point or complex values, but "
                           f"got {input.dtype}")
    is_complex = input.is_complex() or (window is not None and window.is_complex())
    if return_complex is None:
        if not is_complex:
            raise RuntimeError("stft requires the return_complex parameter be given for real "
                               "inputs, and will further require that return_complex=True in a "
                               "future PyTorch release.")
        return_complex = True
    if input.dim() not in (1, 2):
        raise RuntimeError(f"stft: expected a 1D or 2D tensor, but got {input.dim()}D")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    if hop_length <= 0:
        raise RuntimeError(f"stft: expected hop_length > 0, but got hop_length={hop_length}")
    x = input.unsqueeze(0) if input.dim() == 1 else input  # (B, L)
    if center:
        half = n_fft // 2
        x = pad(x.unsqueeze(1), (half, half), mode=pad_mode).squeeze(1)
    if not 0 < n_fft <= x.shape[-1]:
        raise RuntimeError(f"stft: expected 0 < n_fft <= {x.shape[-1]} (the padded signal "
                           f"length), but got n_fft={n_fft}")
    frames = x.unfold(-1, n_fft, hop_length)  # (B, frames, n_fft)
    frames = frames * _window(window, n_fft, win_length, input, "stft")
    onesided = (not is_complex) if onesided is None else onesided
    if onesided and is_complex:
        raise RuntimeError("stft: Cannot have onesided output if window or input is complex")
    norm = "ortho" if normalized else "backward"
    spec = (fft.rfft if onesided else fft.fft)(frames, dim=-1, norm=norm)
    spec = spec.transpose(-1, -2)  # (B, freq, frames)
    if input.dim() == 1:
        spec = spec.squeeze(0)
    if not return_complex:
        from .complex import view_as_real  # noqa: PLC0415

        return view_as_real(spec)
    return spec


def istft(input: Tensor, n_fft: int, hop_length: int | None = None,
          win_length: int | None = None, window: Tensor | None = None, center: bool = True,
          normalized: bool = False, onesided: bool | None = None, length: int | None = None,
          return_complex: bool = False) -> Tensor:
    """The inverse of stft: overlap-add of the windowed frames over the summed squared window."""
    from .. import fft  # noqa: PLC0415
    from ..creation import zeros  # noqa: PLC0415
    from .indexing import index_add  # noqa: PLC0415

    if not isinstance(input, Tensor) or not input.is_complex():
        raise RuntimeError("istft requires a complex-valued input tensor (the output of "
                           "stft(..., return_complex=True))")
    if input.dim() not in (2, 3):
        raise RuntimeError(f"istft: expected a tensor with 2 or 3 dimensions of complex "
                           f"values, but got {input.dim()}D")
    hop_length = n_fft // 4 if hop_length is None else hop_length
    win_length = n_fft if win_length is None else win_length
    spec = input.unsqueeze(0) if input.dim() == 2 else input  # (B, freq, frames)
    n_freq, n_frames = spec.shape[-2], spec.shape[-1]
    onesided = (n_freq != n_fft) if onesided is None else onesided
    expected_freq = n_fft // 2 + 1 if onesided else n_fft
    if n_freq != expected_freq:
        raise RuntimeError(f"istft: expected the frequency dimension (second to last) of the "
                           f"input to equal {expected_freq} (n_fft={n_fft}, onesided="
                           f"{onesided}), but got {n_freq}")
    if window is not None and window.is_complex() and not return_complex:
        raise RuntimeError("istft: Complex windows are incompatible with return_complex=False")
    w = _window(window, n_fft, win_length, spec, "istft")
    norm = "ortho" if normalized else "backward"
    spec = spec.transpose(-1, -2)  # (B, frames, freq)
    if return_complex:
        if onesided:
            raise RuntimeError("istft: cannot have onesided output if return_complex=True")
        frames = fft.ifft(spec, n=n_fft, dim=-1, norm=norm)
    else:
        if not onesided:
            spec = spec[..., :n_fft // 2 + 1]
        frames = fft.irfft(spec, n=n_fft, dim=-1, norm=norm)
    frames = frames * w  # (B, frames, n_fft)
    total = n_fft + hop_length * (n_frames - 1)
    xp = backend.module_of(spec._data)
    positions = (xp.arange(n_frames)[:, None] * hop_length + xp.arange(n_fft)).reshape(-1)
    index = Tensor._make(positions.astype("int64"))
    batch = frames.shape[0]
    y = index_add(zeros(batch, total, dtype=frames.dtype, device=frames.device), 1, index,
                  frames.reshape(batch, -1))
    envelope = index_add(zeros(total, dtype=w.dtype, device=w.device), 0, index,
                         (w * w).expand(n_frames, n_fft).reshape(-1))
    start = n_fft // 2 if center else 0
    end = total - n_fft // 2 if center else total
    if length is not None:
        end = start + length
    if end > total:  # asked for more samples than the frames cover: zeros after them
        from ..nn.functional import pad  # noqa: PLC0415

        y = pad(y, (0, end - total))
        envelope = pad(envelope, (0, end - total), value=1.0)
    y, envelope = y[:, start:end], envelope[start:end]
    if bool((envelope.detach().abs() < 1e-11).any()):
        raise RuntimeError(f"istft: window overlap add min: "
                           f"{envelope.detach().abs().min().item():g} is below 1e-11: the "
                           "window and hop_length do not satisfy the NOLA condition")
    y = y / envelope
    return y.squeeze(0) if input.dim() == 2 else y

