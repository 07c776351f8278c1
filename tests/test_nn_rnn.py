"""RNN, LSTM, GRU, their cells and nn.utils.rnn against torch, torch's weights copied in.

Every comparison checks outputs, final states, the input's and initial states' gradients and
every parameter's gradient (nn_helpers.compare_module), in float32 and float64.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch
from torch.nn.utils import rnn as trnn

import ember
from conformance import TOLERANCES, assert_close
from ember.nn.functional.recurrence import recurrent_layer
from ember.nn.utils import rnn as ernn
from nn_helpers import build_pair, compare_module

pytestmark = pytest.mark.filterwarnings("ignore:LSTM with projections:UserWarning")  # torch's

DTYPES = ["float32", "float64"]
INPUT, HIDDEN, STEPS, BATCH = 3, 4, 5, 2


@pytest.fixture(autouse=True, scope="module")
def one_torch_thread():
    """torch's threads only add overhead on these tiny layers on a busy 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def tolerances(dtype: str) -> dict:
    rtol, atol = TOLERANCES[dtype]
    return dict(rtol=rtol * 10, atol=atol * 10) if dtype == "float32" else dict(rtol=rtol,
                                                                                atol=atol)


def layer(mode: str, **kwargs):
    """`make` for compare_module: m.nn.LSTM(INPUT, HIDDEN, **kwargs) in either library."""
    return lambda m: getattr(m.nn, mode)(INPUT, HIDDEN, **kwargs)


def state_shapes(mode: str, kw: dict, batch: int | None = BATCH) -> list:
    """Shapes of h_0 (and c_0 for LSTM); batch None: unbatched."""
    count = kw.get("num_layers", 1) * (2 if kw.get("bidirectional") else 1)
    size = kw.get("proj_size") or HIDDEN
    lead = (count,) if batch is None else (count, batch)
    return [lead + (size,)] + ([lead + (HIDDEN,)] if mode == "LSTM" else [])


def call_with_states(mode: str):
    if mode == "LSTM":
        return lambda mod, x, h0, c0: mod(x, (h0, c0))
    return lambda mod, x, h0: mod(x, h0)


# -- layers over padded batches -----------------------------------------------------------------

CONFIGS = [
    ("LSTM", {}),
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(num_layers=3, batch_first=True)),
    ("LSTM", dict(num_layers=2, proj_size=2, bidirectional=True)),
    ("LSTM", dict(num_layers=2, bias=False, batch_first=True)),
    ("GRU", {}),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("GRU", dict(num_layers=3, bias=False)),
    ("RNN", dict(num_layers=2, nonlinearity="relu", bidirectional=True)),
    ("RNN", dict(num_layers=3)),
    ("RNN", dict(bias=False, batch_first=True, nonlinearity="relu")),
]


def config_id(config: tuple) -> str:
    mode, kw = config
    return mode + "".join(f"-{k}={v}" for k, v in kw.items())


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("with_states", [False, True], ids=["zero-states", "given-states"])
@pytest.mark.parametrize("config", CONFIGS, ids=config_id)
def test_layer_matches_torch(config, with_states, dtype):
    mode, kw = config
    shape = (BATCH, STEPS, INPUT) if kw.get("batch_first") else (STEPS, BATCH, INPUT)
    if with_states:
        compare_module(layer(mode, **kw), [shape] + state_shapes(mode, kw), dtype=dtype,
                       call=call_with_states(mode), **tolerances(dtype))
    else:
        compare_module(layer(mode, **kw), [shape], dtype=dtype, **tolerances(dtype))


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_unbatched_input(mode, batch_first):
    kw = dict(num_layers=2, bidirectional=True, batch_first=batch_first)
    compare_module(layer(mode, **kw), [(STEPS, INPUT)], dtype="float64")
    compare_module(layer(mode, **kw), [(STEPS, INPUT)] + state_shapes(mode, kw, batch=None),
                   dtype="float64", call=call_with_states(mode))


def test_dropout_is_off_in_eval_mode():
    compare_module(layer("LSTM", num_layers=3, dropout=0.5), [(STEPS, BATCH, INPUT)],
                   dtype="float64", train=False)


