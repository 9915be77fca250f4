"""The `report` command: collect, aggregate, draw and write, for one or several experiments.

Outputs of one experiment (default folder `<root>/<experiment>/report/`):

  report.md                         summary, gaps, the level table (and warnings for levels
                                    whose runs all look untrained), figure links
  levels.csv, levels.md             the level table (CSV at full precision)
  summary.md                        the level table for reading: mean (min-max) per kind
  figure_1.png/.svg                 Frankle & Carbin's Figure 1 layout: early-stop iteration
                                    and test accuracy at early stop vs percent remaining
  figure_1.txt                      the same as text (also in report.md), for terminals
  accuracy_vs_sparsity.png/.svg     test accuracy at early stop vs percent remaining
  early_stop_vs_sparsity.png/.svg   early-stop iteration vs percent remaining
  training_curves.png/.svg          test accuracy during training at chosen levels
  lmc_paths.png/.svg, lmc_instability.png/.svg   when lmc branches exist
  cost.csv, cost.md, cost_summary.md  per procedure (the trunk, each one-training branch) and
                                    level: accuracy at early stop and cumulative cost (`cost.py`)
  cost_vs_accuracy.png/.svg         accuracy at early stop vs cumulative dense-equivalent FLOPs,
                                    one panel per sparsity, when 2+ procedures reach one
  cost_vs_accuracy.txt              the same as text (also in report.md)
  instability_vs_rewind.png/.svg    when lmc runs of one level start from 2+ steps

With several experiments, a comparison (comparison.md/.csv,
comparison_accuracy.png/.svg, instability_vs_rewind.png/.svg when lmc runs
of one sparsity exist for several rewind steps, and the cost tables and figure
over every experiment's procedures: comparison_cost.csv/.md,
comparison_cost_summary.md, comparison_cost_vs_accuracy.png/.svg/.txt) goes to
`--out` or `<root>/report/`. Its columns and legends name each experiment by the
settings that tell it from the others (e.g. `dataset.normalization=unit_range`),
and comparison_experiments.md says which folder each label stands for.

Each experiment's figures also go to its TensorBoard logdir as images (run
`report`, see `tensorboard_images.py`).
"""
import dataclasses
import os
import sys
from typing import TextIO

from matplotlib.figure import Figure

from lottery_tf.errors import StoreError
from lottery_tf.report import (
    aggregate,
    cost,
    cost_figure,
    figures,
    labels,
    tables,
    tensorboard_images,
    text_cost_figure,
    text_figures,
)
from lottery_tf.report.collect import Collected, collect, describe, has_stored_runs
from lottery_tf.report.degenerate import untrained_warnings
from lottery_tf.report.unrecorded_cost import with_unrecorded_flops
from lottery_tf.storage import store
from lottery_tf.storage.catalog import find_experiments

INSTABILITY_NOTE = (
    "Instability against the rewind step (instability_vs_rewind) needs lmc runs of one level from "
    "two or more start steps: run `branch lmc --lmc_start=<step>` for each, or report experiments "
    "that differ only in `rewind` together (`--experiment=a,b`), which compares IMP tickets found "
    "with each rewind step.")


SHORT_LEVEL_NOTE = (
    "short_level: trunk levels cut short (intermediate_steps, or an early-bird stop) whose training "
    "only ranked weights for the next level's pruning. Their accuracy is not a ticket's; the "
    "ticket column holds the levels that trained fully.")
COST_NOTE = (
    "Cumulative cost: the run's own training plus every training behind its mask (IMP level L: "
    "levels 0..L; a branch: the trunk levels that made the mask it uses, level 0 for one_shot, "
    "for random_prune and prune_at_init only the dense iterations up to their starting step). "
    "Dense-equivalent FLOPs count every weight, as masked dense "
    "kernels compute; sparse FLOPs count the survivors. Short levels (training cut short to rank "
    "weights) are not tickets and are left out. The figure's x axis is dense-equivalent FLOPs.")


