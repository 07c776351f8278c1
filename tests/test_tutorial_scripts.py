"""Tutorial-style PyTorch programs run unchanged (imports aside) on Ember with torch's results.

Each program in tests/tutorial_scripts/ is run on torch and, with its torch imports rewritten to
ember, on Ember; the harness (tests/tutorial_scripts/harness.py) compares the losses, outputs,
gradients and states they return.
"""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
import torch
from tutorial_scripts.harness import compare, to_ember_source

import ember

SCRIPTS = sorted(
    p.stem
    for p in (pathlib.Path(__file__).parent / "tutorial_scripts").glob("*.py")
    if p.stem not in ("__init__", "harness")
)


@pytest.mark.parametrize("name", SCRIPTS)
def test_script_matches_torch(name: str) -> None:
    compare(name)


def test_import_rewriting_only_touches_imports() -> None:
    source = (
        "import torch\nimport torch.nn as nn\nimport torch.utils.data\nfrom torch import optim\n"
        "from torch.utils.data import DataLoader\n    import torch\nx = torch.zeros(1)\n"
    )
    assert to_ember_source(source) == (
        "import ember as torch\nimport ember.nn as nn\n"
        "import ember.utils.data\nimport ember as torch\nfrom ember import optim\n"
        "from ember.utils.data import DataLoader\n    import ember as torch\nx = torch.zeros(1)\n"
    )


# ---------------------------------------------------------------------------------------------
# Gaps the scripts found, each pinned down on its own against torch
# ---------------------------------------------------------------------------------------------


def both(fn):
    """fn(torch) and fn(ember), with results as numpy arrays."""
    out = []
    for m in (torch, ember):
        r = fn(m)
        out.append(r.detach().numpy() if hasattr(r, "detach") else r)
    return out


def test_range_as_an_index() -> None:
    def fn(m):
        x = m.arange(12.0).reshape(3, 4)
        picked = x[range(3), m.tensor([1, 0, 3])]
        x[range(2), 0] = -1.0
        return m.cat([picked, x[range(1, 3)].flatten(), x[:, range(0, 4, 2)].flatten()])

    t, e = both(fn)
    np.testing.assert_array_equal(e, t)


@pytest.mark.parametrize(
    "make, shape",
    [
        (lambda m: m.nn.Conv1d(3, 4, 3), (2, 3, 8)),
        (lambda m: m.nn.Conv2d(3, 4, 3), (2, 3, 6, 6)),
        (lambda m: m.nn.Conv2d(4, 6, 3, groups=2), (2, 4, 6, 6)),
        (lambda m: m.nn.Conv3d(3, 4, 3), (2, 3, 5, 5, 5)),
        (lambda m: m.nn.ConvTranspose2d(3, 4, 3, stride=2), (2, 3, 5, 5)),
        (lambda m: m.nn.ConvTranspose3d(3, 4, 3), (2, 3, 4, 4, 4)),
    ],
)
def test_conv_outputs_are_contiguous_so_view_works(make, shape) -> None:
    # LeNet's x.view(-1, 16 * 5 * 5) after conv + pool, x.view(x.size(0), -1) after a conv
    def fn(m):
        m.manual_seed(0)
        conv = make(m)
        if m is ember:
            conv.load_state_dict(state)
        else:
            state.update(conv.state_dict())
        x = m.tensor(np.random.RandomState(0).rand(*shape).astype(np.float32))
        y = conv(x)
        assert y.is_contiguous()
        return y.view(shape[0], -1)

    state: dict = {}
    t, e = both(fn)
    np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)


def test_einsum_results_and_gradients_are_contiguous() -> None:
    def fn(m):
        rng = np.random.RandomState(0)
        a = m.tensor(rng.rand(2, 3, 4).astype(np.float32), requires_grad=True)
        b = m.tensor(rng.rand(4, 5).astype(np.float32), requires_grad=True)
        y = m.einsum("bij,bkj->bik", a, a).sum() + m.einsum("bij,jk->kbi", a, b).view(-1).sum()
        z = m.tensordot(a, b, dims=([2], [0]))
        assert z.is_contiguous()
        (y + z.sum()).backward()
        assert a.grad.is_contiguous() and b.grad.is_contiguous()
        return m.cat([a.grad.view(-1), b.grad.view(-1), z.view(-1)])

    t, e = both(fn)
    np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-5)


