"""Random masks with the same sparsity as a given mask (the random-pruning control)."""
import numpy as np

from lottery_tf.pruning.masks import Masks


def random_like_layerwise(masks: Masks, rng: np.random.Generator) -> Masks:
    """A random mask keeping exactly as many weights in each layer as `masks` does."""
    new = {}
    for name, mask in masks.items():
        kept = np.zeros(mask.size, dtype=np.float32)
        kept[rng.choice(mask.size, size=int(mask.sum()), replace=False)] = 1.0
        new[name] = kept.reshape(mask.shape)
    return new


def random_like_global(masks: Masks, rng: np.random.Generator) -> Masks:
    """A random mask keeping as many weights in total as `masks`, placed anywhere."""
    sizes = [m.size for m in masks.values()]
    kept = np.zeros(sum(sizes), dtype=np.float32)
    total_kept = int(sum(m.sum() for m in masks.values()))
    kept[rng.choice(kept.size, size=total_kept, replace=False)] = 1.0
    new, offset = {}, 0
    for (name, mask), size in zip(masks.items(), sizes, strict=False):
        new[name] = kept[offset:offset + size].reshape(mask.shape)
        offset += size
    return new
