"""Random numbers: Generator, manual_seed, rand/randn/randint/randperm, normal, bernoulli,
multinomial, and the in-place fills used by nn.init (uniform_, normal_, ...).

A Generator wraps numpy's PCG64 on CPU (cupy's generator on GPU). Seeding makes Ember runs
reproducible; the numbers themselves differ from torch's (a different algorithm).
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from collections.abc import Iterator
from typing import Any

import numpy

from . import backend, dtypes
from .ops._util import as_shape
from .tensor import Tensor

_DEFAULT_SEED = 67280421310721  # torch's default initial seed


class Generator:
    """A seeded source of random numbers (torch.Generator)."""

    def __init__(self, device: Any = "cpu") -> None:
        self.device = backend.as_device(device)
        self._seed = _DEFAULT_SEED
        self._rng: Any = None

    @property
    def rng(self) -> Any:
        if self._rng is None:
            self._rng = self._make(self._seed)
        return self._rng

    def _make(self, seed: int) -> Any:
        if self.device.type == "cpu":
            return numpy.random.Generator(numpy.random.PCG64(seed))
        return backend.module_for(self.device).random.default_rng(seed)

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        if seed < 0:
            seed += 2**64  # torch accepts negative seeds by wrapping
        self._seed = seed
        self._rng = self._make(seed)
        return self

    def seed(self) -> int:
        new = int(numpy.random.SeedSequence().entropy % 2**63)
        self.manual_seed(new)
        return new

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> Tensor:
        if self.device.type != "cpu":
            raise RuntimeError("Generator.get_state: only CPU generator state can be saved")
        state = json.dumps({"seed": self._seed, "state": self.rng.bit_generator.state})
        return Tensor._make(numpy.frombuffer(state.encode(), dtype=numpy.uint8).copy())

    def set_state(self, new_state: Tensor) -> Generator:
        raw = bytes(backend.to_numpy(new_state._data).astype(numpy.uint8))
        try:
            state = json.loads(raw.decode())
            self._seed = state["seed"]
            self.rng.bit_generator.state = state["state"]
        except (ValueError, KeyError, TypeError) as exc:
            raise RuntimeError(f"Generator.set_state: not a state made by get_state ({exc})") \
                from None
        return self

    def __repr__(self) -> str:
        return f"<ember.Generator object, device={self.device}>"


default_generator = Generator("cpu")
_cuda_generators: dict = {}


def _generator_for(device: backend.device, generator: Generator | None) -> Generator:
    if generator is not None:
        return generator
    if device.type == "cpu":
        return default_generator
    key = device.index or 0
    if key not in _cuda_generators:
        _cuda_generators[key] = Generator(backend.device("cuda", key))
        _cuda_generators[key].manual_seed(default_generator.initial_seed())
    return _cuda_generators[key]


def manual_seed(seed: int) -> Generator:
    """Seed every generator (CPU and GPU) for reproducible runs."""
    for g in _cuda_generators.values():
        g.manual_seed(seed)
    return default_generator.manual_seed(seed)


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> Tensor:
    return default_generator.get_state()


def set_rng_state(new_state: Tensor) -> None:
    default_generator.set_state(new_state)


@contextlib.contextmanager
def fork_rng(devices: Any = None, enabled: bool = True, _caller: str = "fork_rng",
             _devices_kw: str = "devices", device_type: str = "cuda") -> Iterator[None]:
    """Run a block with the random state forked: on exit, the CPU generator (and the GPU
    generators in use, or those in `devices`) are back where they were at entry."""
    if not enabled:
        yield
        return
    cpu_state = default_generator.get_state()
    if devices is None:
        gpus = list(_cuda_generators.values())
    else:
        indices = [d if isinstance(d, int) else backend.as_device(d).index or 0 for d in devices]
        gpus = [_generator_for(backend.device(device_type, i), None) for i in indices]
    saved = [(g, copy.deepcopy(g._rng), g._seed) for g in gpus]
    try:
        yield
    finally:
        default_generator.set_state(cpu_state)
        for g, rng, seed_ in saved:
            g._rng, g._seed = rng, seed_


# ---------------------------------------------------------------------------------------------
# Sampling
# ---------------------------------------------------------------------------------------------


def _draw(kind: str, shape: tuple, d: dtypes.dtype, device: Any, generator: Any,
          *args: Any) -> Any:
    dev = backend.as_device(device)
    if generator is not None and generator.device.type != dev.type:
        raise RuntimeError(f"Expected a '{dev.type}' device type for generator but found "
                           f"'{generator.device.type}'")
    if d.is_complex and kind in ("uniform", "normal"):
        # real and imaginary parts drawn side by side; torch's complex normal has
        # E|z|^2 = 1, so each part has variance 1/2
        parts = _draw(kind, tuple(shape) + (2,), d.to_real(), device, generator)
        if kind == "normal":
            parts *= math.sqrt(0.5)
        return parts.view(d.np)[..., 0]
    rng = _generator_for(dev, generator).rng
    native = d.np if d.np in (numpy.dtype("float32"), numpy.dtype("float64")) else None
    if kind == "uniform":
        data = rng.random(shape, dtype=native or "float64")
        if d is dtypes.float16:  # k / 2^11, as torch does, so rounding cannot reach 1.0
            data = backend.module_of(data).floor(data * 2048.0) / 2048.0
    elif kind == "normal":
        data = rng.standard_normal(shape, dtype=native or "float64")
    elif kind == "integers":
        low, high = args
        data = rng.integers(low, high, size=shape, dtype="int64")
    elif kind == "exponential":
        data = rng.standard_exponential(shape, dtype=native or "float64")
    else:  # pragma: no cover (internal names only)
        raise ValueError(kind)
    return data if data.dtype == d.np else data.astype(d.np)


def _check_floating(d: dtypes.dtype, op: str) -> None:
    if not d.is_floating_point and not (d.is_complex and op in ("rand", "randn")):
        raise NotImplementedError(f"\"{op}\" not implemented for '{d.name}': it samples "
                                  "floating point values")


def _sized(size: tuple) -> tuple:
    shape = as_shape(size)
    if any(s < 0 for s in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: "
                           f"{list(shape)}")
    return shape


def _make(data: Any, requires_grad: bool) -> Tensor:
    t = Tensor._make(data)
    if requires_grad:
        t.requires_grad_(True)
    return t


def rand(*dims: Any, size: Any = None, generator: Generator | None = None,
         dtype: Any = None, device: Any = None,
         requires_grad: bool = False, out: Any = None) -> Tensor:
    """Uniform samples from [0, 1)."""
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    _check_floating(d, "rand")
    shape = _sized(dims if size is None else (size,))  # torch also takes size=
    return _make(_draw("uniform", shape, d, device, generator), requires_grad)


def randn(*dims: Any, size: Any = None, generator: Generator | None = None,
          dtype: Any = None, device: Any = None,
          requires_grad: bool = False, out: Any = None) -> Tensor:
    """Standard normal samples."""
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.get_default_dtype()
    _check_floating(d, "randn")
    shape = _sized(dims if size is None else (size,))  # torch also takes size=
    return _make(_draw("normal", shape, d, device, generator), requires_grad)


def randint(*args: Any, low: Any = None, high: Any = None, size: Any = None,
            generator: Generator | None = None, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """randint(high, size) or randint(low, high, size): integers in [low, high). As torch,
    each of low, high and size may be given by keyword, the others filling in by position."""
    given = {"low": low, "high": high, "size": size}
    count = len(args) + sum(v is not None for v in given.values())
    names = ["low", "high", "size"] if low is not None or count == 3 else ["high", "size"]
    if count != len(names):
        raise TypeError("randint() expects (high, size) or (low, high, size)")
    positional = iter(args)
    values = {name: next(positional) if given[name] is None else given[name] for name in names}
    low, high, shape = values.get("low", 0), values["high"], values["size"]
    if high <= low:
        raise RuntimeError(f"random_ expects 'from' to be less than 'to', but got from={low} "
                           f">= to={high}")
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    if d is dtypes.bool_ and (low < 0 or high > 2):
        raise RuntimeError(f"{'from' if low < 0 else 'to - 1'} is out of bounds for bool")
    return _make(_draw("integers", _sized(shape), d, device, generator, int(low), int(high)),
                 requires_grad)


def randperm(n: int, *, generator: Generator | None = None, dtype: Any = None,
             device: Any = None, requires_grad: bool = False) -> Tensor:
    """A random permutation of 0..n-1."""
    dev = backend.as_device(device)
    rng = _generator_for(dev, generator).rng
    d = dtypes.to_dtype(dtype) if dtype is not None else dtypes.int64
    return _make(rng.permutation(int(n)).astype(d.np), requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None,
              requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    return rand(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                requires_grad=requires_grad, generator=generator)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None,
               requires_grad: bool = False, generator: Generator | None = None) -> Tensor:
    return randn(input.shape, dtype=dtype or input.dtype, device=device or input.device,
                 requires_grad=requires_grad, generator=generator)


def randint_like(input: Tensor, low: int = 0, high: int | None = None, *, dtype: Any = None,
                 device: Any = None, requires_grad: bool = False) -> Tensor:
    if high is None:
        low, high = 0, low
    return randint(low, high, input.shape, dtype=dtype or input.dtype,
                   device=device or input.device, requires_grad=requires_grad)


def normal(mean: Any = 0.0, std: Any = 1.0, size: Any = None, *,
           generator: Generator | None = None, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """Samples of N(mean, std^2); mean and std may be tensors (broadcast together)."""
    if isinstance(mean, Tensor) or isinstance(std, Tensor):
        ref = mean if isinstance(mean, Tensor) else std
        if bool((std < 0).any()) if isinstance(std, Tensor) else std < 0:
            raise RuntimeError("normal expects all elements of std >= 0.0")
        from .ops._util import broadcast_shapes  # noqa: PLC0415

        shape = broadcast_shapes(tuple(getattr(mean, "shape", ())), tuple(getattr(std, "shape", ())))
        noise = randn(shape, dtype=ref.dtype, device=ref.device, generator=generator)
        m = mean._data if isinstance(mean, Tensor) else mean
        s = std._data if isinstance(std, Tensor) else std
        return Tensor._make(backend.as_array(noise._data * s + m))
    if size is None:
        raise TypeError("normal(): size is required when mean and std are numbers")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    t = randn(size, generator=generator, dtype=dtype, device=device)
    t._data = backend.as_array(t._data * std + mean).astype(t._data.dtype, copy=False)
    if requires_grad:
        t.requires_grad_(True)
    return t


def bernoulli(input: Tensor, p: float | None = None, *,
              generator: Generator | None = None) -> Tensor:
    """1 with probability `input` (or p), else 0, in input's dtype."""
    _check_floating(input.dtype, "bernoulli")
    probs = input._data if p is None else p
    if p is None and input._data.size and not bool(((probs >= 0) & (probs <= 1)).all()):
        raise RuntimeError("bernoulli: all probabilities must be in [0, 1]")
    u = _draw("uniform", tuple(input.shape), dtypes.float64, input.device, generator)
    return Tensor._make(backend.as_array(u < probs).astype(input._data.dtype))


