"""The command line's `--config.<field>=<value>` overrides and flag errors, each as one line.

`check_override_names` runs before absl parses the flags: ml_collections would
otherwise fail on an unknown field while it loads the config file and the error
would read as the file's. `flag_error_message` words absl's parse errors (a value
of the wrong type) the same way. Nothing here loads TensorFlow.
"""
import difflib
import re
from collections.abc import Sequence

from absl import flags

from lottery_tf.config.fields import FIELDS
from lottery_tf.errors import ConfigError

# What ml_collections reads as an override: `--config.a.b=1`, `-config.a.b 1`, `--noconfig.a.b`.
_OVERRIDE = re.compile(r"^--?(?:no)?config\.([^=]*)")
# absl's wording of a value its parser refused: "flag --NAME=VALUE: REASON".
_ILLEGAL_VALUE = re.compile(r"^flag --(?P<name>[^=\s]+)=(?P<value>.*?): (?P<reason>.*)$", re.DOTALL)
_EXPECTED = {"float": "a float", "int": "an integer", "bool": "true or false"}


def known_fields() -> set[str]:
    """Every field an override may name: each FIELDS key and each section holding one."""
    sections = {key.rpartition(".")[0] for key in FIELDS if "." in key}
    return set(FIELDS) | sections


def override_fields(args: Sequence[str]) -> list[str]:
    """The fields named by `--config.<field>` arguments, in order (none after a `--`)."""
    fields = []
    for arg in args:
        if arg == "--":
            break
        match = _OVERRIDE.match(arg)
        if match:
            fields.append(match.group(1))
    return fields


def check_override_names(args: Sequence[str]) -> None:
    """Checks that every `--config.<field>` argument names a config field.

    Args:
      args: the command line's arguments (without the program name).

    Raises:
      ConfigError: the first unknown field, with the nearest known one.
    """
    known = known_fields()
    for field in override_fields(args):
        if field in known:
            continue
        nearest = difflib.get_close_matches(field, sorted(FIELDS), n=1)
        hint = f"did you mean {nearest[0]!r}?" if nearest else "`--help` lists them."
        raise ConfigError(f"unknown config field {field!r}; {hint}")


def flag_error_message(error: flags.Error, flag_values: flags.FlagValues) -> str:
    """absl's flag-parsing error as one line, a refused value as `--NAME=VALUE: expected a float`.

    Args:
      error: what parsing the flags raised.
      flag_values: the flags being parsed (to find the refused flag's type).

    Returns:
      The message, without the `error: ` prefix.
    """
    text = str(error).strip()
    match = _ILLEGAL_VALUE.match(text)
    if isinstance(error, flags.IllegalFlagValueError) and match:
        name, value = match.group("name"), match.group("value")
        parser = flag_values[name].parser if name in flag_values else None
        expected = _EXPECTED.get(parser.flag_type()) if parser is not None else None
        reason = " ".join(match.group("reason").split())
        if expected and not _converts(parser, value):  # not out of bounds: not a number at all
            reason = f"expected {expected}"
        return f"--{name}={value}: {reason}"
    return " ".join(text.split())


def _converts(parser: flags.ArgumentParser, value: str) -> bool:
    """Whether `parser` reads `value` as its type (bounds aside)."""
    try:
        getattr(parser, "convert", parser.parse)(value)  # a bool parser has no `convert`
    except (ValueError, TypeError):
        return False
    return True
