"""The model zoo: torchvision's parameter counts, state_dict keys and initialisation, output
shapes, the compound scaling of EfficientNet, stochastic depth, and `ember train` models.

Forward/backward against torch-written equivalents is in test_models_equivalence.py.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import pytest

import ember
from ember import models
from ember.models._layers import make_divisible
from ember.models.efficientnet import efficientnet_config

# torchvision's published parameter counts (the `num_params` of each weights' meta)
TORCHVISION_COUNTS = {
    "alexnet": 61_100_840,
    "vgg11": 132_863_336, "vgg11_bn": 132_868_840,
    "vgg16": 138_357_544, "vgg16_bn": 138_365_992,
    "resnet18": 11_689_512, "resnet34": 21_797_672, "resnet50": 25_557_032,
    "resnet101": 44_549_160,
    "efficientnet_b0": 5_288_548, "efficientnet_b1": 7_794_184, "efficientnet_b2": 9_109_994,
    "efficientnet_b3": 12_233_232, "efficientnet_b4": 19_341_616, "efficientnet_b5": 30_389_784,
    "efficientnet_b6": 43_040_704, "efficientnet_b7": 66_347_960,
}
SLOW_COUNTS = {  # the bigger siblings: seconds each to initialise
    "resnet152": 60_192_808, "resnext50_32x4d": 25_028_904, "wide_resnet50_2": 68_883_240,
    "vgg13": 133_047_848, "vgg13_bn": 133_053_736, "vgg19": 143_667_240, "vgg19_bn": 143_678_248,
}
BN_KEYS = ("weight", "bias", "running_mean", "running_var", "num_batches_tracked")


@cache
def zoo(name: str) -> ember.nn.Module:
    """Each ImageNet model built once for this file (VGG without its slow initialisation)."""
    kwargs = {"init_weights": False} if name.startswith("vgg") else {}
    return getattr(models, name)(**kwargs)


@pytest.fixture(autouse=True, scope="module")
def free_zoo():
    yield
    zoo.cache_clear()


def count(model: ember.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def bn(prefix: str) -> set:
    return {f"{prefix}.{k}" for k in BN_KEYS}


@pytest.mark.parametrize("name", sorted(TORCHVISION_COUNTS))
def test_parameter_counts_equal_torchvision(name: str) -> None:
    assert count(zoo(name)) == TORCHVISION_COUNTS[name]


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(SLOW_COUNTS))
def test_parameter_counts_of_bigger_variants(name: str) -> None:
    assert count(getattr(models, name)()) == SLOW_COUNTS[name]


@pytest.mark.parametrize("name,expected", [
    ("lenet5", 61_706), ("resnet20", 269_722), ("resnet32", 464_154), ("resnet44", 658_586),
    ("resnet56", 853_018)])
def test_small_model_counts(name: str, expected: int) -> None:
    # He et al. Table 6: 0.27M, 0.46M, 0.66M, 0.85M (option A shortcuts add no parameters)
    assert count(getattr(models, name)()) == expected


def test_cifar_resnet_option_b_adds_two_projections() -> None:
    # 16 -> 32 and 32 -> 64 channel changes: 1x1 conv + BatchNorm each
    extra = (16 * 32 + 2 * 32) + (32 * 64 + 2 * 64)
    assert count(models.resnet20(shortcut="B")) == 269_722 + extra == 272_474
    assert count(models.resnet20(num_classes=10, in_channels=1)) == 269_722 - 2 * 16 * 9


# ---- state_dict keys, written from torchvision's naming rules ----

def resnet_keys(bottleneck: bool, layers: list[int], num_classes: int = 1000) -> set:
    keys = {"conv1.weight", *bn("bn1"), "fc.weight", "fc.bias"}
    convs, expansion, inplanes = (3, 4, 64) if bottleneck else (2, 1, 64)
    for i, (blocks, planes) in enumerate(zip(layers, (64, 128, 256, 512), strict=True), 1):
        for j in range(blocks):
            for c in range(1, convs + 1):
                keys |= {f"layer{i}.{j}.conv{c}.weight", *bn(f"layer{i}.{j}.bn{c}")}
        if i > 1 or inplanes != planes * expansion:
            keys |= {f"layer{i}.0.downsample.0.weight", *bn(f"layer{i}.0.downsample.1")}
        inplanes = planes * expansion
    return keys


def test_resnet18_keys() -> None:
    sd = zoo("resnet18").state_dict()
    assert set(sd) == resnet_keys(False, [2, 2, 2, 2])
    assert "layer1.0.downsample.0.weight" not in sd
    assert tuple(sd["layer2.0.downsample.0.weight"].shape) == (128, 64, 1, 1)
    assert tuple(sd["layer4.1.conv2.weight"].shape) == (512, 512, 3, 3)
    assert tuple(sd["fc.weight"].shape) == (1000, 512)


def test_resnet50_keys() -> None:
    sd = models.resnet50(num_classes=10).state_dict()
    assert set(sd) == resnet_keys(True, [3, 4, 6, 3])
    assert tuple(sd["layer1.0.downsample.0.weight"].shape) == (256, 64, 1, 1)
    assert tuple(sd["layer3.5.conv2.weight"].shape) == (256, 256, 3, 3)
    assert tuple(sd["fc.weight"].shape) == (10, 2048)


def test_alexnet_keys() -> None:
    sd = zoo("alexnet").state_dict()
    expected = {f"{where}.{i}.{p}" for where, idx in (("features", (0, 3, 6, 8, 10)),
                                                       ("classifier", (1, 4, 6)))
                for i in idx for p in ("weight", "bias")}
    assert set(sd) == expected
    assert tuple(sd["classifier.1.weight"].shape) == (4096, 9216)


@pytest.mark.parametrize("name,convs,bns,classifier", [
    ("vgg11", (0, 3, 6, 8, 11, 13, 16, 18), (), (0, 3, 6)),
    ("vgg11_bn", (0, 4, 8, 11, 15, 18, 22, 25), (1, 5, 9, 12, 16, 19, 23, 26), (0, 3, 6)),
    ("vgg16", (0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28), (), (0, 3, 6)),
])
def test_vgg_keys(name: str, convs: tuple, bns: tuple, classifier: tuple) -> None:
    sd = zoo(name).state_dict()
    expected = {f"features.{i}.{p}" for i in convs for p in ("weight", "bias")}
    expected |= {k for i in bns for k in bn(f"features.{i}")}
    expected |= {f"classifier.{i}.{p}" for i in classifier for p in ("weight", "bias")}
    assert set(sd) == expected


def efficientnet_keys(blocks_per_stage: list[int], expand_first: bool = False) -> set:
    """features.0 stem, features.1-7 stages of MBConv, features.8 head; classifier.1 Linear."""
    keys = {"features.0.0.weight", *bn("features.0.1"), "features.8.0.weight",
            *bn("features.8.1"), "classifier.1.weight", "classifier.1.bias"}
    for s, blocks in enumerate(blocks_per_stage, start=1):
        for b in range(blocks):
            p = f"features.{s}.{b}.block"
            parts = ["expand", "dw", "se", "project"] if s > 1 or expand_first else [
                "dw", "se", "project"]  # stage 1 has expand ratio 1: no expand conv
            for i, part in enumerate(parts):
                if part == "se":
                    keys |= {f"{p}.{i}.{fc}.{w}" for fc in ("fc1", "fc2") for w in ("weight",
                                                                                  "bias")}
                else:
                    keys |= {f"{p}.{i}.0.weight", *bn(f"{p}.{i}.1")}
    return keys


def test_efficientnet_b0_keys() -> None:
    sd = zoo("efficientnet_b0").state_dict()
    assert set(sd) == efficientnet_keys([1, 2, 2, 3, 3, 4, 1])
    # spot checks against torchvision's checkpoint layout
    assert tuple(sd["features.1.0.block.0.0.weight"].shape) == (32, 1, 3, 3)   # depthwise
    assert tuple(sd["features.1.0.block.1.fc1.weight"].shape) == (8, 32, 1, 1)  # SE squeeze
    assert tuple(sd["features.2.0.block.0.0.weight"].shape) == (96, 16, 1, 1)  # expand x6
    assert tuple(sd["features.2.0.block.1.0.weight"].shape) == (96, 1, 3, 3)
    assert tuple(sd["features.2.0.block.2.fc1.weight"].shape) == (4, 96, 1, 1)  # 16 // 4
    assert tuple(sd["features.3.0.block.1.0.weight"].shape) == (144, 1, 5, 5)
    assert tuple(sd["features.7.0.block.3.0.weight"].shape) == (320, 1152, 1, 1)
    assert tuple(sd["features.8.0.weight"].shape) == (1280, 320, 1, 1)
    assert tuple(sd["classifier.1.weight"].shape) == (1000, 1280)


def test_efficientnet_b7_structure_is_generated_by_compound_scaling() -> None:
    model = zoo("efficientnet_b7")
    sd = model.state_dict()
    # depth: ceil(3.1 * [1, 2, 2, 3, 3, 4, 1]); width: 2.0 x B0 rounded to multiples of 8
    assert set(sd) == efficientnet_keys([4, 7, 7, 10, 10, 13, 4])
    assert tuple(sd["features.0.0.weight"].shape) == (64, 3, 3, 3)
    outs = [tuple(sd[f"features.{s}.0.block.{3 if s > 1 else 2}.0.weight"].shape)[0]
            for s in range(1, 8)]
    assert outs == [32, 48, 80, 160, 224, 384, 640]
    assert tuple(sd["features.8.0.weight"].shape) == (2560, 640, 1, 1)
    bn_layer = model.features[0][1]  # B5-B7 keep TensorFlow's BatchNorm settings
    assert (bn_layer.eps, bn_layer.momentum) == (1e-3, 0.01)
    assert models.efficientnet_b4().features[0][1].eps == 1e-5
    assert model.classifier[0].p == 0.5


@pytest.mark.parametrize("width,depth,expected", [
    (1.0, 1.0, [(32, 16, 1), (16, 24, 2), (24, 40, 2), (40, 80, 3), (80, 112, 3),
                (112, 192, 4), (192, 320, 1)]),
    (1.1, 1.2, [(32, 16, 2), (16, 24, 3), (24, 48, 3), (48, 88, 4), (88, 120, 4),
                (120, 208, 5), (208, 352, 2)]),  # B2
    (1.4, 1.8, [(48, 24, 2), (24, 32, 4), (32, 56, 4), (56, 112, 6), (112, 160, 6),
                (160, 272, 8), (272, 448, 2)]),  # B4
])
def test_efficientnet_config_scales_width_and_depth(width: float, depth: float,
                                                    expected: list) -> None:
    stages = efficientnet_config(width, depth)
    assert [(s.input_channels, s.out_channels, s.num_layers) for s in stages] == expected
    assert [s.kernel for s in stages] == [3, 3, 5, 3, 5, 5, 3]
    assert [s.stride for s in stages] == [1, 2, 2, 2, 1, 2, 1]


def test_make_divisible() -> None:
    assert make_divisible(32 * 1.1) == 32    # rounds to the nearest multiple of 8
    assert make_divisible(40 * 1.1) == 48    # 44 is halfway: rounds up
    assert make_divisible(16 * 1.4) == 24    # 22.4 -> 24
    assert make_divisible(10) == 16          # 8 would lose more than 10%
    assert make_divisible(3, 8) == 8         # never below the divisor
    assert make_divisible(3, 8, min_value=4) == 4


# ---- initialisation (torchvision's) ----

def _std_close(t: ember.Tensor, std: float, rel: float = 0.1) -> None:
    a = t.detach().numpy()
    assert abs(a.mean()) < 0.1 * std
    assert abs(a.std() / std - 1) < rel, f"std {a.std():.4g}, expected {std:.4g}"


def test_resnet_init_and_zero_init_residual() -> None:
    model = zoo("resnet18")
    _std_close(model.layer3[0].conv2.weight, math.sqrt(2 / (256 * 9)))  # He, fan_out
    _std_close(model.conv1.weight, math.sqrt(2 / (64 * 49)))
    assert np.all(model.layer1[0].bn2.weight.detach().numpy() == 1)
    assert np.all(model.bn1.bias.detach().numpy() == 0)
    bound = 1 / math.sqrt(512)  # fc keeps Linear's default U(-1/sqrt(in), 1/sqrt(in))
    assert np.abs(model.fc.weight.detach().numpy()).max() <= bound
    zero = models.resnet18(zero_init_residual=True)
    for layer in (zero.layer1, zero.layer2, zero.layer3, zero.layer4):
        for block in layer:
            assert np.all(block.bn2.weight.detach().numpy() == 0)
            assert np.all(block.bn1.weight.detach().numpy() == 1)
    deep = models.resnet50(zero_init_residual=True)
    assert np.all(deep.layer2[1].bn3.weight.detach().numpy() == 0)
    assert np.all(deep.layer2[1].bn2.weight.detach().numpy() == 1)


def test_vgg_init() -> None:
    model = models.vgg11_bn()
    _std_close(model.classifier[0].weight, 0.01, rel=0.02)
    assert np.all(model.classifier[6].bias.detach().numpy() == 0)
    _std_close(model.features[4].weight, math.sqrt(2 / (128 * 9)))
    assert np.all(model.features[4].bias.detach().numpy() == 0)
    assert np.all(model.features[5].weight.detach().numpy() == 1)


def test_efficientnet_init() -> None:
    model = zoo("efficientnet_b0")
    _std_close(model.features[8][0].weight, math.sqrt(2 / 1280))   # He, fan_out, 1x1
    se = model.features[6][0].block[2]
    assert np.all(se.fc1.bias.detach().numpy() == 0)
    w = model.classifier[1].weight.detach().numpy()
    assert np.abs(w).max() <= 1 / math.sqrt(1000)
    assert abs(w.std() * math.sqrt(3000) - 1) < 0.02  # U(-r, r) has std r / sqrt(3)
    assert np.all(model.classifier[1].bias.detach().numpy() == 0)
    # stochastic depth grows linearly with the block index: 0.2 * i / 16
    probs = [m.p for m in model.modules() if isinstance(m, models.StochasticDepth)]
    assert probs == pytest.approx([0.2 * i / 16 for i in range(16)])


# ---- output shapes ----

@pytest.mark.parametrize("build,shape,out", [
    (lambda: models.lenet5(), (2, 1, 28, 28), (2, 10)),
    (lambda: models.lenet5(num_classes=7, in_channels=3, image_size=32), (2, 3, 32, 32), (2, 7)),
    (lambda: models.resnet20(), (2, 3, 32, 32), (2, 10)),
    (lambda: models.resnet20(in_channels=1, shortcut="B"), (2, 1, 28, 28), (2, 10)),
    (lambda: models.resnet56(num_classes=100), (2, 3, 32, 32), (2, 100)),
    (lambda: zoo("alexnet"), (1, 3, 63, 63), (1, 1000)),  # the smallest AlexNet input
    (lambda: zoo("vgg11"), (1, 3, 32, 32), (1, 1000)),
    (lambda: zoo("vgg16_bn"), (2, 3, 32, 32), (2, 1000)),
    (lambda: zoo("resnet18"), (2, 3, 64, 64), (2, 1000)),
    (lambda: zoo("resnet18"), (1, 3, 33, 47), (1, 1000)),
    (lambda: models.resnet50(num_classes=10), (2, 3, 32, 32), (2, 10)),
    (lambda: models.efficientnet_b0(num_classes=10), (2, 3, 32, 32), (2, 10)),
    (lambda: models.efficientnet_b3(num_classes=10), (1, 3, 48, 48), (1, 10)),
])
def test_output_shapes(build, shape: tuple, out: tuple) -> None:
    model = build().eval()
    with ember.no_grad():
        y = model(ember.randn(*shape))
    assert tuple(y.shape) == out
    assert np.all(np.isfinite(y.numpy()))


@pytest.mark.parametrize("name,size", [
    ("alexnet", 224), ("resnet50", 224), ("efficientnet_b0", 224),
    pytest.param("vgg16", 224, marks=pytest.mark.slow),
    pytest.param("efficientnet_b7", 600, marks=pytest.mark.slow)])
def test_output_shapes_at_imagenet_resolution(name: str, size: int) -> None:
    model = zoo(name).eval()
    with ember.no_grad():
        assert tuple(model(ember.randn(1, 3, size, size)).shape) == (1, 1000)


def test_resnet_dilation_keeps_resolution() -> None:
    model = models.resnet50(replace_stride_with_dilation=[False, True, True]).eval()
    assert model.layer4[1].conv2.dilation == (4, 4)
    with ember.no_grad():
        x = model.layer4(model.layer3(model.layer2(model.layer1(ember.randn(1, 64, 16, 16)))))
    assert tuple(x.shape) == (1, 2048, 8, 8)  # only layer2 halves: 16 -> 8


# ---- stochastic depth ----

def test_stochastic_depth_drops_whole_rows_and_rescales() -> None:
    ember.manual_seed(0)
    layer = models.StochasticDepth(0.25, "row")
    x = ember.ones(4000, 3, 2, 2, requires_grad=True)
    y = layer(x)
    rows = y.detach().numpy().reshape(4000, -1)
    kept = rows[:, 0] != 0
    assert np.all(rows[kept] == pytest.approx(1 / 0.75)) and np.all(rows[~kept] == 0)
    assert abs(kept.mean() - 0.75) < 0.03
    y.sum().backward()  # the gradient is the same mask
    np.testing.assert_allclose(x.grad.numpy().reshape(4000, -1), rows)
    layer.eval()
    assert layer(x) is x
    assert repr(layer) == "StochasticDepth(p=0.25, mode=row)"


def test_stochastic_depth_modes_and_errors() -> None:
    x = ember.ones(50, 4)
    batch = models.stochastic_depth(x, 0.5, "batch").numpy()
    assert np.all(batch == batch.flat[0]) and batch.flat[0] in (0.0, 2.0)
    assert models.stochastic_depth(x, 0.0, "row") is x
    assert np.all(models.stochastic_depth(x, 1.0, "row").numpy() == 0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        models.stochastic_depth(x, 1.5, "row")
    with pytest.raises(ValueError, match="'batch' or 'row'"):
        models.stochastic_depth(x, 0.5, "col")


# ---- argument checks ----

def test_argument_errors() -> None:
    with pytest.raises(ValueError, match="no pretrained weights"):
        models.resnet18(weights="IMAGENET1K_V1")
    with pytest.raises(ValueError, match="BasicBlock only supports"):
        models.ResNet(models.BasicBlock, [1, 1, 1, 1], groups=2)
    with pytest.raises(NotImplementedError, match="Dilation"):
        models.ResNet(models.BasicBlock, [1, 1, 1, 2], replace_stride_with_dilation=[0, 0, 1])
    with pytest.raises(ValueError, match="3-element"):
        models.resnet18(replace_stride_with_dilation=[True])
    with pytest.raises(ValueError, match="28 or 32"):
        models.lenet5(image_size=30)
    with pytest.raises(ValueError, match="shortcut"):
        models.resnet20(shortcut="C")
    with pytest.raises(ValueError, match="should not be empty"):
        models.EfficientNet([], 0.2)


# ---- `ember train --model` ----

def test_train_catalog_builds_small_models_for_each_dataset_shape() -> None:
    from ember.training import MODELS

    assert {"lenet5", "resnet20", "resnet32", "resnet56"} <= set(MODELS)
    assert not {"resnet18", "vgg11", "efficientnet_b0", "alexnet"} & set(MODELS)
    grey = MODELS["lenet5"].build((1, 28, 28), 10)
    assert grey.features[0].in_channels == 1 and grey.features[0].padding == (2, 2)
    colour = MODELS["lenet5"].build((3, 32, 32), 10)
    assert colour.features[0].in_channels == 3 and colour.features[0].padding == (0, 0)
    with pytest.raises(ValueError, match="28x28 or 32x32"):
        MODELS["lenet5"].build((1, 8, 8), 10)
    net = MODELS["resnet20"].build((1, 28, 28), 10)
    assert net.conv1.in_channels == 1 and count(net) == 269_722 - 2 * 16 * 9
    assert len(MODELS["resnet56"].build((3, 32, 32), 10).layer2) == 9


def _tiny_images(train: bool):
    """24 (train) or 8 (test) 1x28x28 images: class 0 bright on the left, class 1 on the right."""
    from types import SimpleNamespace

    rng = np.random.default_rng(0 if train else 1)
    n = 24 if train else 8
    labels = np.arange(n) % 2
    images = rng.integers(0, 60, size=(n, 28, 28)).astype(np.uint8)
    for i, y in enumerate(labels):
        images[i, :, 14 * y:14 * y + 14] += 150
    return SimpleNamespace(data=ember.tensor(images), targets=ember.tensor(labels))


@pytest.mark.parametrize("model", ["lenet5", "resnet20"])
def test_ember_train_runs_conv_models(tmp_path, monkeypatch, model: str) -> None:
    from ember.training import DATASETS, TrainConfig, run
    from ember.training.catalog import DatasetSpec

    monkeypatch.setitem(DATASETS, "tiny28", DatasetSpec("tiny28", _tiny_images, 2, 1, 8, 1e-3,
                                                        "test images"))
    summary = run(TrainConfig(model=model, dataset="tiny28", epochs=2, progress=False,
                              verbose=False, log_dir=str(tmp_path)))
    assert len(summary["history"]) == 2
    assert np.isfinite(summary["history"][-1]["train_loss"])
