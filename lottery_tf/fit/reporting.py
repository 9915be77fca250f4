"""`report`: the command line's report of a fit-based experiment, from Python."""
from lottery_tf.report.build import Report, build_report


def report(root: str, experiment: str | None = None, quiet: bool = False) -> Report:
    """Tables and figures of what is stored under `root`, as `python -m lottery_tf report` makes them.

    Prints the summary table (per level: percent of weights left, the ticket's
    and each control's test accuracy at the early stop) and writes Markdown,
    CSV and figures to `<experiment>/report/`.

    Args:
      root: the results root given to `LotteryTicket` or `save_level`.
      experiment: a folder name or hash under `root` (None: every experiment).
      quiet: print nothing.

    Raises:
      ConfigError: no experiment under `root`, or `experiment` names none.
      StoreError: no finished level yet.
    """
    return build_report(root, experiment, quiet=quiet)
