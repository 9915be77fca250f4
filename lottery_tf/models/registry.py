"""Models by name: a registry users extend, and builders given as import paths.

A name is looked up in three ways, in this order:

- ``package.module:function`` (contains a colon): import ``function`` and call
  it as ``function(input_shape=..., num_classes=..., seed=...)`` (plus
  ``initializer=`` when its signature takes one). It returns a tf_keras
  functional or Sequential model producing logits (no softmax).
- an exact registered name (``resnet20``), or
- a family name followed by numbers, in the form the family registered:
  ``<family><n>`` (``conv4``, ``vgg19``) or ``<family>_<n>[_<n>...]``
  (``lenet_300_100``, ``resnet_56_32``); the numbers go to its builder.

The zoo registers its families through :func:`register_model` like any user.
"""
from __future__ import annotations

import dataclasses
import importlib
import inspect
import re
from collections.abc import Callable

import tf_keras as keras

from lottery_tf.errors import ConfigError
from lottery_tf.models.initializers import check_initializer
from lottery_tf.models.validation import check_num_classes

# A registered builder is called as
#   builder(input_shape, num_classes, seed, initializer=..., [sizes=(n, ...)])
# and returns a tf_keras model producing logits.
Builder = Callable[..., keras.Model]

# How a registered name takes numbers: not at all, glued (vgg19), or after underscores (lenet_300_100).
FORMS = {"exact": None, "glued": r"(\d+)", "underscored": r"((?:_\d+)+)"}


@dataclasses.dataclass(frozen=True)
class _Entry:
    builder: Builder
    form: str
    usage: tuple[str, ...]


_REGISTRY: dict[str, _Entry] = {}
_ZOO_LOADED = False


def register_model(name: str, builder: Builder, *, form: str = "exact",
                   usage: tuple[str, ...] = (), replace: bool = False) -> None:
    """Make `name` buildable by :func:`build_model` (and by ``--config.model.name``).

    Args:
        name: an exact model name, or a family name (letters and digits).
        builder: ``builder(input_shape, num_classes, seed, initializer=...)``,
            plus ``sizes=(n, ...)`` for a family; returns a tf_keras model.
        form: ``"exact"`` (the name alone), ``"glued"`` (``<name><n>``) or
            ``"underscored"`` (``<name>_<n>[_<n>...]``).
        usage: how the name is written in listings (default: `name`).
        replace: allow replacing an existing entry.

    Raises:
        ConfigError: a malformed name or form, or a name already registered.
    """
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9_]*", name or ""):
        raise ConfigError(f"model names are letters, digits and '_', got {name!r}")
    if form not in FORMS:
        raise ConfigError(f"form must be one of {sorted(FORMS)}, got {form!r}")
    if name in _REGISTRY and not replace:
        raise ConfigError(f"model {name!r} is already registered; pass replace=True to override it")
    _REGISTRY[name] = _Entry(builder, form, tuple(usage) or (name,))


def _load_zoo() -> None:
    # Imported on first use: the zoo's modules import this one to register.
    global _ZOO_LOADED
    if not _ZOO_LOADED:
        _ZOO_LOADED = True
        importlib.import_module("lottery_tf.models.zoo")


def known_models() -> list[str]:
    """List the accepted model names; ``<...>`` marks a numeric part.

    Returns:
        Registered names and name patterns in registration order, then the
        import-path form.
    """
    _load_zoo()
    return [usage for entry in _REGISTRY.values() for usage in entry.usage] + [
        "package.module:function"]


def _lookup(name: str) -> tuple[_Entry, tuple[int, ...] | None]:
    _load_zoo()
    if name in _REGISTRY and _REGISTRY[name].form == "exact":
        return _REGISTRY[name], None
    for family, entry in _REGISTRY.items():
        numbers = FORMS[entry.form]
        if numbers and (match := re.fullmatch(re.escape(family) + numbers, name)):
            return entry, tuple(int(n) for n in match.group(1).lstrip("_").split("_"))
    raise ConfigError(f"unknown model {name!r}; valid names: {', '.join(known_models())}")


def import_builder(path: str) -> Callable[..., keras.Model]:
    """The function named by ``package.module:function``.

    Raises:
        ConfigError: the module does not import or has no such callable.
    """
    module_name, _, function_name = path.partition(":")
    if not module_name or not function_name:
        raise ConfigError(f"model.name {path!r} must be written package.module:function")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # any import-time failure is the user's module
        raise ConfigError(f"model.name {path!r}: module {module_name!r} does not import "
                          f"({type(error).__name__}: {error}); check the spelling and that its "
                          "folder is on PYTHONPATH") from None
    builder = getattr(module, function_name, None)
    if not callable(builder):
        raise ConfigError(f"model.name {path!r}: {module_name} has no function {function_name!r}")
    return builder


