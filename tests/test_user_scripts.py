"""Realistic PyTorch user scripts (tutorial / course / blog style) run on torch and on Ember.

Each script is a function of the framework module ``m`` (``torch`` or ``ember``), written once.
Where both runs can start from the same weights (torch's initial state_dict copied into Ember,
or both built from the same numpy arrays) the numbers are compared with a float32 tolerance;
where randomness differs (dropout, sampling, shuffling) types, shapes and invariants are compared.
"""

from __future__ import annotations

import io
import os
import pickle
import tempfile

import numpy as np
import pytest

import ember
import torch

RTOL, ATOL = 1e-4, 1e-5


def np_of(x):
    if isinstance(x, (int, float)):
        return np.asarray(x)
    return x.detach().cpu().numpy() if hasattr(x, "detach") else np.asarray(x)


def close(a, b, rtol=RTOL, atol=ATOL):
    a, b = np_of(a), np_of(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    np.testing.assert_allclose(a.astype(np.float64), b.astype(np.float64), rtol=rtol, atol=atol)


def sync(state, ember_model):
    """Load torch's (random) initial weights, recorded as numpy arrays, into the Ember model."""
    res = ember_model.load_state_dict({k: ember.tensor(v) for k, v in state.items()})
    assert not res.missing_keys and not res.unexpected_keys
    return ember_model


def both(script, *args, **kwargs):
    """Run ``script(m, build, ...)`` on torch then Ember; the script builds models through ``build``,
    which on the Ember run starts each model from the torch model's initial weights."""
    states = []

    def build_torch(make):
        torch.manual_seed(0)
        model = make(torch)
        states.append({k: v.detach().numpy().copy() for k, v in model.state_dict().items()})
        return model

    def build_ember(make):
        return sync(states.pop(0), make(ember))

    t_out = script(torch, build_torch, *args, **kwargs)
    e_out = script(ember, build_ember, *args, **kwargs)
    assert not states
    return t_out, e_out


def compare_tree(t, e, rtol=RTOL, atol=ATOL, path="out"):
    if isinstance(t, dict):
        assert isinstance(e, dict) and set(t) == set(e), (path, set(t) ^ set(e or {}))
        for k in t:
            compare_tree(t[k], e[k], rtol, atol, f"{path}[{k!r}]")
    elif isinstance(t, (list, tuple)):
        assert isinstance(e, (list, tuple)) and len(t) == len(e), (path, len(t), len(e))
        for i, (a, b) in enumerate(zip(t, e)):
            compare_tree(a, b, rtol, atol, f"{path}[{i}]")
    elif isinstance(t, torch.Tensor):
        assert isinstance(e, ember.Tensor), (path, type(e))
        assert str(t.dtype).split(".")[-1] == str(e.dtype).split(".")[-1], (path, t.dtype, e.dtype)
        assert tuple(t.shape) == tuple(e.shape), (path, t.shape, e.shape)
        try:
            close(t, e, rtol, atol)
        except AssertionError as exc:
            raise AssertionError(f"{path}: {exc}") from None
    elif isinstance(t, float):
        assert isinstance(e, float), (path, type(e))
        np.testing.assert_allclose(e, t, rtol=rtol, atol=atol, err_msg=path)
    else:
        assert type(t) is type(e) and t == e, (path, t, e)


# ----------------------------------------------------------------------------------------------
# 1. VAE: reparameterisation, KL term, BCE(reduction='sum'), Adam, a few steps
# ----------------------------------------------------------------------------------------------
def vae_script(m, build):
    nn, F = m.nn, m.nn.functional

    class VAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc1 = nn.Linear(16, 12)
            self.fc21 = nn.Linear(12, 3)
            self.fc22 = nn.Linear(12, 3)
            self.fc3 = nn.Linear(3, 12)
            self.fc4 = nn.Linear(12, 16)

        def encode(self, x):
            h1 = F.relu(self.fc1(x))
            return self.fc21(h1), self.fc22(h1)

        def reparameterize(self, mu, logvar, eps):
            std = m.exp(0.5 * logvar)
            return mu + eps * std

        def decode(self, z):
            return m.sigmoid(self.fc4(F.relu(self.fc3(z))))

        def forward(self, x, eps):
            mu, logvar = self.encode(x.view(-1, 16))
            z = self.reparameterize(mu, logvar, eps)
            return self.decode(z), mu, logvar

    def loss_function(recon_x, x, mu, logvar):
        BCE = F.binary_cross_entropy(recon_x, x.view(-1, 16), reduction="sum")
        KLD = -0.5 * m.sum(1 + logvar - mu.pow(2) - logvar.exp())
        return BCE + KLD, BCE, KLD

    model = build(lambda m: VAE())
    opt = m.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)
    data = m.from_numpy((rng.random((8, 4, 4)) > 0.5).astype(np.float32))
    losses = []
    model.train()
    for step in range(4):
        eps = m.from_numpy(rng.standard_normal((8, 3)).astype(np.float32))
        opt.zero_grad()
        recon, mu, logvar = model(data, eps)
        loss, bce, kld = loss_function(recon, data, mu, logvar)
        loss.backward()
        losses.append([loss.item(), bce.item(), kld.item()])
        opt.step()
    # torch's own check: randn_like keeps shape/dtype
    eps2 = m.randn_like(mu)
    return {"losses": losses, "recon": recon.detach(), "eps2": (tuple(eps2.shape), str(eps2.dtype).split(".")[-1])}