@dataclasses.dataclass
class ExperimentReport:
    """Everything drawn and tabulated for one experiment, before and after writing.

    Attributes:
      collected: the stored runs and gaps.
      stats: run kind -> per-level stats (what the figures and tables show).
      lmc: lmc label -> per-level path and instability stats.
      curve_levels: the levels of the training-curve figure.
      figures: figure stem -> Figure (kept so callers can read the plotted data).
      tables: table stem -> Table.
      texts: text figure stem -> text (`text_figures`).
      warnings: lines printed under the level table when every run of some level
        looks untrained (`degenerate.untrained_warnings`); empty otherwise.
      markdown: the report.md text.
      files: paths written (empty until written).
    """

    collected: Collected
    stats: dict[str, list[aggregate.LevelStats]]
    lmc: dict[str, list[aggregate.LmcStats]]
    curve_levels: list[int]
    figures: dict[str, Figure]
    tables: dict[str, tables.Table]
    texts: dict[str, str] = dataclasses.field(default_factory=dict)
    warnings: list[str] = dataclasses.field(default_factory=list)
    markdown: str = ""
    files: list[str] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        return self.collected.experiment.name


@dataclasses.dataclass
class Report:
    """The whole command's result: one report per experiment, and a comparison if several."""

    experiments: list[ExperimentReport]
    comparison_figures: dict[str, Figure] = dataclasses.field(default_factory=dict)
    comparison_tables: dict[str, tables.Table] = dataclasses.field(default_factory=dict)
    comparison_texts: dict[str, str] = dataclasses.field(default_factory=dict)
    files: list[str] = dataclasses.field(default_factory=list)


def _config_line(config: dict) -> str:
    def get(section, field):
        value = (config.get(section) or {}).get(field)
        return "unset" if value is None else value  # fit-based runs leave what fit cannot tell unset

    return (f"{get('model', 'name')} on {get('dataset', 'name')}, {get('pruning', 'strategy')} "
            f"{(config.get('pruning') or {}).get('granularity') or 'weight'}-level pruning "
            f"at rate {get('pruning', 'rate')}, rewind {config.get('rewind') or 'unset'}, "
            f"{get('training', 'train_steps')} per level, optimizer {get('training', 'optimizer')} "
            f"lr {get('training', 'learning_rate')}, batch {get('training', 'batch_size')}; "
            f"trunk: {cost.trunk_procedure(config)}")


def experiment_report(collected: Collected, curve_levels: list[int] | None = None) -> ExperimentReport:
    """Aggregates one experiment and draws its figures and tables (writes nothing).

    Args:
      collected: from `collect.collect`, with at least one finished trunk level.
      curve_levels: levels of the training-curve figure; None for the default
        (level 0, the level nearest 20% remaining, the last level). Levels not
        stored are left out.
    """
    name = collected.experiment.name
    stats = aggregate.summarize(collected.trunk, collected.branches)
    # Short levels are no tickets, but their levels still get training curves.
    percents = aggregate.percents_by_level(stats)
    if curve_levels is None:
        levels = aggregate.curve_levels(percents)
    else:
        levels = [level for level in curve_levels if level in percents]
    kinds = aggregate.run_kinds(collected.trunk, collected.branches)
    drawn = {
        "figure_1": figures.figure_1(stats, f"{name}: tickets (solid) and controls (dashed)"),
        "accuracy_vs_sparsity": figures.accuracy_vs_sparsity(stats, f"{name}: test accuracy at early stop"),
        "early_stop_vs_sparsity": figures.early_stop_vs_sparsity(stats, f"{name}: early-stop iteration"),
        "training_curves": figures.training_curves(kinds, levels, f"{name}: test accuracy during training"),
    }
    lmc = {}
    for label, runs in aggregate.lmc_kinds(collected.branches).items():
        if lmc_stats := aggregate.lmc_levels(runs):
            lmc[label] = lmc_stats
    if lmc:
        drawn["lmc_paths"] = figures.lmc_paths(lmc, f"{name}: test error between two trained copies")
        drawn["lmc_instability"] = figures.lmc_instability(lmc, f"{name}: instability")
        if series := rewind_series([lmc]):
            drawn["instability_vs_rewind"] = figures.instability_vs_rewind(
                series, f"{name}: instability vs rewind step")
    cost_drawn, cost_tables, cost_texts = cost_outputs([collected],
                                                       f"{name}: test accuracy at early stop vs cost")
    texts = {"figure_1": text_figures.figure_1(stats, f"{name}: mean and min-max over replicates"),
             **cost_texts}
    report = ExperimentReport(collected, stats, lmc, levels, {**drawn, **cost_drawn},
                              {"levels": tables.level_table(stats), "summary": tables.summary_table(stats),
                               **cost_tables},
                              texts, untrained_warnings(_runs_of_kinds(kinds)))
    report.markdown = _markdown(report)
    return report