def test_dropout_between_layers_in_training():
    """Layer 2 made the identity (relu of its input, no recurrence), so its output shows the
    dropout mask applied to layer 1's output: zeros at rate p, survivors scaled by 1/(1-p)."""
    p = 0.4
    ember.manual_seed(0)
    rnn = ember.nn.RNN(INPUT, 64, num_layers=2, nonlinearity="relu", dropout=p)
    with ember.no_grad():
        rnn.weight_ih_l1.copy_(ember.eye(64))
        rnn.weight_hh_l1.zero_()
        rnn.bias_ih_l1.zero_()
        rnn.bias_hh_l1.zero_()
        rnn.weight_hh_l0.zero_()  # layer 1: relu(W x + 1) with small x, always positive
        rnn.bias_ih_l0.fill_(1.0)
    rnn.requires_grad_(False)
    x = ember.randn(50, 8, INPUT) * 0.1
    rnn.eval()
    clean, h_eval = rnn(x)
    assert float((clean == 0).float().mean()) == 0.0
    rnn.train()
    first, h_first = rnn(x)
    second, _ = rnn(x)
    assert first.shape == clean.shape and h_first.shape == h_eval.shape
    assert not np.array_equal(first.numpy(), second.numpy())
    dropped = first.numpy() == 0
    assert abs(dropped.mean() - p) < 0.02
    np.testing.assert_allclose(first.numpy()[~dropped], clean.numpy()[~dropped] / (1 - p),
                               rtol=1e-5)
    # no dropout on the last layer's output or on the first layer's final state
    np.testing.assert_allclose(h_first[0].numpy(), h_eval[0].numpy(), rtol=1e-6)


# -- cells --------------------------------------------------------------------------------------

