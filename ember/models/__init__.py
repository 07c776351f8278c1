"""ember.models: readable reference models (torchvision-compatible names where torchvision has
them). Each architecture is one file that reads top-down like its diagram.

The ImageNet models (alexnet, vgg*, resnet*, efficientnet_b*) have torchvision's constructors,
module names (so state_dict keys), parameter counts and initialisation; `lenet5` and the CIFAR
ResNets (`resnet20/32/44/56`) are sized for 28x28 and 32x32 images.
"""

from ._layers import Conv2dNormActivation, SqueezeExcitation, StochasticDepth, stochastic_depth
from .alexnet import AlexNet, alexnet
from .char_rnn import CharRNN, char_rnn
from .efficientnet import (
    EfficientNet, MBConv, MBConvConfig, efficientnet_b0, efficientnet_b1, efficientnet_b2,
    efficientnet_b3, efficientnet_b4, efficientnet_b5, efficientnet_b6, efficientnet_b7,
)
from .gpt import GPT, GPTConfig, gpt
from .lenet5 import LeNet5, lenet5
from .mlp import MLP, mlp
from .resnet import (
    BasicBlock, Bottleneck, ResNet, resnet18, resnet34, resnet50, resnet101, resnet152,
    resnext50_32x4d, wide_resnet50_2,
)
from .resnet_cifar import CifarResNet, resnet20, resnet32, resnet44, resnet56
from .simple_cnn import SimpleCNN, simple_cnn
from .vit import (
    VisionTransformer, vit_b_16, vit_b_32, vit_h_14, vit_l_16, vit_l_32, vit_tiny,
)
from ._registry import get_model, get_model_builder, list_models
from .vgg import VGG, vgg11, vgg11_bn, vgg13, vgg13_bn, vgg16, vgg16_bn, vgg19, vgg19_bn

__all__ = [
    "AlexNet", "BasicBlock", "CharRNN", "GPT", "GPTConfig", "gpt", "Bottleneck", "CifarResNet", "Conv2dNormActivation", "EfficientNet",
    "LeNet5", "MBConv", "MBConvConfig", "MLP", "ResNet", "SimpleCNN", "simple_cnn", "SqueezeExcitation", "StochasticDepth",
    "VGG", "VisionTransformer", "alexnet", "char_rnn", "efficientnet_b0", "efficientnet_b1", "efficientnet_b2", "efficientnet_b3",
    "efficientnet_b4", "efficientnet_b5", "efficientnet_b6", "efficientnet_b7", "lenet5", "mlp",
    "resnet18", "resnet20", "resnet32", "resnet34", "resnet44", "resnet50", "resnet56",
    "resnet101", "resnet152", "resnext50_32x4d", "stochastic_depth", "vgg11", "vgg11_bn", "vgg13",
    "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn", "vit_b_16", "vit_b_32", "vit_h_14", "vit_l_16", "vit_l_32",
    "vit_tiny", "wide_resnet50_2",
    "get_model", "get_model_builder", "list_models",
]
