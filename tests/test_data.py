"""ember.utils.data against torch.utils.data: collation, batching, shuffling, argument
checks, samplers, dataset wrappers, splits and iterable datasets (workers: test_data_workers.py)."""

from __future__ import annotations

import collections

import numpy as np
import pytest
import torch
import torch.utils.data as tdata
from data_helpers import make_stream, tree

import ember
import ember.utils.data as edata

Point = collections.namedtuple("Point", ["x", "y"])


def samples(lib, n=7):
    """Samples mixing every type default_collate handles, built for `lib`."""
    return [
        {
            "x": lib.tensor([float(i), i + 0.5]),
            "label": i,
            "weight": i / 3,
            "flag": i % 2 == 0,
            "name": f"s{i}",
            "pixels": np.arange(3, dtype=np.uint8) + i,
            "np_f32": np.float32(i) / 2,
            "np_i32": np.int32(i),
            "pair": (i, lib.tensor(i)),
            "point": Point(np.float64(i), [i, i + 1]),
        }
        for i in range(n)
    ]


# ----------------------------------------------------------------------------------- collate


@pytest.mark.parametrize("batch_size", [1, 3, 7])
def test_default_collate_matches_torch(batch_size):
    e = edata.default_collate(samples(ember)[:batch_size])
    t = tdata.default_collate(samples(torch)[:batch_size])
    assert tree(e) == tree(t)


@pytest.mark.parametrize("batch", [
    [1, 2, 3], [1.5, 2.0], [True, False], ["a", "b"], [b"a", b"b"],
    [np.float64(1.0), np.float64(2.0)], [np.bool_(True), np.bool_(False)],
    [np.uint8(1), np.uint8(250)], [np.zeros((2, 2), np.int16), np.ones((2, 2), np.int16)],
    [(1, 2.0), (3, 4.0)], [[1, 2], [3, 4]], [{"a": [1, 2]}, {"a": [3, 4]}],
    [Point(1, 2), Point(3, 4)],
])
def test_default_collate_types_match_torch(batch):
    assert tree(edata.default_collate(batch)) == tree(tdata.default_collate(batch))


@pytest.mark.parametrize("batch", [
    [[1, 2], [3]],  # unequal lengths
    [np.array(["a"]), np.array(["b"])],  # string arrays
    [object(), object()],
])
def test_default_collate_errors_match_torch(batch):
    with pytest.raises(Exception) as expected:
        tdata.default_collate(batch)
    with pytest.raises(type(expected.value)) as got:
        edata.default_collate(batch)
    assert str(got.value).split("found")[0] == str(expected.value).split("found")[0]


@pytest.mark.parametrize("sample", [
    np.arange(4, dtype=np.int32), np.float32(2), (np.zeros(2), 3), [np.ones(2), "s"],
    {"a": np.eye(2), "b": 1.5}, Point(np.zeros(1), 2), 7, "text", np.array(["x"]),
])
def test_default_convert_matches_torch(sample):
    assert tree(edata.default_convert(sample)) == tree(tdata.default_convert(sample))


# ------------------------------------------------------------------- batching and shuffling


@pytest.mark.parametrize("batch_size", [1, 3, 4, 10, 11])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sequential_loader_matches_torch(batch_size, drop_last):
    x = np.arange(30, dtype=np.float32).reshape(10, 3)
    y = np.arange(10)
    e = edata.DataLoader(edata.TensorDataset(ember.tensor(x), ember.tensor(y)),
                         batch_size=batch_size, drop_last=drop_last)
    t = tdata.DataLoader(tdata.TensorDataset(torch.tensor(x), torch.tensor(y)),
                         batch_size=batch_size, drop_last=drop_last)
    assert len(e) == len(t)
    assert tree(list(e)) == tree(list(t))


def test_loader_with_mixed_samples_matches_torch():
    e = edata.DataLoader(samples(ember), batch_size=3)
    t = tdata.DataLoader(samples(torch), batch_size=3)
    assert tree(list(e)) == tree(list(t))


def test_batch_size_none_converts_each_sample_like_torch():
    data = [(np.full(2, i, dtype=np.int16), i) for i in range(4)]
    e = edata.DataLoader(data, batch_size=None)
    t = tdata.DataLoader(data, batch_size=None)
    assert len(e) == len(t) == 4
    assert tree(list(e)) == tree(list(t))