def poisson(input: Tensor, generator: Generator | None = None) -> Tensor:
    rng = _generator_for(input.device, generator).rng
    counts = backend.module_of(input._data).asarray(rng.poisson(input._data))  # 0-d: an int
    return Tensor._make(counts.astype(input._data.dtype))


def binomial(count: Tensor, prob: Tensor, generator: Generator | None = None) -> Tensor:
    """Draws of Binomial(count, prob), elementwise: the number of successes in `count` trials
    each succeeding with probability `prob` (floating tensors of one dtype; the result has it)."""
    for name, t in (("count", count), ("prob", prob)):
        if not t.dtype.is_floating_point:
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{t.dtype}")
    if count.dtype is not prob.dtype:
        raise RuntimeError(f"binomial: count and prob must have one dtype, got {count.dtype} and "
                           f"{prob.dtype}")
    xp = backend.module_of(count._data)
    n, p = xp.broadcast_arrays(count._data, prob._data)
    nan = xp.isnan(p) | xp.isnan(n)  # torch: NaN in, NaN out
    n, p = xp.where(nan, 0, n), xp.where(nan, 0, p)
    if (p < 0).any() or (p > 1).any() or (n < 0).any():
        raise RuntimeError("binomial: expected count >= 0 and 0 <= prob <= 1 (torch returns "
                           "meaningless draws there)")
    rng = _generator_for(count.device, generator).rng
    draws = xp.asarray(rng.binomial(xp.floor(n).astype("int64"), p)).astype(count._data.dtype)
    return Tensor._make(xp.where(nan, xp.nan, draws).astype(count._data.dtype))


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *,
                generator: Generator | None = None) -> Tensor:
    """Draw category indices from rows of (unnormalised) probabilities."""
    if not input.dtype.is_floating_point:
        raise RuntimeError(f"multinomial only supports floating-point dtypes for input, got: "
                           f"{input.dtype.name}")
    probs = backend.to_numpy(input._data).astype(numpy.float64)
    if probs.ndim not in (1, 2):
        raise RuntimeError("multinomial: prob_dist must be 1 or 2 dim")
    if (probs < 0).any() or not numpy.isfinite(probs).all():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or "
                           "element < 0")
    if not replacement and num_samples > probs.shape[-1]:
        raise RuntimeError("multinomial: cannot sample n_sample > prob_dist.size(-1) samples "
                           "without replacement")
    rows = probs.reshape(math.prod(probs.shape[:-1]), probs.shape[-1])
    totals = rows.sum(axis=1)
    if (totals <= 0).any() or rows.shape[1] == 0:
        raise RuntimeError("multinomial: invalid multinomial distribution (sum of "
                           "probabilities <= 0)")
    rng = _generator_for(backend.CPU, generator if generator is None or
                         generator.device.type == "cpu" else None).rng
    if replacement:
        out = numpy.empty((rows.shape[0], num_samples), dtype=numpy.int64)
        for i, row in enumerate(rows):
            out[i] = rng.choice(row.size, size=num_samples, replace=True, p=row / totals[i])
    else:
        # torch documents fewer positive weights than samples as invalid (without checking it:
        # it then returns zero-weight categories in an order of its sort's making)
        if (numpy.count_nonzero(rows, axis=1) < num_samples).any():
            raise RuntimeError("multinomial: invalid multinomial distribution (with "
                               "replacement=False, not enough non-negative category to sample)")
        # torch's race of exponential clocks: category k finishes at E_k / p_k, and the first
        # num_samples to finish are a draw without replacement
        with numpy.errstate(divide="ignore"):
            keys = rows / rng.standard_exponential(rows.shape)
        out = numpy.argsort(-keys, axis=1, kind="stable")[:, :num_samples].astype(numpy.int64)
    out = out.reshape(probs.shape[:-1] + (num_samples,))
    return Tensor._make(backend.to_device(out, input.device))


