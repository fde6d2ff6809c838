"""Shared fixtures. One SparkSession for the whole test session: the JVM costs 20-30 s to start."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# The tests see the environment they set, not the settings a developer's `make demo` wrote to
# data/tsfraud.env (tests/test_settings_file.py sets this back where it reads a file).
os.environ["TSFRAUD_SETTINGS_FILE"] = ""


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from tsfraud_assets.spark_jobs.session import local_spark_session

    session = local_spark_session("tsfraud-tests")
    yield session
    session.stop()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def moto_server(port: int) -> Iterator[str]:
    """An S3/Glue/EMR-compatible HTTP endpoint (moto's server mode) on a loopback port, for the
    length of the block."""
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1).close()
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"moto_server did not come up on {endpoint}")
                time.sleep(0.2)
        yield endpoint
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """One moto endpoint for the whole session (tests make their own buckets)."""
    with moto_server(free_port()) as endpoint:
        yield endpoint
