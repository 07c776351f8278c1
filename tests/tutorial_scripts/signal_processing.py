"""Audio-style signal code: torch.fft (rfft/irfft/fftfreq/fftshift), an STFT spectrogram with a
Hann window, mel-like filterbank by matmul, log power, a 1-D conv classifier on it, complex
tensors (abs, angle, polar, view_as_real) and their gradients."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

TOLERANCE = {"rtol": 2e-4, "atol": 2e-5}


def main(sync, workdir):
    rng = np.random.RandomState(0)
    sr = 800
    t = torch.arange(0, 0.2, 1 / sr)
    wave = torch.sin(2 * math.pi * 50 * t) + 0.5 * torch.sin(2 * math.pi * 120 * t)
    wave = wave + torch.from_numpy(rng.randn(t.numel()).astype(np.float32)) * 0.1
    out = {}
    spec = torch.fft.rfft(wave)
    freqs = torch.fft.rfftfreq(wave.numel(), d=1 / sr)
    out["peak_freqs"] = freqs[spec.abs().topk(2).indices].sort().values
    out["irfft"] = torch.fft.irfft(spec, n=wave.numel())
    out["fft2"] = torch.view_as_real(torch.fft.fft2(wave[:64].reshape(8, 8)))
    out["fftshift"] = torch.fft.fftshift(torch.fft.fftfreq(8))
    window = torch.hann_window(64)
    stft = torch.stft(wave, n_fft=64, hop_length=16, window=window, return_complex=True)
    power = stft.abs().pow(2)
    out["stft_shape"] = list(stft.shape)
    out["power"] = power
    fb = torch.relu(
        1
        - torch.abs(torch.linspace(0, 1, 33).unsqueeze(0) - torch.linspace(0, 1, 8).unsqueeze(1))
        * 8
    )
    mel = fb @ power
    logmel = torch.log(mel + 1e-6)
    out["logmel"] = logmel
    out["istft"] = torch.istft(stft, n_fft=64, hop_length=16, window=window, length=wave.numel())

    model = sync(
        nn.Sequential(
            nn.Conv1d(8, 6, 3, padding=1),
            nn.ReLU(),
            nn.AdaptiveAvgPool1d(1),
            nn.Flatten(),
            nn.Linear(6, 2),
        )
    )
    x = logmel.unsqueeze(0).repeat(3, 1, 1)
    x = (x - x.mean(dim=-1, keepdim=True)) / (x.std(dim=-1, keepdim=True) + 1e-5)
    loss = F.cross_entropy(model(x), torch.tensor([0, 1, 0]))
    loss.backward()
    out["model"] = [loss, model[0].weight.grad]

    z = torch.tensor(rng.randn(4).astype(np.float32), requires_grad=True)
    c = torch.polar(torch.ones(4), z)
    loss = (c * c.conj()).real.sum() + c.angle().sum() + torch.view_as_real(c).pow(2).sum()
    loss.backward()
    out["complex"] = [c, loss, z.grad, torch.complex(z.detach(), z.detach() * 2).abs()]
    w = torch.randn(3, dtype=torch.cfloat, requires_grad=True)
    with torch.no_grad():
        w.copy_(torch.tensor([1 + 2j, -0.5j, 3.0], dtype=torch.cfloat))
    (w.abs() ** 2).sum().backward()
    out["wirtinger"] = [w.grad, str(w.grad.dtype), torch.is_complex(w)]
    return out