# ---------------------------------------------------------------------------------------------
# In-place fills (no autograd: used under no_grad, e.g. by nn.init)
# ---------------------------------------------------------------------------------------------


def _fill_inplace(t: Tensor, values: Any) -> Tensor:
    from .ops.inplace import _check_leaf  # noqa: PLC0415
    from .autograd.grad_mode import state  # noqa: PLC0415

    if state.enabled:
        _check_leaf(t)
    t._data[...] = values
    t._bump_version()
    return t


def uniform_(t: Tensor, a: float = 0.0, b: float = 1.0, *, generator: Any = None) -> Tensor:
    _check_floating(t.dtype, "uniform_")
    if a > b:
        raise RuntimeError(f"uniform_ expects to return a [from, to) range, but found from={a} > "
                           f"to={b}")
    u = _draw("uniform", tuple(t.shape), _float_of(t), t.device, generator)
    return _fill_inplace(t, u * (b - a) + a)


def normal_(t: Tensor, mean: float = 0.0, std: float = 1.0, *, generator: Any = None) -> Tensor:
    _check_floating(t.dtype, "normal_")
    if std < 0:
        raise RuntimeError(f"normal expects std >= 0.0, but found std {std}")
    n = _draw("normal", tuple(t.shape), _float_of(t), t.device, generator)
    return _fill_inplace(t, n * std + mean)