def _call_import_path(path: str, input_shape: tuple, num_classes: int, initializer: str,
                      seed: int) -> keras.Model:
    builder = import_builder(path)
    kwargs = {"input_shape": input_shape, "num_classes": num_classes, "seed": seed}
    try:
        if "initializer" in inspect.signature(builder).parameters:
            kwargs["initializer"] = initializer
    except (TypeError, ValueError):
        pass  # no introspectable signature: call with the documented three
    # Unnamed layers are named by counters Keras keeps per process ("dense_2" when
    # two Dense layers were built before): counted afresh, every build of the
    # same builder names its layers alike, as stored weights and masks need.
    keras.backend.reset_uids()
    # Unseeded initializers (`Dense(64)`) then draw from the model seed, so a
    # builder that ignores `seed` still builds the same weights for a seed.
    keras.utils.set_random_seed(seed)
    try:
        return builder(**kwargs)
    except ConfigError:
        raise
    except Exception as error:  # the user's code failed; name it rather than show its stack
        raise ConfigError(f"model.name {path!r}: the builder raised {type(error).__name__}: "
                          f"{error}. It is called as {path.partition(':')[2]}(input_shape=..., "
                          "num_classes=..., seed=...).") from None


def _checked_model(model, name: str, input_shape: tuple) -> keras.Model:
    """The built functional/Sequential model, or ConfigError saying what to return."""
    if not isinstance(model, keras.Model):
        raise ConfigError(f"model {name!r}: the builder returned {type(model).__name__}, not a "
                          "tf_keras Model; return a functional or Sequential tf_keras model "
                          "(import tf_keras, not keras 3)")
    if isinstance(model, keras.Sequential) and not model.built:
        model.build((None, *input_shape))
    if not getattr(model, "_is_graph_network", False):
        raise ConfigError(f"model {name!r} is a subclassed keras.Model ({type(model).__name__}), "
                          "which cannot be cloned and wrapped for pruning; build it with the "
                          "functional API (keras.Input ... keras.Model(inputs, outputs)) or as a "
                          "Sequential")
    return model


def build_model(
    name: str,
    input_shape: tuple,
    num_classes: int,
    initializer: str = "glorot_normal",
    seed: int = 0,
) -> keras.Model:
    """Build a freshly initialised model by name.

    The same (name, shapes, initializer, seed) always gives identical weights
    and identical layer/variable names. Zoo models name their classifier
    layer ``output`` and return logits (no softmax).

    Args:
        name: One of :func:`known_models`, e.g. ``"lenet_300_100"``,
            ``"resnet_56"``, or ``"package.module:function"``.
        input_shape: Shape of one example without the batch dimension,
            channels last, e.g. ``(28, 28, 1)`` or ``(32, 32, 3)``.
        num_classes: Number of output logits (>= 2).
        initializer: ``glorot_normal`` (default, as in Frankle & Carbin),
            ``glorot_uniform``, ``kaiming_normal`` or ``kaiming_uniform``.
            Import-path builders receive it only if they take it.
        seed: Non-negative model seed.

    Returns:
        An uncompiled, built functional (or Sequential) tf_keras model.

    Raises:
        ConfigError: Unknown name, a builder that does not import or returns
            no usable model, bad depth/width, bad input shape, bad
            ``num_classes``, unknown initializer or negative seed.
    """
    if not isinstance(name, str):
        raise ConfigError(f"model name must be a string, got {name!r}")
    check_num_classes(num_classes)
    check_initializer(initializer)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"seed must be a non-negative integer, got {seed!r}")
    shape = tuple(input_shape)
    if ":" in name:
        model = _call_import_path(name, shape, num_classes, initializer, seed)
    else:
        entry, sizes = _lookup(name)
        extra = {} if sizes is None else {"sizes": sizes}
        model = entry.builder(shape, num_classes, seed, initializer=initializer, **extra)
    return _checked_model(model, name, shape)


def is_known(name: str) -> bool:
    """Whether `build_model` can build `name` (a registered name, or an importable builder path).

    Args:
        name: a model name.

    Returns:
        True if the name resolves to a builder; the builder is not called.
    """
    try:
        if ":" in name:
            import_builder(name)
        else:
            _lookup(name)
    except ConfigError:
        return False
    return True
