"""--quiet's progress line: redrawn in place on a terminal, once per run elsewhere."""
import io

from lottery_tf.training.callbacks import ProgressLine


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def _drive(stream):
    line = ProgressLine("[rep 0 level 3  51.2%]", end_step=40, stream=stream)
    line.on_train_begin({"step": 0})
    for step in (10, 20, 30, 40):
        line.on_train_batch_end(step, {})
    line.on_train_end({"step": 40})
    return stream.getvalue()


def test_a_log_file_gets_one_line_per_run():
    text = _drive(io.StringIO())
    assert "\r" not in text and text.count("\n") == 1
    assert text.startswith("[rep 0 level 3  51.2%] [####################] step 40/40 | ")
    assert " it/s | " in text


def test_a_terminal_sees_the_line_redrawn_in_place():
    text = _drive(_Terminal())
    frames = text.split("\r")[1:]
    assert len(frames) == 6 and text.endswith("\n") and text.count("\n") == 1
    assert "[#####---------------] step 10/40" in frames[1]
    assert "step 40/40" in frames[-1]
