"""Shared fixtures. One SparkSession for the whole test session: the JVM costs 20-30 s to start."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


@pytest.fixture(scope="session")
def spark() -> Iterator[SparkSession]:
    from tsfraud_assets.processing.session import local_spark_session

    session = local_spark_session("tsfraud-tests")
    yield session
    session.stop()
