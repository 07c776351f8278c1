"""ember.summary and `ember summary`: parameter totals, MACs by hand and from torch's output
shapes, receptive fields by hand and measured in torch by backpropagation, output shapes,
memory, modes left as they were, input handling, errors, the table and the command line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import torch

import ember
import ember.models
from ember import cli, nn
from ember.summary import ModelSummary
from ember.summary.zoo import default_input_size, model_constructors


def lenet_like(m: object) -> object:
    """A LeNet-like net written once for torch and Ember (m is `torch` or `ember`), with a
    grouped and a depthwise convolution and a BatchNorm."""
    return m.nn.Sequential(
        m.nn.Conv2d(1, 6, 5, padding=2),              # 0: (B, 6, 28, 28)
        m.nn.ReLU(),                                  # 1
        m.nn.MaxPool2d(2),                            # 2: (B, 6, 14, 14)
        m.nn.Conv2d(6, 16, 5),                        # 3: (B, 16, 10, 10)
        m.nn.BatchNorm2d(16),                         # 4
        m.nn.ReLU(),                                  # 5
        m.nn.MaxPool2d(2),                            # 6: (B, 16, 5, 5)
        m.nn.Conv2d(16, 16, 3, padding=1, groups=4),  # 7: grouped
        m.nn.Conv2d(16, 16, 3, padding=1, groups=16),  # 8: depthwise
        m.nn.Flatten(),                               # 9: (B, 400)
        m.nn.Linear(400, 120),                        # 10
        m.nn.ReLU(),                                  # 11
        m.nn.Linear(120, 10),                         # 12
    )


def quiet(model: nn.Module, *args: object, **kwargs: object) -> ModelSummary:
    return ember.summary(model, *args, verbose=False, **kwargs)


def cells(table: str, name: str) -> list:
    """The cells of the table row whose name column contains `name` (columns are separated
    by two or more spaces)."""
    line = next(line for line in table.splitlines() if name in line)
    return re.split(r"\s{2,}", line.strip())


# --------------------------------------------------------------------------- parameters
class SharedAndFrozen(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)       # called twice: counted once
        self.bn = nn.BatchNorm1d(4)      # running statistics are buffers, not parameters
        self.frozen = nn.Linear(4, 3)
        self.frozen.requires_grad_(False)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        return self.frozen(self.bn(self.lin(self.lin(x))))


def test_parameter_totals_equal_the_sum_of_numel() -> None:
    model = SharedAndFrozen()
    s = quiet(model, (4,), batch_size=2)
    assert s.total_params == sum(p.numel() for p in model.parameters()) == 20 + 8 + 15
    assert s.trainable_params == 28 and s.non_trainable_params == 15
    calls = [r for r in s.layers if r.path == "lin"]
    assert [r.is_recursive for r in calls] == [False, True]
    assert "(recursive)" in str(s)
    lenet = lenet_like(ember)
    assert quiet(lenet, (1, 28, 28)).total_params == sum(p.numel() for p in lenet.parameters())


# --------------------------------------------------------------------------- MACs
def test_macs_per_layer_match_the_formulas_on_torch_output_shapes() -> None:
    model, reference = lenet_like(ember), lenet_like(torch)
    s = quiet(model, (1, 28, 28), batch_size=2)
    x = torch.rand(2, 1, 28, 28)
    for i, layer in enumerate(reference):
        y = layer(x)
        if isinstance(layer, torch.nn.Conv2d):
            expected = y.numel() * layer.in_channels // layer.groups * math_prod(layer.kernel_size)
        elif isinstance(layer, torch.nn.Linear):
            expected = y.numel() * layer.in_features
        elif isinstance(layer, torch.nn.BatchNorm2d):
            expected = y.numel()
        else:
            expected = 0
        assert s[str(i)].macs == expected, f"layer {i} ({type(layer).__name__})"
        x = y
    # and by hand, at batch 2
    assert s["0"].macs == 2 * 6 * 28 * 28 * (1 * 5 * 5) == 235_200
    assert s["3"].macs == 2 * 16 * 10 * 10 * (6 * 5 * 5) == 480_000
    assert s["7"].macs == 2 * 16 * 5 * 5 * (16 // 4 * 3 * 3) == 28_800
    assert s["8"].macs == 2 * 16 * 5 * 5 * (1 * 3 * 3) == 7_200
    assert s["10"].macs == 2 * 120 * 400 and s["12"].macs == 2 * 10 * 120
    assert s.total_macs == sum(r.macs for r in s.layers)


def math_prod(values: tuple) -> int:
    out = 1
    for v in values:
        out *= v
    return out


def test_macs_of_conv1d_transposed_bilinear_and_3d_linear() -> None:
    s = quiet(nn.Conv1d(3, 4, 5), (3, 20))  # out (1, 4, 16): each output reads 3 x 5
    assert s[""].macs == 4 * 16 * 3 * 5
    # transposed: every input element is scattered through out/groups x kernel weights
    s = quiet(nn.ConvTranspose2d(4, 2, 3, stride=2, groups=2), (4, 5, 5))
    assert s[""].macs == (4 * 5 * 5) * (2 // 2) * 3 * 3
    s = quiet(nn.Bilinear(3, 4, 5), [(3,), (4,)], batch_size=2)
    assert s[""].macs == 2 * 5 * 3 * 4
    s = quiet(nn.Linear(8, 6), (7, 8), batch_size=2)  # (B, T, F): per output element F MACs
    assert s[""].macs == 2 * 7 * 6 * 8


# --------------------------------------------------------------------------- receptive fields
def build(spec: list, m: object) -> object:
    """A single-channel stack from (kind, kwargs); in torch (the oracle) every weight is 1 and
    max pooling is average pooling, so every input in a window gets a nonzero gradient."""
    layers = []
    for kind, kw in spec:
        if kind == "conv":
            layers.append(m.nn.Conv2d(1, 1, bias=False, **kw))
        elif kind == "convT":
            layers.append(m.nn.ConvTranspose2d(1, 1, bias=False, **kw))
        elif kind == "pool":
            layers.append(m.nn.AvgPool2d(**kw) if m is torch else m.nn.MaxPool2d(**kw))
        elif kind == "adaptive":
            layers.append(m.nn.AdaptiveAvgPool2d(**kw))
    net = m.nn.Sequential(*layers)
    if m is torch:
        for p in net.parameters():
            torch.nn.init.ones_(p)
    return net


def measured_field(net: torch.nn.Module, size: int, offsets: int = 1) -> tuple:
    """(rf, jump) per dim measured by backpropagation: the extent of the input pixels with a
    nonzero gradient for output positions near the centre (the largest over `offsets` x
    `offsets` of them), and how far that window moves between neighbouring outputs. Each
    position gets its own batch element, so one backward pass measures them all."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # single-channel convs: threads only add overhead (40x here)
    try:
        with torch.no_grad():
            height, width = net(torch.ones(1, 1, size, size)).shape[2:]
        ci, cj = (height - 1) // 2, (width - 1) // 2
        positions = [(ci + a, cj + b) for a in range(offsets) for b in range(offsets)]
        positions += [(ci + 1, cj), (ci, cj + 1)]  # the neighbours below and to the right
        x = torch.ones(len(positions), 1, size, size, requires_grad=True)
        y = net(x)
        picked = torch.stack([y[n, 0, i, j] for n, (i, j) in enumerate(positions)])
        (grad,) = torch.autograd.grad(picked.sum(), x)
    finally:
        torch.set_num_threads(threads)
    windows = []
    for g in grad[:, 0].abs():
        rows, cols = g.sum(1).nonzero().flatten(), g.sum(0).nonzero().flatten()
        windows.append((int(rows[0]), int(rows[-1]), int(cols[0]), int(cols[-1])))
    rf = (max(w[1] - w[0] + 1 for w in windows[:-2]), max(w[3] - w[2] + 1 for w in windows[:-2]))
    here, down, right = windows[0], windows[-2], windows[-1]
    return rf, (down[0] - here[0], right[2] - here[2])


