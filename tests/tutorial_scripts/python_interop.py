"""How scripts mix tensors with Python and numpy: device selection idioms, default dtype,
legacy constructors, conversions (float(), int(), np.array, tolist, f-strings), builtins on
tensors (len, iter, sum, max, sorted, in), parameters_to_vector, version checks."""

import numpy as np
import torch
import torch.nn as nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters


def main(sync, workdir):
    out = {}
    device = (
        "cuda"
        if torch.cuda.is_available()
        else "mps"
        if torch.backends.mps.is_available()
        else "cpu"
    )
    out["device"] = [
        device,
        str(torch.device(device)),
        torch.device("cpu").type,
        torch.device("cuda:1").index,
    ]
    torch.cuda.empty_cache()
    out["default_dtype"] = str(torch.get_default_dtype())
    torch.set_default_dtype(torch.float64)
    out["as_double"] = [
        str(torch.tensor([1.5]).dtype),
        str(torch.zeros(2).dtype),
        str(torch.arange(3.0).dtype),
        str(nn.Linear(2, 2).weight.dtype),
    ]
    torch.set_default_dtype(torch.float32)
    out["legacy"] = [
        torch.FloatTensor([1, 2]),
        torch.LongTensor([3]),
        torch.FloatTensor(2, 3).shape,
        torch.Tensor([1, 2]).dtype,
        torch.BoolTensor([True]).dtype,
    ]
    out["legacy_types"] = [
        torch.ones(2).type(),
        torch.ones(2).type(torch.LongTensor).dtype,
        torch.ones(2, dtype=torch.int32).type(torch.float64).dtype,
    ]
    x = torch.tensor([[3.0, 1.0], [2.0, 5.0]])
    out["isinstance"] = [
        isinstance(x, torch.Tensor),
        torch.is_tensor(x),
        torch.is_floating_point(x),
        torch.numel(x),
        isinstance(nn.Parameter(x), torch.Tensor),
    ]
    out["conversions"] = [
        float(x[0, 0]),
        int(x[1, 1]),
        bool(x[0, 0] > 2),
        x.sum().item(),
        np.array(x).tolist(),
        np.asarray(x[0]).dtype.name,
        x.numpy().sum(),
        x.tolist(),
        x.detach().cpu().numpy().tolist(),
    ]
    out["format"] = [
        f"{x.sum():.3f}",
        f"{x[0, 1]}",
        "{:.2e}".format(x.mean()),
        f"{x.max().item():>8.2f}",
        str(x[0, 0].item()),
    ]
    out["builtins"] = [
        len(x),
        [row.tolist() for row in x],
        sum(x).tolist(),
        max(x[0]).item(),
        sorted(x[1].tolist()),
        5.0 in x,
        (x == 2).any().item(),
        list(x.shape),
        x.shape[0] * x.shape[1],
        tuple(x.size()),
    ]
    out["compare_py"] = [
        (x > 2).tolist(),
        (2 < x).tolist(),
        (x[0] == torch.tensor([3.0, 1.0])).all().item(),
        x.eq(3).sum().item(),
        torch.equal(x, x.clone()),
    ]
    out["math_py"] = [
        (x * 2 + 1).tolist(),
        (1 / x).tolist(),
        (x**0.5).tolist(),
        (-x).tolist(),
        abs(-x).tolist(),
        (x // 2).tolist(),
        (x % 2).tolist(),
        round(x[0, 0].item(), 2),
    ]
    out["int_math"] = [
        (torch.tensor(7) // 2).item(),
        (torch.tensor([7]) / 2).dtype,
        torch.tensor(3) * 1.5,
        torch.tensor([1, 2]) + 0.5,
        torch.tensor([True, False]) + 1,
        torch.tensor([1, 2], dtype=torch.uint8) + 255,
    ]
    model = sync(nn.Sequential(nn.Linear(3, 2), nn.Linear(2, 1)))
    vec = parameters_to_vector(model.parameters())
    out["vector"] = [vec, vec.shape[0]]
    vector_to_parameters(vec * 2, model.parameters())
    out["vector_back"] = model[0].weight
    out["param_repr"] = repr(nn.Parameter(torch.tensor([1.0, 2.0])))
    out["np_ops"] = [
        np.mean(x.numpy()),
        np.concatenate([x.numpy(), x.numpy()]).shape,
        torch.from_numpy(np.float64(2.5) * np.ones(2)).dtype,
        torch.tensor(np.int32(3)).dtype,
        torch.tensor(np.array([1, 2], dtype=np.uint8)).dtype,
    ]
    out["scalars"] = [
        torch.tensor(2.5).dim(),
        torch.tensor(2.5).shape,
        torch.tensor([2.5]).squeeze().shape,
        torch.tensor(True).dtype,
        torch.tensor(3).dtype,
        torch.tensor(1e40).item(),
    ]
    out["zeros_like_dtype"] = [
        torch.zeros_like(x, dtype=torch.long),
        torch.full((2,), 7).dtype,
        torch.full((2,), 7.0).dtype,
        torch.full((2,), True).dtype,
        torch.randint(0, 5, (3,)).dtype,
        torch.arange(0, 1, 0.5).dtype,
    ]
    return out