CELLS = [
    ("RNNCell", {}),
    ("RNNCell", dict(nonlinearity="relu", bias=False)),
    ("LSTMCell", {}),
    ("LSTMCell", dict(bias=False)),
    ("GRUCell", {}),
    ("GRUCell", dict(bias=False)),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("cell", CELLS, ids=config_id)
def test_cell_matches_torch(cell, batched, dtype):
    name, kw = cell
    lead = (BATCH,) if batched else ()
    states = [lead + (HIDDEN,)] * (2 if name == "LSTMCell" else 1)
    make = layer(name, **kw)
    compare_module(make, [lead + (INPUT,)], dtype=dtype, **tolerances(dtype))
    call = (lambda mod, x, h, c: mod(x, (h, c))) if name == "LSTMCell" else None
    compare_module(make, [lead + (INPUT,)] + states, dtype=dtype, call=call, **tolerances(dtype))


def test_cell_unrolled_over_time_matches_torch():
    """An LSTMCell stepped through a sequence (the pattern of hand-written decoders)."""
    def unroll(mod, x):
        h = c = None
        outs = []
        for t in range(x.shape[0]):
            h, c = mod(x[t], None if h is None else (h, c))
            outs.append(h)
        return outs, c

    compare_module(layer("LSTMCell"), [(STEPS, BATCH, INPUT)], dtype="float64", call=unroll)


# -- packed sequences ---------------------------------------------------------------------------


def run_packed(lib, mod, x, lengths, states, enforce_sorted, batch_first):
    """Pack, run, pad back; back-propagate a fixed weighting of every output; collect all."""
    xt = lib.tensor(x, requires_grad=True)
    st = [lib.tensor(s, requires_grad=True) for s in states]
    packed = lib.nn.utils.rnn.pack_padded_sequence(xt, lengths, batch_first=batch_first,
                                                   enforce_sorted=enforce_sorted)
    hx = None if not st else (tuple(st) if len(st) == 2 else st[0])
    out, hidden = mod(packed, hx)
    padded, lens = lib.nn.utils.rnn.pad_packed_sequence(out, batch_first=batch_first)
    finals = list(hidden) if isinstance(hidden, tuple) else [hidden]
    rng = np.random.default_rng(7)
    loss = (padded * lib.tensor(rng.uniform(-1, 1, tuple(padded.shape)).astype(x.dtype))).sum()
    for f in finals:
        loss = loss + (f * lib.tensor(rng.uniform(-1, 1, tuple(f.shape)).astype(x.dtype))).sum()
    loss.backward()
    return dict(padded=padded, lengths=lens, **{f"final{i}": f for i, f in enumerate(finals)},
                x_grad=xt.grad, **{f"state{i}_grad": s.grad for i, s in enumerate(st)},
                **{n: p.grad for n, p in mod.named_parameters()})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("enforce_sorted", [True, False], ids=["sorted", "unsorted"])
@pytest.mark.parametrize("config", [
    ("LSTM", dict(num_layers=2, bidirectional=True)),
    ("LSTM", dict(proj_size=2, batch_first=True)),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("RNN", dict(num_layers=2, bidirectional=True, nonlinearity="relu")),
], ids=config_id)
def test_packed_variable_lengths_match_torch(config, enforce_sorted, dtype):
    mode, kw = config
    t_mod, e_mod = build_pair(layer(mode, **kw), dtype)
    lengths = [6, 6, 4, 2, 1] if enforce_sorted else [2, 6, 1, 6, 4]
    rng = np.random.default_rng(0)
    shape = (5, 6, INPUT) if kw.get("batch_first") else (6, 5, INPUT)
    x = rng.uniform(-2, 2, shape).astype(dtype)
    states = [rng.uniform(-1, 1, s).astype(dtype) for s in state_shapes(mode, kw, batch=5)]
    for given in ([], states):
        t_mod.zero_grad()
        e_mod.zero_grad()
        expected = run_packed(torch, t_mod, x, lengths, given, enforce_sorted,
                              kw.get("batch_first", False))
        actual = run_packed(ember, e_mod, x, lengths, given, enforce_sorted,
                            kw.get("batch_first", False))
        for key, value in expected.items():
            assert_close(actual[key], value, what=f"{key} (states given: {bool(given)})",
                         **tolerances(dtype))


def test_packed_output_is_packed_sequence_and_final_state_is_last_real_step():
    lstm = ember.nn.LSTM(INPUT, HIDDEN).requires_grad_(False)
    x = ember.randn(4, 3, INPUT)
    packed = ernn.pack_padded_sequence(x, [4, 2, 1])
    out, (h_n, c_n) = lstm(packed)
    assert isinstance(out, ernn.PackedSequence)
    assert out.batch_sizes.tolist() == [3, 2, 1, 1]
    for b, length in enumerate([4, 2, 1]):
        alone, (h_alone, _) = lstm(x[:length, b:b + 1])
        np.testing.assert_allclose(h_n[0, b].numpy(), h_alone[0, 0].numpy(), rtol=1e-5,
                                   atol=1e-6)


# -- nn.utils.rnn -------------------------------------------------------------------------------


def both(fn, arrays, dtype="float64"):
    """fn(lib, *tensors) for torch and ember on the same arrays (which require grad)."""
    out = []
    for lib in (torch, ember):
        tensors = [lib.tensor(a.astype(dtype), requires_grad=True) for a in arrays]
        out.append((fn(lib, *tensors), tensors))
    return out


def flat_tensors(result) -> list:
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in flat_tensors(r)]
    return [] if result is None else [result]


def compare_utils(fn, arrays):
    """Outputs (every tensor in them) and the inputs' gradients of a random weighting."""
    (t_out, t_in), (e_out, e_in) = both(fn, arrays)
    t_flat, e_flat = flat_tensors(t_out), flat_tensors(e_out)
    assert len(t_flat) == len(e_flat)
    rng = np.random.default_rng(3)
    t_loss = e_loss = 0
    for i, (t, e) in enumerate(zip(t_flat, e_flat)):
        assert_close(e, t, 1e-12, 1e-12, f"output {i}")
        if t.is_floating_point() and t.requires_grad:
            w = rng.uniform(-1, 1, tuple(t.shape))
            t_loss = t_loss + (t * torch.tensor(w)).sum()
            e_loss = e_loss + (e * ember.tensor(w)).sum()
    if isinstance(t_loss, torch.Tensor):
        t_loss.backward()
        e_loss.backward()
        for i, (t, e) in enumerate(zip(t_in, e_in)):
            assert_close(e.grad, t.grad, 1e-12, 1e-12, f"input {i} grad")


