"""The text figure puts each kind's mean and min-max on the rows its values fall in."""
from lottery_tf.report import aggregate, text_figures


def _stats(kind, rows):
    """rows: (level, percent, [accuracies over replicates], [early-stop steps])."""
    runs = {}
    for level, percent, accuracies, steps in rows:
        for replicate, (accuracy, step) in enumerate(zip(accuracies, steps, strict=True)):
            runs.setdefault(replicate, {})[level] = {
                "percent_remaining": percent, "early_stop_test_accuracy": accuracy,
                "test_accuracy": accuracy, "early_stop_step": step}
    return aggregate.level_stats(kind, runs)


def _plot_rows(text):
    """(y label or None, the plot area's characters) per row, top first."""
    lines = text.splitlines()[1:]
    plot = []
    for line in lines:
        if line.lstrip().startswith("+"):
            break
        label, _, cells = line.partition(" |")
        plot.append((label.strip() or None, cells))
    return plot


def test_means_and_spans_fall_on_their_rows_and_levels_in_order():
    stats = {
        "ticket": _stats("ticket", [(0, 100.0, [0.970, 0.982], [3000, 5000]),
                                    (1, 51.2, [0.984, 0.984], [2000, 2000])]),
        "reinit": _stats("reinit", [(1, 51.2, [0.960, 0.972], [6000, 8000])]),
    }
    text = text_figures.range_plot(stats, lambda s: s.accuracy_at_early_stop, "acc", scale=100.0, height=16)
    rows = _plot_rows(text)
    # 96.0 .. 98.4 in 16 rows or fewer: a round step of 0.2 from 96.0 to 98.4.
    assert rows[0][0] == "98.4" and rows[-1][0] == "96.0" and len(rows) == 13

    def row_of(value):
        return round((98.4 - value) / 0.2)

    group = 4  # two kinds + a space, widened to fit a 3-character percent label
    column = {("ticket", 0): 0, ("ticket", 1): group, ("reinit", 1): group + 1}
    for (kind, level), col in column.items():
        letter = text_figures.kind_letters(list(stats))[kind]
        cells = [r[1][col] if col < len(r[1]) else " " for r in rows]
        marked = [i for i, c in enumerate(cells) if c != " "]
        level_stats = {s.level: s for s in stats[kind]}[level]
        spread = level_stats.accuracy_at_early_stop
        assert cells[row_of(100 * spread.mean)] == letter
        assert marked[0] == row_of(100 * spread.max) and marked[-1] == row_of(100 * spread.min)
        assert set(cells[marked[0]:marked[-1] + 1]) <= {letter, "|"}
    assert text.splitlines()[-3].split() == ["100", "51"]
    assert "T ticket (n=2)" in text and "R reinit (n=2)" in text


def test_kind_letters_are_distinct():
    kinds = ["ticket", "random_prune", "reinit", "rewind_sweep@0", "rewind_sweep@5"]
    letters = text_figures.kind_letters(kinds)
    assert letters["ticket"] == "T" and letters["random_prune"] == "P" and letters["reinit"] == "R"
    assert letters["rewind_sweep@0"] == "S" and len(set(letters.values())) == 5
    assert text_figures.kind_letters(["retrain", "reinit"]) == {"retrain": "R", "reinit": "E"}


def test_row_step_is_round_and_fits():
    assert text_figures.row_step(97.3, 98.48, 16) == 0.1
    assert text_figures.row_step(1400, 11100, 16) == 1000
    assert text_figures.row_step(0, 3, 16) == 0.2
