"""Helpers for tests that run Dagster's own processes (webserver, daemon)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time


def stop_process_group(proc: subprocess.Popen[bytes], wait_seconds: float = 15) -> None:
    """SIGTERM the process group (code server and run workers included), then SIGKILL what
    outlives it: a code server may outlive its parent by its heartbeat timeout."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=wait_seconds)
        time.sleep(0.5)