SEQS = [np.random.default_rng(i).uniform(-1, 1, (n, 2, 3)) for i, n in enumerate([3, 5, 1, 5])]


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("padding_side", ["right", "left"])
def test_pad_sequence(batch_first, padding_side):
    compare_utils(lambda m, *s: m.nn.utils.rnn.pad_sequence(
        s, batch_first=batch_first, padding_value=-7.0, padding_side=padding_side), SEQS)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("enforce_sorted", [True, False])
def test_pack_and_pad_round_trip(batch_first, enforce_sorted):
    lengths = [5, 5, 3, 1] if enforce_sorted else [3, 5, 1, 5]
    padded = np.random.default_rng(0).uniform(-1, 1, (4, 6, 2) if batch_first else (6, 4, 2))

    def fn(m, x):
        packed = m.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
        back = m.nn.utils.rnn.pad_packed_sequence(packed, batch_first, padding_value=2.5,
                                                  total_length=7)
        return packed.data, packed.batch_sizes, packed.sorted_indices, \
            packed.unsorted_indices, back

    compare_utils(fn, [padded])


def test_pack_sequence_unpack_and_unpad():
    def fn(m, *s):
        packed = m.nn.utils.rnn.pack_sequence(s, enforce_sorted=False)
        padded, lengths = m.nn.utils.rnn.pad_packed_sequence(packed)
        return (packed.data, m.nn.utils.rnn.unpack_sequence(packed),
                m.nn.utils.rnn.unpad_sequence(padded, lengths))

    compare_utils(fn, SEQS)
    compare_utils(lambda m, *s: m.nn.utils.rnn.pack_sequence(s).data,
                  sorted(SEQS, key=len, reverse=True))


def test_packed_sequence_is_a_named_tuple():
    packed = ernn.pack_sequence([ember.tensor([1.0, 2.0, 3.0]), ember.tensor([4.0])])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert batch_sizes.dtype == ember.int64 and batch_sizes.tolist() == [2, 1, 1]
    assert sorted_indices is None and unsorted_indices is None
    assert packed._fields == trnn.PackedSequence._fields
    assert repr(packed) == repr(trnn.pack_sequence([torch.tensor([1.0, 2.0, 3.0]),
                                                    torch.tensor([4.0])]))
    assert packed.double().data.dtype == ember.float64
    order = ember.tensor([2, 0, 1])
    assert ernn.PackedSequence(data, batch_sizes, order).unsorted_indices.tolist() == [1, 2, 0]


@pytest.mark.parametrize("call, error", [
    (lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [1, 4, 2]), RuntimeError),
    (lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 0, 1], False, False),
     RuntimeError),
    (lambda m: m.nn.utils.rnn.pack_padded_sequence(m.zeros(4, 3, 2), [4, 2]), RuntimeError),
    (lambda m: m.nn.utils.rnn.pad_packed_sequence(
        m.nn.utils.rnn.pack_sequence([m.zeros(3), m.zeros(2)]), total_length=2), ValueError),
    (lambda m: m.nn.utils.rnn.pad_sequence([]), RuntimeError),
    (lambda m: m.nn.utils.rnn.pad_sequence([m.zeros(2)], padding_side="up"), RuntimeError),
])
def test_utils_errors_match_torch(call, error):
    with pytest.raises(error) as t_err:
        call(torch)
    with pytest.raises(error) as e_err:
        call(ember)
    assert str(e_err.value) == str(t_err.value)


# -- structure: names, shapes, init, repr -------------------------------------------------------

