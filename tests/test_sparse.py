"""Sparse COO/CSR tensors, their gradients, sparse embedding gradients and the optimizers that
take them, compared with torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember

INDICES = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]  # (0, 2) repeats: an uncoalesced tensor
VALUES = np.array([3.0, 4.0, 5.0, 6.0, -1.0], dtype=np.float32)
SHAPE = (3, 4)


def both(fn):
    """fn(lib) run with torch and with ember."""
    return fn(torch), fn(ember)


def as_np(t):
    return t.detach().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def assert_same(a, b, atol=1e-5):
    """Equal values; sparse tensors compared after coalescing (indices, values, shape)."""
    if a is None or b is None:
        assert a is None and b is None
        return
    if isinstance(a, torch.Tensor) and a.layout == torch.sparse_coo:
        assert b.layout is ember.sparse_coo
        a, b = a.detach().coalesce(), b.detach().coalesce()
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_array_equal(a.indices().numpy(), b.indices().numpy())
        np.testing.assert_allclose(a.values().numpy(), b.values().numpy(), atol=atol)
        return
    assert not getattr(b, "is_sparse", False)
    np.testing.assert_allclose(as_np(a), as_np(b), atol=atol, rtol=1e-5)


def make(lib, values=VALUES, requires_grad=False):
    v = lib.tensor(values, requires_grad=requires_grad)
    return lib.sparse_coo_tensor(lib.tensor(INDICES), v, SHAPE), v


# ------------------------------------------------------------------------------ construction


def test_construction_properties_and_repr():
    t, e = both(lambda lib: make(lib)[0])
    assert e.is_sparse and e.layout is ember.sparse_coo and not e.is_coalesced()
    assert tuple(e.shape) == tuple(t.shape) and e.size() == ember.Size(t.size())
    assert e.dtype is ember.float32 and e.device.type == "cpu"
    assert (e.sparse_dim(), e.dense_dim(), e._nnz()) == (t.sparse_dim(), t.dense_dim(), t._nnz())
    np.testing.assert_array_equal(e._indices().numpy(), t._indices().numpy())
    np.testing.assert_array_equal(e._values().numpy(), t._values().numpy())
    assert repr(e) == repr(t).replace("torch.", "ember.")
    c = both(lambda lib: make(lib)[0].coalesce())
    assert repr(c[1]) == repr(c[0]).replace("torch.", "ember.")
    assert c[1].is_coalesced()
    assert_same(*both(lambda lib: make(lib)[0].to_dense()))
    # size inferred; hybrid (dense dims); empty
    assert_same(*both(lambda lib: lib.sparse_coo_tensor([[0, 3]], [[1.0, 2.0], [3.0, 4.0]])))
    empty = both(lambda lib: lib.sparse_coo_tensor(lib.zeros(2, 0, dtype=lib.long), [], (2, 2)))
    assert repr(empty[1]) == repr(empty[0]).replace("torch.", "ember.")


def test_construction_errors():
    with pytest.raises(RuntimeError, match="size is inconsistent"):
        ember.sparse_coo_tensor([[0, 5]], [1.0, 2.0], (3,))
    with pytest.raises(RuntimeError, match="same nnz"):
        ember.sparse_coo_tensor([[0, 1]], [1.0], (3,))
    with pytest.raises(RuntimeError, match="uncoalesced"):
        make(ember)[0].values()


@pytest.mark.parametrize("sparse_dim", [None, 1])
def test_to_sparse_roundtrip(sparse_dim):
    x = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 3.0]], dtype=np.float32)
    t, e = both(lambda lib: lib.tensor(x).to_sparse(sparse_dim) if sparse_dim else
                lib.tensor(x).to_sparse())
    assert e.is_coalesced() and e.sparse_dim() == t.sparse_dim()
    assert_same(t, e)
    assert_same(t.to_dense(), e.to_dense())
    assert ember.tensor(x).to_sparse_coo().layout is ember.sparse_coo


# ------------------------------------------------------------------------------ operations

OPS = {
    "t": lambda lib, s, d: s.t(),
    "scale": lambda lib, s, d: s * 2.5,
    "rscale": lambda lib, s, d: 2.5 * s,
    "div": lambda lib, s, d: s / 2,
    "neg": lambda lib, s, d: -s,
    "add_sparse": lambda lib, s, d: s + s.t().t() * 2,
    "sub_sparse": lambda lib, s, d: s - s * 3,
    "dense_plus_sparse": lambda lib, s, d: d + s,
    "mul_dense": lambda lib, s, d: s * d,
    "dense_mul": lambda lib, s, d: d * s,
    "mul_sparse": lambda lib, s, d: s * s,
    "abs": lambda lib, s, d: (s - s * 2).abs(),
    "pow": lambda lib, s, d: s.pow(2),
    "sparse_mask": lambda lib, s, d: d.sparse_mask(s.coalesce()),
    "sum_all": lambda lib, s, d: lib.sparse.sum(s),
    "sum0": lambda lib, s, d: lib.sparse.sum(s, 0),
    "sum1": lambda lib, s, d: lib.sparse.sum(s, 1),
    "method_sum": lambda lib, s, d: s.sum(),
    "softmax0": lambda lib, s, d: lib.sparse.softmax(s, 0),
    "softmax1": lambda lib, s, d: lib.sparse.softmax(s, 1),
    "log_softmax1": lambda lib, s, d: lib.sparse.log_softmax(s, 1),
    "values": lambda lib, s, d: s.coalesce().values() * 2,
}


@pytest.mark.parametrize("name", list(OPS))
def test_op_and_gradients(name):
    """Forward values and the gradients reaching `values` and the dense operand."""
    rng = np.random.RandomState(0)
    dense = rng.randn(*SHAPE).astype(np.float32)
    weight = rng.randn(4, 4).astype(np.float32)

    def run(lib):
        s, v = make(lib, requires_grad=True)
        d = lib.tensor(dense, requires_grad=True)
        out = OPS[name](lib, s, d)
        target = out.to_dense() if out.layout != lib.strided else out
        w = lib.tensor(weight[: target.shape[0], : target.shape[1]] if target.ndim == 2 else
                       weight.reshape(-1)[: target.numel()].reshape(target.shape))
        (target * w).sum().backward()
        return out, v.grad, d.grad

    (t_out, t_gv, t_gd), (e_out, e_gv, e_gd) = both(run)
    assert_same(t_out, e_out)
    assert_same(t_gv, e_gv)
    if t_gd is None:
        assert e_gd is None
    elif t_gd.layout == torch.sparse_coo:
        assert_same(t_gd, e_gd)
    else:
        assert_same(t_gd, e_gd if e_gd.layout is ember.strided else e_gd.to_dense())


@pytest.mark.parametrize("name", ["sqrt", "tanh", "sin", "expm1", "log1p", "square", "sign",
                                  "floor", "trunc", "asin", "atan", "relu"])
def test_zero_preserving_unary_ops(name):
    """Applied to the coalesced entries (torch has no sparse backward for most of these)."""
    values = VALUES * 0.1
    assert_same(*both(lambda lib: getattr(make(lib, values)[0], name)()))


@pytest.mark.parametrize("kind", ["sparse.mm", "mm", "matmul", "rmatmul", "addmm",
                                  "sparse.addmm"])
def test_products_and_gradients(kind):
    rng = np.random.RandomState(1)
    B = rng.randn(4, 2).astype(np.float32)
    A = rng.randn(2, 3).astype(np.float32)

    def run(lib):
        s, v = make(lib, requires_grad=True)
        b = lib.tensor(B, requires_grad=True)
        a = lib.tensor(A, requires_grad=True)
        out = {"sparse.mm": lambda: lib.sparse.mm(s, b), "mm": lambda: lib.mm(s, b),
               "matmul": lambda: s @ b, "rmatmul": lambda: a @ s,
               "addmm": lambda: lib.addmm(lib.ones(3, 2), s, b, beta=0.5, alpha=2.0),
               "sparse.addmm": lambda: lib.sparse.addmm(lib.ones(3, 2), s, b, beta=0.5,
                                                                alpha=2.0)}[kind]()
        (out * lib.arange(out.numel(), dtype=lib.float32).reshape(out.shape)).sum().backward()
        return out, v.grad, b.grad, a.grad

    for t, e in zip(*both(run), strict=True):
        if t is None:
            assert e is None
        else:
            assert_same(t, e)


def test_sparse_leaf_gradient_patterns():
    """torch.sparse.mm keeps the gradient on the sparse tensor's coordinates; torch.mm and
    to_dense give what torch gives (dense / masked)."""
    def run(lib, product):
        s = lib.sparse_coo_tensor([[0, 1], [0, 2]], [1.0, 2.0], (2, 3), requires_grad=True)
        product(lib, s).sum().backward()
        return s.grad

    for product in (lambda lib, s: lib.sparse.mm(s, lib.ones(3, 2)),
                    lambda lib, s: lib.mm(s, lib.ones(3, 2)),
                    lambda lib, s: s.to_dense() * lib.arange(6.0).reshape(2, 3),
                    lambda lib, s: (s + lib.sparse_coo_tensor([[1], [1]], [2.0], (2, 3)))
                    .to_dense() * lib.arange(6.0).reshape(2, 3)):
        t, e = run(torch, product), run(ember, product)
        assert e.layout is (ember.sparse_coo if t.layout == torch.sparse_coo else ember.strided)
        assert_same(t, e)


def test_unsupported_ops_raise_clearly():
    s = make(ember)[0]
    for fn, op in [(lambda: s.exp(), "exp"), (lambda: ember.exp(s), "exp"),
                   (lambda: s.reshape(12), "reshape"),
                   (lambda: s[1:2], r"slicing \(a strided view\)"),
                   (lambda: s.mean(), "mean"),
                   (lambda: ember.cat([ember.ones(*SHAPE), s]), "concatenate")]:
        with pytest.raises(NotImplementedError, match=f"{op} is not implemented for sparse "
                                                      r"tensors \(layout ember.sparse_coo\)"):
            fn()
    with pytest.raises(RuntimeError, match=r"add\(sparse, dense\) is not supported"):
        s + ember.ones(*SHAPE)


# ------------------------------------------------------------------------------ CSR


def test_csr():
    x = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, 0.0], [2.0, 0.0, 3.0]], dtype=np.float32)
    t, e = both(lambda lib: lib.tensor(x).to_sparse_csr())
    assert e.layout is ember.sparse_csr and e.is_sparse_csr and not e.is_sparse
    for part in ("crow_indices", "col_indices", "values"):
        np.testing.assert_array_equal(getattr(e, part)().numpy(), getattr(t, part)().numpy())
    assert_same(t.to_dense(), e.to_dense())
    assert repr(e) == repr(t).replace("torch.", "ember.")
    assert_same(*both(lambda lib: make(lib)[0].to_sparse_csr().to_dense()))

    def run(lib):
        v = lib.tensor([1.0, 2.0, 3.0], requires_grad=True)
        c = lib.sparse_csr_tensor(lib.tensor([0, 1, 1, 3]), lib.tensor([1, 0, 2]), v, (3, 3))
        d = lib.tensor(np.arange(6.0, dtype=np.float32).reshape(3, 2), requires_grad=True)
        out = c @ d
        (out * out).sum().backward()
        return out, v.grad, d.grad

    for a, b in zip(*both(run), strict=True):
        assert_same(a, b)


# ------------------------------------------------------------------------------ embeddings


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_sparse_gradients(padding_idx):
    W = np.random.RandomState(2).randn(6, 3).astype(np.float32)

    def run(lib):
        emb = lib.nn.Embedding(6, 3, sparse=True, padding_idx=padding_idx)
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(W))
        emb(lib.tensor([[1, 2], [1, 4]])).pow(2).sum().backward()
        first = emb.weight.grad
        assert not first.is_coalesced()
        parts = first._indices().clone(), first._values().clone()
        emb(lib.tensor([0, 1])).sum().backward()  # accumulates in place, uncoalesced
        assert emb.weight.grad is first
        return parts, emb.weight.grad

    ((ti, tv), t2), ((ei, ev), e2) = both(run)
    np.testing.assert_array_equal(ei.numpy(), ti.numpy())
    np.testing.assert_allclose(ev.numpy(), tv.numpy(), rtol=1e-6)
    assert_same(t2, e2)
    functional = ember.nn.functional.embedding(ember.tensor([3]), ember.ones(5, 2,
                                                                             requires_grad=True),
                                               sparse=True)
    assert functional.grad_fn is not None


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embedding_bag_sparse_gradients(mode):
    W = np.random.RandomState(3).randn(6, 3).astype(np.float32)

    def run(lib):
        bag = lib.nn.EmbeddingBag(6, 3, mode=mode, sparse=True)
        with lib.no_grad():
            bag.weight.copy_(lib.tensor(W))
        bag(lib.tensor([1, 2, 1, 4, 3]), lib.tensor([0, 2])).pow(2).sum().backward()
        return bag.weight.grad

    assert_same(*both(run))
    with pytest.raises(ValueError, match="max mode does not support sparse weights"):
        ember.nn.EmbeddingBag(6, 3, mode="max", sparse=True)(ember.tensor([[1, 2]]))


def test_scale_grad_by_freq_refused_with_sparse():
    emb = ember.nn.Embedding(4, 2, sparse=True, scale_grad_by_freq=True)
    with pytest.raises(RuntimeError, match="scale_grad_by_freq not supported with sparse"):
        emb(ember.tensor([1, 1])).sum().backward()


# ------------------------------------------------------------------------------ optimizers

BATCHES = [[[1, 2], [1, 4]], [[0, 1]], [[5, 5, 2]], [[3]], [[1, 1, 0]]]

OPTIMIZERS = {
    "sgd": lambda lib, p: lib.optim.SGD(p, lr=0.1),
    "sgd_momentum": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1),
    "sgd_nesterov": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True),
    "sgd_maximize": lambda lib, p: lib.optim.SGD(p, lr=0.1, momentum=0.5, maximize=True),
    "adagrad": lambda lib, p: lib.optim.Adagrad(p, lr=0.1, lr_decay=0.01),
    "sparse_adam": lambda lib, p: lib.optim.SparseAdam(p, lr=0.1),
    "sparse_adam_maximize": lambda lib, p: lib.optim.SparseAdam(p, lr=0.05, betas=(0.8, 0.9),
                                                                maximize=True),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_trajectories_with_sparse_embeddings(name):
    W = np.random.RandomState(4).randn(6, 3).astype(np.float32)

    def run(lib):
        emb = lib.nn.Embedding(6, 3, sparse=True)
        with lib.no_grad():
            emb.weight.copy_(lib.tensor(W))
        opt = OPTIMIZERS[name](lib, emb.parameters())
        trajectory = []
        for batch in BATCHES:
            opt.zero_grad()
            (emb(lib.tensor(batch)) ** 2).sum().backward()
            opt.step()
            trajectory.append(emb.weight.detach().numpy().copy())
        return np.stack(trajectory)

    t, e = both(run)
    np.testing.assert_allclose(e, t, atol=2e-6, rtol=1e-5)


def test_optimizer_errors_with_sparse_gradients():
    def sparse_param():
        emb = ember.nn.Embedding(4, 2, sparse=True)
        emb(ember.tensor([1])).sum().backward()
        return emb.weight

    cases = [(lambda p: ember.optim.Adam([p]), "Adam does not support sparse gradients, "
                                               "please consider SparseAdam instead"),
             (lambda p: ember.optim.RMSprop([p]), "RMSprop does not support sparse gradients"),
             (lambda p: ember.optim.SGD([p], weight_decay=0.1),
              r"add\(sparse, dense\) is not supported"),
             (lambda p: ember.optim.Adagrad([p], weight_decay=0.1),
              "weight_decay option is not compatible with sparse gradients")]
    for make_opt, message in cases:
        with pytest.raises(RuntimeError, match=message):
            make_opt(sparse_param()).step()
    w = ember.nn.Parameter(ember.ones(3))
    w.grad = ember.ones(3)
    with pytest.raises(RuntimeError, match="SparseAdam does not support dense gradients"):
        ember.optim.SparseAdam([w]).step()
    with pytest.raises(ValueError, match="SparseAdam requires dense parameter tensors"):
        ember.optim.SparseAdam([ember.ones(2).to_sparse()])


def test_zero_grad_keeps_an_empty_sparse_gradient():
    emb = ember.nn.Embedding(4, 2, sparse=True)
    emb(ember.tensor([1, 2])).sum().backward()
    ember.optim.SGD(emb.parameters(), lr=0.1).zero_grad(set_to_none=False)
    assert emb.weight.grad.layout is ember.sparse_coo and emb.weight.grad._nnz() == 0
    emb.zero_grad()
    assert emb.weight.grad is None


def test_clip_grad_norm_refuses_sparse_gradients_as_torch():
    emb = ember.nn.Embedding(4, 2, sparse=True)
    emb(ember.tensor([1, 2])).sum().backward()
    with pytest.raises(NotImplementedError, match="sparse"):
        ember.nn.utils.clip_grad_norm_(emb.parameters(), 1.0)


def test_small_model_with_sparse_adam_and_adam():
    """EmbeddingBag (SparseAdam) + Linear (Adam) trained for a few steps exactly as torch."""
    rng = np.random.RandomState(5)
    W = rng.randn(20, 8).astype(np.float32)
    L = rng.randn(3, 8).astype(np.float32) * 0.3
    text = [rng.randint(0, 20, size=12) for _ in range(6)]
    labels = [rng.randint(0, 3, size=4) for _ in range(6)]

    def run(lib):
        bag = lib.nn.EmbeddingBag(20, 8, mode="mean", sparse=True)
        head = lib.nn.Linear(8, 3)
        with lib.no_grad():
            bag.weight.copy_(lib.tensor(W))
            head.weight.copy_(lib.tensor(L))
            head.bias.zero_()
        sparse_opt = lib.optim.SparseAdam(list(bag.parameters()), lr=0.05)
        dense_opt = lib.optim.Adam(head.parameters(), lr=0.05)
        losses = []
        for tokens, y in zip(text, labels, strict=True):
            offsets = lib.tensor([0, 3, 6, 9])
            logits = head(bag(lib.tensor(tokens), offsets))
            loss = lib.nn.functional.cross_entropy(logits, lib.tensor(y))
            sparse_opt.zero_grad()
            dense_opt.zero_grad()
            loss.backward()
            sparse_opt.step()
            dense_opt.step()
            losses.append(loss.item())
        return np.array(losses), bag.weight.detach().numpy(), head.weight.detach().numpy()

    for t, e in zip(*both(run), strict=True):
        np.testing.assert_allclose(e, t, atol=2e-5, rtol=1e-5)
