"""Runtime switches and module/tensor utilities that scripts call around the training loop:
inference_mode, set_grad_enabled, no_grad as a decorator, compile, seeds and generators,
RNG state round trips, thread settings, tensor hooks, module introspection and conversion,
deepcopy/pickle, and what print() shows."""

import copy
import io
import pickle

import torch
import torch.nn as nn


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(nn.Linear(3, 4), nn.ReLU())
        self.head = nn.Linear(4, 2)
        self.register_buffer("scale", torch.tensor(2.0))

    def forward(self, x):
        return self.head(self.body(x)) * self.scale

    def extra_repr(self):
        return "custom=True"


@torch.no_grad()
def evaluate(model, x):
    return model(x)


@torch.inference_mode()
def infer(model, x):
    return model(x)


def main(sync, workdir):
    out = {}
    torch.manual_seed(1234)
    torch.set_num_threads(torch.get_num_threads())
    torch.use_deterministic_algorithms(True, warn_only=True)
    out["deterministic"] = torch.are_deterministic_algorithms_enabled()
    torch.use_deterministic_algorithms(False)
    torch.backends.cudnn.benchmark = True
    torch.backends.cudnn.deterministic = True
    torch.set_float32_matmul_precision("high")
    out["matmul_precision"] = torch.get_float32_matmul_precision()
    torch.set_float32_matmul_precision("highest")
    out["cuda"] = [torch.cuda.is_available(), torch.cuda.device_count()]
    torch.cuda.manual_seed_all(0)

    # reproducibility inside one framework
    g = torch.Generator().manual_seed(7)
    a = torch.randn(3, generator=g)
    g.manual_seed(7)
    out["generator_repeat"] = torch.equal(a, torch.randn(3, generator=g))
    state = torch.get_rng_state()
    r1 = torch.rand(4)
    torch.set_rng_state(state)
    out["rng_state_repeat"] = torch.equal(r1, torch.rand(4))
    torch.manual_seed(3)
    p1 = torch.randperm(6)
    torch.manual_seed(3)
    out["seed_repeat"] = torch.equal(p1, torch.randperm(6))
    out["randint_range"] = bool(
        ((torch.randint(2, 5, (50,)) >= 2) & (torch.randint(2, 5, (50,)) < 5)).all()
    )
    out["random_shapes"] = [
        list(torch.rand(2, 3).shape),
        list(torch.randn_like(torch.zeros(4, 1)).shape),
        str(torch.randint(0, 3, (2,)).dtype),
    ]
    out["bernoulli"] = set(torch.bernoulli(torch.full((20,), 0.5)).tolist()) <= {0.0, 1.0}
    out["multinomial"] = torch.multinomial(torch.tensor([0.0, 1.0, 0.0]), 2, replacement=True)
    out["normal_"] = list(torch.empty(5).normal_(0, 1).shape) + list(
        torch.empty(2).uniform_(0, 1).shape
    )

    model = sync(Net())
    x = torch.tensor([[0.5, -1.0, 2.0], [1.0, 0.0, -0.5]])
    out["eval"] = evaluate(model, x)
    y = infer(model, x)
    out["inference"] = [y, y.requires_grad, torch.is_inference_mode_enabled()]
    with torch.no_grad():
        with torch.enable_grad():
            out["enable_inside_no_grad"] = model(x).requires_grad
    compiled = torch.compile(model)
    out["compiled"] = compiled(x)
    out["compile_mode"] = torch.compile(model, mode="reduce-overhead")(x)
    scripted = torch.jit.script(model) if hasattr(torch.jit, "script") else model
    out["scripted"] = scripted(x)
    traced = torch.jit.trace(model, x)
    out["traced"] = traced(x)

    # tensor hooks
    w = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    h = w.register_hook(lambda grad: grad * 10)
    (w * w).sum().backward()
    out["hooked_grad"] = w.grad
    h.remove()
    w.grad = None
    (w * w).sum().backward()
    out["unhooked_grad"] = w.grad
    seen = []
    p = torch.ones(2, requires_grad=True)
    p.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.clone()))
    (p * 3).sum().backward()
    out["post_accumulate"] = seen

    # module introspection
    out["named_params_norecurse"] = [n for n, _ in model.named_parameters(recurse=False)]
    out["submodule"] = type(model.get_submodule("body.0")).__name__
    out["get_parameter"] = model.get_parameter("head.bias")
    out["get_buffer"] = model.get_buffer("scale")
    model.add_module("extra", nn.Identity())
    model.register_module("extra2", nn.Dropout(0.1))
    out["children"] = [n for n, _ in model.named_children()]
    out["repr"] = repr(model)
    model.requires_grad_(False)
    out["frozen"] = [q.requires_grad for q in model.parameters()]
    model.train(False)
    out["training"] = [m.training for m in model.modules()]
    model.train()
    out["training_again"] = all(m.training for m in model.modules())
    out["double"] = [
        str(model.double().head.weight.dtype),
        str(model.float().head.weight.dtype),
        str(model.to(torch.float64).scale.dtype),
    ]
    model.float()
    model.half()
    out["half"] = [str(model.head.weight.dtype), str(model.scale.dtype)]
    model.float()
    clone = copy.deepcopy(model)
    out["deepcopy"] = [
        clone.head.weight is not model.head.weight,
        torch.equal(clone.head.weight, model.head.weight),
    ]
    restored = pickle.loads(pickle.dumps(model))
    out["pickle"] = torch.equal(restored.head.bias, model.head.bias)
    buffer = io.BytesIO()
    torch.save(model, buffer)
    buffer.seek(0)
    whole = torch.load(buffer, weights_only=False)
    out["whole_model"] = [type(whole).__name__, torch.equal(whole.head.bias, model.head.bias)]
    out["zero_grad"] = [q.grad for q in model.parameters()]

    # what print() shows
    out["prints"] = [
        repr(torch.tensor([1.0, 2.5, -3.0])),
        repr(torch.tensor([[1, 2], [3, 4]])),
        repr(torch.tensor(3.14159)),
        repr(torch.tensor([True, False])),
        repr(torch.zeros(2, 2, dtype=torch.float64)),
        repr(torch.tensor([1e-8, 1.0])),
        repr(torch.tensor([1e10, 1.0])),
        repr(torch.arange(1200.0)),
        repr(torch.tensor([1.5], requires_grad=True)),
        repr(torch.tensor([[0.1234567, 100.0]])),
        repr(torch.tensor([float("nan"), float("inf"), -1.0])),
        repr(torch.tensor([], dtype=torch.long)),
        repr(torch.tensor([1, 2], dtype=torch.int32)),
        repr(torch.ones(2, requires_grad=True) * 2),
        str(torch.Size([2, 3])),
        repr(torch.tensor([2.0]).half()),
        f"{torch.tensor(0.5):.3f}",
        f"{torch.tensor(2).item():d}",
        str(torch.float32),
        str(torch.device("cpu")),
    ]
    torch.set_printoptions(precision=2)
    out["printoptions"] = repr(torch.tensor([1.23456, 2.0]))
    torch.set_printoptions(profile="default")
    return out
