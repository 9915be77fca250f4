"""ResNet-50 on ImageNet as in Frankle et al. (2020), "Linear Mode Connectivity and the
Lottery Ticket Hypothesis" (ICML 2020, arXiv:1912.05671), Table 1.

Published settings (Table 1, the ResNet-50 / ImageNet row; the same values are
the `imagenet_resnet_50` defaults of OpenLTH, the authors' framework, which also
gives the momentum and weight decay):
- 90 epochs (112K iterations) at batch size 1024;
- SGD with momentum 0.9, learning rate 0.4 after a 5-epoch linear warmup,
  divided by 10 at epochs 30, 60 and 80; weight decay 1e-4; Kaiming-normal init;
- standard ImageNet augmentation (random-resized crop + horizontal flip);
- iterative magnitude pruning, 20% of the weights per level, global across
  all convolutions and the output layer, down to ~30% density (6 levels: 26%);
- late rewinding: IMP subnetworks of ResNet-50 reach full accuracy only when
  rewound to an early point of training rather than to initialization (the
  paper's Section 5); 6 epochs (~5% of training) is our choice of that point.
  Sweep it with `--config.rewind=...` as the paper does.

Run it as is with the data prepared for tensorflow-datasets:

    tfds build imagenet2012 --data_dir=/data/tfds --manual_dir=/data/imagenet-tars
    python -m lottery_tf lottery --config=configs/resnet50_imagenet.py \\
        --config.dataset.data_dir=/data/tfds --config.runtime.strategy=tpu   # or mirrored

With a smaller batch, scale the rate linearly (batch 256: 0.1), the rule (Goyal et al.
2017) the paper's 0.4 at batch 1024 comes from. On TPUs add
`--config.training.precision=mixed_bfloat16` (GPUs: mixed_float16); precision is
hashed, so that is another experiment than the float32 default.
Where we differ from the paper's input pipeline: images are made 224x224 once
when read (shorter side resized to 224, central square; `dataset.image_size`),
random-resized crops are taken from that square and resized back to 224, and
evaluation sees the square as is (the usual 256-resize + 224-center-crop
keeps 87.5% of the side instead of 100%). The last 10,000 training images are
held out as the validation set for early stopping; ImageNet's validation split
serves as the test set. A tfds source is read whole into memory: at 224x224 that
is ~190 GB of uint8 pixels and four times that once normalized to float32. To
stream it from disk instead, write it once as shards at the same size and point
the config at them (every other setting unchanged):

    python -m lottery_tf.data.shards tfds:imagenet2012 /data/imagenet_shards \\
        --data_dir=/data/tfds --split_test=validation --image_size=224
    python -m lottery_tf lottery --config=configs/resnet50_imagenet.py \\
        --config.dataset.name=shards:/data/imagenet_shards --config.runtime.strategy=tpu
"""
from lottery_tf.config import base_config


def get_config():
    config = base_config()
    config.levels = 6
    config.rewind = "6ep"
    config.dataset.name = "tfds:imagenet2012"
    config.dataset.split_train = "train"
    config.dataset.split_test = "validation"
    config.dataset.validation_size = 10000
    config.dataset.image_size = 224
    config.dataset.augment = True
    config.dataset.augmentation = "resized_crop"
    config.model.name = "imagenet_resnet_50"
    config.model.initializer = "kaiming_normal"
    config.training.optimizer = "sgd"
    config.training.learning_rate = 0.4
    config.training.momentum = 0.9
    config.training.weight_decay = 1e-4
    config.training.warmup = "5ep"
    config.training.lr_boundaries = "30ep,60ep,80ep"
    config.training.lr_gamma = 0.1
    config.training.batch_size = 1024
    config.training.train_steps = "90ep"
    config.training.eval_every = "1ep"
    config.runtime.test_every = "1ep"
    config.runtime.eval_batch_size = 1024
    config.pruning.strategy = "global"
    config.pruning.rate = 0.2
    return config