def bernoulli_(t: Tensor, p: Any = 0.5, *, generator: Any = None) -> Tensor:
    probs = p._data if isinstance(p, Tensor) else p
    u = _draw("uniform", tuple(t.shape), dtypes.float64, t.device, generator)
    return _fill_inplace(t, u < probs)


def exponential_(t: Tensor, lambd: float = 1.0, *, generator: Any = None) -> Tensor:
    e = _draw("exponential", tuple(t.shape), _float_of(t), t.device, generator)
    return _fill_inplace(t, e / lambd)


def log_normal_(t: Tensor, mean: float = 1.0, std: float = 2.0, *,
                generator: Any = None) -> Tensor:
    """exp(N(mean, std^2)) samples."""
    _check_floating(t.dtype, "log_normal_")
    if std <= 0:
        raise RuntimeError(f"log_normal_ expects std > 0.0, but found std={std}")
    n = _draw("normal", tuple(t.shape), _float_of(t), t.device, generator)
    return _fill_inplace(t, backend.module_of(n).exp(n * std + mean))


def cauchy_(t: Tensor, median: float = 0.0, sigma: float = 1.0, *,
            generator: Any = None) -> Tensor:
    """median + sigma * tan(pi (u - 1/2))."""
    _check_floating(t.dtype, "cauchy_")
    if sigma <= 0:
        raise RuntimeError(f"cauchy_ expects sigma > 0.0, but found sigma={sigma}")
    u = _draw("uniform", tuple(t.shape), dtypes.float64, t.device, generator)
    return _fill_inplace(t, median + sigma * backend.module_of(u).tan(math.pi * (u - 0.5)))