REPRS = [
    lambda m: m.nn.LSTM(10, 20, num_layers=2, batch_first=True, bidirectional=True),
    lambda m: m.nn.LSTM(10, 20, proj_size=5, dropout=0.5, num_layers=2, bias=False),
    lambda m: m.nn.GRU(3, 4),
    lambda m: m.nn.RNN(3, 4, 2, "relu"),
    lambda m: m.nn.RNNCell(3, 4, nonlinearity="relu", bias=False),
    lambda m: m.nn.LSTMCell(3, 4),
    lambda m: m.nn.GRUCell(3, 4, bias=False),
]


@pytest.mark.parametrize("make", REPRS)
def test_repr_state_dict_and_init_match_torch(make):
    ember.manual_seed(0)
    t_mod, e_mod = make(torch), make(ember)
    assert repr(e_mod) == repr(t_mod)
    t_sd, e_sd = t_mod.state_dict(), e_mod.state_dict()
    assert list(e_sd) == list(t_sd)
    for key, value in t_sd.items():
        assert tuple(e_sd[key].shape) == tuple(value.shape), key
    # every weight and bias ~ U(-1/sqrt(hidden), 1/sqrt(hidden)), as torch: std = bound/sqrt(3)
    bound = 1 / np.sqrt(t_mod.hidden_size)
    values = np.concatenate([v.numpy().ravel() for v in e_sd.values()])
    assert np.abs(values).max() <= bound
    assert abs(values.std() - bound / np.sqrt(3)) < 0.15 * bound
    result = e_mod.load_state_dict(t_sd)
    assert not result.missing_keys and not result.unexpected_keys


def test_all_weights_and_flatten_parameters():
    t_mod, e_mod = build_pair(layer("LSTM", num_layers=2, bidirectional=True, proj_size=2))
    e_mod.flatten_parameters()  # a no-op, as torch's on the CPU
    assert e_mod._all_weights == t_mod._all_weights  # names per layer and direction
    assert e_mod._flat_weights_names == t_mod._flat_weights_names
    assert [tuple(w.shape) for w in e_mod._flat_weights] == \
        [tuple(w.shape) for w in t_mod._flat_weights]
    e_params = dict(e_mod.named_parameters())
    for e_group, names in zip(e_mod.all_weights, t_mod._all_weights):
        assert [id(w) for w in e_group] == [id(e_params[n]) for n in names]
    for e_group, t_group in zip(e_mod.all_weights, t_mod.all_weights):
        for e, t in zip(e_group, t_group):
            np.testing.assert_array_equal(e.detach().numpy(), t.detach().numpy())


@pytest.mark.parametrize("call", [
    lambda m: m.nn.LSTM(3, 4)(m.zeros(2, 5, 5)),
    lambda m: m.nn.LSTM(3, 4)(m.zeros(2, 5, 3), (m.zeros(1, 4, 4), m.zeros(1, 5, 4))),
    lambda m: m.nn.LSTM(3, 4)(m.zeros(2, 5, 3), (m.zeros(1, 5, 4), m.zeros(1, 5, 5))),
    lambda m: m.nn.GRU(3, 4)(m.zeros(2, 5, 3), m.zeros(2, 5, 4)),
    lambda m: m.nn.GRU(3, 4)(m.zeros(2, 5, 3), m.zeros(5, 4)),
    lambda m: m.nn.RNN(3, 4)(m.zeros(5, 3), m.zeros(1, 1, 4)),
    lambda m: m.nn.RNN(3, 4)(m.zeros(2, 3, 5, 3)),
    lambda m: m.nn.RNN(3, 4)(m.zeros(2, 5, 3, dtype=m.float64)),
    lambda m: m.nn.LSTM(3, 4)(m.zeros(0, 5, 3)),
    lambda m: m.nn.LSTMCell(3, 4)(m.zeros(2, 5)),
    lambda m: m.nn.LSTMCell(3, 4)(m.zeros(2, 3), (m.zeros(3, 4), m.zeros(3, 4))),
    lambda m: m.nn.GRUCell(3, 4)(m.zeros(2, 2, 3)),
    lambda m: m.nn.GRU(3, 4, proj_size=2),
    lambda m: m.nn.LSTM(3, 4, proj_size=4),
    lambda m: m.nn.RNN(3, 4, nonlinearity="gelu"),
    lambda m: m.nn.LSTM(3, 4, dropout=1.5),
    lambda m: m.nn.LSTM(3, 0),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as t_err:
        call(torch)
    with pytest.raises(type(t_err.value)) as e_err:
        call(ember)
    assert str(e_err.value) == str(t_err.value).replace("torch.", "ember.")


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        ember.nn.LSTM(3, 4, dropout=0.2)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ember.nn.LSTM(3, 4, num_layers=2, dropout=0.2)


# -- autograd details ---------------------------------------------------------------------------


def test_backward_twice_with_retain_graph_doubles_gradients():
    lstm = ember.nn.LSTM(INPUT, HIDDEN, proj_size=2).double()
    x = ember.randn(STEPS, BATCH, INPUT, dtype=ember.float64, requires_grad=True)
    out, _ = lstm(x)
    out.sum().backward(retain_graph=True)
    once = {n: p.grad.numpy().copy() for n, p in lstm.named_parameters()}
    once["x"] = x.grad.numpy().copy()
    out.sum().backward()
    for name, p in lstm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), 2 * once[name], rtol=1e-12, err_msg=name)
    np.testing.assert_allclose(x.grad.numpy(), 2 * once["x"], rtol=1e-12)
    with pytest.raises(RuntimeError, match="second time"):
        out.sum().backward()


