"""The zoo's families, registered like any user model (see registry.py)."""
from __future__ import annotations

from lottery_tf.errors import ConfigError
from lottery_tf.models.conv import build_conv
from lottery_tf.models.imagenet_resnet import DEFAULT_WIDTH as IMAGENET_WIDTH
from lottery_tf.models.imagenet_resnet import build_imagenet_resnet
from lottery_tf.models.lenet import build_lenet
from lottery_tf.models.mobilenet import build_mobilenet
from lottery_tf.models.registry import register_model
from lottery_tf.models.resnet import DEFAULT_WIDTH, build_resnet
from lottery_tf.models.vgg import build_vgg


def _lenet(shape, classes, seed, *, initializer, sizes):
    name = "lenet_" + "_".join(str(width) for width in sizes)
    return build_lenet(list(sizes), shape, classes, initializer, seed, name=name)


def _conv(shape, classes, seed, *, initializer, sizes):
    return build_conv(sizes[0], shape, classes, initializer, seed)


def _vgg(shape, classes, seed, *, initializer, sizes):
    return build_vgg(sizes[0], shape, classes, initializer, seed)


def _mobilenet(shape, classes, seed, *, initializer, sizes):
    if len(sizes) != 1:
        raise ConfigError(f"unknown model mobilenet_{'_'.join(map(str, sizes))}; write mobilenet_<W>")
    return build_mobilenet(sizes[0], shape, classes, initializer, seed)


def _resnet(shape, classes, seed, *, initializer, sizes):
    if len(sizes) > 2:
        raise ConfigError(f"unknown model resnet_{'_'.join(map(str, sizes))}; write resnet_<D> "
                          "or resnet_<D>_<W>")
    width = sizes[1] if len(sizes) == 2 else DEFAULT_WIDTH
    return build_resnet(sizes[0], shape, classes, width, initializer, seed)


def _imagenet_resnet(shape, classes, seed, *, initializer, sizes):
    if len(sizes) > 2:
        raise ConfigError(f"unknown model imagenet_resnet_{'_'.join(map(str, sizes))}; write "
                          "imagenet_resnet_<D> or imagenet_resnet_<D>_<W>")
    width = sizes[1] if len(sizes) == 2 else IMAGENET_WIDTH
    return build_imagenet_resnet(sizes[0], shape, classes, width, initializer, seed)


def _resnet20(shape, classes, seed, *, initializer):
    return build_resnet(20, shape, classes, DEFAULT_WIDTH, initializer, seed)


register_model("lenet", _lenet, form="underscored",
               usage=("lenet_300_100", "lenet_<h1>_<h2>_... (hidden Dense widths)"))
register_model("conv", _conv, form="glued", usage=("conv2", "conv4", "conv6"))
register_model("resnet20", _resnet20)
register_model("resnet", _resnet, form="underscored",
               usage=("resnet_<D> (D = 6n+2)", "resnet_<D>_<W> (W = first-stage width, default 16)"))
register_model("imagenet_resnet", _imagenet_resnet, form="underscored",
               usage=("imagenet_resnet_<D> (D = 50, 101, 152)",
                      "imagenet_resnet_<D>_<W> (W = stem width, default 64)"))
register_model("vgg", _vgg, form="glued", usage=("vgg11", "vgg13", "vgg16", "vgg19"))
register_model("mobilenet", _mobilenet, form="underscored",
               usage=("mobilenet_<W> (W = stem width; XNNPACK-sparse-compatible 1x1 convs)",))
