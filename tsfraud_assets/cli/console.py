"""The terminal of `tsfraud run` and the demo: one line per finished step, the detail in a file.

Dagster's step logs, dbt's per-node lines and Spark's JVM output are what an engineer needs when
something breaks, and a wall of text when nothing does. During each step the process's own
standard output and error (file descriptors 1 and 2, so the JVM and dbt's subprocess output
follow too) go to one log file per command under `<data dir>/logs/`, named on screen; the
terminal keeps the step lines and, when it is a terminal, a ticking "running" line. An error
still reaches the screen: the exception is raised after the step, with the streams restored.
`-v` turns all of this off and shows everything as it happens.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

SPINNER = "|/-\\"


class Console:
    def __init__(self, log_path: Path | None) -> None:
        """`log_path` None: verbose, nothing redirected."""
        self.log_path = log_path
        self._terminal = sys.stdout

    @classmethod
    def for_command(cls, data_dir: Path, command: str, verbose: bool) -> Console:
        if verbose:
            return cls(None)
        stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = data_dir / "logs" / f"{command}-{stamp}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        return cls(path)

    def line(self, text: str) -> None:
        self._terminal.write(text + "\n")
        self._terminal.flush()

    @contextlib.contextmanager
    def quiet(self, label: str) -> Iterator[None]:
        """Run the body with fds 1 and 2 appended to the log file and a ticking label."""
        if self.log_path is None:
            yield
            return
        sys.stdout.flush()
        sys.stderr.flush()
        previous = self._terminal
        saved = os.dup(1), os.dup(2)
        terminal = os.fdopen(os.dup(saved[0]), "w", buffering=1)
        stop = threading.Event()
        ticker = threading.Thread(target=_tick, args=(terminal, label, stop), daemon=True)
        with (
            self.log_path.open("a", buffering=1) as log,
            contextlib.redirect_stdout(log),  # Python-level writers too, whatever sys.stdout was
            contextlib.redirect_stderr(log),
        ):
            log.write(f"\n===== {label} ({dt.datetime.now():%H:%M:%S}) =====\n")
            log.flush()
            os.dup2(log.fileno(), 1)
            os.dup2(log.fileno(), 2)
            self._terminal = terminal
            if terminal.isatty():
                ticker.start()
            try:
                yield
            finally:
                log.flush()
                stop.set()
                if ticker.is_alive():
                    ticker.join()
                sys.stdout.flush()
                sys.stderr.flush()
                os.dup2(saved[0], 1)
                os.dup2(saved[1], 2)
                for fd in saved:
                    os.close(fd)
                terminal.close()
                self._terminal = previous


def _tick(terminal: object, label: str, stop: threading.Event) -> None:
    write = terminal.write  # type: ignore[attr-defined]
    began = time.monotonic()
    frame = 0
    while not stop.wait(0.5):
        write(f"\r  {SPINNER[frame % 4]} {label}  {time.monotonic() - began:,.0f} s ")
        terminal.flush()  # type: ignore[attr-defined]
        frame += 1
    write("\r\033[K")
    terminal.flush()  # type: ignore[attr-defined]