def test_vae():
    t, e = both(vae_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 2. GAN step: two optimizers, detach, BCEWithLogitsLoss, full_like labels
# ----------------------------------------------------------------------------------------------
def gan_script(m, build):
    nn = m.nn
    G = build(lambda m: nn.Sequential(nn.Linear(4, 16), nn.LeakyReLU(0.2, inplace=True), nn.Linear(16, 6), nn.Tanh()))
    D = build(lambda m: nn.Sequential(nn.Linear(6, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1)))
    criterion = nn.BCEWithLogitsLoss()
    optD = m.optim.Adam(D.parameters(), lr=2e-3, betas=(0.5, 0.999))
    optG = m.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999))
    rng = np.random.default_rng(1)
    hist = []
    for it in range(3):
        real = m.tensor(rng.standard_normal((8, 6)), dtype=m.float32)
        noise = m.tensor(rng.standard_normal((8, 4)).astype(np.float32))
        # (1) update D
        D.zero_grad()
        label = m.full((8,), 1.0, dtype=m.float)
        out = D(real).view(-1)
        errD_real = criterion(out, label)
        errD_real.backward()
        fake = G(noise)
        label.fill_(0.0)
        out = D(fake.detach()).view(-1)
        errD_fake = criterion(out, label)
        errD_fake.backward()
        g_grad_after_D = [p.grad for p in G.parameters()]
        optD.step()
        # (2) update G
        G.zero_grad()
        label.fill_(1.0)
        out = D(fake).view(-1)
        errG = criterion(out, label)
        errG.backward()
        D_x = out.mean().item()
        optG.step()
        hist.append([errD_real.item(), errD_fake.item(), errG.item(), D_x])
    return {"hist": hist, "g_grads_none": all(g is None for g in g_grad_after_D),
            "fake": fake.detach(), "gen_grad": G[0].weight.grad}