def cost_outputs(collected: list[Collected], title: str
                 ) -> tuple[dict[str, Figure], dict[str, tables.Table], dict[str, str]]:
    """The cost tables (`cost`, `cost_summary`) of the experiments' procedures, and the
    `cost_vs_accuracy` figure and its text twin when two or more procedures reach one sparsity."""
    points = cost.cost_points(cost.procedure_runs(collected))
    drawn, texts = {}, {}
    if levels := cost.figure_levels(points):
        drawn["cost_vs_accuracy"] = cost_figure.cost_vs_accuracy(points, levels, title)
        texts["cost_vs_accuracy"] = text_cost_figure.cost_vs_accuracy(points, levels, title)
    costs = {"cost": tables.cost_table(points), "cost_summary": tables.cost_summary_table(points)}
    return drawn, costs, texts


def _runs_of_kinds(kinds: dict[str, dict]) -> dict[str, list[dict]]:
    """kind -> replicate -> level -> metrics (`aggregate.run_kinds`) as kind -> every run, with
    its level (a rewind sweep's per-step runs keep theirs)."""
    return {kind: [{**run, "level": level} for levels in replicates.values()
                   for level, run in levels.items()]
            for kind, replicates in kinds.items()}


def _markdown(report: ExperimentReport) -> str:
    collected = report.collected
    experiment = collected.experiment
    lines = [f"# {experiment.name}", "",
             f"- config hash `{experiment.hash}`: {_config_line(experiment.config)}",
             f"- stored: {describe(collected)}",
             "- acc@es: test accuracy at the early-stop step (minimum validation loss); "
             "mean/min/max over replicates; n = replicates", ""]
    gaps = collected.missing.lines()
    if gaps:
        lines += ["## Missing", "", *(f"- {line}" for line in gaps), ""]
    lines += ["## Test accuracy at early stop, by level", "", tables.to_markdown(report.tables["summary"])]
    if aggregate.SHORT_LEVEL in report.stats:
        lines += [SHORT_LEVEL_NOTE, ""]
    if report.warnings:
        lines += ["```text", *report.warnings, "```", ""]
    lines += ["All columns: levels.md, levels.csv.", ""]
    if report.tables["cost_summary"].rows:
        lines += ["## Cost to reach each sparsity", "", COST_NOTE, "",
                  tables.to_markdown(report.tables["cost_summary"]), "All columns: cost.md, cost.csv.", ""]
    lines += ["## Figures", ""]
    for stem in report.figures:
        lines += [f"![{stem}]({stem}.png) ([svg]({stem}.svg))", ""]
    for stem, text in report.texts.items():
        lines += [f"{stem} as text ({stem}.txt):", "", "```text", text.rstrip("\n"), "```", ""]
    lines.append(f"Training curves at levels {', '.join(map(str, report.curve_levels))}; their y axis "
                 "spans every point of the curves, from the first evaluation on.")
    if report.lmc:
        lines += ["", "## Linear mode connectivity", ""]
        for label, levels in report.lmc.items():
            for s in levels:
                lines.append(f"- {label} level {s.level} ({s.percent_remaining:.3g}%): instability "
                             f"{s.instability.mean:.4f} (min {s.instability.min:.4f}, max "
                             f"{s.instability.max:.4f}, n={len(s.replicates)}), copies start at step "
                             f"{', '.join(map(str, s.start_steps))}")
        lines += ["", INSTABILITY_NOTE]
    return "\n".join(lines) + "\n"