VGG = [("conv", dict(kernel_size=3, padding=1)), ("conv", dict(kernel_size=3, padding=1)),
       ("pool", dict(kernel_size=2, stride=2)),
       ("conv", dict(kernel_size=3, padding=1)), ("conv", dict(kernel_size=3, padding=1)),
       ("pool", dict(kernel_size=2, stride=2))]
ALEXNET = [("conv", dict(kernel_size=11, stride=4, padding=2)),
           ("pool", dict(kernel_size=3, stride=2)),
           ("conv", dict(kernel_size=5, padding=2)), ("pool", dict(kernel_size=3, stride=2)),
           ("conv", dict(kernel_size=3, padding=1)), ("conv", dict(kernel_size=3, padding=1)),
           ("conv", dict(kernel_size=3, padding=1)), ("pool", dict(kernel_size=3, stride=2))]
STACKS = {  # name: (spec, input size, expected (rf, jump) after each layer, by hand)
    "three 3x3": ([("conv", dict(kernel_size=3, padding=1))] * 3, 32,
                  [(3, 1), (5, 1), (7, 1)]),
    "vgg": (VGG, 64, [(3, 1), (5, 1), (6, 2), (10, 2), (14, 2), (16, 4)]),
    "dilated": ([("conv", dict(kernel_size=3, stride=2, padding=1)),
                 ("conv", dict(kernel_size=3, padding=2, dilation=2)),
                 ("conv", dict(kernel_size=3, padding=3, dilation=3))], 96,
                [(3, 2), (3 + 2 * 2 * 2, 2), (11 + 3 * 2 * 2, 2)]),
    "alexnet": (ALEXNET, 260, [(11, 4), (19, 8), (51, 8), (67, 16), (99, 16), (131, 16),
                               (163, 16), (195, 32)]),
    "non-square": ([("conv", dict(kernel_size=(3, 5), stride=(1, 2), padding=(1, 2))),
                    ("pool", dict(kernel_size=(2, 3), stride=(2, 3)))], 64,
                   [((3, 5), (1, 2)), ((4, 9), (2, 6))]),
    "adaptive": ([("conv", dict(kernel_size=3)), ("adaptive", dict(output_size=2))], 10,
                 [(3, 1), (6, 4)]),
}


