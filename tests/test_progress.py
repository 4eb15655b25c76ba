"""Progress: a bar on a terminal; off one, a plain line at most every 30 s and only every 5%, then one at the end."""

from __future__ import annotations

import io

from toyjax import progress


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_off_a_terminal_a_plain_line_now_and_then(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    out = io.StringIO()  # not a TTY, as under SLURM, CI or `> log`
    bar = progress.Progress(total=1000, stream=out)
    bar.set_phase("block 1/2: training")
    for _ in range(100):  # 100 updates over 65 s: a bar would have redrawn 100 times
        clock.now += 0.65
        bar.advance(10)
    bar.close()
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines  # at 30 s, at 60 s, and the end
    assert lines[0].startswith("toyjax: block 1/2: training, 47% of 1,000 model-steps, 15 model-steps/s")
    assert lines[-1].startswith("toyjax: block 1/2: training, 100% of 1,000 model-steps")


def test_no_line_before_another_5_percent(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(progress.time, "perf_counter", clock)
    out = io.StringIO()
    bar = progress.Progress(total=1000, stream=out)
    clock.now = 100.0
    bar.advance(10)  # 1% after 100 s: too little to report
    clock.now = 200.0
    bar.advance(50)
    assert len(out.getvalue().splitlines()) == 1


def test_a_resumed_run_starts_where_it_stood_and_progress_false_prints_nothing(monkeypatch):
    out = io.StringIO()
    bar = progress.Progress(total=1000, done=400, enabled=False, stream=out)
    bar.advance(600)
    bar.close()
    assert out.getvalue() == "" and bar.done == 1000 and bar.trained == 600