def test_linspace_rounds_as_torch() -> None:
    # torch fuses each multiply-add; the middle of linspace(-1, 1, 7) is -2**-25, not 0
    rng = np.random.RandomState(0)
    for _ in range(200):
        a, b = rng.randn(2) * 10
        n = int(rng.randint(0, 100))
        for name in ("float32", "float64", "int64", "float16"):
            t = torch.linspace(float(a), float(b), n, dtype=getattr(torch, name))
            e = ember.linspace(float(a), float(b), n, dtype=getattr(ember, name))
            np.testing.assert_array_equal(e.numpy(), t.numpy())


@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_spatial_transformer_gradients_at_the_identity(align_corners, padding_mode) -> None:
    # An STN starts at the identity transform, where every grid point sits on a pixel: the
    # grid, its unnormalised coordinates and the one-sided gradients there must round as torch's
    rng = np.random.RandomState(0)
    x = rng.rand(2, 3, 18, 13).astype(np.float32)
    eye = np.array([[[1, 0, 0], [0, 1, 0]]] * 2, np.float32)
    for theta in (eye, eye * 1.5, eye + rng.randn(2, 2, 3).astype(np.float32) * 0.3):
        res = []
        for m in (torch, ember):
            th = m.tensor(theta, requires_grad=True)
            inp = m.tensor(x, requires_grad=True)
            grid = m.nn.functional.affine_grid(th, (2, 3, 18, 13), align_corners=align_corners)
            out = m.nn.functional.grid_sample(
                inp, grid, padding_mode=padding_mode, align_corners=align_corners
            )
            (out * m.arange(out.numel()).reshape(out.shape).float() / 100).sum().backward()
            res.append(
                [grid.detach().numpy(), out.detach().numpy(), inp.grad.numpy(), th.grad.numpy()]
            )
        np.testing.assert_array_equal(res[1][0], res[0][0])  # the grid, bit for bit
        for e, t in zip(res[1][1:], res[0][1:]):
            np.testing.assert_allclose(e, t, rtol=1e-4, atol=1e-4 * np.abs(t).max())


def test_affine_grid_3d_matches_torch_bit_for_bit() -> None:
    rng = np.random.RandomState(1)
    theta = rng.randn(2, 3, 4).astype(np.float32)
    for align_corners in (False, True):
        t = torch.nn.functional.affine_grid(torch.tensor(theta), (2, 1, 3, 5, 4), align_corners)
        e = ember.nn.functional.affine_grid(ember.tensor(theta), (2, 1, 3, 5, 4), align_corners)
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_cross_entropy_with_masked_logits() -> None:
    # NT-Xent masks the diagonal with -inf; torch's loss and gradient stay finite
    def fn(m):
        x = m.tensor([[float("-inf"), 1.0, 2.0], [0.5, float("-inf"), 1.0]], requires_grad=True)
        loss = m.nn.functional.cross_entropy(x, m.tensor([1, 2]))
        per_row = m.nn.functional.cross_entropy(x.detach(), m.tensor([2, 0]), reduction="none")
        loss.backward()
        return m.cat([loss.reshape(1), per_row, x.grad.flatten()])

    t, e = both(fn)
    np.testing.assert_allclose(e, t, rtol=1e-6)


def test_tensor_from_any_sequence() -> None:
    import array
    import collections

    for data in (collections.deque([1.5, 2.0]), range(4), array.array("d", [1, 2]), [range(2)] * 2):
        t, e = torch.tensor(data), ember.tensor(data)
        assert str(e.dtype).split(".")[1] == str(t.dtype).split(".")[1]
        np.testing.assert_array_equal(e.numpy(), t.numpy())


