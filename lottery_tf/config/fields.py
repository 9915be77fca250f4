"""Every config field: its default and its meaning, in one table.

Configs are `ml_collections.ConfigDict`s. `base_config()` holds every field and
its default; files in `configs/` start from it and set the paper's values.
Optional fields default to None (typed placeholders) and are left out of the
hash while unset (see `hashing`), so adding an option never renames old experiments.
"""
import ml_collections
from ml_collections import config_dict

from lottery_tf.data.sources import known_names
from lottery_tf.pruning.masks import STRATEGIES

# Every field: (default, help). A type as default means an optional field of that
# type, unset (None) by default.
FIELDS = {
    "name": (str, "results folder prefix (default: <model>_<dataset>); not hashed"),
    "seed": (0, "base seed; replicate r uses seed + r"),
    "levels": (5, "IMP levels after the dense level 0; not hashed, so a run can be extended"),
    "rewind": ("0it", "rewind point: 0it = the original initialization, or e.g. 500it, 2ep"),
    "retrain": (str, "how each pruned level retrains: weight_rewind (unset: the survivors rewound "
                "to their values at the rewind point) | lr_rewind (the previous level's trained "
                "weights, learning-rate schedule and data order replayed from the rewind point) | "
                "finetune (the previous level's trained weights at the schedule's final rate for "
                "finetune_steps)"),
    "finetune_steps": (str, "retrain=finetune: iterations per pruned level, e.g. 5000it (unset: "
                       "training.train_steps minus the rewind point, as the other modes train)"),
    "intermediate_steps": (str, "short levels: iterations each level before the last (levels) "
                           "trains, e.g. 5000it; their training only ranks weights for the next "
                           "pruning, and the last level trains fully (unset: every level trains "
                           "fully). Set, levels is hashed: it names the level that trains fully"),
    "early_bird.threshold": (float, "early-bird tickets (You et al. 2020): each level before the "
                             "last (levels) stops training once the masks the next pruning would "
                             "draw, drawn every check_every iterations, settle: the last window "
                             "distances between consecutive draws (the fraction of the level's "
                             "surviving weights on which they differ) all under this threshold "
                             "(the paper: 0.1); the next level prunes from the weights there. "
                             "Unset: off. Set, levels is hashed"),
    "early_bird.check_every": (str, "early-bird: iterations between draws, e.g. 200it (unset: 1ep, "
                               "the paper's)"),
    "early_bird.window": (int, "early-bird: how many consecutive distances must all be under the "
                          "threshold (unset: 5, the paper's queue)"),
    "dataset.name": ("mnist", " | ".join(known_names()) + " (README 'Your own data')"),
    "dataset.validation_size": (5000, "N training examples held out for early stopping (see "
                                "validation_split)"),
    "dataset.validation_split": (str, "how they are chosen: stratified (a seeded random sample with "
                                 "every class in proportion; the default for npz:, folder:, tfds:) | "
                                 "last (the last N as stored; the default for mnist, fashion_mnist, "
                                 "cifar10 and shards:, whose examples are stored shuffled)"),
    "dataset.normalization": (str, "how inputs are prepared: standardize (unset: (pixel / 255 - "
                              "mean) / std, the training split's per-channel statistics) | "
                              "unit_range (pixel / 255) | example_l2 (each example divided by "
                              "its L2 norm, as the original lottery-ticket code)"),
    "dataset.augment": (False, "per-example augmentation of the training batches (kind: "
                        "dataset.augmentation), drawn from (seed, step)"),
    "dataset.augmentation": (str, "crop_flip (unset: zero-pad 4, random crop, horizontal flip; "
                             "CIFAR) | resized_crop (random-resized crop + flip; ImageNet)"),
    "dataset.image_size": (int, "folder:/tfds: sources: resize every image to N x N when read "
                           "(needed when image sizes differ, e.g. ImageNet); shards: the size "
                           "the folder must hold"),
    "dataset.data_dir": (str, "folder with the standard files (IDX or CIFAR binary), or the tfds"
                         " data dir of a tfds:<name> source; not hashed"),
    "dataset.split_train": (str, "tfds:<name> sources: the training split (default train)"),
    "dataset.split_test": (str, "tfds:<name> sources: the test split (default test)"),
    "dataset.split_validation": (str, "tfds:<name> sources: a split to validate on (e.g. "
                                 "validation; needs validation_size=0). Unset: the last "
                                 "validation_size training examples"),
    "dataset.verify_checksums": (True, "check MNIST/Fashion-MNIST files against the originals' SHA-256"),
    "model.name": ("lenet_300_100", "lenet_N_M_..., conv2/4/6, resnet20, resnet_D[_W], vgg11/13/16/19,"
                   " or package.module:function (your own builder; README 'Your own model')"),
    "model.version": (str, "your builder's version; bump it when its code changes (the builder is"
                      " hashed by name, not by code)"),
    "model.initializer": ("glorot_normal", "glorot_normal | glorot_uniform | kaiming_normal |"
                          " kaiming_uniform"),
    "training.optimizer": ("adam", "adam | sgd"),
    "training.learning_rate": (1.2e-3, "base learning rate"),
    "training.adam_epsilon": (float, "TF1's Adam (the paper's) used 1e-8; Keras defaults to 1e-7"),
    "training.momentum": (float, "SGD momentum"),
    "training.nesterov": (bool, "SGD Nesterov momentum"),
    "training.weight_decay": (float, "coupled L2 decay, added to the gradients"),
    "training.lr_boundaries": (str, "e.g. '20000it,25000it': multiply the rate by lr_gamma at each"),
    "training.lr_gamma": (float, "learning-rate factor at each boundary (default 0.1)"),
    "training.warmup": (str, "linear learning-rate warmup duration, e.g. 20000it"),
    "training.lr_schedule": (str, "step (unset: lr_boundaries / lr_gamma) | cosine (half cosine "
                             "from the end of warmup to lr_final at train_steps)"),
    "training.lr_final": (float, "cosine schedule: the rate at the end of training (default 0)"),
    "training.label_smoothing": (float, "label smoothing of the training loss, in [0, 1) (the "
                                 "evaluation loss stays plain cross-entropy)"),
    "training.precision": (str, "float32 (unset) | mixed_float16 (GPU, with loss scaling) | "
                           "mixed_bfloat16 (TPU, CPU); variables and masks stay float32"),
    "training.batch_size": (60, "global batch size (never rescaled by the number of replicas)"),
    "training.train_steps": ("50000it", "training length of every level"),
    "training.eval_every": ("100it", "validation and test evaluation interval"),
    "pruning.strategy": ("layerwise", " | ".join(STRATEGIES)),
    "pruning.rate": (0.2, "fraction of the surviving weights removed per level, in [0, 1)"),
    "pruning.conv_rate": (float, "rate for conv layers (default: rate)"),
    "pruning.dense_rate": (float, "rate for hidden dense layers (default: rate)"),
    "pruning.output_rate": (float, "rate for the output layer (default: rate)"),
    "pruning.embedding_rate": (float, "rate for Embedding layers (default: rate)"),
    "pruning.layers_to_ignore": ("", "comma-separated layer names never pruned (also"
                                 " custom layers tfmot cannot prune, left dense)"),
    "pruning.granularity": (str, "weight (unset: unstructured) | unit (whole Dense units / Conv "
                            "filters, by L1 norm; plain chain models) | n:m such as 2:4"),
    "pruning.policy": (str, "which prunable layers are pruned: unset (all) | xnnpack (only 1x1 Conv2D; "
                        "the model must fit XNNPACK's sparse inference, e.g. mobilenet_16)"),
    "runtime.strategy": ("default", "tf.distribute strategy: default | one_device | mirrored | "
                         "multi_worker (TF_CONFIG) | tpu"),
    "runtime.cpu_devices": (int, "split the CPU into N logical devices (mirrored without GPUs)"),
    "runtime.tpu": (str, "tpu: TPU name or grpc:// address (unset: this host's TPU)"),
    "runtime.jit_compile": (bool, "compile the train step with XLA (unset: on, except on CPU for "
                            "models with convolutions, which XLA runs slower there; README "
                            "'XLA on CPU')"),
    "runtime.eval_batch_size": (1000, "batch size of evaluation passes"),
    "runtime.checkpoint_every": ("1ep", "mid-level checkpoint interval"),
    "runtime.test_every": ("1000it", "test-set interval; also at the end and for the step of the "
                           "lowest validation loss (early stop; evaluated on weights kept aside at "
                           "the next checkpoint). 0it: at every evaluation"),
}


PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
LR_SCHEDULES = ("step", "cosine")
AUGMENTATIONS = ("crop_flip", "resized_crop")
RETRAIN_MODES = ("weight_rewind", "lr_rewind", "finetune")


def base_config() -> ml_collections.ConfigDict:
    """Every field with its default (see FIELDS). Durations are written `500it` or `2ep`."""
    config = ml_collections.ConfigDict()
    for key, (default, _) in FIELDS.items():
        section, _, field = key.rpartition(".")
        if section and section not in config:
            config[section] = ml_collections.ConfigDict()
        if isinstance(default, type):
            default = config_dict.placeholder(default)  # a fresh one: configs must not share it
        (config[section] if section else config)[field] = default
    return config


def describe_fields() -> str:
    """One line per config field: name, default and meaning (for --help)."""
    lines = []
    for key, (default, text) in FIELDS.items():
        shown = f"unset {default.__name__}" if isinstance(default, type) else repr(default)
        lines.append(f"  --config.{key} (default {shown}): {text}")
    return "\n".join(lines)
