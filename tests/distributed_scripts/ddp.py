"""Run under `mpiexec -n 2`: Ember's DistributedDataParallel against torch in one process.

The oracle: DDP makes every replica take the step of the mean of the per-rank losses, so one
torch model that computes every rank's loss (each rank's data is known everywhere) and
backpropagates their mean must end with the same weights. With BatchNorm, each rank's forward
starts from rank 0's running statistics (DDP broadcasts them), so the oracle reloads those
before each rank's share. Prints "ddp ok" on each rank when all checks pass.
"""

from __future__ import annotations

import warnings

import numpy as np
import torch
from _common import abort_on_error

import ember
import ember.distributed as dist
from ember.nn.parallel import DistributedDataParallel as DDP
from ember.utils.data import DataLoader, DistributedSampler, TensorDataset

N, IN, OUT = 12, 4, 3
rng = np.random.default_rng(0)
X = rng.standard_normal((N, IN))
Y = rng.integers(0, OUT, N)


def mlp(lib, batch_norm: bool = False):
    norm = [lib.nn.BatchNorm1d(8)] if batch_norm else []
    # no bias before BatchNorm: its gradient is rounding noise, which Adam would amplify
    return lib.nn.Sequential(lib.nn.Linear(IN, 8, bias=not batch_norm), *norm, lib.nn.Tanh(),
                             lib.nn.Linear(8, OUT))