@pytest.mark.parametrize("name", list(STACKS))
def test_receptive_field_and_jump_by_hand_and_measured_in_torch(name: str) -> None:
    spec, size, expected = STACKS[name]
    s = quiet(build(spec, ember), (1, size, size))
    for i, (rf, jump) in enumerate(expected):
        rf2, jump2 = (rf, jump) if isinstance(rf, tuple) else ((rf, rf), (jump, jump))
        row = s[str(i)]
        assert (row.receptive_field, row.jump) == (rf2, jump2), f"layer {i}"
        oracle = measured_field(build(spec[: i + 1], torch), size)
        assert oracle == (rf2, jump2), f"the hand value of layer {i} is wrong"
    shown = [v if isinstance(v, int) else "x".join(map(str, v)) for v in expected[-1]]
    assert cells(str(s), f"─{len(spec) - 1} (")[-2:] == [str(v) for v in shown]


def test_transposed_convolution_field_measured_in_torch() -> None:
    spec = [("conv", dict(kernel_size=3, stride=2, padding=1)),
            ("convT", dict(kernel_size=3, stride=2, padding=1, output_padding=1)),
            ("convT", dict(kernel_size=4, stride=2, padding=1))]
    s = quiet(build(spec, ember), (1, 32, 32))
    assert s["1"].jump == (1, 1) and s["2"].jump == (0.5, 0.5)
    # exact for the first transposed conv after regular ones: (3 + 1 x 2) ...
    rf, _ = measured_field(build(spec[:2], torch), 32, offsets=4)
    assert s["1"].receptive_field == rf == (5, 5)
    # ... then an upper bound: the outputs of a transposed conv are not all alike (here every
    # other one sees 3 pixels, not 5), which the per-layer arithmetic cannot know
    rf, _ = measured_field(build(spec, torch), 32, offsets=4)
    assert s["2"].receptive_field == (6, 6) and rf == (5, 5)


def residual_layers(m: object, stride: int) -> dict:
    """A stem, a ResNet block whose shortcut conv runs after the main path, a head."""
    return dict(stem=m.nn.Conv2d(1, 1, 3, padding=1, bias=False),
                conv1=m.nn.Conv2d(1, 1, 3, stride=stride, padding=1, bias=False),
                conv2=m.nn.Conv2d(1, 1, 3, padding=1, bias=False),
                down=m.nn.Conv2d(1, 1, 1, stride=stride, bias=False),
                head=m.nn.Conv2d(1, 1, 3, padding=1, bias=False))