def test_custom_batch_sampler_and_collate_fn():
    batches = [[3, 1], [0], [2, 4, 5]]
    e = edata.DataLoader(list(range(10, 16)), batch_sampler=batches, collate_fn=tuple)
    assert len(e) == 3
    assert list(e) == [(13, 11), (10,), (12, 14, 15)]


def test_custom_sampler_sets_the_order():
    e = edata.DataLoader(list(range(6)), sampler=[5, 0, 3], batch_size=2)
    assert tree(list(e)) == tree(list(tdata.DataLoader(list(range(6)), sampler=[5, 0, 3],
                                                      batch_size=2)))


def test_shuffle_is_a_permutation_and_reproducible_with_a_generator():
    data = list(range(50))

    def epoch(seed):
        g = ember.Generator().manual_seed(seed)
        loader = edata.DataLoader(data, batch_size=8, shuffle=True, generator=g)
        return [v for batch in loader for v in batch.tolist()]

    first = epoch(0)
    assert sorted(first) == data and first != data
    assert epoch(0) == first
    assert epoch(1) != first


def test_shuffle_without_generator_follows_the_global_seed():
    loader = edata.DataLoader(list(range(40)), batch_size=40, shuffle=True)
    ember.manual_seed(3)
    a, b = next(iter(loader)).tolist(), next(iter(loader)).tolist()
    ember.manual_seed(3)
    assert next(iter(loader)).tolist() == a
    assert a != b  # every epoch draws a new order


def test_dataloader_iterator_len_and_reiteration():
    loader = edata.DataLoader(list(range(10)), batch_size=4)
    it = iter(loader)
    assert len(it) == 3
    assert [b.tolist() for b in it] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert len(list(loader)) == 3  # a new iterator each time


# --------------------------------------------------------------------- argument conflicts


class _Stream(edata.IterableDataset):
    def __iter__(self):
        return iter(range(5))


class _TorchStream(tdata.IterableDataset):
    def __iter__(self):
        return iter(range(5))


@pytest.mark.parametrize("iterable", [False, True])
@pytest.mark.parametrize("kwargs", [
    dict(num_workers=-1), dict(timeout=-1), dict(prefetch_factor=2),
    dict(num_workers=1, prefetch_factor=-1), dict(persistent_workers=True),
    dict(shuffle=True), dict(sampler=[0, 1]), dict(batch_sampler=[[0, 1]]),
    dict(sampler=[0, 1], shuffle=True), dict(batch_sampler=[[0]], batch_size=2),
    dict(batch_sampler=[[0]], drop_last=True), dict(batch_sampler=[[0]], sampler=[0]),
    dict(batch_size=None, drop_last=True), dict(multiprocessing_context="fork"),
    dict(num_workers=1, multiprocessing_context="no-such-method"),
    dict(num_workers=1, multiprocessing_context=3),
])
def test_argument_errors_match_torch(kwargs, iterable):
    t_data = _TorchStream() if iterable else list(range(5))
    e_data = _Stream() if iterable else list(range(5))
    try:
        tdata.DataLoader(t_data, **kwargs)
    except (ValueError, TypeError) as exc:
        with pytest.raises(type(exc)) as got:
            edata.DataLoader(e_data, **kwargs)
        assert str(got.value) == str(exc)
    else:
        edata.DataLoader(e_data, **kwargs)  # torch accepts it: so must we


def test_attributes_are_frozen_after_init():
    loader = edata.DataLoader(list(range(4)))
    with pytest.raises(ValueError, match="batch_size attribute should not be set after "
                                         "DataLoader is initialized"):
        loader.batch_size = 2
    loader.num_workers = 0  # not frozen in torch either


# --------------------------------------------------------------------------------- samplers


def test_sequential_and_random_samplers():
    data = list(range(9))
    assert list(edata.SequentialSampler(data)) == data
    s = edata.RandomSampler(data, generator=ember.Generator().manual_seed(0))
    drawn = list(s)
    assert len(s) == 9 and sorted(drawn) == data and drawn != data
    more = edata.RandomSampler(data, num_samples=20, generator=ember.Generator().manual_seed(0))
    counts = collections.Counter(more)
    assert len(list(more)) == len(more) == 20
    assert all(counts[i] in (2, 3) for i in data)  # two full permutations and a part of one
    rep = edata.RandomSampler(data, replacement=True, num_samples=500)
    values = list(rep)
    assert len(values) == 500 and set(values) == set(data)


@pytest.mark.parametrize("kwargs", [dict(replacement=1), dict(num_samples=0),
                                    dict(num_samples=2.5)])