def heads(lib):
    """A trunk and three heads: `a` always used, `b` only when asked, `never` never."""

    class Heads(lib.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.trunk = lib.nn.Linear(IN, 6)
            self.a, self.b, self.never = (lib.nn.Linear(6, OUT) for _ in range(3))

        def forward(self, x, use_b: bool):
            h = lib.tanh(self.trunk(x))
            return self.a(h) + self.b(h) if use_b else self.a(h)

    return Heads()


def twin(e_model):
    """The torch model with e_model's structure (same builder) and state."""
    builder = e_model._builder
    t_model = builder(torch).double()
    t_model.load_state_dict({k: torch.tensor(v.numpy()) for k, v in e_model.state_dict().items()})
    return t_model


def build(builder, rank_seed: bool = True):
    """An Ember float64 model, initialised differently on every rank (DDP must fix that)."""
    ember.manual_seed(dist.get_rank() if rank_seed else 0)
    model = builder(ember).double()
    model._builder = builder
    return model


def close(name: str, got, want, rtol: float = 1e-10) -> None:
    got = got.detach().numpy() if isinstance(got, ember.Tensor) else np.asarray(got)
    want = want.detach().numpy() if isinstance(want, torch.Tensor) else np.asarray(want)
    if got.shape != want.shape or not np.allclose(got, want, rtol=rtol, atol=1e-12):
        raise AssertionError(f"rank {dist.get_rank()} {name}: got\n{got}\nwant\n{want}")


def same_everywhere(name: str, arrays: dict) -> None:
    """Every rank holds bit-identical arrays."""
    mine = {k: np.asarray(v.detach().numpy() if isinstance(v, ember.Tensor) else v)
            for k, v in arrays.items()}
    every = [None] * dist.get_world_size()
    dist.all_gather_object(every, mine)
    for r, theirs in enumerate(every):
        for k in mine:
            if not np.array_equal(theirs[k], every[0][k]):
                raise AssertionError(f"{name}: {k} differs between rank 0 and rank {r}")


def expect_error(name: str, fn, kind, fragment: str) -> None:
    try:
        fn()
    except kind as e:
        if fragment not in str(e):
            raise AssertionError(f"{name}: message {e!r} lacks {fragment!r}") from e
        return
    raise AssertionError(f"{name}: no {kind.__name__}")


def shares(index_sets):
    """Every rank's (x, y) in torch, for the oracle."""
    return [(torch.tensor(X[i]), torch.tensor(Y[i])) for i in index_sets]


def oracle_step(t_model, t_opt, per_rank, loss_fn, zero: bool = True) -> list[dict]:
    """One DDP step in one torch process: the mean of every rank's loss, each rank's forward
    starting from rank 0's buffers. Returns each rank's buffers after its forward."""
    start = {k: b.clone() for k, b in t_model.named_buffers()}
    after, losses = [], []
    for x, y in per_rank:
        for k, b in t_model.named_buffers():  # .data: as DDP, not a version bump autograd sees
            b.data.copy_(start[k])
        losses.append(loss_fn(t_model(x), y))
        after.append({k: b.clone() for k, b in t_model.named_buffers()})
    if zero:
        t_opt.zero_grad()
    (sum(losses) / len(losses)).backward()
    t_opt.step()
    with torch.no_grad():  # the next forward everywhere starts from rank 0's buffers
        for k, b in t_model.named_buffers():
            b.copy_(after[0][k])
    return after


def check_construction_broadcast() -> None:
    model = build(lambda lib: mlp(lib, batch_norm=True))
    bn = model[1]
    bn.running_mean.fill_(float(dist.get_rank()))  # rank-local buffers too
    model[-1].bias.requires_grad_(False)  # frozen parameters are broadcast as well
    before = {k: v.clone() for k, v in model.state_dict().items()}
    mine = [None] * dist.get_world_size()
    dist.all_gather_object(mine, {k: v.numpy() for k, v in before.items()})
    assert not np.array_equal(mine[0]["0.weight"], mine[1]["0.weight"]), "seeds should differ"
    ddp = DDP(model)
    same_everywhere("construction", model.state_dict())
    for k, v in model.state_dict().items():
        close(f"construction {k}", v, mine[0][k], rtol=0)
    assert list(ddp.state_dict()) == ["module." + k for k in model.state_dict()]
    # init_sync=False leaves each replica as it was
    other = build(mlp)
    w = other[0].weight.detach().numpy().copy()
    DDP(other, init_sync=False)
    close("init_sync=False", other[0].weight, w, rtol=0)


def check_training(builder, opt_name: str, **ddp_kwargs) -> None:
    """Several steps of DDP training, each rank reading its DistributedSampler share, equal the
    torch oracle on every rank."""
    model = build(builder)
    ddp = DDP(model, **ddp_kwargs)
    t_model = twin(model)
    make_opt = {"sgd": lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9,
                                                     weight_decay=1e-3),
                "adam": lambda lib, ps: lib.optim.Adam(ps, lr=0.01)}[opt_name]
    opt, t_opt = make_opt(ember, model.parameters()), make_opt(torch, t_model.parameters())
    data = TensorDataset(ember.tensor(X), ember.tensor(Y))
    size = dist.get_world_size()
    samplers = [DistributedSampler(data, num_replicas=size, rank=r, shuffle=True, seed=1)
                for r in range(size)]
    mine = DistributedSampler(data, shuffle=True, seed=1)  # rank and size from the group
    assert (mine.rank, mine.num_replicas) == (dist.get_rank(), size)
    loader = DataLoader(data, batch_size=3, sampler=mine)
    label = f"{builder.__name__} {opt_name} {ddp_kwargs}"
    for epoch in range(2):
        mine.set_epoch(epoch)
        for s in samplers:
            s.set_epoch(epoch)
        orders = [list(s) for s in samplers]
        assert list(mine) == orders[dist.get_rank()]
        assert sorted(sum(orders, [])) == list(range(N)), "shares should partition the data"
        for step, (x, y) in enumerate(loader):
            opt.zero_grad()
            ember.nn.functional.cross_entropy(ddp(x), y).backward()
            opt.step()
            per_rank = shares([o[step * 3:(step + 1) * 3] for o in orders])
            after = oracle_step(t_model, t_opt, per_rank, torch.nn.functional.cross_entropy)
            for k, p in model.named_parameters():
                close(f"{label} epoch {epoch} step {step} {k}", p, dict(
                    t_model.named_parameters())[k])
            for k, b in model.named_buffers():
                close(f"{label} buffer {k}", b, after[dist.get_rank()][k])
    same_everywhere(label, dict(model.named_parameters()))
    if ddp_kwargs.get("gradient_as_bucket_view"):
        flat = {id(b.flat) for b in ddp.reducer.buckets}
        assert all(p.grad._data.base is not None and id(p.grad._data.base) in flat
                   for p in model.parameters()), "grads should be views of the buckets"


