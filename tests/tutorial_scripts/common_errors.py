"""Mistakes every PyTorch user makes, and the exception types scripts catch: in-place on a
leaf, a second backward, modified saved tensors, shape mismatches, wrong dtypes, .numpy() on a
tensor that requires grad, item() on many elements, view on non-contiguous memory."""

import torch
import torch.nn as nn
import torch.nn.functional as F


def outcome(fn):
    try:
        fn()
        return "ok"
    except Exception as e:  # noqa: BLE001 (what an except clause would catch is compared)
        kinds = (IndexError, KeyError, TypeError, NotImplementedError, ValueError, RuntimeError)
        return next((k.__name__ for k in kinds if isinstance(e, k)), "Exception")


def main(sync, workdir):
    leaf = torch.ones(3, requires_grad=True)
    out = {}

    def second_backward():
        y = (leaf * leaf).sum()
        y.backward()
        y.backward()

    def modified_saved():
        a = torch.ones(3, requires_grad=True)
        b = a.sigmoid()
        c = b * 2
        b.mul_(2)
        b.sum().backward()
        c.sum().backward()

    def inplace_exp_saved():
        a = torch.ones(3, requires_grad=True) * 1
        b = a.exp()
        b.add_(1)
        b.sum().backward()

    cases = {
        "inplace_leaf": lambda: leaf.add_(1),
        "second_backward": second_backward,
        "modified_saved": modified_saved,
        "inplace_after_exp": inplace_exp_saved,
        "backward_nonscalar": lambda: (leaf * 2).backward(),
        "backward_no_grad": lambda: torch.ones(2).sum().backward(),
        "numpy_requires_grad": lambda: leaf.numpy(),
        "item_many": lambda: torch.ones(2).item(),
        "view_noncontiguous": lambda: torch.ones(2, 3).t().view(-1),
        "matmul_shapes": lambda: torch.ones(2, 3) @ torch.ones(2, 3),
        "linear_shapes": lambda: nn.Linear(4, 2)(torch.ones(3, 5)),
        "broadcast": lambda: torch.ones(2, 3) + torch.ones(4),
        "cat_shapes": lambda: torch.cat([torch.ones(2, 3), torch.ones(2, 4)]),
        "ce_out_of_range": lambda: F.cross_entropy(torch.ones(2, 3), torch.tensor([0, 3])),
        "embedding_out_of_range": lambda: nn.Embedding(3, 2)(torch.tensor([3])),
        "embedding_float_index": lambda: nn.Embedding(3, 2)(torch.tensor([1.0])),
        "index_out_of_range": lambda: torch.ones(3)[5],
        "conv_channels": lambda: nn.Conv2d(3, 4, 3)(torch.ones(1, 2, 5, 5)),
        "conv_3d_input": lambda: nn.Conv2d(3, 4, 3)(torch.ones(3, 5, 5)),
        "bn_one_value": lambda: nn.BatchNorm1d(3)(torch.ones(1, 3)),
        "reshape_bad": lambda: torch.ones(6).reshape(4, -1),
        "mse_shapes_warn": lambda: F.mse_loss(torch.ones(3, 1), torch.ones(3, 1)),
        "load_state_missing": lambda: nn.Linear(2, 2).load_state_dict({"weight": torch.ones(2, 2)}),
        "load_state_shape": lambda: nn.Linear(2, 2).load_state_dict(
            {"weight": torch.ones(3, 2), "bias": torch.ones(2)}
        ),
        "optimizer_empty": lambda: torch.optim.SGD([], lr=0.1),
        "optimizer_bad_lr": lambda: torch.optim.Adam(nn.Linear(1, 1).parameters(), lr=-1),
        "grad_of_int": lambda: torch.ones(2, dtype=torch.long).requires_grad_(),
        "tensor_ragged": lambda: torch.tensor([[1, 2], [3]]),
        "stack_shapes": lambda: torch.stack([torch.ones(2), torch.ones(3)]),
        "device_bad": lambda: torch.ones(2).to("tpu"),
        "autograd_grad_unused": lambda: torch.autograd.grad(
            (leaf * 2).sum(), [leaf, torch.ones(1, requires_grad=True)]
        ),
        "gather_dims": lambda: torch.ones(2, 3).gather(1, torch.zeros(2, dtype=torch.long)),
        "sdpa_shapes": lambda: F.scaled_dot_product_attention(
            torch.ones(1, 2, 3), torch.ones(1, 4, 5), torch.ones(1, 4, 5)
        ),
    }
    for name, fn in cases.items():
        out[name] = outcome(fn)
    with torch.no_grad():
        out["no_grad_inplace_leaf"] = outcome(lambda: leaf.add_(1))
    out["leaf_after"] = leaf
    return out