def write_table(table: tables.Table, directory: str, stem: str) -> list[str]:
    """Writes `<stem>.csv` (unless `table.csv` is False) and `<stem>.md` atomically; returns
    their paths."""
    written = []
    renderers = {"csv": tables.to_csv, "md": tables.to_markdown} if table.csv else {"md": tables.to_markdown}
    for suffix, render in renderers.items():
        path = os.path.join(directory, f"{stem}.{suffix}")
        store.atomic_write_bytes(path, render(table).encode())
        written.append(path)
    return written


def write_text(text: str, directory: str, stem: str) -> str:
    """Writes a text figure to `<stem>.txt` atomically; returns its path."""
    path = os.path.join(directory, f"{stem}.txt")
    store.atomic_write_bytes(path, text.encode())
    return path


def write_experiment_report(report: ExperimentReport, directory: str) -> list[str]:
    """Writes the report's figures, tables and report.md to `directory`, each file atomically."""
    files = []
    for stem, figure in report.figures.items():
        files += figures.save(figure, directory, stem)
    for stem, table in report.tables.items():
        files += write_table(table, directory, stem)
    for stem, text in report.texts.items():
        files.append(write_text(text, directory, stem))
    path = os.path.join(directory, "report.md")
    store.atomic_write_bytes(path, report.markdown.encode())
    report.files = files + [path]
    return report.files


def rewind_series(lmc_by_experiment: list[dict[str, list[aggregate.LmcStats]]]
                  ) -> dict[str, list[tuple[int, aggregate.Spread]]]:
    """Instability by rewind step for each sparsity that lmc runs cover from 2+ rewind steps.

    Args:
      lmc_by_experiment: each experiment's lmc label -> per-level stats.

    Returns:
      `"<P>% remaining"` -> [(rewind step, instability spread)], only for
      sparsities seen with at least two distinct start steps.
    """
    by_percent: dict[float, dict[int, aggregate.Spread]] = {}
    for lmc in lmc_by_experiment:
        for levels in lmc.values():
            for s in levels:
                if len(s.start_steps) == 1:
                    by_percent.setdefault(round(s.percent_remaining, 1), {})[s.start_steps[0]] = s.instability
    return {f"{percent:.3g}% remaining": sorted(points.items())
            for percent, points in sorted(by_percent.items(), reverse=True) if len(points) > 1}


def comparison(reports: list[ExperimentReport]
               ) -> tuple[dict[str, Figure], dict[str, tables.Table], dict[str, str]]:
    """Side-by-side table and figures of several experiments, each labelled by the settings
    that tell it from the others (`labels.experiment_labels`), or by its name."""
    label = labels.experiment_labels({report.name: report.collected.experiment.config
                                      for report in reports})
    named = {label[report.name]: report.stats for report in reports}
    drawn = {"comparison_accuracy": figures.accuracy_vs_sparsity(
        {name: stats[aggregate.TICKET] for name, stats in named.items()},
        "tickets of each experiment: test accuracy at early stop")}
    if any(len(report.stats) > 1 for report in reports):
        drawn["comparison_with_controls"] = figures.experiments_with_controls(
            named, "tickets and controls of each experiment: test accuracy at early stop")
    series = rewind_series([report.lmc for report in reports])
    if series:
        drawn["instability_vs_rewind"] = figures.instability_vs_rewind(series, "instability vs rewind step")
    cost_drawn, cost_tables, cost_texts = cost_outputs([report.collected for report in reports],
                                                       "every procedure: test accuracy at early stop vs cost")
    drawn.update({f"comparison_{stem}": figure for stem, figure in cost_drawn.items()})
    return drawn, {"comparison": tables.comparison_table(named),
                   "comparison_experiments": tables.experiments_table(
                       {report.name: label[report.name] for report in reports}),
                   **{f"comparison_{stem}": table for stem, table in cost_tables.items()}}, \
        {f"comparison_{stem}": text for stem, text in cost_texts.items()}


