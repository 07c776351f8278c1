"""ember.models.GPT against a GPT written in PyTorch (tests/reference_gpt.py) with the same
weights: outputs, gradients, 50 AdamW steps of loss curve; GPT-2 weight loading; sampling."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import ember
from ember.models import GPT, GPTConfig, gpt
from reference_gpt import TorchGPT

SMALL = dict(vocab_size=37, block_size=16, n_layer=2, n_head=4, n_embd=32)


def pair(**overrides):
    cfg = {**SMALL, **overrides}
    torch.manual_seed(0)
    theirs = TorchGPT(**cfg)
    ours = gpt(**cfg)
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    return ours, theirs


def batch(rng, b=3, t=16, vocab=37):
    x = rng.integers(0, vocab, (b, t))
    y = rng.integers(0, vocab, (b, t))
    return x, y


def test_parameters_names_and_tying_match_torch():
    ours, theirs = pair()
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert ours.lm_head.weight is ours.transformer.wte.weight
    assert sum(p.numel() for p in ours.parameters()) == sum(p.numel() for p in theirs.parameters())
    n = ours.num_parameters(non_embedding=False)
    assert n - ours.num_parameters() == 16 * 32


def test_gpt2_small_parameter_count():
    model = GPT(GPTConfig())  # GPT-2 small: 124,439,808 parameters (tied embedding counted once)
    assert model.num_parameters(non_embedding=False) == 124_439_808


@pytest.mark.parametrize("bias", [True, False])
def test_forward_loss_and_gradients_match_torch(bias):
    ours, theirs = pair(bias=bias)
    x, y = batch(np.random.default_rng(1))
    t_logits, t_loss = theirs(torch.tensor(x), torch.tensor(y))
    e_logits, e_loss = ours(ember.tensor(x), ember.tensor(y))
    np.testing.assert_allclose(e_logits.detach().numpy(), t_logits.detach().numpy(),
                               rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=1e-5)
    t_loss.backward()
    e_loss.backward()
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-3,
                                   atol=1e-6, err_msg=name)


def test_shorter_sequences_and_ignored_targets():
    ours, theirs = pair()
    x, y = batch(np.random.default_rng(2), t=7)
    y[0, :3] = -1  # ignore_index=-1: padding that is not predicted
    t_logits, t_loss = theirs(torch.tensor(x), torch.tensor(y))
    e_logits, e_loss = ours(ember.tensor(x), ember.tensor(y))
    np.testing.assert_allclose(e_loss.item(), t_loss.item(), rtol=1e-5)
    assert ours(ember.tensor(x))[1] is None


def test_fifty_adamw_steps_give_torchs_loss_curve():
    ours, theirs = pair()
    t_opt = theirs.adamw(lr=3e-3, weight_decay=0.1)
    e_opt = ours.configure_optimizers(weight_decay=0.1, learning_rate=3e-3)
    rng = np.random.default_rng(3)
    # a learnable stream (a noisy cycle), so the loss falls and the curves mean something
    stream = (np.arange(2000) * 7 % 37 + (rng.random(2000) < 0.1) * 5) % 37
    t_curve, e_curve = [], []
    for step in range(50):
        starts = rng.integers(0, len(stream) - 17, 8)
        x = np.stack([stream[s:s + 16] for s in starts])
        y = np.stack([stream[s + 1:s + 17] for s in starts])
        _, t_loss = theirs(torch.tensor(x), torch.tensor(y))
        t_opt.zero_grad()
        t_loss.backward()
        torch.nn.utils.clip_grad_norm_(theirs.parameters(), 1.0)
        t_opt.step()
        _, e_loss = ours(ember.tensor(x), ember.tensor(y))
        e_opt.zero_grad()
        e_loss.backward()
        ember.nn.utils.clip_grad_norm_(ours.parameters(), 1.0)
        e_opt.step()
        t_curve.append(t_loss.item())
        e_curve.append(e_loss.item())
    assert t_curve[-1] < 0.5 * t_curve[0]  # it learned
    np.testing.assert_allclose(e_curve, t_curve, rtol=2e-4, atol=2e-4)
    t_params = dict(theirs.named_parameters())
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.detach().numpy(), t_params[name].detach().numpy(),
                                   atol=2e-4, err_msg=name)


def test_weight_decay_only_on_matrices():
    ours, _ = pair()
    decay, no_decay = ours.configure_optimizers(0.1, 1e-3).param_groups
    assert decay["weight_decay"] == 0.1 and no_decay["weight_decay"] == 0.0
    assert all(p.dim() >= 2 for p in decay["params"]) and all(p.dim() < 2 for p in
                                                              no_decay["params"])
    assert len(decay["params"]) + len(no_decay["params"]) == len(list(ours.parameters()))
    assert len(decay["params"]) == 1 + 1 + 2 * 4  # wte (= lm_head), wpe, 4 Linears per block


def test_dropout_is_active_only_in_training():
    model = gpt(**SMALL, dropout=0.5)
    x = ember.randint(0, 37, (2, 16))
    model.train()
    assert not ember.equal(model(x)[0], model(x)[0])
    model.eval()
    assert ember.equal(model(x)[0], model(x)[0])


def test_generate_greedy_top_k_and_seeded_sampling():
    ours, theirs = pair()
    ours.eval()
    prompt = ember.tensor([[1, 2, 3], [4, 5, 6]])
    greedy = ours.generate(prompt, 20, temperature=0)  # longer than block_size: context crops
    assert greedy.shape == (2, 23) and ember.equal(greedy[:, :3], prompt)
    # greedy matches torch's argmax decoding with the same weights
    idx = torch.tensor([[1, 2, 3], [4, 5, 6]])
    with torch.no_grad():
        for _ in range(20):
            idx = torch.cat([idx, theirs(idx[:, -16:])[0][:, -1].argmax(-1, keepdim=True)], 1)
    assert greedy.tolist() == idx.tolist()
    assert ember.equal(ours.generate(prompt, 5, top_k=1), greedy[:, :8])
    one = ours.generate(prompt, 8, generator=ember.Generator().manual_seed(5))
    two = ours.generate(prompt, 8, generator=ember.Generator().manual_seed(5))
    assert ember.equal(one, two)
    with pytest.raises(ValueError, match="temperature"):
        ours.generate(prompt, 1, temperature=-1.0)


def test_clear_errors():
    with pytest.raises(ValueError, match="divisible by n_head"):
        GPTConfig(n_embd=30, n_head=4)
    model = gpt(**SMALL)
    with pytest.raises(ValueError, match="longer than block_size 16"):
        model(ember.zeros(1, 17, dtype=ember.int64))
    with pytest.raises(ValueError, match=r"\(batch, time\)"):
        model(ember.zeros(17, dtype=ember.int64))


def _hf_gpt2_file(theirs: TorchGPT, path, prefix: str, n_head: int | None) -> None:
    """Write theirs as Hugging Face's GPT-2 safetensors layout: Conv1D weights (in, out),
    the causal-mask buffers, and optionally a config.json."""
    safetensors_torch = pytest.importorskip("safetensors.torch")
    tensors = {}
    for name, value in theirs.state_dict().items():
        key = name.removeprefix("transformer.")
        if key.startswith("lm_head"):
            continue
        if key.endswith(("c_attn.weight", "c_proj.weight", "c_fc.weight")):
            value = value.t()
        tensors[prefix + key] = value.contiguous().clone()
    for i in range(len(theirs.transformer.h)):
        tensors[f"{prefix}h.{i}.attn.bias"] = torch.tril(torch.ones(1, 1, 16, 16))
    safetensors_torch.save_file(tensors, str(path / "model.safetensors"))
    if n_head is not None:
        (path / "config.json").write_text(json.dumps({"n_head": n_head}))


@pytest.mark.parametrize("prefix", ["", "transformer."])
def test_loads_gpt2_safetensors_layout(tmp_path, prefix):
    _, theirs = pair()
    _hf_gpt2_file(theirs, tmp_path, prefix, n_head=4)
    model = GPT.from_safetensors(tmp_path / "model.safetensors")
    assert (model.config.n_layer, model.config.n_head, model.config.n_embd,
            model.config.block_size, model.config.vocab_size) == (2, 4, 32, 16, 37)
    x = np.random.default_rng(4).integers(0, 37, (2, 16))
    np.testing.assert_allclose(model(ember.tensor(x))[0].detach().numpy(),
                               theirs(torch.tensor(x))[0].detach().numpy(), rtol=1e-4, atol=1e-5)
    assert model.lm_head.weight is model.transformer.wte.weight


def test_gpt2_loading_needs_the_head_count_for_unusual_widths(tmp_path):
    _, theirs = pair()
    _hf_gpt2_file(theirs, tmp_path, "", n_head=None)
    with pytest.raises(ValueError, match="number of heads"):
        GPT.from_safetensors(tmp_path / "model.safetensors")
    model = GPT.from_safetensors(tmp_path / "model.safetensors",
                                 GPTConfig(**SMALL))
    assert model.config.n_head == 4