def check_no_sync() -> None:
    """Grads accumulate locally inside no_sync; the first synced backward averages the sum."""
    model = build(mlp)
    ddp = DDP(model)
    t_model = twin(model)
    size, rank = dist.get_world_size(), dist.get_rank()
    micro = [[list(range(m * 4 + r, m * 4 + 4, size)) for r in range(size)] for m in range(3)]
    loss = ember.nn.functional.cross_entropy
    with ddp.no_sync():
        for m in range(2):
            idx = micro[m][rank]
            loss(ddp(ember.tensor(X[idx])), ember.tensor(Y[idx])).backward()
    local = model[0].weight.grad.numpy()
    every = [None] * size
    dist.all_gather_object(every, local)
    assert not np.allclose(every[0], every[1]), "no_sync should keep gradients local"
    idx = micro[2][rank]
    loss(ddp(ember.tensor(X[idx])), ember.tensor(Y[idx])).backward()
    for m in range(3):
        per_rank = shares(micro[m])
        t_loss = sum(torch.nn.functional.cross_entropy(t_model(x), y) for x, y in per_rank)
        (t_loss / size).backward()
    for k, p in model.named_parameters():
        close(f"no_sync grad {k}", p.grad, dict(t_model.named_parameters())[k].grad)
    same_everywhere("no_sync", {k: p.grad for k, p in model.named_parameters()})


def check_find_unused(b_ranks: tuple[int, ...], **kwargs) -> None:
    """The ranks in b_ranks use head b, the others do not, nobody uses `never`. Two iterations
    without zero_grad: a rank's stale b.grad counts (torch packs any defined grad), `never`
    stays None."""
    model = build(heads)
    ddp = DDP(model, **kwargs)
    t_model = twin(model)
    opt, t_opt = ember.optim.SGD(model.parameters(), lr=0.1), torch.optim.SGD(
        t_model.parameters(), lr=0.1)
    size, rank = dist.get_world_size(), dist.get_rank()
    idx = [list(range(r, N, size)) for r in range(size)]
    for it in range(3):
        if it != 1:
            opt.zero_grad()
        out = ddp(ember.tensor(X[idx[rank]]), use_b=rank in b_ranks)
        ember.nn.functional.cross_entropy(out, ember.tensor(Y[idx[rank]])).backward()
        if it != 1:
            t_opt.zero_grad()
        t_loss = sum(torch.nn.functional.cross_entropy(t_model(x, use_b=r in b_ranks), y)
                     for r, (x, y) in enumerate(shares(idx)))
        (t_loss / size).backward()
        label = f"{kwargs} b used on {b_ranks}, iteration {it}"
        for k, p in model.named_parameters():
            t_grad = dict(t_model.named_parameters())[k].grad
            if t_grad is None:
                assert p.grad is None, f"{label}: {k}.grad should stay None"
            else:
                close(f"{label} grad {k}", p.grad, t_grad)
        if kwargs.get("skip_all_reduce_unused_params"):
            assert ddp.reducer.num_buckets_reduced == 4, "trunk and a only"
        opt.step()
        t_opt.step()
    same_everywhere("find_unused", dict(model.named_parameters()))


