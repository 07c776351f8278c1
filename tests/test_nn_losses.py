"""Every loss against torch (values and gradients), each reduction, in float32 and float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import ember
from conformance import Input, compare

I = Input  # noqa: E741


def idx(values: object) -> Input:
    arr = np.asarray(values, dtype=np.int64)
    return Input(arr.shape, values=arr, grad=False)


def fixed(values: object, grad: bool = False, dtype: str | None = None) -> Input:
    arr = np.asarray(values)
    return Input(arr.shape, values=arr.astype(dtype or "float32"), grad=grad)


def F(m: object) -> object:  # noqa: N802
    return m.nn.functional


CE_TARGET = idx([1, 0, 4, 2])
CE_IGNORED = idx([1, -100, 4, 2])
LOSSES = [
    ("cross_entropy", lambda m, x, t, r: F(m).cross_entropy(x, t, reduction=r), [(4, 5), CE_TARGET]),
    ("cross_entropy_weight", lambda m, x, t, w, r: F(m).cross_entropy(x, t, weight=w,
                                                                      reduction=r),
     [(4, 5), CE_TARGET, I((5,), low=0.1, high=2.0, grad=False)]),
    ("cross_entropy_ignore", lambda m, x, t, r: F(m).cross_entropy(x, t, reduction=r),
     [(4, 5), CE_IGNORED]),
    ("cross_entropy_ignore_custom", lambda m, x, t, r: F(m).cross_entropy(
        x, t, ignore_index=4, reduction=r), [(4, 5), CE_TARGET]),
    ("cross_entropy_smoothing", lambda m, x, t, r: F(m).cross_entropy(
        x, t, label_smoothing=0.2, reduction=r), [(4, 5), CE_IGNORED]),
    ("cross_entropy_smoothing_weight", lambda m, x, t, w, r: F(m).cross_entropy(
        x, t, weight=w, label_smoothing=0.1, reduction=r),
     [(4, 5), CE_IGNORED, I((5,), low=0.1, high=2.0, grad=False)]),
    ("cross_entropy_kdim", lambda m, x, t, r: F(m).cross_entropy(x, t, reduction=r),
     [(2, 3, 4, 2), idx([[[0, 2], [1, 1], [2, 0], [0, 0]], [[1, 2], [2, 2], [0, 1], [1, 0]]])]),
    ("cross_entropy_unbatched", lambda m, x, t, r: F(m).cross_entropy(x, t, reduction=r),
     [(5,), idx(3)]),
    ("cross_entropy_probs", lambda m, x, t, r: F(m).cross_entropy(x, m.softmax(t, 1),
                                                                  reduction=r),
     [(4, 5), I((4, 5), grad=False)]),
    ("cross_entropy_probs_smooth_weight", lambda m, x, t, w, r: F(m).cross_entropy(
        x, m.softmax(t, 1), weight=w, label_smoothing=0.3, reduction=r),
     [(4, 5), I((4, 5), grad=False), I((5,), low=0.1, high=2.0, grad=False)]),
    ("nll_loss", lambda m, x, t, r: F(m).nll_loss(m.log_softmax(x, 1), t, reduction=r),
     [(4, 5), CE_IGNORED]),
    ("nll_loss_weight", lambda m, x, t, w, r: F(m).nll_loss(x, t, weight=w, reduction=r),
     [(4, 5), CE_TARGET, I((5,), low=0.1, high=2.0, grad=False)]),
    ("nll_loss_kdim", lambda m, x, t, r: F(m).nll_loss(x, t, reduction=r),
     [(2, 3, 4), idx([[0, 2, 1, 1], [2, 2, 0, 1]])]),
    ("bce", lambda m, x, t, r: F(m).binary_cross_entropy(x, t, reduction=r),
     [I((4, 3), low=0.05, high=0.95), I((4, 3), low=0, high=1, grad=False)]),
    ("bce_weight", lambda m, x, t, w, r: F(m).binary_cross_entropy(x, t, weight=w, reduction=r),
     [I((4, 3), low=0.05, high=0.95), I((4, 3), low=0, high=1, grad=False),
      I((3,), low=0.1, high=2, grad=False)]),
    ("bce_target_grad", lambda m, x, t, r: F(m).binary_cross_entropy(x, t, reduction=r),
     [I((4, 3), low=0.05, high=0.95), I((4, 3), low=0, high=1)]),
    ("bce_logits", lambda m, x, t, r: F(m).binary_cross_entropy_with_logits(x, t, reduction=r),
     [I((4, 3), low=-5, high=5), I((4, 3), low=0, high=1, grad=False)]),
    ("bce_logits_pos_weight", lambda m, x, t, p, r: F(m).binary_cross_entropy_with_logits(
        x, t, pos_weight=p, reduction=r),
     [I((4, 3), low=-5, high=5), I((4, 3), low=0, high=1, grad=False),
      I((3,), low=0.5, high=3, grad=False)]),
    ("bce_logits_all_grads", lambda m, x, t, w, p, r: F(m).binary_cross_entropy_with_logits(
        x, t, weight=w, pos_weight=p, reduction=r),
     [I((4, 3), low=-5, high=5), I((4, 3), low=0, high=1),
      # torch is not differentiable w.r.t. weight and pos_weight
      I((4, 3), low=0.5, high=2, grad=False), I((3,), low=0.5, high=3, grad=False)]),
    ("mse", lambda m, x, t, r: F(m).mse_loss(x, t, reduction=r), [(4, 3), (4, 3)]),
    ("l1", lambda m, x, t, r: F(m).l1_loss(x, t, reduction=r), [(4, 3), (4, 3)]),
    ("huber", lambda m, x, t, r: F(m).huber_loss(x, t, reduction=r, delta=0.7),
     [(4, 3), (4, 3)]),
    ("smooth_l1", lambda m, x, t, r: F(m).smooth_l1_loss(x, t, reduction=r, beta=0.5),
     [(4, 3), (4, 3)]),
    ("smooth_l1_beta0", lambda m, x, t, r: F(m).smooth_l1_loss(x, t, reduction=r, beta=0.0),
     [(4, 3), (4, 3)]),
    ("kl_div", lambda m, x, t, r: F(m).kl_div(m.log_softmax(x, 1), m.softmax(t, 1),
                                              reduction=r),
     [(4, 5), (4, 5)]),
    ("kl_div_log_target", lambda m, x, t, r: F(m).kl_div(m.log_softmax(x, 1),
                                                         m.log_softmax(t, 1), reduction=r,
                                                         log_target=True),
     [(4, 5), (4, 5)]),
    ("kl_div_zero_target", lambda m, x, t, r: F(m).kl_div(x, t.relu(), reduction=r),
     [(4, 5), (4, 5)]),
    ("margin_ranking", lambda m, a, b, y, r: F(m).margin_ranking_loss(a, b, y, margin=0.3,
                                                                      reduction=r),
     [(6,), (6,), fixed([1, -1, 1, 1, -1, -1])]),
    ("hinge_embedding", lambda m, x, y, r: F(m).hinge_embedding_loss(x, y, margin=0.8,
                                                                     reduction=r),
     [(6,), fixed([1, -1, 1, 1, -1, -1])]),
    ("soft_margin", lambda m, x, y, r: F(m).soft_margin_loss(x, y, reduction=r),
     [(2, 3), fixed([[1, -1, 1], [1, -1, -1]])]),
    ("multilabel_soft_margin", lambda m, x, y, r: F(m).multilabel_soft_margin_loss(
        x, y, reduction=r), [(2, 3), fixed([[1, 0, 1], [0, 0, 1]])]),
    ("multi_margin", lambda m, x, t, r: F(m).multi_margin_loss(x, t, reduction=r),
     [(4, 5), CE_TARGET]),
    ("multi_margin_p2", lambda m, x, t, r: F(m).multi_margin_loss(x, t, p=2, margin=0.5,
                                                                  reduction=r),
     [(4, 5), CE_TARGET]),
    ("cosine_embedding", lambda m, a, b, y, r: F(m).cosine_embedding_loss(a, b, y, margin=0.1,
                                                                          reduction=r),
     [(4, 5), (4, 5), fixed([1, -1, -1, 1])]),
    ("triplet_margin", lambda m, a, p, n, r: F(m).triplet_margin_loss(a, p, n, reduction=r),
     [(4, 5), (4, 5), (4, 5)]),
    ("triplet_margin_p1_swap", lambda m, a, p, n, r: F(m).triplet_margin_loss(
        a, p, n, margin=2.0, p=1, swap=True, reduction=r), [(4, 5), (4, 5), (4, 5)]),
    ("poisson_nll", lambda m, x, t, r: F(m).poisson_nll_loss(x, t, reduction=r),
     [(4, 3), I((4, 3), low=0, high=4, grad=False)]),
    ("poisson_nll_full", lambda m, x, t, r: F(m).poisson_nll_loss(
        x, t, log_input=False, full=True, reduction=r),
     [I((4, 3), low=0.5, high=3), I((4, 3), low=0, high=4, grad=False)]),
    ("gaussian_nll", lambda m, x, t, v, r: F(m).gaussian_nll_loss(x, t, v, reduction=r),
     [(4, 3), (4, 3), I((4, 3), low=0.1, high=2)]),
    ("gaussian_nll_full_bcast", lambda m, x, t, v, r: F(m).gaussian_nll_loss(
        x, t, v, full=True, reduction=r), [(4, 3), (4, 3), I((4, 1), low=0.1, high=2)]),
]


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name,fn,specs", LOSSES, ids=[c[0] for c in LOSSES])
def test_loss_matches_torch(name: str, fn, specs, dtype: str, reduction: str) -> None:
    compare(lambda m, *xs: fn(m, *xs, reduction), specs, dtype=dtype)


def test_kl_div_batchmean() -> None:
    compare(lambda m, x, t: m.nn.functional.kl_div(m.log_softmax(x, 1), m.softmax(t, 1),
                                                   reduction="batchmean"), [(4, 5), (4, 5)])


MODULES = [
    ("CrossEntropyLoss", lambda m: m.nn.CrossEntropyLoss(label_smoothing=0.1), [(4, 5), CE_IGNORED]),
    ("NLLLoss", lambda m: m.nn.NLLLoss(ignore_index=4), [(4, 5), CE_TARGET]),
    ("BCELoss", lambda m: m.nn.BCELoss(reduction="sum"),
     [I((4, 3), low=0.05, high=0.95), I((4, 3), low=0, high=1, grad=False)]),
    ("BCEWithLogitsLoss", lambda m: m.nn.BCEWithLogitsLoss(),
     [(4, 3), I((4, 3), low=0, high=1, grad=False)]),
    ("MSELoss", lambda m: m.nn.MSELoss(), [(4, 3), (4, 3)]),
    ("L1Loss", lambda m: m.nn.L1Loss(reduction="none"), [(4, 3), (4, 3)]),
    ("HuberLoss", lambda m: m.nn.HuberLoss(delta=2.0), [(4, 3), (4, 3)]),
    ("SmoothL1Loss", lambda m: m.nn.SmoothL1Loss(beta=0.3), [(4, 3), (4, 3)]),
    ("KLDivLoss", lambda m: m.nn.KLDivLoss(reduction="batchmean", log_target=True),
     [(4, 3), (4, 3)]),
    ("MarginRankingLoss", lambda m: m.nn.MarginRankingLoss(0.5),
     [(4,), (4,), fixed([1, -1, 1, -1])]),
    ("SoftMarginLoss", lambda m: m.nn.SoftMarginLoss(), [(4,), fixed([1, -1, 1, -1])]),
    ("CosineEmbeddingLoss", lambda m: m.nn.CosineEmbeddingLoss(),
     [(4, 3), (4, 3), fixed([1, -1, 1, -1])]),
    ("TripletMarginLoss", lambda m: m.nn.TripletMarginLoss(margin=0.5),
     [(4, 3), (4, 3), (4, 3)]),
    ("HingeEmbeddingLoss", lambda m: m.nn.HingeEmbeddingLoss(), [(4,), fixed([1, -1, 1, -1])]),
    ("legacy_size_average", lambda m: m.nn.MSELoss(size_average=False), [(4, 3), (4, 3)]),
    ("legacy_reduce", lambda m: m.nn.L1Loss(reduce=False), [(4, 3), (4, 3)]),
]


@pytest.mark.parametrize("name,make,specs", MODULES, ids=[c[0] for c in MODULES])
def test_loss_modules(name: str, make, specs) -> None:
    compare(lambda m, *xs: make(m)(*xs), specs)


def test_loss_module_weight_buffers() -> None:
    w = np.array([0.2, 1.0, 3.0], dtype=np.float32)
    compare(lambda m, x, t: m.nn.CrossEntropyLoss(weight=m.tensor(w))(x, t),
            [(5, 3), idx([0, 2, 1, 1, 0])])
    assert "weight" in dict(ember.nn.CrossEntropyLoss(weight=ember.tensor(w)).named_buffers())


@pytest.mark.parametrize("scale", [1000.0, -1000.0])
def test_stable_on_huge_logits(scale: float) -> None:
    """log-softmax and logits-based BCE must stay finite for logits of +-1000."""
    logits = np.array([[scale, 0.0, -scale], [0.0, scale, 1.0]], dtype=np.float32)
    target = np.array([2, 0])
    e_x = ember.tensor(logits, requires_grad=True)
    t_x = torch.tensor(logits, requires_grad=True)
    e_loss = ember.nn.functional.cross_entropy(e_x, ember.tensor(target))
    t_loss = torch.nn.functional.cross_entropy(t_x, torch.tensor(target))
    assert np.isfinite(e_loss.item())
    np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=1e-6)
    e_loss.backward()
    t_loss.backward()
    assert np.all(np.isfinite(e_x.grad.numpy()))
    np.testing.assert_allclose(e_x.grad.numpy(), t_x.grad.numpy(), atol=1e-6)
    bce_logits = np.array([scale, -scale, 0.0], dtype=np.float32)
    bce_target = np.array([0.0, 1.0, 1.0], dtype=np.float32)
    e_b = ember.tensor(bce_logits, requires_grad=True)
    t_b = torch.tensor(bce_logits, requires_grad=True)
    e_l = ember.nn.functional.binary_cross_entropy_with_logits(e_b, ember.tensor(bce_target))
    t_l = torch.nn.functional.binary_cross_entropy_with_logits(t_b, torch.tensor(bce_target))
    np.testing.assert_allclose(e_l.item(), t_l.item(), rtol=1e-6)
    e_l.backward()
    t_l.backward()
    np.testing.assert_allclose(e_b.grad.numpy(), t_b.grad.numpy(), atol=1e-6)
    e_ls = ember.log_softmax(ember.tensor(logits), 1).numpy()
    assert np.all(np.isfinite(e_ls))


def test_contrastive_loss_formula() -> None:
    """L = y d^2 + (1 - y) max(0, margin - d)^2 (Ember's own loss, checked by hand)."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal((6, 4)), rng.standard_normal((6, 4))
    y = np.array([1, 0, 1, 0, 0, 1], dtype=np.float64)
    d = np.linalg.norm(a - b + 1e-6, axis=1)
    expected = y * d**2 + (1 - y) * np.maximum(0, 2.0 - d) ** 2
    ea = ember.tensor(a, requires_grad=True)
    loss = ember.nn.ContrastiveLoss(margin=2.0, reduction="none")(ea, ember.tensor(b),
                                                                   ember.tensor(y))
    np.testing.assert_allclose(loss.detach().numpy(), expected, rtol=1e-10)
    assert ember.autograd.gradcheck(
        lambda x: ember.nn.functional.contrastive_loss(x, ember.tensor(b), ember.tensor(y),
                                                       margin=2.0), (ea,))


def test_cross_entropy_bad_target_is_clear() -> None:
    x = ember.randn(3, 4)
    with pytest.raises(IndexError, match="Target 7 is out of bounds.*4 classes"):
        ember.nn.functional.cross_entropy(x, ember.tensor([0, 7, 1]))
    with pytest.raises(ValueError, match="Expected target of shape"):
        ember.nn.functional.cross_entropy(x, ember.tensor([0, 1]))


def test_mse_warns_on_broadcasting_target() -> None:
    # torch's warning; with the doctor's target_shape check on (the default) it is an error,
    # tested in test_doctor_errors.py
    with ember.doctor.silence("target_shape"):
        with pytest.warns(UserWarning, match="different to the input size"):
            ember.nn.functional.mse_loss(ember.randn(4, 1), ember.randn(4))


def test_bce_rejects_values_outside_unit_interval() -> None:
    with pytest.raises(RuntimeError, match="between 0 and 1"):
        ember.nn.functional.binary_cross_entropy(ember.tensor([1.5]), ember.tensor([1.0]))


def test_cross_entropy_plain_path_edge_cases_match_torch() -> None:
    # class indices without weights or smoothing take a shorter formula (probabilities kept
    # for backward): a masked class (-inf logit), ignored rows, a second backward with
    # retain_graph, and a gradient of the gradient must all still match torch
    rng = np.random.RandomState(3)
    logits = rng.randn(6, 7).astype(np.float32)
    logits[1, 3] = -np.inf
    target = np.array([0, 2, -100, 6, 3, -100])
    results = []
    for m in (ember, torch):
        x = m.tensor(logits, requires_grad=True)
        t = m.tensor(target)
        loss = m.nn.functional.cross_entropy(x, t)
        loss.backward(retain_graph=True)
        first = x.grad.clone()
        loss.backward()
        (g,) = (m.autograd.grad(m.nn.functional.cross_entropy(x, t, reduction="sum"), x,
                                create_graph=True))
        (gg,) = m.autograd.grad((g * g).sum(), x)
        everything_ignored = m.nn.functional.cross_entropy(x, m.full((6,), -100))
        results.append([loss.item(), first.numpy(), x.grad.numpy(), g.detach().numpy(),
                        gg.numpy(), everything_ignored.item()])
    ours, theirs = results
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
