"""Tensor manipulation seen in everyday code: einsum, gather/scatter, masking, sorting,
cumulative ops, unique, indexing tricks, and the values they return."""

import numpy as np
import torch
import torch.nn.functional as F


def main(sync, workdir):
    rng = np.random.RandomState(0)
    a = torch.tensor(rng.randn(3, 4).astype(np.float32))
    b = torch.tensor(rng.randn(4, 5).astype(np.float32))
    q = torch.tensor(rng.randn(2, 3, 4).astype(np.float32))
    idx = torch.tensor(rng.randint(0, 4, size=(3, 2)))
    out = {}
    # einsum
    out["einsum"] = [
        torch.einsum("ij,jk->ik", a, b),
        torch.einsum("bij,bkj->bik", q, q),
        torch.einsum("ii->i", a[:, :3]),
        torch.einsum("ij->", a),
        torch.einsum("i,j->ij", a[0], b[0]),
        torch.einsum("bhi,bhi->bh", q, q),
        torch.einsum("...ij->...ji", q),
        torch.einsum(q, [0, 1, 2], [0, 2]),
    ]
    # gather / scatter
    out["gather"] = torch.gather(a, 1, idx)
    zeros = torch.zeros(3, 5)
    out["scatter"] = zeros.scatter(1, idx, 1.0)
    out["scatter_add"] = torch.zeros(3, 4).scatter_add_(1, idx, torch.ones(3, 2))
    out["scatter_reduce"] = torch.zeros(3, 4).scatter_reduce(
        1, idx, torch.tensor(rng.rand(3, 2).astype(np.float32)), reduce="amax", include_self=False
    )
    out["index_add"] = torch.zeros(5, 4).index_add_(0, torch.tensor([0, 2, 2]), a)
    out["index_copy"] = torch.zeros(5, 4).index_copy_(0, torch.tensor([4, 0, 1]), a)
    out["index_fill"] = a.clone().index_fill_(1, torch.tensor([0, 2]), -1.0)
    labels = torch.tensor([0, 2, 1, 2])
    out["one_hot"] = F.one_hot(labels, num_classes=4)
    out["one_hot_scatter"] = torch.zeros(4, 3).scatter_(1, labels.unsqueeze(1), 1)
    # masking
    mask = a > 0
    out["masked_fill"] = a.masked_fill(mask, float("-inf")).softmax(-1).nan_to_num(0.0)
    out["masked_select"] = a.masked_select(mask)
    out["bool_index"] = a[mask]
    out["where"] = torch.where(mask, a, torch.zeros_like(a))
    out["where_scalar"] = torch.where(a > 0, a, 0.0)
    out["nonzero"] = torch.nonzero(mask)
    out["nonzero_tuple"] = list(torch.nonzero(mask, as_tuple=True))
    out["where_1arg"] = list(torch.where(mask))
    out["any_all"] = [mask.any().item(), mask.all(dim=1), mask.sum(dim=0)]
    # sorting and selection
    v, i = torch.topk(a, 2, dim=1)
    out["topk"] = [v, i]
    out["topk_smallest"] = torch.topk(a.flatten(), 3, largest=False).indices
    out["argsort"] = torch.argsort(a, dim=1, descending=True)
    s = torch.sort(torch.tensor([3, 1, 2, 1, 3]), stable=True)
    out["sort_stable"] = [s.values, s.indices]
    out["kthvalue"] = list(torch.kthvalue(a, 2, dim=1))
    out["max_dim"] = [a.max(dim=1).values, a.max(dim=1).indices, a.max(dim=0, keepdim=True)[0]]
    out["argmax"] = [a.argmax(), a.argmax(dim=1, keepdim=True), a.argmin(0)]
    out["median"] = [a.median(), a.median(dim=1).values, a.nanmedian()]
    out["mode"] = list(torch.tensor([[1, 2, 2, 3], [4, 4, 1, 1]]).mode(dim=1))
    out["quantile"] = torch.quantile(a, torch.tensor([0.25, 0.5]), dim=1)
    out["msort"] = torch.msort(a)
    # cumulative
    out["cumsum"] = [a.cumsum(0), torch.cumsum(a, dim=1), a.cumprod(1)]
    out["cummax"] = list(torch.cummax(a, dim=1))
    out["logcumsumexp"] = torch.logcumsumexp(a, dim=1)
    out["diff"] = torch.diff(a, dim=1)
    # unique and counting
    t = torch.tensor([3, 1, 2, 3, 1, 3, 7])
    u, inv, cnt = torch.unique(t, sorted=True, return_inverse=True, return_counts=True)
    out["unique"] = [u, inv, cnt]
    out["unique_consecutive"] = list(torch.unique_consecutive(t, return_counts=True))
    out["unique_dim"] = torch.unique(torch.tensor([[1, 2], [3, 4], [1, 2]]), dim=0)
    out["bincount"] = [torch.bincount(t), torch.bincount(t, minlength=10)]
    out["histc"] = torch.histc(a, bins=4, min=-2, max=2)
    out["searchsorted"] = torch.searchsorted(
        torch.tensor([1.0, 3.0, 5.0, 7.0]), torch.tensor([0.5, 3.0, 6.0])
    )
    out["bucketize"] = torch.bucketize(a, torch.tensor([-1.0, 0.0, 1.0]), right=True)
    # shapes
    out["cat_stack"] = [torch.cat([a, a], dim=0), torch.stack([a, a], dim=-1), torch.hstack([a, a])]
    out["chunk"] = list(torch.chunk(q, 2, dim=2))
    out["split"] = list(a.split([1, 3], dim=1))
    out["unbind"] = list(a.unbind(0))
    out["repeat"] = [
        a.repeat(2, 1),
        a.repeat_interleave(2, dim=0),
        torch.tensor([1, 2]).repeat_interleave(torch.tensor([2, 3])),
    ]
    out["expand"] = a[:, :1].expand(-1, 3)
    out["permute"] = q.permute(2, 0, 1).contiguous()
    out["movedim"] = torch.movedim(q, 0, -1)
    out["flatten"] = [q.flatten(), q.flatten(1), q.flatten(0, 1), torch.flatten(q, start_dim=1)]
    out["unflatten"] = a.unflatten(1, (2, 2))
    out["view_as"] = a.view(2, 6).view_as(a)
    out["squeeze"] = [
        a.unsqueeze(0).unsqueeze(-1).squeeze().shape,
        a[None, :, None].shape,
        a[..., None].shape,
    ]
    out["flip_roll"] = [a.flip(0), torch.fliplr(a), a.roll(1, dims=1), torch.rot90(a, 1, (0, 1))]
    out["tri"] = [
        a.tril(),
        a.triu(1),
        torch.tril_indices(3, 3),
        torch.triu(torch.ones(3, 3), diagonal=1).bool(),
    ]
    out["diag"] = [
        torch.diag(a),
        torch.diag(a[0]),
        a.diagonal(),
        torch.diag_embed(a[:2, :2]),
        a[:, :3].trace(),
    ]
    out["meshgrid"] = list(torch.meshgrid(torch.arange(3), torch.arange(2), indexing="ij"))
    out["cartesian"] = torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4]))
    out["combinations"] = torch.combinations(torch.tensor([1, 2, 3]), r=2)
    # arithmetic and reductions
    out["norms"] = [
        a.norm(),
        a.norm(dim=1),
        a.norm(p=1, dim=0),
        torch.linalg.norm(a, ord="fro"),
        torch.linalg.vector_norm(a, ord=3),
    ]
    out["normalize"] = F.normalize(a, p=2, dim=1)
    out["stats"] = [
        a.mean(),
        a.std(),
        a.var(dim=1, unbiased=False),
        a.std(dim=0, correction=0),
        *torch.var_mean(a, dim=1),
        *torch.std_mean(a),
    ]
    out["logsumexp"] = torch.logsumexp(a, dim=1)
    out["prod"] = a.prod(dim=1)
    out["clamp"] = [
        a.clamp(-0.5, 0.5),
        a.clamp(min=0),
        torch.clip(a, max=0.1),
        a.clamp(min=torch.zeros(4)),
    ]
    out["lerp"] = torch.lerp(a, torch.ones_like(a), 0.3)
    out["outer"] = [torch.outer(a[0], b[0]), torch.kron(a[:2, :2], torch.eye(2))]
    out["cdist"] = [torch.cdist(a, a), torch.cdist(a, a, p=1)]
    out["pairwise"] = F.pairwise_distance(a, a.flip(0))
    out["cosine"] = F.cosine_similarity(a, a.flip(0), dim=1)
    out["matmuls"] = [
        a @ b,
        torch.mm(a, b),
        torch.bmm(q, q.transpose(1, 2)),
        torch.matmul(q, a.t()),
        a[0] @ b,
        torch.addmm(torch.ones(3, 5), a, b, beta=0.5, alpha=2),
    ]
    out["baddbmm"] = torch.baddbmm(torch.zeros(2, 3, 3), q, q.transpose(1, 2), alpha=0.5)
    out["dot"] = [torch.dot(a[0], a[1]), torch.inner(a, a), torch.vdot(a[0], a[1])]
    out["round"] = [
        a.round(decimals=1),
        a.floor(),
        a.ceil(),
        a.trunc(),
        a.frac(),
        a.sign(),
        torch.round(a * 10) / 10,
    ]
    out["int_math"] = [
        torch.tensor([7, -7]) // 2,
        torch.tensor([7, -7]) % 3,
        torch.div(torch.tensor([7, -7]), 2, rounding_mode="trunc"),
        torch.tensor([7, -7]).float() / 2,
        torch.remainder(torch.tensor([-3.0]), 2),
        torch.fmod(torch.tensor([-3.0]), 2),
    ]
    out["isclose"] = [torch.isclose(a, a + 1e-7), torch.allclose(a, a), torch.equal(a, a.clone())]
    out["nan"] = [
        torch.isnan(torch.tensor([1.0, float("nan")])),
        torch.nansum(torch.tensor([1.0, float("nan")])),
        torch.nanmean(torch.tensor([1.0, float("nan"), 3.0])),
    ]
    out["isin"] = torch.isin(t, torch.tensor([1, 7]))
    # dtype handling
    out["dtypes"] = [
        str((torch.tensor([1, 2]) / 2).dtype),
        str((torch.tensor([1, 2]) * 1.5).dtype),
        str(torch.tensor([True]).sum().dtype),
        str(torch.arange(3).float().dtype),
        str(torch.tensor(3).item().__class__.__name__),
        str(a.half().float().dtype),
        str(torch.tensor([1, 2], dtype=torch.int32).double().dtype),
        str(torch.zeros(2, dtype=torch.bool).dtype),
    ]
    out["to_list"] = [
        a[0].tolist(),
        torch.tensor([[1, 2]]).tolist(),
        a.shape[1],
        a.size(0),
        a.dim(),
        a.numel(),
        a.ndim,
        list(a.size()),
    ]
    out["type_as"] = [
        idx.type_as(a),
        idx.to(a.dtype),
        idx.float(),
        a.long(),
        a.int(),
        (a > 0).int(),
        a.bool(),
    ]
    # indexing
    x = torch.arange(24).reshape(2, 3, 4)
    out["index"] = [
        x[1],
        x[:, 1],
        x[..., -1],
        x[:, [0, 2]],
        x[[0, 1], [1, 2]],
        x[:, :, ::2],
        x[0, 1:, None],
        x[x > 10],
        x[torch.tensor([1, 0])],
        x[:, torch.tensor([[0, 1], [2, 2]])],
        x[1, -1, -1],
    ]
    y = torch.zeros(3, 4)
    y[0] = 1
    y[:, 1] = torch.tensor([5.0, 6.0, 7.0])
    y[y > 5] = -1
    y[[0, 2], [3, 3]] = 9
    y[1, 1:3] += 2
    y[..., 0] *= 3
    out["setitem"] = y
    z = torch.zeros(5)
    z[torch.tensor([0, 0, 2])] += 1  # repeated indices: one write, as in torch
    out["repeated_setitem"] = z
    out["index_put_acc"] = torch.zeros(5).index_put_(
        (torch.tensor([0, 0, 2]),), torch.tensor(1.0), accumulate=True
    )
    out["take_along"] = torch.take_along_dim(a, a.argsort(dim=1), dim=1)
    out["take"] = torch.take(a, torch.tensor([0, 5, 11]))
    out["narrow"] = a.narrow(1, 1, 2)
    out["select"] = a.select(1, 2)
    out["index_select"] = a.index_select(0, torch.tensor([2, 0]))
    out["tensor_split"] = list(torch.tensor_split(torch.arange(7), 3))
    # creation
    out["creation"] = [
        torch.arange(0, 1, 0.25),
        torch.arange(5, dtype=torch.float32),
        torch.linspace(0, 1, 5),
        torch.logspace(0, 2, 3),
        torch.full((2, 2), 3.5),
        torch.full_like(a, 2),
        torch.eye(3, 2),
        torch.zeros_like(idx),
        torch.ones(2, 3, dtype=torch.int64),
        torch.empty(2, 3).shape,
        torch.tensor([[1, 2], [3, 4.0]]),
        torch.as_tensor([1, 2]),
        torch.from_numpy(np.arange(3)),
        torch.tril(torch.ones(3, 3)),
        torch.arange(6).reshape(2, 3).T,
    ]
    return out