def residual_forward(self: object, x: object) -> object:
    x = self.stem(x)
    out = self.conv2(self.conv1(x))
    return self.head(out + self.down(x))  # `+` is a function: its result is no layer's


class Residual(nn.Module):
    def __init__(self, stride: int) -> None:
        super().__init__()
        for name, layer in residual_layers(ember, stride).items():
            setattr(self, name, layer)

    forward = residual_forward


class TorchResidual(torch.nn.Module):
    def __init__(self, stride: int) -> None:
        super().__init__()
        for name, layer in residual_layers(torch, stride).items():
            torch.nn.init.ones_(layer.weight)
            setattr(self, name, layer)

    forward = residual_forward


@pytest.mark.parametrize("stride,expected", [
    (1, {"stem": (3, 1), "conv1": (5, 1), "conv2": (7, 1), "down": (3, 1), "head": (9, 1)}),
    (2, {"stem": (3, 1), "conv1": (5, 2), "conv2": (9, 2), "down": (3, 2), "head": (13, 2)}),
])
def test_fields_follow_tensors_through_branches(stride: int, expected: dict) -> None:
    s = quiet(Residual(stride), (1, 32, 32))
    field = {r.path: (r.receptive_field[0], r.jump[0]) for r in s.layers[1:]}
    # the shortcut starts from the stem's output, not from conv2 (which ran just before it,
    # and with stride 1 has the stem's shape too); the sum takes the larger branch's field
    assert field == expected
    head = expected["head"]
    assert measured_field(TorchResidual(stride), 32) == ((head[0],) * 2, (head[1],) * 2)