def test_random_sampler_errors_match_torch(kwargs):
    with pytest.raises(Exception) as expected:
        tdata.RandomSampler(range(3), **kwargs)
    with pytest.raises(type(expected.value), match=str(expected.value).replace(".", r"\.")):
        edata.RandomSampler(range(3), **kwargs)


def test_subset_random_sampler():
    s = edata.SubsetRandomSampler([10, 20, 30, 40], generator=ember.Generator().manual_seed(1))
    assert len(s) == 4 and sorted(s) == [10, 20, 30, 40]


@pytest.mark.parametrize("drop_last", [False, True])
@pytest.mark.parametrize("batch_size", [1, 2, 3, 7])
def test_batch_sampler_matches_torch(batch_size, drop_last):
    e = edata.BatchSampler(range(7), batch_size, drop_last)
    t = tdata.BatchSampler(range(7), batch_size, drop_last)
    assert list(e) == list(t) and len(e) == len(t)


@pytest.mark.parametrize("args", [(0, False), (True, False), (2, "yes"), (-1, True)])
def test_batch_sampler_errors_match_torch(args):
    with pytest.raises(ValueError) as expected:
        tdata.BatchSampler(range(3), *args)
    with pytest.raises(ValueError) as got:
        edata.BatchSampler(range(3), *args)
    assert str(got.value) == str(expected.value)


def test_weighted_random_sampler_frequencies():
    weights = [1.0, 2.0, 3.0, 4.0, 0.0]
    s = edata.WeightedRandomSampler(weights, 20000, generator=ember.Generator().manual_seed(0))
    counts = np.bincount(list(s), minlength=5) / 20000
    assert len(s) == 20000
    np.testing.assert_allclose(counts, np.array(weights) / 10, atol=0.015)
    assert counts[4] == 0
    unique = list(edata.WeightedRandomSampler([1, 1, 1, 1], 4, replacement=False))
    assert sorted(unique) == [0, 1, 2, 3]


@pytest.mark.parametrize("args", [([1.0, 2.0], 0), ([1.0, 2.0], 2, 1), ([[1.0], [2.0]], 2)])
def test_weighted_random_sampler_errors_match_torch(args):
    with pytest.raises(ValueError) as expected:
        tdata.WeightedRandomSampler(*args)
    with pytest.raises(ValueError) as got:
        edata.WeightedRandomSampler(*args)
    assert str(got.value).replace("ember.Size", "torch.Size") == str(expected.value)


# ---------------------------------------------------------------------------------- datasets


def test_tensor_dataset_subset_and_concat():
    x, y = ember.arange(6.0).reshape(3, 2), ember.tensor([7, 8, 9])
    ds = edata.TensorDataset(x, y)
    assert len(ds) == 3 and ds[1][0].tolist() == [2.0, 3.0] and ds[1][1].item() == 8
    with pytest.raises(ValueError, match="Size mismatch between tensors"):
        edata.TensorDataset(x, ember.tensor([1]))
    sub = edata.Subset(list("abcdef"), [5, 0, 2])
    assert [sub[i] for i in range(3)] == ["f", "a", "c"] and len(sub) == 3
    assert sub.__getitems__([0, 2]) == ["f", "c"]
    both = edata.Subset(list("abc"), [0, 1]) + edata.Subset(list("xyz"), [2])
    assert isinstance(both, edata.ConcatDataset)
    assert [both[i] for i in range(len(both))] == ["a", "b", "z"]
    assert both[-1] == "z" and both[-3] == "a"
    with pytest.raises(ValueError, match="absolute value of index"):
        both[-4]
    with pytest.raises(ValueError, match="empty iterable"):
        edata.ConcatDataset([])
    with pytest.raises(NotImplementedError):
        edata.Dataset()[0]


@pytest.mark.filterwarnings("ignore:Length of split at index")
@pytest.mark.parametrize("n, lengths", [
    (10, [0.5, 0.5]), (5, [0.5, 0.5]), (7, [0.3, 0.3, 0.4]), (11, [0.1, 0.2, 0.7]),
    (3, [0.34, 0.33, 0.33]), (10, [3, 7]), (100, [0.8, 0.1, 0.1]), (13, [0.25] * 4),
])
def test_random_split_lengths_match_torch(n, lengths):
    e = edata.random_split(list(range(n)), lengths, generator=ember.Generator().manual_seed(0))
    t = tdata.random_split(list(range(n)), lengths, generator=torch.Generator().manual_seed(0))
    assert [len(s) for s in e] == [len(s) for s in t]
    items = [s[i] for s in e for i in range(len(s))]
    assert sorted(items) == list(range(n))  # disjoint, and covers the dataset