def check_errors() -> None:
    """torch's errors (message fragments), raised on every rank alike."""
    expect_error("no parameters", lambda: DDP(ember.nn.ReLU()), RuntimeError,
                 "DistributedDataParallel is not needed when a module doesn't have any "
                 "parameter that requires a gradient.")
    expect_error("device_ids on CPU", lambda: DDP(ember.nn.Linear(2, 2), device_ids=[0]),
                 ValueError, "device_ids and output_device arguments only work with")
    expect_error("two device_ids", lambda: DDP(ember.nn.Linear(2, 2), device_ids=[0, 1]),
                 ValueError, "device_ids can only be None or contain a single element.")
    expect_error("mixed_precision", lambda: DDP(ember.nn.Linear(2, 2), mixed_precision=object()),
                 NotImplementedError, "mixed_precision is not supported")
    expect_error("different models",
                 lambda: DDP(ember.nn.Linear(2, 2 + dist.get_rank())), RuntimeError,
                 "DDP expects same model across all ranks")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        DDP(ember.nn.Linear(2, 2), broadcast_buffers=False, check_reduction=True)
    texts = [str(w.message) for w in caught if w.category is FutureWarning]
    assert any("`broadcast_buffers` is deprecated" in t for t in texts), texts
    assert any("`check_reduction` argument" in t for t in texts), texts
    # an unused parameter without find_unused_parameters: the next forward refuses
    model = build(heads)
    ddp = DDP(model)
    x = ember.tensor(X[:4])
    ddp(x, use_b=False).sum().backward()
    expect_error("unfinished reduction", lambda: ddp(x, use_b=False), RuntimeError,
                 "Expected to have finished reduction in the prior iteration before starting "
                 "a new one.")
    expect_error("unfinished reduction names", lambda: ddp(x, use_b=False), RuntimeError,
                 "Parameters which did not receive grad for rank "
                 f"{dist.get_rank()}: b.weight, b.bias, never.weight, never.bias")
    # static_graph: a parameter unused in the first iteration may not be used later
    model = build(heads)
    ddp = DDP(model, static_graph=True)
    ddp(x, use_b=False).sum().backward()
    out = ddp(x, use_b=True).sum()
    expect_error("static graph changed", out.backward, RuntimeError,
                 "Your training graph has changed in this iteration")


def check_no_grad_forward() -> None:
    """Evaluation under no_grad neither prepares a reduction nor syncs buffers next time."""
    model = build(lambda lib: mlp(lib, batch_norm=True))
    ddp = DDP(model)
    with ember.no_grad():
        ddp(ember.tensor(X))
    assert ddp.require_forward_param_sync is False and not ddp.reducer.expect_hooks
    ddp(ember.tensor(X)).sum().backward()  # a normal step still reduces
    same_everywhere("after no_grad", {k: p.grad for k, p in model.named_parameters()})


def main() -> None:
    # the doctor rightly notes that `never` gets no gradient: that is the point here
    warnings.filterwarnings("ignore", message=r"\[cut_graph\]")
    expect_error("before init", lambda: DDP(ember.nn.Linear(2, 2)), ValueError,
                 "Default process group has not been initialized")
    # the partition (torch's shuffled order differs: Ember's generator is not torch's)
    for rank in range(2):
        e_sampler = DistributedSampler(range(N + 1), num_replicas=2, rank=rank, shuffle=False)
        t_sampler = torch.utils.data.DistributedSampler(range(N + 1), num_replicas=2, rank=rank,
                                                        shuffle=False)
        assert list(e_sampler) == list(t_sampler)
    expect_error("sampler before init", lambda: DistributedSampler(range(4)), ValueError,
                 "Default process group has not been initialized")
    dist.init_process_group("gloo")
    assert dist.get_world_size() == 2, "run with mpiexec -n 2"
    check_construction_broadcast()
    for builder, opt_name, kwargs in [
            (mlp, "sgd", {}),
            (mlp, "adam", {"bucket_cap_mb": 0}),  # one bucket per parameter
            (mlp, "sgd", {"gradient_as_bucket_view": True}),
            (mlp, "adam", {"static_graph": True, "process_group": dist.new_group([0, 1])}),
            (lambda lib: mlp(lib, batch_norm=True), "sgd", {}),
            (lambda lib: mlp(lib, batch_norm=True), "adam", {"bucket_cap_mb": 0,
                                                             "forward_sync_buffers": True})]:
        builder.__name__ = "mlp" if builder is mlp else "mlp+BatchNorm"
        check_training(builder, opt_name, **kwargs)
    check_no_sync()
    check_find_unused((0,), find_unused_parameters=True)
    check_find_unused((0,), static_graph=True)
    # buckets every rank leaves unused (b and never, one bucket per parameter) are skipped
    check_find_unused((), find_unused_parameters=True, skip_all_reduce_unused_params=True,
                      bucket_cap_mb=0)
    check_no_grad_forward()
    check_errors()
    rank = dist.get_rank()
    dist.destroy_process_group()
    print(f"rank {rank}: ddp ok", flush=True)


if __name__ == "__main__":
    abort_on_error(main)
