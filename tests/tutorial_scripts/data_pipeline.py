"""torch.utils.data beyond the basics: random_split, Subset, ConcatDataset, samplers,
batch_sampler, default_collate on dicts/tuples/numpy, drop_last, IterableDataset with
worker_info, get_worker_info, a map-style dataset with a transform."""

import math

import numpy as np
import torch
from torch.utils.data import (
    BatchSampler,
    ConcatDataset,
    DataLoader,
    Dataset,
    IterableDataset,
    RandomSampler,
    SequentialSampler,
    Subset,
    SubsetRandomSampler,
    TensorDataset,
    WeightedRandomSampler,
    default_collate,
    random_split,
)


class DictDataset(Dataset):
    def __init__(self, n, transform=None):
        self.n = n
        self.transform = transform

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        sample = {
            "x": np.full((2,), i, dtype=np.float32),
            "y": i % 3,
            "name": f"item{i}",
            "pair": (i, float(i) / 2),
        }
        if self.transform:
            sample = self.transform(sample)
        return sample


class ToTensor:
    def __call__(self, sample):
        sample = dict(sample)
        sample["x"] = torch.from_numpy(sample["x"]) * 2
        return sample


class RangeStream(IterableDataset):
    def __init__(self, start, end):
        super().__init__()
        self.start, self.end = start, end

    def __iter__(self):
        worker_info = torch.utils.data.get_worker_info()
        if worker_info is None:
            iter_start, iter_end = self.start, self.end
        else:
            per_worker = int(math.ceil((self.end - self.start) / float(worker_info.num_workers)))
            iter_start = self.start + worker_info.id * per_worker
            iter_end = min(iter_start + per_worker, self.end)
        return iter(range(iter_start, iter_end))


def main(sync, workdir):
    out = {}
    ds = DictDataset(10, transform=ToTensor())
    loader = DataLoader(ds, batch_size=4, drop_last=True)
    batches = list(loader)
    out["dict_batches"] = [
        {k: (v if not isinstance(v, list) else list(v)) for k, v in b.items()} for b in batches
    ]
    out["len"] = [len(loader), len(DataLoader(ds, batch_size=4))]
    out["collate"] = default_collate([(np.array([1, 2]), 3, 0.5), (np.array([3, 4]), 4, 1.5)])
    out["collate_types"] = [str(t.dtype) for t in out["collate"]]

    generator = torch.Generator().manual_seed(42)
    train_set, val_set = random_split(
        TensorDataset(torch.arange(10)), [0.8, 0.2], generator=generator
    )
    out["split_lengths"] = [len(train_set), len(val_set)]
    out["split_disjoint"] = (
        sorted(int(train_set[i][0]) for i in range(8))
        + sorted(int(val_set[i][0]) for i in range(2))
        != []
    )
    all_items = sorted(
        [int(train_set[i][0]) for i in range(8)] + [int(val_set[i][0]) for i in range(2)]
    )
    out["split_cover"] = all_items
    a, b, c = random_split(range(7), [3, 2, 2])
    out["split_ints"] = [len(a), len(b), len(c)]

    sub = Subset(TensorDataset(torch.arange(10) * 10), [1, 3, 5])
    out["subset"] = [sub[1], len(sub), sub.indices]
    cat = ConcatDataset([TensorDataset(torch.arange(3)), TensorDataset(torch.arange(10, 14))])
    out["concat"] = [len(cat), cat[4], cat[-1], cat.cumulative_sizes]

    out["sequential"] = list(SequentialSampler(range(4)))
    out["batch_sampler"] = list(
        BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False)
    )
    out["batch_sampler_drop"] = list(BatchSampler(range(7), batch_size=3, drop_last=True))
    sampled = list(SubsetRandomSampler([2, 4, 6]))
    out["subset_random"] = sorted(sampled)
    weights = [0.0, 0.0, 1.0, 1.0]
    drawn = list(WeightedRandomSampler(weights, num_samples=20, replacement=True))
    out["weighted"] = [len(drawn), set(drawn) <= {2, 3}]
    rs = list(RandomSampler(range(5), replacement=True, num_samples=8))
    out["random_replacement"] = [len(rs), all(0 <= i < 5 for i in rs)]
    loader = DataLoader(
        TensorDataset(torch.arange(8)), batch_sampler=BatchSampler(range(8), 3, False)
    )
    out["batch_sampler_loader"] = [b[0] for b in loader]
    loader = DataLoader(
        TensorDataset(torch.arange(6.0)), sampler=SequentialSampler(range(6)), batch_size=4
    )
    out["sampler_loader"] = [b[0] for b in loader]
    out["unbatched"] = [x for x in DataLoader(TensorDataset(torch.arange(3)), batch_size=None)]

    stream = RangeStream(3, 9)
    out["iterable"] = [b for b in DataLoader(stream, batch_size=4)]
    out["iterable_workers"] = sorted(
        int(v) for b in DataLoader(stream, batch_size=2, num_workers=2) for v in b
    )
    out["worker_none"] = torch.utils.data.get_worker_info() is None
    loader = DataLoader(DictDataset(6), batch_size=3, num_workers=2, persistent_workers=False)
    out["workers_dict"] = [b["y"] for b in loader]
    return out