def test_gan_step():
    t, e = both(gan_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 3. LSTM text classifier: Embedding(padding_idx), pack_padded_sequence(enforce_sorted=False)
# ----------------------------------------------------------------------------------------------
def lstm_classifier_script(m, build):
    nn = m.nn
    from_pack = m.nn.utils.rnn

    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(20, 8, padding_idx=0)
            self.lstm = nn.LSTM(8, 6, num_layers=2, batch_first=True, bidirectional=True)
            self.fc = nn.Linear(12, 3)

        def forward(self, x, lengths):
            e = self.emb(x)
            packed = from_pack.pack_padded_sequence(e, lengths, batch_first=True, enforce_sorted=False)
            packed_out, (h, c) = self.lstm(packed)
            out, out_lens = from_pack.pad_packed_sequence(packed_out, batch_first=True, total_length=x.shape[1])
            hidden = m.cat((h[-2, :, :], h[-1, :, :]), dim=1)
            return self.fc(hidden), out, out_lens, packed.sorted_indices

    model = build(lambda m: Classifier())
    seqs = [[3, 4, 5], [6, 7, 8, 9, 10], [11, 12], [2, 2, 2, 2]]
    lengths = m.tensor([len(s) for s in seqs])
    x = from_pack.pad_sequence([m.tensor(s) for s in seqs], batch_first=True, padding_value=0)
    x = m.cat([x, m.zeros(4, 1, dtype=m.long)], 1)  # extra padding column
    y = m.tensor([0, 1, 2, 1])
    opt = m.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    losses = []
    for _ in range(3):
        opt.zero_grad()
        logits, out, out_lens, sorted_idx = model(x, lengths)
        loss = nn.CrossEntropyLoss()(logits, y)
        loss.backward()
        pad_grad = model.emb.weight.grad[0].abs().sum().item()
        opt.step()
        losses.append(loss.item())
    pred = logits.argmax(dim=1)
    return {"losses": losses, "out": out.detach(), "out_lens": out_lens, "sorted_idx": sorted_idx,
            "pad_grad": pad_grad, "pred": pred, "x_dtype": str(x.dtype).split(".")[-1]}


def test_lstm_classifier():
    t, e = both(lstm_classifier_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 4. seq2seq nn.Transformer with causal mask and key padding masks
# ----------------------------------------------------------------------------------------------
def transformer_script(m, build):
    nn = m.nn

    class Seq2Seq(nn.Module):
        def __init__(self):
            super().__init__()
            self.src_emb = nn.Embedding(12, 16, padding_idx=1)
            self.tgt_emb = nn.Embedding(12, 16, padding_idx=1)
            self.transformer = nn.Transformer(d_model=16, nhead=4, num_encoder_layers=2, num_decoder_layers=2,
                                              dim_feedforward=32, dropout=0.0, batch_first=True)
            self.generator = nn.Linear(16, 12)

        def forward(self, src, tgt):
            tgt_mask = nn.Transformer.generate_square_subsequent_mask(tgt.size(1))
            src_pad = src == 1
            tgt_pad = tgt == 1
            out = self.transformer(self.src_emb(src), self.tgt_emb(tgt), tgt_mask=tgt_mask,
                                   src_key_padding_mask=src_pad, tgt_key_padding_mask=tgt_pad,
                                   memory_key_padding_mask=src_pad)
            return self.generator(out), tgt_mask

    model = build(lambda m: Seq2Seq())
    src = m.tensor([[5, 6, 7, 2, 1, 1], [3, 4, 5, 6, 7, 2]])
    tgt = m.tensor([[0, 8, 9, 2, 1], [0, 3, 3, 4, 2]])
    tgt_in, tgt_out = tgt[:, :-1], tgt[:, 1:]
    loss_fn = nn.CrossEntropyLoss(ignore_index=1, label_smoothing=0.1)
    opt = m.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    model.train()
    for _ in range(3):
        logits, mask = model(src, tgt_in)
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        m.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        losses.append(loss.item())
    model.eval()
    with m.no_grad():
        logits, mask = model(src, tgt_in)
    return {"losses": losses, "logits": logits, "mask": mask}


def test_transformer_seq2seq():
    t, e = both(transformer_script)
    compare_tree(t, e, rtol=2e-4, atol=2e-5)


# ----------------------------------------------------------------------------------------------
# 5. Siamese net: TripletMarginLoss, pairwise_distance, cosine_similarity
# ----------------------------------------------------------------------------------------------
def siamese_script(m, build):
    nn, F = m.nn, m.nn.functional
    # no bias on the embedding head: the triplet loss is blind to it, its gradient is rounding noise
    # that RMSprop (g / (sqrt(v) + eps)) would amplify differently in each framework
    net = build(lambda m: nn.Sequential(nn.Linear(10, 16), nn.ReLU(), nn.Linear(16, 4, bias=False)))
    rng = np.random.default_rng(3)
    a, p, n = (m.from_numpy(rng.standard_normal((6, 10)).astype(np.float32)) for _ in range(3))
    triplet = nn.TripletMarginLoss(margin=1.0, p=2, swap=True)
    opt = m.optim.RMSprop(net.parameters(), lr=1e-3, alpha=0.9)
    res = []
    for _ in range(3):
        ea, ep, en = net(a), net(p), net(n)
        loss = triplet(ea, ep, en)
        opt.zero_grad()
        loss.backward()
        opt.step()
        res.append(loss.item())
    d = F.pairwise_distance(ea, en, keepdim=True)
    cos = F.cosine_similarity(ea, ep)
    emb = F.normalize(ea, p=2, dim=1)
    contrastive = m.mean((1 - 0) * d.pow(2) + 0 * m.clamp(2.0 - d, min=0.0).pow(2))
    cd = m.cdist(ea, en)
    return {"losses": res, "d": d.detach(), "cos": cos.detach(), "emb": emb.detach(),
            "contrastive": contrastive.item(), "cd": cd.detach()}


def test_siamese_triplet():
    t, e = both(siamese_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 6. Custom Dataset + DataLoader(collate_fn, seeded Generator, drop_last), random_split
# ----------------------------------------------------------------------------------------------
def dataloader_script(m):
    from_data = m.utils.data

    class TextDataset(from_data.Dataset):
        def __init__(self):
            self.items = [(list(range(1, 2 + i % 5)), i % 3) for i in range(23)]

        def __len__(self):
            return len(self.items)

        def __getitem__(self, idx):
            tokens, label = self.items[idx]
            return m.tensor(tokens), label

    def collate(batch):
        tokens, labels = zip(*batch)
        lengths = m.tensor([len(t) for t in tokens])
        padded = m.nn.utils.rnn.pad_sequence(tokens, batch_first=True)
        return padded, lengths, m.tensor(labels)

    ds = TextDataset()
    g = m.Generator().manual_seed(42)
    dl = from_data.DataLoader(ds, batch_size=4, shuffle=True, collate_fn=collate, generator=g, drop_last=True)
    seen = []
    shapes = []
    for padded, lengths, labels in dl:
        assert padded.shape[1] == int(lengths.max())
        shapes.append(padded.shape[0])
        seen.extend(labels.tolist())
    train, val = from_data.random_split(ds, [0.8, 0.2], generator=m.Generator().manual_seed(0))
    default_dl = from_data.DataLoader(
        from_data.TensorDataset(m.arange(10.0).view(5, 2), m.arange(5)), batch_size=2)
    b = next(iter(default_dl))
    epoch1 = [x.tolist() for x, _ in from_data.DataLoader(ds, batch_size=1, shuffle=True, generator=m.Generator().manual_seed(7), collate_fn=lambda b: b[0])]
    return {"len": len(dl), "shapes": shapes, "n_seen": len(seen), "split": (len(train), len(val)),
            "split_type": type(train).__name__, "default_batch": [type(b).__name__, b[0].tolist(), b[1].tolist(), str(b[1].dtype)],
            "n_epoch1": len(epoch1)}


def test_dataloader_collate():
    t = dataloader_script(torch)
    e = dataloader_script(ember)
    t["default_batch"][3] = t["default_batch"][3].split(".")[-1]
    e["default_batch"][3] = e["default_batch"][3].split(".")[-1]
    assert t == e


def test_dataloader_seeded_generator_reproducible():
    def order(m, seed):
        g = m.Generator()
        g.manual_seed(seed)
        dl = m.utils.data.DataLoader(list(range(10)), batch_size=3, shuffle=True, generator=g)
        return [b.tolist() for b in dl]

    a, b, c = order(ember, 5), order(ember, 5), order(ember, 6)
    assert a == b and a != c
    assert sorted(sum(a, [])) == list(range(10))
    assert [len(x) for x in a] == [3, 3, 3, 1]


# ----------------------------------------------------------------------------------------------
# 7. Checkpoint save/load {'model','optimizer','scheduler','epoch'}; resume == continue
# ----------------------------------------------------------------------------------------------
def checkpoint_script(m, build, path):
    nn = m.nn

    def make():
        model = build(lambda m: nn.Sequential(nn.Linear(5, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 2)))
        opt = m.optim.Adam(model.parameters(), lr=1e-2, weight_decay=1e-4, amsgrad=True)
        sched = m.optim.lr_scheduler.StepLR(opt, step_size=2, gamma=0.5)
        return model, opt, sched

    rng = np.random.default_rng(4)
    X = m.tensor(rng.standard_normal((16, 5)).astype(np.float32))
    Y = m.tensor(rng.integers(0, 2, 16))

    def step(model, opt, sched):
        model.train()
        opt.zero_grad()
        loss = nn.functional.cross_entropy(model(X), Y)
        loss.backward()
        opt.step()
        sched.step()
        return loss.item()

    model, opt, sched = make()
    for epoch in range(3):
        step(model, opt, sched)
    m.save({"model": model.state_dict(), "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict(), "epoch": 3}, path)
    cont = [step(model, opt, sched) for _ in range(2)]
    final_cont = [p.detach().clone() for p in model.parameters()]

    model2, opt2, sched2 = make()
    ckpt = m.load(path, weights_only=True)
    model2.load_state_dict(ckpt["model"])
    opt2.load_state_dict(ckpt["optimizer"])
    sched2.load_state_dict(ckpt["scheduler"])
    resumed = [step(model2, opt2, sched2) for _ in range(2)]
    final_res = [p.detach().clone() for p in model2.parameters()]
    same = all(bool(m.equal(a, b)) for a, b in zip(final_cont, final_res))
    return {"cont": cont, "resumed": resumed, "same": same, "epoch": ckpt["epoch"],
            "lr": opt2.param_groups[0]["lr"], "last_lr": sched2.get_last_lr(),
            "nbt": ckpt["model"]["1.num_batches_tracked"], "opt_keys": sorted(ckpt["optimizer"].keys()),
            "state_keys": sorted(ckpt["optimizer"]["state"][0].keys()),
            "param_ids": ckpt["optimizer"]["param_groups"][0]["params"]}


def test_checkpoint_resume(tmp_path):
    t, e = both(checkpoint_script, str(tmp_path / "ck.pt"))
    # rebuild: make() is called twice; both runs sync each fresh model from torch's order
    compare_tree(t, e)
    assert e["same"] and e["cont"] == e["resumed"]


def test_checkpoint_nested_round_trip(tmp_path):
    """A full training checkpoint with momentum buffers and plain Python extras survives save/load."""
    def script(m, build, path):
        model = build(lambda m: m.nn.Linear(3, 2))
        opt = m.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        model(m.ones(1, 3)).sum().backward()
        opt.step()
        m.save({"model": model.state_dict(), "optimizer": opt.state_dict(), "epoch": 1,
                "history": [0.5, 0.25], "name": "run-1", "best": None}, path)
        ck = m.load(path, map_location="cpu")
        fresh = m.nn.Linear(3, 2)
        fresh.load_state_dict(ck["model"])
        opt2 = m.optim.SGD(fresh.parameters(), lr=0.1, momentum=0.9)
        opt2.load_state_dict(ck["optimizer"])
        fresh(m.ones(1, 3)).sum().backward()
        opt2.step()
        return {"w": fresh.weight.detach(), "buf": opt2.state_dict()["state"][0]["momentum_buffer"],
                "extras": [ck["epoch"], ck["history"], ck["name"], ck["best"]]}

    t, e = both(script, tmp_path / "ck.pt")
    compare_tree(t, e)


def test_checkpoint_written_by_torch_loads_in_ember(tmp_path):
    torch.manual_seed(0)
    tm = torch.nn.Linear(3, 2)
    torch.save({"model": tm.state_dict(), "epoch": 1}, tmp_path / "t.pt")
    ck = ember.load(tmp_path / "t.pt")
    em = ember.nn.Linear(3, 2)
    em.load_state_dict(ck["model"])
    close(em.weight, tm.weight)
    assert ck["epoch"] == 1


# ----------------------------------------------------------------------------------------------
# 8. Gradient accumulation with clip_grad_norm_ and OneCycleLR
# ----------------------------------------------------------------------------------------------
def accumulation_script(m, build):
    nn = m.nn
    model = build(lambda m: nn.Sequential(nn.Linear(6, 10), nn.GELU(), nn.LayerNorm(10), nn.Linear(10, 1)))
    opt = m.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, nesterov=True)
    accum = 2
    total = 8
    sched = m.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.05, total_steps=total // accum, pct_start=0.3)
    rng = np.random.default_rng(5)
    X = m.tensor(rng.standard_normal((total, 4, 6)), dtype=m.float32)
    Y = m.tensor(rng.standard_normal((total, 4, 1)), dtype=m.float32)
    lrs, norms, losses = [], [], []
    opt.zero_grad()
    for i in range(total):
        loss = nn.functional.mse_loss(model(X[i]), Y[i]) / accum
        loss.backward()
        losses.append(loss.item())
        if (i + 1) % accum == 0:
            norm = nn.utils.clip_grad_norm_(model.parameters(), max_norm=0.5)
            norms.append(norm)
            opt.step()
            sched.step()
            opt.zero_grad()
            lrs.append(sched.get_last_lr()[0])
    mom = opt.param_groups[0]["momentum"]
    return {"lrs": lrs, "norms": m.stack(norms), "losses": losses, "mom": mom,
            "initial_lr": opt.param_groups[0]["initial_lr"]}


def test_grad_accumulation_onecycle():
    t, e = both(accumulation_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 9. Policy gradient with Categorical (log_prob, entropy), gather of log-probs
# ----------------------------------------------------------------------------------------------
def policy_script(m, build):
    nn, F = m.nn, m.nn.functional
    from_dist = m.distributions
    policy = build(lambda m: nn.Sequential(nn.Linear(4, 32), nn.Tanh(), nn.Linear(32, 3)))
    opt = m.optim.Adam(policy.parameters(), lr=1e-2)
    rng = np.random.default_rng(6)
    states = m.tensor(rng.standard_normal((10, 4)).astype(np.float32))
    actions = m.tensor(rng.integers(0, 3, 10))
    rewards = [float(r) for r in rng.standard_normal(10)]
    # discounted returns, normalised (REINFORCE)
    R, returns = 0.0, []
    for r in reversed(rewards):
        R = r + 0.99 * R
        returns.insert(0, R)
    returns = m.tensor(returns)
    returns = (returns - returns.mean()) / (returns.std() + 1e-8)
    out = {}
    for step in range(2):
        logits = policy(states)
        dist = from_dist.Categorical(logits=logits)
        logp = dist.log_prob(actions)
        logp2 = F.log_softmax(logits, dim=-1).gather(1, actions.unsqueeze(1)).squeeze(1)
        loss = -(logp * returns).sum() - 0.01 * dist.entropy().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        out[f"loss{step}"] = loss.item()
    out["logp"] = logp.detach()
    out["logp2"] = logp2.detach()
    out["probs"] = dist.probs.detach()
    s = dist.sample()
    out["sample"] = (tuple(s.shape), str(s.dtype).split(".")[-1], bool(((s >= 0) & (s < 3)).all()))
    s2 = from_dist.Categorical(probs=m.tensor([0.2, 0.8])).sample((5,))
    out["sample2"] = tuple(s2.shape)
    n = from_dist.Normal(m.zeros(3), m.ones(3))
    out["normal_lp"] = n.log_prob(m.tensor([0.0, 1.0, -2.0]))
    out["kl"] = from_dist.kl_divergence(from_dist.Categorical(logits=logits.detach()[:2]),
                                        from_dist.Categorical(logits=m.zeros(2, 3)))
    return out


def test_policy_gradient():
    t, e = both(policy_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 10. model.apply init + CNN BatchNorm2d/Dropout2d/AdaptiveAvgPool2d train then eval
# ----------------------------------------------------------------------------------------------
class _Arrays:
    pass


def cnn_script(m, build):
    nn = m.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.features = nn.Sequential(
                nn.Conv2d(3, 8, 3, padding=1, bias=False), nn.BatchNorm2d(8), nn.ReLU(inplace=True),
                nn.MaxPool2d(2), nn.Dropout2d(0.0),
                nn.Conv2d(8, 16, 3, stride=2, padding="valid" if False else 1), nn.BatchNorm2d(16), nn.ReLU(),
                nn.AdaptiveAvgPool2d((1, 1)))
            self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(0.0), nn.Linear(16, 5))

        def forward(self, x):
            return self.classifier(self.features(x))

    def init_weights(mod):
        if isinstance(mod, nn.Conv2d):
            nn.init.kaiming_normal_(mod.weight, mode="fan_out", nonlinearity="relu")
            if mod.bias is not None:
                nn.init.zeros_(mod.bias)
        elif isinstance(mod, (nn.BatchNorm2d, nn.GroupNorm)):
            nn.init.constant_(mod.weight, 1)
            nn.init.constant_(mod.bias, 0)
        elif isinstance(mod, nn.Linear):
            nn.init.normal_(mod.weight, 0, 0.01)
            nn.init.zeros_(mod.bias)

    def make(m):
        net = Net()
        net.apply(init_weights)
        return net

    net = build(make)
    # ember-side invariants of the init itself
    conv_std = float(net.features[0].weight.detach().std())
    rng = np.random.default_rng(7)
    x = m.tensor(rng.standard_normal((4, 3, 8, 8)).astype(np.float32))
    y = m.tensor([0, 1, 2, 3])
    opt = m.optim.SGD(net.parameters(), lr=0.05, weight_decay=5e-4)
    net.train()
    losses = []
    for _ in range(3):
        loss = nn.functional.cross_entropy(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    net.eval()
    with m.no_grad():
        out_eval = net(x)
    with m.inference_mode():
        out_inf = net(x)
    correct = (out_eval.argmax(1) == y).sum().item()
    bn = net.features[1]
    return {"losses": losses, "eval": out_eval, "inf_eq": bool(m.equal(out_eval, out_inf)),
            "requires_grad": out_eval.requires_grad, "rm": bn.running_mean, "rv": bn.running_var,
            "nbt": bn.num_batches_tracked, "correct": correct, "inf_rg": out_inf.requires_grad,
            "training": [mod.training for mod in net.modules()][:3], "conv_std_ok": 0.1 < conv_std < 0.5}


def test_cnn_bn_eval():
    t, e = both(cnn_script)
    compare_tree(t, e)


def test_inference_mode_tensors_are_inference():
    with ember.inference_mode():
        y = ember.ones(2) * 2
    assert y.is_inference()

    @ember.inference_mode()
    def predict(x):
        return x * 2

    assert predict(ember.ones(2)).is_inference()
    assert not ember.ones(2).is_inference()


# ----------------------------------------------------------------------------------------------
# 11. Multi-head attention with need_weights / average_attn_weights / masks; einsum attention
# ----------------------------------------------------------------------------------------------
def mha_script(m, build):
    nn, F = m.nn, m.nn.functional
    mha = build(lambda m: nn.MultiheadAttention(embed_dim=8, num_heads=2, batch_first=True))
    rng = np.random.default_rng(8)
    q = m.tensor(rng.standard_normal((2, 3, 8)).astype(np.float32), requires_grad=True)
    kv = m.tensor(rng.standard_normal((2, 5, 8)).astype(np.float32))
    kpm = m.tensor([[False, False, False, True, True], [False] * 5])
    out, w = mha(q, kv, kv, key_padding_mask=kpm, need_weights=True)
    out2, w2 = mha(q, kv, kv, key_padding_mask=kpm, average_attn_weights=False)
    out3, w3 = mha(q, kv, kv, need_weights=False)
    attn_mask = m.triu(m.ones(3, 3, dtype=m.bool), diagonal=1)
    out4, w4 = mha(q, q, q, attn_mask=attn_mask)
    (out.sum() + out4.pow(2).sum()).backward()
    # einsum attention, written by hand
    Q = m.tensor(rng.standard_normal((2, 4, 3, 6)).astype(np.float32))
    K = m.tensor(rng.standard_normal((2, 4, 5, 6)).astype(np.float32))
    V = m.tensor(rng.standard_normal((2, 4, 5, 6)).astype(np.float32))
    scores = m.einsum("bhqd,bhkd->bhqk", Q, K) / (Q.shape[-1] ** 0.5)
    scores = scores.masked_fill(kpm[:, None, None, :], float("-inf"))
    attn = scores.softmax(dim=-1)
    ctx = m.einsum("bhqk,bhkd->bhqd", attn, V)
    sdpa = F.scaled_dot_product_attention(Q, K, V, attn_mask=~kpm[:, None, None, :])
    causal = F.scaled_dot_product_attention(Q, Q, Q, is_causal=True)
    merged = ctx.transpose(1, 2).contiguous().view(2, 3, -1)
    return {"out": out, "w": w, "w2": w2, "w3": w3, "out3": out3, "w4": w4, "qgrad": q.grad,
            "ipw_grad": mha.in_proj_weight.grad, "ctx": ctx, "sdpa": sdpa, "causal": causal, "merged": merged}


def test_mha_and_einsum_attention():
    t, e = both(mha_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 12. ResNet-style block (stride/channel change shortcut), weight tying, param groups
# ----------------------------------------------------------------------------------------------
def resnet_tying_script(m, build):
    nn, F = m.nn, m.nn.functional

    class BasicBlock(nn.Module):
        expansion = 1

        def __init__(self, in_planes, planes, stride=1):
            super().__init__()
            self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(planes)
            self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(planes)
            self.shortcut = nn.Sequential()
            if stride != 1 or in_planes != planes:
                self.shortcut = nn.Sequential(nn.Conv2d(in_planes, planes, 1, stride=stride, bias=False),
                                              nn.BatchNorm2d(planes))

        def forward(self, x):
            out = F.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            out += self.shortcut(x)
            return F.relu(out)

    class TiedLM(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Embedding(10, 6)
            self.rnn = nn.GRU(6, 6, batch_first=True)
            self.decoder = nn.Linear(6, 10)
            self.decoder.weight = self.encoder.weight

        def forward(self, x, h=None):
            out, h = self.rnn(self.encoder(x), h)
            return self.decoder(out), h

    block = build(lambda m: nn.Sequential(BasicBlock(3, 4), BasicBlock(4, 8, stride=2)))
    lm = build(lambda m: TiedLM())
    decay, no_decay = [], []
    for name, p in list(block.named_parameters()) + list(lm.named_parameters()):
        (no_decay if p.ndim == 1 or "bn" in name else decay).append(p)
    opt = m.optim.AdamW([{"params": decay, "weight_decay": 0.1},
                         {"params": no_decay, "weight_decay": 0.0, "lr": 3e-3}], lr=1e-3)
    rng = np.random.default_rng(9)
    x = m.tensor(rng.standard_normal((2, 3, 8, 8)).astype(np.float32))
    tok = m.tensor(rng.integers(0, 10, (2, 5)))
    losses = []
    for _ in range(3):
        logits, h = lm(tok[:, :-1])
        loss = F.cross_entropy(logits.transpose(1, 2), tok[:, 1:]) + block(x).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return {"losses": losses, "n_lm_params": len(list(lm.parameters())),
            "tied": lm.decoder.weight is lm.encoder.weight, "sd_keys": list(lm.state_dict().keys()),
            "groups": [len(g["params"]) for g in opt.param_groups], "lrs": [g["lr"] for g in opt.param_groups],
            "block_out_shape": tuple(block(x).shape), "h": h.detach(),
            "n_named_buffers": len(list(block.named_buffers()))}


def test_resnet_block_tying_param_groups():
    t, e = both(resnet_tying_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 13. register_buffer, state_dict round trips, persistent=False, manual_seed reproducibility
# ----------------------------------------------------------------------------------------------
def buffers_script(m):
    nn = m.nn

    class Normalizer(nn.Module):
        def __init__(self, n):
            super().__init__()
            self.register_buffer("mean", m.zeros(n))
            self.register_buffer("count", m.tensor(0, dtype=m.long))
            self.register_buffer("scratch", m.ones(n), persistent=False)
            self.lin = nn.Linear(n, n)

        def forward(self, x):
            if self.training:
                with m.no_grad():
                    self.count += 1
                    self.mean.mul_(0.9).add_(x.mean(0), alpha=0.1)
            return self.lin(x - self.mean)

    m.manual_seed(123)
    a = Normalizer(3)
    w1 = a.lin.weight.detach().clone()
    r1 = m.rand(4)
    m.manual_seed(123)
    b = Normalizer(3)
    r2 = m.rand(4)
    same_init = bool(m.equal(w1, b.lin.weight)) and bool(m.equal(r1, r2))
    x = m.arange(12, dtype=m.float32).view(4, 3)
    a(x)
    a(x)
    sd = a.state_dict()
    keys = list(sd.keys())
    buf = io.BytesIO()
    m.save(sd, buf)
    buf.seek(0)
    loaded = m.load(buf)
    b.load_state_dict(loaded)
    b.eval()
    a.eval()
    out_equal = bool(m.equal(a(x), b(x)))
    res = b.load_state_dict({k: v for k, v in loaded.items() if k != "count"}, strict=False)
    with pytest.raises(RuntimeError):
        b.load_state_dict({k: v for k, v in loaded.items() if k != "count"})
    half = Normalizer(3).half()
    double = Normalizer(3).to(m.float64)
    st = m.get_rng_state()
    u1 = m.randn(3)
    m.set_rng_state(st)
    u2 = m.randn(3)
    return {"keys": keys, "same_init": same_init, "count": int(a.count), "mean": a.mean.tolist(),
            "out_equal": out_equal, "missing": list(res.missing_keys), "unexpected": list(res.unexpected_keys),
            "half": [str(half.mean.dtype).split(".")[-1], str(half.count.dtype).split(".")[-1], str(half.lin.weight.dtype).split(".")[-1]],
            "double": str(double.scratch.dtype).split(".")[-1],
            "buffers": [n for n, _ in a.named_buffers()], "rng_restore": bool(m.equal(u1, u2)),
            "sd_detached": all(not v.requires_grad for v in sd.values()),
            "keepvars": m.nn.Linear(2, 2).state_dict(keep_vars=True)["weight"].requires_grad}


def test_buffers_state_dict_seed():
    t = buffers_script(torch)
    e = buffers_script(ember)
    np.testing.assert_allclose(e.pop("mean"), t.pop("mean"), rtol=1e-6)
    assert t == e


# ----------------------------------------------------------------------------------------------
# 14. torch.compile(model) should just run; functional_call-free training step under compile
# ----------------------------------------------------------------------------------------------
def compile_script(m, build):
    nn = m.nn
    compile = m.compile if m is ember else (lambda f: f)
    model = build(lambda m: nn.Sequential(nn.Linear(4, 8), nn.SiLU(), nn.Linear(8, 2)))
    cmodel = compile(model)
    opt = m.optim.Adam(cmodel.parameters(), lr=1e-2)
    x = m.linspace(-1, 1, 12).view(3, 4)
    y = m.tensor([0, 1, 1])
    losses = []
    for _ in range(3):
        loss = nn.functional.cross_entropy(cmodel(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())

    @compile
    def fn(a, b):
        return m.sin(a) + m.cos(b)

    c = fn(x, x)
    keys = list(cmodel.state_dict().keys())
    return {"losses": losses, "c": c, "keys": keys, "same_out": bool(m.allclose(model(x), cmodel(x))),
            "params_shared": all(a is b for a, b in zip(model.parameters(), cmodel.parameters()))}


def test_torch_compile_runs():
    # torch.compile itself (dynamo + inductor) takes >10 s on CPU: the reference runs eagerly, with
    # the state_dict keys torch.compile would give (prefixed by _orig_mod.)
    t, e = both(compile_script)
    e2 = dict(e)
    e2["keys"] = [k.replace("_orig_mod.", "") for k in e["keys"]]
    compare_tree(t, e2)
    assert all(k.startswith("_orig_mod.") for k in e["keys"]), e["keys"]
    cm = ember.compile(ember.nn.Linear(2, 2))
    assert isinstance(cm, ember.nn.Module) and hasattr(cm, "_orig_mod")


# ----------------------------------------------------------------------------------------------
# 15. Indexing / scatter in losses: gather, scatter_, index_add_, one_hot, masked_select, topk
# ----------------------------------------------------------------------------------------------
def indexing_script(m, build):
    nn, F = m.nn, m.nn.functional
    net = build(lambda m: nn.Linear(5, 4))
    rng = np.random.default_rng(10)
    x = m.tensor(rng.standard_normal((6, 5)).astype(np.float32))
    actions = m.tensor(rng.integers(0, 4, 6))
    target_q = m.tensor(rng.standard_normal(6).astype(np.float32))
    done = m.tensor([0, 1, 0, 0, 1, 0], dtype=m.bool)
    q = net(x)
    q_taken = q.gather(1, actions.unsqueeze(-1)).squeeze(-1)
    next_q = q.detach().max(1)[0]
    next_q[done] = 0.0
    tgt = target_q + 0.99 * next_q
    loss = F.smooth_l1_loss(q_taken, tgt)
    onehot = m.zeros(6, 4).scatter_(1, actions.view(-1, 1), 1.0)
    loss2 = -(onehot * F.log_softmax(q, -1)).sum(-1).mean()
    seg = m.zeros(3, 4).index_add_(0, m.tensor([0, 1, 0, 2, 2, 1]), q)
    seg_mean = m.zeros(3, 4).scatter_reduce(0, m.tensor([0, 1, 0, 2, 2, 1]).unsqueeze(1).expand(-1, 4), q, reduce="mean", include_self=False)
    (loss + loss2 + seg.sum() * 0.1 + seg_mean.sum() * 0.1).backward()
    topv, topi = q.topk(2, dim=1)
    sel = q.masked_select(q > 0)
    nz = (q > 0).nonzero(as_tuple=True)
    oh = F.one_hot(actions, num_classes=4)
    bool_rows = q[done]
    fancy = q[[0, 2, 4], [1, 2, 3]]
    q2 = q.detach().clone()
    q2[m.arange(6), actions] = -1.0
    q2[:, -1] += 5
    where = m.where(q > 0, q, m.zeros_like(q))
    return {"loss": loss, "loss2": loss2, "grad": net.weight.grad, "seg": seg.detach(), "seg_mean": seg_mean.detach(),
            "topv": topv.detach(), "topi": topi, "sel": sel.detach(), "nz0": nz[0], "nz1": nz[1], "oh": oh,
            "bool_rows": bool_rows.detach(), "fancy": fancy.detach(), "q2": q2, "where": where.detach(),
            "argmax_keep": q.argmax(dim=1, keepdim=True)}


def test_indexing_scatter_loss():
    t, e = both(indexing_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# 16. Tabular regression as many beginner tutorials write it: the model outputs (N, 1), the target
#     is (N,), and MSELoss broadcasts them to (N, N) -- torch warns and trains on that loss anyway
# ----------------------------------------------------------------------------------------------
def regression_script(m, build):
    import warnings

    nn = m.nn
    model = build(lambda m: nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)))
    rng = np.random.default_rng(11)
    X = m.tensor(rng.standard_normal((6, 3)).astype(np.float32))
    y = m.tensor((rng.standard_normal(6) + 2).astype(np.float32))  # shape (6,)
    opt = m.optim.SGD(model.parameters(), lr=0.01)
    criterion = nn.MSELoss()
    losses = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            opt.zero_grad()
            loss = criterion(model(X), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    return {"losses": losses}


def test_regression_fixed_shapes():
    """The same script with the target reshaped to (N, 1) (no broadcasting) agrees."""
    def script(m, build):
        nn = m.nn
        model = build(lambda m: nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 1)))
        rng = np.random.default_rng(11)
        X = m.tensor(rng.standard_normal((6, 3)).astype(np.float32))
        y = m.tensor((rng.standard_normal(6) + 2).astype(np.float32)).unsqueeze(1)
        opt = m.optim.SGD(model.parameters(), lr=0.01)
        losses = []
        for _ in range(3):
            opt.zero_grad()
            loss = nn.MSELoss()(model(X), y)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        return {"losses": losses, "pred": model(X).detach()}

    t, e = both(script)
    compare_tree(t, e)


def test_regression_broadcasting_target():
    """Deliberate: the doctor's target_shape check refuses the (N, 1) vs (N,) broadcast that
    torch only warns about; silenced, Ember gives torch's numbers."""
    with pytest.raises(ValueError, match="target_shape"):
        both(regression_script)
    with ember.doctor.silence("target_shape"):
        t, e = both(regression_script)
    compare_tree(t, e)


# ----------------------------------------------------------------------------------------------
# Warnings torch gives in the scripts above (users run tutorials with -W error or read them)
# ----------------------------------------------------------------------------------------------
def test_warning_scalar_of_requires_grad_tensor():
    p = ember.nn.Parameter(ember.ones(2))
    with pytest.warns(UserWarning, match="requires_grad=True to a scalar"):
        float(p.sum())


def test_warning_mha_mismatched_mask_types():
    a = ember.nn.MultiheadAttention(4, 1)
    x = ember.ones(3, 1, 4)
    with pytest.warns(UserWarning, match="mismatched key_padding_mask and attn_mask"):
        a(x, x, x, attn_mask=ember.zeros(3, 3), key_padding_mask=ember.zeros(1, 3, dtype=ember.bool))