class Gated(nn.Module):
    """Squeeze-and-excitation: a global gate multiplies the feature map."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, 4, 3, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Conv2d(4, 4, 1)
        self.head = nn.Conv2d(4, 2, 3, padding=1)
        self.flatten = nn.Flatten()
        self.classifier = nn.Linear(2 * 8 * 8, 3)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        y = self.conv(x)
        gated = y * self.fc(self.pool(y)).sigmoid()
        return self.classifier(self.flatten(self.head(gated)))


def test_global_pooling_and_flatten_see_the_whole_input() -> None:
    s = quiet(Gated(), (1, 8, 8))
    assert s["pool"].whole_input and s["fc"].whole_input and s["pool"].receptive_field is None
    # the gated map is y's shape: it keeps y's local field (see the docstring's convention)
    assert s["head"].receptive_field == (5, 5) and not s["head"].whole_input
    assert s["flatten"].whole_input and s["classifier"].whole_input
    assert cells(str(s), "classifier (Linear)")[-2:] == ["whole", "--"]
    assert cells(str(s), "head (Conv2d)")[-2:] == ["5", "1"]


# --------------------------------------------------------------------------- shapes, memory
def test_output_shapes_equal_the_actual_outputs() -> None:
    model, reference = lenet_like(ember).eval(), lenet_like(torch).eval()
    s = quiet(model, (1, 28, 28), batch_size=3)
    x, xt = ember.rand(3, 1, 28, 28), torch.rand(3, 1, 28, 28)
    for i, (layer, layer_t) in enumerate(zip(model, reference, strict=True)):
        x, xt = layer(x), layer_t(xt)
        assert s[str(i)].output_shape == tuple(x.shape) == tuple(xt.shape), f"layer {i}"
    assert s[""].output_shape == (3, 10) and s[""].input_shapes == [(3, 1, 28, 28)]


def test_memory_totals() -> None:
    model = lenet_like(ember)
    s = quiet(model, (1, 28, 28), batch_size=2)
    leaves_with_params = [r for r in s.layers if r.is_leaf and r.num_params]
    assert [r.path for r in leaves_with_params] == ["0", "3", "4", "7", "8", "10", "12"]
    activations = sum(math_prod(r.output_shape) for r in leaves_with_params)
    assert s.input_bytes == 2 * 28 * 28 * 4
    assert s.forward_backward_bytes == 2 * 4 * activations  # x2: activation and gradient
    assert s.params_bytes == 4 * s.total_params
    assert s.total_bytes == s.input_bytes + s.forward_backward_bytes + s.params_bytes
    assert s.estimated_total_size_mb == pytest.approx(s.total_bytes / 1e6)
    s64 = quiet(model.double(), (1, 28, 28), batch_size=2, dtypes=[ember.float64])
    assert s64.params_bytes == 8 * s.total_params and s64.input_bytes == 2 * s.input_bytes


def test_resnet18_matches_torchinfos_published_numbers() -> None:
    if "resnet18" not in model_constructors():
        pytest.skip("ember.models has no resnet18 yet")
    s = quiet(ember.models.resnet18(), (3, 224, 224), mode="eval", depth=1)
    assert s.total_params == 11_689_512
    assert [round(v, 2) for v in (s.input_size_mb, s.forward_backward_pass_size_mb,
                                  s.params_size_mb, s.estimated_total_size_mb)] == \
        [0.60, 39.75, 46.76, 87.11]
    conv = sum(r.macs for r in s.layers if r.kind == "conv")
    assert round(conv / 1e9, 2) == 1.81  # the paper's 1.8 GFLOPs (multiply-adds)
    assert s["layer4"].receptive_field == (435, 435) and s["layer4"].jump == (32, 32)


# --------------------------------------------------------------------------- modes and state
class Probe(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list = []
        self.bn = nn.BatchNorm1d(4)
        self.drop = nn.Dropout(0.5)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        self.seen.append(self.training)
        return self.drop(self.bn(x))


def test_mode_is_kept_or_set_and_the_model_is_left_as_it_was() -> None:
    model = Probe()
    quiet(model, (4,), batch_size=8)  # default: the model's own (train) mode
    quiet(model, (4,), batch_size=8, mode="eval")
    model.eval()
    quiet(model, (4,), batch_size=8, mode="train")
    assert model.seen == [True, False, True]
    assert not model.training and not model.bn.training and not model.drop.training
    # train mode updated BatchNorm's statistics and Dropout drew numbers: both undone
    assert model.bn.running_mean.tolist() == [0.0] * 4
    assert model.bn.num_batches_tracked.item() == 0
    ember.manual_seed(1)
    expected = ember.rand(3).tolist()
    ember.manual_seed(1)
    quiet(model, (4,), batch_size=8, mode="train")
    assert ember.rand(3).tolist() == expected
    assert not model._forward_hooks and not model.bn._forward_pre_hooks


# --------------------------------------------------------------------------- inputs
def test_input_data_dtypes_and_several_inputs() -> None:
    model = lenet_like(ember)
    s = quiet(model, input_data=ember.rand(2, 1, 28, 28))
    assert s.input_shapes == [(2, 1, 28, 28)] and s[""].output_shape == (2, 10)
    embed = nn.Sequential(nn.Embedding(10, 4), nn.Flatten(), nn.Linear(12, 2))
    s = quiet(embed, (3,), dtypes=[ember.int64], batch_size=5)
    assert s["0"].output_shape == (5, 3, 4) and s[""].output_shape == (5, 2)
    s = quiet(nn.Bilinear(3, 4, 5), [(3,), (4,)], batch_size=2)
    assert s.input_shapes == [(2, 3), (2, 4)] and s.input_bytes == 2 * (3 + 4) * 4


@pytest.mark.parametrize("bad", [(3, -1, 28), (3, 2.5), "abc", (1, True), [(3, 4), 5], None])
def test_bad_input_size_arguments(bad: object) -> None:
    with pytest.raises(ValueError, match="input_size|exactly one"):
        quiet(lenet_like(ember), bad)


@pytest.mark.parametrize("kwargs,match", [(dict(col_names=["bogus"]), "col_names"),
                                          (dict(mode="test"), "mode"),
                                          (dict(depth=-1), "depth"),
                                          (dict(batch_size=0), "batch_size"),
                                          (dict(dtypes=[ember.float32] * 2), "dtypes")])
def test_bad_options(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        quiet(lenet_like(ember), (1, 28, 28), **kwargs)


def message(err: BaseException) -> str:
    return "\n".join([str(err), *getattr(err, "__notes__", [])])


def test_a_wrong_input_size_names_the_layer() -> None:
    model = nn.Sequential(nn.Flatten(), nn.Linear(784, 10))
    with pytest.raises(RuntimeError) as info:
        quiet(model, (1, 28, 27))
    assert "1 (Linear)" in message(info.value)
    assert not model[1]._forward_hooks  # hooks are removed after a failure too
    with pytest.raises(RuntimeError) as info:
        quiet(lenet_like(ember), (1, 8, 8))  # (B, 6, 4, 4) is too small for conv 3's 5x5
    assert "3 (Conv2d)" in message(info.value)


# --------------------------------------------------------------------------- the table
class Outer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.features = lenet_like(ember)

    def forward(self, x: ember.Tensor) -> ember.Tensor:
        return self.features(x)


def test_table_rows_totals_and_depth_folding(capsys: pytest.CaptureFixture) -> None:
    model = Outer()
    s = ember.summary(model, (1, 28, 28))
    printed = capsys.readouterr().out
    assert printed.strip() == str(s) == repr(s)
    assert cells(printed, "features.0 (Conv2d)")[1:] == ["[1, 6, 28, 28]", "156", "117,600",
                                                        "5", "1"]
    assert f"Total params: {s.total_params:,}" in printed
    assert f"Total MACs: {s.total_macs:,} ({s.total_macs / 1e6:.2f} M)" in printed
    assert "Forward/backward pass size (MB):" in printed
    folded = str(quiet(model, (1, 28, 28), depth=1))
    assert "features.0" not in folded
    subtree = s["features"]  # folded: its subtree's totals; its output is the Linear's
    assert cells(folded, "features (Sequential)")[1:] == [
        "[1, 10]", f"{subtree.num_params:,}", f"{subtree.subtree_macs:,}", "whole", "--"]
    assert subtree.subtree_macs == s.total_macs
    wide = str(quiet(model, (1, 28, 28), col_names=["input_size", "kernel_size", "trainable"]))
    header = cells(wide, "Layer (type)")
    assert header == ["Layer (type)", "Input Shape", "Kernel", "Trainable"]
    assert cells(wide, "features.0 (Conv2d)")[1:] == ["[1, 1, 28, 28]", "5", "True"]


# --------------------------------------------------------------------------- command line
def test_constructors_are_found_at_run_time() -> None:
    found = model_constructors()
    assert "mlp" in found and "MLP" not in found and "stochastic_depth" not in found
    assert default_input_size("mlp", found["mlp"]) == (1, 28, 28)
    if "lenet5" in found:
        assert default_input_size("lenet5", found["lenet5"]) == (1, 28, 28)
    for name in ("resnet20", "resnet18", "efficientnet_b3"):
        if name in found:
            assert default_input_size(name, found[name]) == {
                "resnet20": (3, 32, 32), "resnet18": (3, 224, 224),
                "efficientnet_b3": (3, 300, 300)}[name]


def test_cli_summary_mlp(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["summary", "mlp"]) == 0
    out = capsys.readouterr().out
    assert "net.1 (Linear)" in out and "Total params: 269,322" in out
    assert cli.main(["summary", "mlp", "--input-size", "784", "--batch-size", "2",
                     "--depth", "1"]) == 0
    out = capsys.readouterr().out
    assert "[2, 10]" in out and "net.1" not in out


def test_cli_unknown_model_and_bad_input_size(capsys: pytest.CaptureFixture) -> None:
    assert cli.main(["summary", "no_such_model"]) == 2
    assert "mlp" in capsys.readouterr().err
    assert cli.main(["summary", "mlp", "--input-size", "1", "28", "27"]) == 1
    err = capsys.readouterr().err
    assert "net.1 (Linear)" in err and "784" in err


def test_cli_lenet5_in_a_subprocess() -> None:
    if "lenet5" not in model_constructors():
        pytest.skip("ember.models has no lenet5 yet")
    run = subprocess.run([sys.executable, "-m", "ember", "summary", "lenet5"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr
    assert "features.0 (Conv2d)" in run.stdout and "Total params: 61,706" in run.stdout
    run = subprocess.run([sys.executable, "-m", "ember", "summary", "lenet5", "--input-size",
                          "1", "8", "8"], capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "features.3 (Conv2d)" in run.stderr
