"""Progress of a long run: a bar on a terminal, and a plain line now and then in a redirected log.

On a terminal (stderr is a TTY) a tqdm bar shows model-steps, model-steps/s and the ETA. Off a terminal
(SLURM, CI, ``> log``) a bar would write several updates a second, so a plain line is printed instead,
at most every `LINE_SECONDS` and only when another `LINE_FRACTION` of the run is done, plus one at the
end. Training is the bar's 100%; evaluation shows as its own phase. Progress never changes what is
compiled or computed. This module imports only the standard library and tqdm.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm

LINE_SECONDS = 30.0
LINE_FRACTION = 0.05


class Progress:
    """Model-steps done out of `total`; `done` of them were trained before (a resumed run)."""

    def __init__(self, total: int, enabled: bool = True, done: int = 0, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.total, self.done, self.enabled = total, done, enabled
        self.start, self.trained = time.perf_counter(), 0
        self.last_line, self.last_fraction = self.start, self._fraction()
        self.bar = _bar(total, done) if enabled and _is_terminal(self.stream) else None
        self.phase = ""

    def set_phase(self, text: str) -> None:
        """What the run is doing now, e.g. 'block 2/5: training' or 'block 2/5: evaluating'."""
        self.phase = text
        if self.bar is not None:
            self.bar.set_description(text)

    def advance(self, model_steps: int) -> None:
        """`model_steps` more were trained in this process."""
        self.done += model_steps
        self.trained += model_steps
        if self.bar is not None:
            self.bar.update(model_steps)
        elif self.enabled and self._line_due():
            self._line()

    def close(self) -> None:
        """End the bar, or print the last plain line."""
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.last_fraction < 1.0:
            self._line()

    def _fraction(self) -> float:
        return self.done / self.total if self.total else 1.0

    def _line_due(self) -> bool:
        now, fraction = time.perf_counter(), self._fraction()
        return now - self.last_line >= LINE_SECONDS and fraction - self.last_fraction >= LINE_FRACTION

    def _line(self) -> None:
        elapsed = time.perf_counter() - self.start
        rate = self.trained / elapsed if elapsed > 0 else 0.0
        eta = (self.total - self.done) / rate if rate > 0 else float("nan")
        self.last_line, self.last_fraction = time.perf_counter(), self._fraction()
        print(f"toyjax: {self.phase + ', ' if self.phase else ''}{self._fraction():.0%} of "
              f"{self.total:,} model-steps, {rate:,.0f} model-steps/s, ETA {eta:.0f} s", file=self.stream, flush=True)


def _is_terminal(stream: TextIO) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)())


def _bar(total: int, done: int) -> tqdm:
    return tqdm(total=total, initial=done, unit="model-step", unit_scale=True, dynamic_ncols=True)
