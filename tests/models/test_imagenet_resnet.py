"""The ImageNet ResNet-50 of the zoo: torchvision's parameter count, prunable convs and output."""
import pytest

from lottery_tf.errors import ConfigError
from lottery_tf.models import build_model, prunable_layers


def test_resnet50_has_the_published_size_and_every_conv_is_prunable():
    model = build_model("imagenet_resnet_50", (224, 224, 3), 1000, "kaiming_normal", seed=0)
    assert model.count_params() - sum(  # trainable only: BN moving statistics excluded
        int(v.shape.num_elements()) for v in model.non_trainable_variables) == 25_557_032
    kinds = prunable_layers(model, [])
    assert sum(kind == "conv" for kind in kinds.values()) == 53 and kinds["output"] == "output"
    assert model.output_shape == (None, 1000)


def test_width_and_depth_follow_the_name():
    narrow = build_model("imagenet_resnet_50_8", (32, 32, 3), 10, seed=0)
    assert narrow.get_layer("stem_conv").filters == 8
    assert narrow.get_layer("stage4_block2_conv3").filters == 8 * 8 * 4
    assert len([layer for layer in narrow.layers if layer.name.endswith("_conv3")]) == 3 + 4 + 6 + 3
    with pytest.raises(ConfigError, match="50, 101, 152"):
        build_model("imagenet_resnet_34", (32, 32, 3), 10)