def geometric_(t: Tensor, p: float, *, generator: Any = None) -> Tensor:
    """Trials up to the first success (1, 2, ...): ceil(log(1 - u) / log(1 - p))."""
    if not 0 < p < 1:
        raise RuntimeError(f"geometric_ expects p to be in (0, 1), but got p={p}")
    u = _draw("uniform", tuple(t.shape), dtypes.float64, t.device, generator)
    xp = backend.module_of(u)
    trials = xp.maximum(xp.ceil(xp.log1p(-u) / math.log1p(-p)), 1)
    return _fill_inplace(t, trials)


def random_(t: Tensor, *args: Any, generator: Any = None, **kwargs: Any) -> Tensor:
    """random_(to), random_(from, to=None) or random_(), as torch's overloads: integers drawn
    uniformly from [from, to); `to` defaults to the largest the dtype holds exactly, plus one."""
    if len(args) > 2 or set(kwargs) - {"from", "to"}:
        raise TypeError(f"random_() received an invalid combination of arguments: {len(args)} "
                        f"positional, keywords {sorted(kwargs)}; expected (to), (from, to=None) "
                        "or ()")
    if len(args) == 1 and not kwargs:
        from_, to = 0, args[0]  # random_(to)
    else:
        from_ = args[0] if args else kwargs.get("from", 0)
        to = args[1] if len(args) > 1 else kwargs.get("to")
    if to is None:
        if t._data.dtype.kind in "fV":
            info = backend.bfloat16_finfo() if t._data.dtype == backend.BFLOAT16 else \
                numpy.finfo(t._data.dtype)
            to = 2 ** info.nmant + 1
        elif t._data.dtype.kind == "b":
            to = 2
        else:
            to = int(numpy.iinfo(t._data.dtype).max) + 1
    ints = _draw("integers", tuple(t.shape), dtypes.int64, t.device, generator, from_, to)
    return _fill_inplace(t, ints)


def _float_of(t: Tensor) -> dtypes.dtype:
    return t.dtype if t.dtype.is_floating_point else dtypes.float64
