"""The cost figure as text: each procedure's letter where its cost and accuracy put it."""
from lottery_tf.report.aggregate import Spread
from lottery_tf.report.cost import CostPoint
from lottery_tf.report.text_cost_figure import cost_vs_accuracy


def _point(procedure, level, flops, accuracies):
    return CostPoint(procedure, level, 10.0 if level == 1 else 3.6, tuple(range(len(accuracies))),
                     Spread.of(accuracies), Spread.of([flops / 1e6]), Spread.of([flops]),
                     Spread.of([flops / 2]))


def _plot_rows(text, level):
    """The rows of one panel: accuracy label (or None) -> cells after the axis bar."""
    lines = text.splitlines()
    start = lines.index(next(line for line in lines if line.startswith(f"level {level} ")))
    rows = []
    for line in lines[start + 1:]:
        if line.strip().startswith("+"):
            break
        label, _, cells = line.partition("|")
        rows.append((float(label) if label.strip() else None, cells))
    return rows


def _letters(rows):
    """letter -> (row, column) in a panel."""
    return {cell: (r, column) for r, (_, cells) in enumerate(rows)
            for column, cell in enumerate(cells) if cell.isalpha()}


def test_letters_sit_at_their_cost_and_accuracy_and_clashes_move_apart():
    points = [_point("IMP", 1, 5e13, [0.983, 0.985]), _point("cheap", 1, 1e13, [0.978, 0.980]),
              _point("same cost", 1, 1e13, [0.970, 0.970]), _point("IMP", 2, 8e13, [0.983]),
              _point("floor", 2, 5e12, [0.960, 0.962])]
    text = cost_vs_accuracy(points, [1, 2], "cost", height=16, width=40)
    for line in ("A IMP (n=2)", "B cheap (n=2)", "C same cost (n=2)", "D floor (n=2)"):
        assert line in text
    level_1 = _plot_rows(text, 1)
    found = _letters(level_1)
    assert sorted(found) == ["A", "B", "C"]
    # Higher accuracy, higher row: A (98.4) above B (97.9) above C (97.0).
    assert found["A"][0] < found["B"][0] < found["C"][0]
    # B and C share a cost: neighbouring columns, both left of A (5x the cost).
    assert abs(found["B"][1] - found["C"][1]) == 1 and max(found["B"][1], found["C"][1]) < found["A"][1]
    # A's min-max (98.3-98.5) spans rows above and below its letter, in its column.
    column = found["A"][1]
    spans = [r for r, (_, cells) in enumerate(level_1) if len(cells) > column and cells[column] == "|"]
    assert min(spans) < found["A"][0] < max(spans)
    level_2 = _letters(_plot_rows(text, 2))
    # One cost axis for both panels: the cheapest point (5T) at the left end, the dearest (80T)
    # at the right end; log scale: 10T sits a quarter of the way (log 2 / log 16).
    assert level_2["D"][1] == 0 and level_2["A"][1] == 39 and level_2["D"][0] > level_2["A"][0]
    assert sorted({found["B"][1], found["C"][1]}) in ([9, 10], [8, 9], [10, 11])
    assert text.count("10T") == 2 and text.count("50T") == 2  # the axis is labelled under each panel


def test_nothing_to_draw_says_so():
    assert "no procedure with a known cost" in cost_vs_accuracy([], [1], "cost")