def build_report(root: str, selector: str | None = None, out: str | None = None,
                 curve_levels: list[int] | None = None, stream: TextIO | None = None,
                 quiet: bool = False) -> Report:
    """The `report` command.

    Args:
      root: the results root.
      selector: experiments by folder name or hash, comma-separated; None for all.
      out: output folder; default `<root>/<experiment>/report` (and `<root>/report`
        for the comparison of several experiments). With several experiments each
        one's files go to `<out>/<experiment>/`.
      curve_levels: levels of the training-curve figure (None: the default choice).
      stream: where the summary is printed (None: standard output).
      quiet: print nothing.

    Returns:
      The reports, with their figures and the files written.

    Raises:
      ConfigError: no experiment under root, or `selector` names an unknown one.
      StoreError: no named experiment has a finished level yet, or a file is corrupt.
    """
    experiments = find_experiments(root, selector)
    # Resolved per call, not as a default argument, so a redirected stdout is honoured.
    stream = None if quiet else stream or sys.stdout
    reports = []
    for experiment in experiments:
        collected = with_unrecorded_flops(collect(experiment))
        if not has_stored_runs(collected):
            _say(stream, f"{experiment.name}: no finished level yet; skipped.")
            continue
        reports.append(experiment_report(collected, curve_levels))
    if not reports:
        raise StoreError(f"No finished level in {', '.join(e.name for e in experiments)} yet; "
                         "a report needs at least level 0 of one replicate.")
    result = Report(reports)
    for report in reports:
        if len(reports) == 1:
            directory = out or os.path.join(report.collected.experiment.paths.dir, "report")
        else:
            directory = os.path.join(out, report.name) if out else os.path.join(
                report.collected.experiment.paths.dir, "report")
        result.files += write_experiment_report(report, directory)
        tensorboard_images.write_figures(report.figures, report.collected.experiment.paths.tensorboard_root,
                                         step=max(s.level for kind in report.stats.values() for s in kind))
        _say(stream, f"{report.name}: {describe(report.collected)}")
        for line in report.collected.missing.lines():
            _say(stream, f"  missing: {line}")
        _say(stream, tables.to_markdown(report.tables["summary"]))
        for line in report.warnings:
            _say(stream, line)
        _say(stream, f"wrote {len(report.files)} files to {directory}")
    if len(reports) > 1:
        result.comparison_figures, result.comparison_tables, result.comparison_texts = comparison(reports)
        directory = out or os.path.join(root, "report")
        for stem, figure in result.comparison_figures.items():
            result.files += figures.save(figure, directory, stem)
        for stem, table in result.comparison_tables.items():
            result.files += write_table(table, directory, stem)
        for stem, text in result.comparison_texts.items():
            result.files.append(write_text(text, directory, stem))
        costs = result.comparison_tables["comparison_cost_summary"]
        if len({row[2] for row in costs.rows}) > 1:  # several procedures: how each compares on cost
            _say(stream, "Every procedure's cost to reach each sparsity:")
            _say(stream, tables.to_markdown(costs))
        _say(stream, f"comparison of {len(reports)} experiments written to {directory}")
    return result


def _say(stream: TextIO | None, text: str) -> None:
    if stream is not None:
        print(text, file=stream)