def test_einsum_sublist_format_and_inner() -> None:
    rng = np.random.RandomState(0)
    a, b = rng.rand(2, 3, 4).astype(np.float32), rng.rand(5, 4).astype(np.float32)

    def fn(m):
        x, y = m.tensor(a), m.tensor(b)
        return m.cat(
            [
                m.einsum(x, [0, 1, 2], y, [3, 2], [0, 1, 3]).flatten(),
                m.einsum(x, [..., 2], y, [3, 2]).flatten(),
                m.einsum(x, [0, 1, 2], [2]),
                m.inner(x, y).flatten(),
                x.inner(y[0]).flatten(),
                m.inner(x[0, 0], m.tensor(2.0)),
                m.vdot(y[0], y[1]).reshape(1),
            ]
        )

    t, e = both(fn)
    np.testing.assert_allclose(e, t, rtol=1e-5)


def test_losses_under_autocast_are_float32() -> None:
    pytest.importorskip("ml_dtypes")
    rng = np.random.RandomState(0)
    x, y = rng.rand(4, 5).astype(np.float32), np.array([1, 0, 2, 4])

    def fn(m):
        layer = m.nn.Linear(5, 5)
        with m.no_grad():
            layer.weight.copy_(m.tensor(np.eye(5, dtype=np.float32)))
            layer.bias.zero_()
        inp = m.tensor(x, requires_grad=True)
        F = m.nn.functional
        with m.autocast("cpu", dtype=m.bfloat16):
            logits = layer(inp)
            losses = [
                F.cross_entropy(logits, m.tensor(y)),
                F.nll_loss(F.log_softmax(logits, 1), m.tensor(y)),
                F.mse_loss(logits, m.zeros(4, 5)),
                F.binary_cross_entropy_with_logits(logits, m.ones(4, 5)),
                F.smooth_l1_loss(logits, m.zeros(4, 5)),
                F.kl_div(F.log_softmax(logits, 1), m.full((4, 5), 0.2), reduction="batchmean"),
            ]
        assert str(logits.dtype).endswith("bfloat16")
        assert all(str(loss.dtype).endswith("float32") for loss in losses)
        sum(losses).backward()
        return m.stack([loss.detach() for loss in losses] + [inp.grad.sum()])

    t, e = both(fn)
    np.testing.assert_allclose(e, t, rtol=1e-2, atol=3e-3)  # bfloat16 rounding


def test_renorm_gradient_flows_through_the_norm() -> None:
    x = np.random.RandomState(0).randn(3, 4).astype(np.float32)

    def fn(m):
        t = m.tensor(x, requires_grad=True)
        y = t.renorm(2, 0, 1.0)
        (y * m.arange(12.0).reshape(3, 4)).sum().backward()
        return m.cat([y.flatten(), t.grad.flatten()])

    t, e = both(fn)
    np.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)


def test_argmax_of_an_empty_tensor_along_a_nonempty_dim() -> None:
    for m in (torch, ember):
        x = m.zeros(2, 0, 3)
        assert tuple(x.argmax(-1).shape) == (2, 0) and tuple(x.argmin(2, keepdim=True).shape) == (
            2,
            0,
            1,
        )
        with pytest.raises(IndexError):
            x.argmax(1)
        with pytest.raises(IndexError):
            x.argmax()


def test_printed_grad_fn_names_of_losses_and_layers() -> None:
    # print(loss) and print(model(x)) show torch's node names
    def names(m):
        F = m.nn.functional
        x = m.randn(4, 3, requires_grad=True)
        t, y = m.tensor([0, 1, 2, 1]), m.rand(4, 3)
        x4 = m.randn(2, 3, 2, 2, requires_grad=True)
        outs = [
            F.cross_entropy(x, t), F.cross_entropy(x, t, reduction="none"),
            F.cross_entropy(x4, m.zeros(2, 2, 2, dtype=m.long)), F.nll_loss(x, t),
            F.mse_loss(x, y), F.binary_cross_entropy(x.sigmoid(), y),
            F.binary_cross_entropy_with_logits(x, y), F.smooth_l1_loss(x, y), F.huber_loss(x, y),
            m.nn.Linear(3, 2)(x), m.nn.Linear(3, 2, bias=False)(x),
            m.nn.Linear(3, 2)(x4[..., 0].transpose(1, 2).contiguous()),
            m.nn.Conv2d(3, 2, 1)(x4), m.nn.Conv1d(3, 2, 1)(x4[..., 0]),
            m.nn.ConvTranspose2d(3, 2, 2)(x4),
            m.nn.MaxPool2d(2)(x4), m.nn.AvgPool2d(2)(x4), m.nn.AdaptiveAvgPool2d(1)(x4),
            m.nn.AdaptiveAvgPool2d((1, 2))(x4), m.nn.AdaptiveMaxPool2d(1)(x4),
            x[0], x[:, 1], x[1:], x[:, :2], x[None], x[m.tensor([0, 2])], x[x > 0], x[..., 0],
            x.view(-1), x.reshape(2, 6), x.t().reshape(-1), x.flatten(), x4.flatten(1),
            x.unsqueeze(0), x[None].squeeze(0), x[None].squeeze(), x.t(), x.T, x.transpose(0, 1),
            x4.permute(0, 2, 3, 1), x4.movedim(1, -1), x @ y.t(), x @ y[0], x[0] @ y[0],
            m.bmm(x4[0], x4[1]), x4[0] @ x4[1],
        ]  # fmt: skip
        return [repr(o).split("grad_fn=")[1] for o in outs]

    assert names(ember) == names(torch)