def test_modified_weight_after_forward_raises():
    gru = ember.nn.GRU(INPUT, HIDDEN)
    out, _ = gru(ember.randn(STEPS, BATCH, INPUT))
    with ember.no_grad():
        gru.weight_hh_l0.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        out.sum().backward()


def test_no_graph_under_no_grad():
    lstm = ember.nn.LSTM(INPUT, HIDDEN)
    with ember.no_grad():
        out, (h, c) = lstm(ember.randn(STEPS, BATCH, INPUT))
    assert out.grad_fn is None and h.grad_fn is None and not c.requires_grad


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
def test_gradient_penalty_matches_torch(mode):
    """create_graph through the layer: d/dW of |d(loss)/dx|^2, compared with torch."""
    t_mod, e_mod = build_pair(layer(mode, num_layers=2, bidirectional=True), "float64")
    x = np.random.default_rng(0).uniform(-1, 1, (STEPS, BATCH, INPUT))
    results = []
    for lib, mod in ((torch, t_mod), (ember, e_mod)):
        xt = lib.tensor(x, requires_grad=True)
        out, _ = mod(xt)
        (gx,) = lib.autograd.grad((out * out).sum(), xt, create_graph=True)
        (gx * gx).sum().backward()
        results.append([xt.grad] + [p.grad for p in mod.parameters()])
    for i, (e, t) in enumerate(zip(results[1], results[0])):
        assert_close(e, t, 1e-8, 1e-10, f"gradient {i}")


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("reverse", [False, True])
def test_gradgradcheck_packed_layer(mode, reverse):
    """Second derivatives of one packed layer (batch sizes 3, 2, 2, 1) in every input."""
    gates = 4 if mode == "LSTM" else 3
    rng = np.random.default_rng(1)

    def leaf(*shape):
        return ember.tensor(rng.uniform(-1, 1, shape), requires_grad=True)

    batch_sizes = (3, 2, 2, 1)
    inputs = [leaf(sum(batch_sizes), 2), leaf(3, 2), leaf(gates * 2, 2), leaf(gates * 2, 2),
              leaf(gates * 2), leaf(gates * 2)]
    if mode == "LSTM":
        inputs.append(leaf(3, 2))

    def fn(x, h0, w_ih, w_hh, b_ih, b_hh, c0=None):
        out, h, c = recurrent_layer(mode, x, h0, c0, w_ih, w_hh, b_ih, b_hh, None,
                                    batch_sizes, reverse)
        return (out, h) if c is None else (out, h, c)

    assert ember.autograd.gradcheck(fn, inputs)
    assert ember.autograd.gradgradcheck(fn, inputs)