def test_random_split_generator_and_errors():
    def split(seed):
        return [list(s.indices) for s in
                edata.random_split(range(20), [0.5, 0.5],
                                   generator=ember.Generator().manual_seed(seed))]
    assert split(0) == split(0) and split(0) != split(1)
    with pytest.raises(ValueError, match="Sum of input lengths does not equal"):
        edata.random_split(range(5), [2, 2])
    with pytest.raises(ValueError, match="Fraction at index 1 is not between 0 and 1"):
        edata.random_split(range(5), [0.5, 1.5, -1.0])
    with pytest.warns(UserWarning, match="Length of split at index 1 is 0"):
        edata.random_split(range(2), [0.9, 0.1])


# ------------------------------------------------------------------------ iterable datasets


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False),
                                                   (20, False)])
def test_iterable_dataset_single_process_matches_torch(batch_size, drop_last):
    e = edata.DataLoader(make_stream(edata, 10, True), batch_size=batch_size, drop_last=drop_last)
    t = tdata.DataLoader(make_stream(tdata, 10, True), batch_size=batch_size, drop_last=drop_last)
    assert len(e) == len(t)
    assert tree(list(e)) == tree(list(t))


@pytest.mark.parametrize("batch_size, drop_last", [(3, False), (3, True), (None, False)])
def test_iterable_dataset_sharded_by_worker_info_matches_torch(batch_size, drop_last):
    kwargs = dict(batch_size=batch_size, drop_last=drop_last, num_workers=2)
    e = list(edata.DataLoader(make_stream(edata, 17, True), **kwargs))
    t = list(tdata.DataLoader(make_stream(tdata, 17, True), **kwargs))
    assert tree(e) == tree(t)
    if not drop_last:
        values = [v for b in e for v in (b["i"].tolist() if batch_size else [b["i"]])]
        assert sorted(values) == list(range(17))  # each item exactly once


def test_iterable_dataset_without_sharding_repeats_per_worker():
    loader = edata.DataLoader(make_stream(edata, 5, False), batch_size=2, num_workers=2)
    values = [v for b in loader for v in b["i"].tolist()]
    assert sorted(values) == sorted(list(range(5)) * 2)


def test_chain_dataset():
    chained = make_stream(edata, 2, False) + make_stream(edata, 3, False)
    assert [d["i"] for d in chained] == [0, 1, 0, 1, 2]


def test_stack_dataset_matches_torch() -> None:
    """StackDataset: tuples for positional datasets, dicts for keyword ones, torch's errors,
    and batches through the DataLoader shaped as torch's."""
    xs, ys = np.arange(12.0).reshape(6, 2), np.arange(6)
    ours = edata.StackDataset(edata.TensorDataset(ember.tensor(xs)), ember.tensor(ys))
    theirs = tdata.StackDataset(tdata.TensorDataset(torch.tensor(xs)), torch.tensor(ys))
    assert len(ours) == len(theirs) == 6
    (x3,), y3 = ours[3]
    (tx3,), ty3 = theirs[3]
    np.testing.assert_array_equal(x3.numpy(), tx3.numpy())
    assert y3.item() == ty3.item()
    named = edata.StackDataset(image=ember.tensor(xs), label=ember.tensor(ys))
    t_named = tdata.StackDataset(image=torch.tensor(xs), label=torch.tensor(ys))
    assert set(named[2]) == set(t_named[2]) == {"image", "label"}
    batch = next(iter(edata.DataLoader(named, batch_size=4)))
    t_batch = next(iter(tdata.DataLoader(t_named, batch_size=4)))
    for key in ("image", "label"):
        np.testing.assert_array_equal(batch[key].numpy(), t_batch[key].numpy())
    for args, kwargs in [((ember.tensor(xs), ember.tensor(ys[:5])), {}), ((), {}),
                         ((ember.tensor(xs),), {"y": ember.tensor(ys)})]:
        t_args = tuple(torch.tensor(a.numpy()) for a in args)
        t_kwargs = {k: torch.tensor(v.numpy()) for k, v in kwargs.items()}
        with pytest.raises(ValueError) as ours_error:
            edata.StackDataset(*args, **kwargs)
        with pytest.raises(ValueError) as torch_error:
            tdata.StackDataset(*t_args, **t_kwargs)
        assert str(ours_error.value) == str(torch_error.value)