def test_inplace_ops_on_complex_tensors() -> None:
    def fn(m):
        w = m.zeros(3, dtype=m.cfloat)
        w.copy_(m.tensor([1 + 2j, 0, 3]))
        w.add_(1j)
        w.mul_(m.tensor([2.0, 1.0, 0.5]))
        return m.view_as_real(w)

    t, e = both(fn)
    np.testing.assert_allclose(e, t)
    with pytest.raises(RuntimeError, match="can't be cast"):
        ember.zeros(2).add_(ember.tensor([1j, 2]))


def test_layouts_code_views_afterwards() -> None:
    # x[:, idx].view(B, -1), scores.t().softmax(-1).view(-1): torch's results are contiguous
    def fn(m):
        x = m.arange(144.0).view(2, 4, 6, 3)
        t = m.arange(30.0).view(5, 6).t() / 10
        cl = x.contiguous(memory_format=m.channels_last)
        outs = [x[:, [0, 2]], x[:, :, [1, 3]], x[..., [0, 1]], x[:, [0, 1], [2, 3]], t[:, [0, 2]],
                t.softmax(-1), t.log_softmax(0), cl.softmax(1), t[:, ::2].softmax(0)]
        assert all(o.is_contiguous() for o in outs)
        return m.cat([o.view(-1) for o in outs])

    t, e = both(fn)
    np.testing.assert_allclose(e, t, rtol=1e-6)


def test_tile_takes_dims_as_torch_does() -> None:
    def fn(m):
        x = m.arange(6).view(2, 3)
        outs = [x.tile(2), x.tile(2, 1), x.tile((2,)), x.tile([2, 1, 1]), x.tile(dims=(2, 1)),
                x.tile(x.shape), m.tile(x, (1, 2))]
        return m.cat([o.flatten() for o in outs])

    t, e = both(fn)
    np.testing.assert_array_equal(e, t)


def test_flip_and_new_factories_take_keywords_as_torch_does() -> None:
    def fn(m):
        x = m.arange(6.0).view(2, 3)
        outs = [x.flip(1), x.flip(0, 1), x.flip([1]), x.flip(dims=[1]), x.flip(dims=(0, 1)),
                x.new_zeros(size=(2,)), x.new_ones(size=[3]), x.new_zeros(2, 1), x.new_ones((2,)),
                x.new_empty(size=(0,))]
        return m.cat([o.flatten() for o in outs])

    t, e = both(fn)
    np.testing.assert_array_equal(e, t)


def test_add_and_sub_scale_a_number_by_alpha() -> None:
    # t.add(1, alpha=2): alpha times a Python number, as in torch
    def fn(m):
        x = m.arange(4.0, requires_grad=True)
        i = m.arange(4)
        y = x.add(1, alpha=2) + m.sub(x, 0.5, alpha=3) + x.clone().add_(2, alpha=-1)
        y.sum().backward()
        return m.cat([y.detach(), x.grad, i.add(3, alpha=2).float(), m.add(i, True, alpha=2)])

    t, e = both(fn)
    np.testing.assert_array_equal(e, t)
