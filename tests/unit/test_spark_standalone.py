"""The standalone-cluster side of the Spark job: selected by settings, same code and command
line as EMR. The cluster itself runs in tests/integration/test_spark_standalone_cluster.py."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from tsfraud_assets.defs.resources import resources_for
from tsfraud_assets.resources.spark import (
    OUTPUT_SPARK_CONF_KEYS,
    EmrPipesSparkProcessing,
    StandaloneSparkProcessing,
    installed_spark_home,
    job_arguments,
    ship_job_code,
)
from tsfraud_assets.settings import load_settings
from tsfraud_assets.spark_jobs.packaging import build_package_zip, job_script
from tsfraud_assets.spark_jobs.session import local_spark_conf

MASTER = "spark://10.0.0.5:7077"
START, END = dt.date(2026, 3, 2), dt.date(2026, 3, 6)


def _spark(env: dict[str, str], tmp_path: Path) -> object:
    return resources_for(load_settings({"TSFRAUD_DATA_DIR": str(tmp_path), **env}))["spark"]


def test_the_master_setting_selects_the_standalone_cluster(tmp_path: Path) -> None:
    conf = {"spark.executor.memory": "4g", "spark.cores.max": "16"}
    spark = _spark(
        {
            "TSFRAUD_SPARK_MASTER": MASTER,
            "TSFRAUD_SPARK_CONF": json.dumps(conf),
            "TSFRAUD_SPARK_PYTHON": "/opt/python3.11/bin/python",
            "TSFRAUD_SPARK_TIMEOUT_MINUTES": "30",
        },
        tmp_path,
    )
    assert isinstance(spark, StandaloneSparkProcessing)
    assert spark.master_url == MASTER
    assert spark.spark_conf == conf
    assert (spark.code_dir, spark.log_dir) == (
        str(tmp_path / "spark-code"),
        str(tmp_path / "logs"),
    )
    assert spark.spark_submit() == installed_spark_home() / "bin" / "spark-submit"
    assert spark.spark_submit().is_file()
    assert spark.timeout_minutes == 30
    # An empty master is unset: local mode.
    assert type(_spark({"TSFRAUD_SPARK_MASTER": " "}, tmp_path)).__name__ == (
        "LocalSparkProcessing"
    )


def test_bad_standalone_settings_fail_clearly(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="spark://host:port, got 'local\\[2\\]'"):
        _spark({"TSFRAUD_SPARK_MASTER": "local[2]"}, tmp_path)
    with pytest.raises(ValueError, match="TSFRAUD_SPARK_CONF must be a JSON object"):
        _spark({"TSFRAUD_SPARK_MASTER": MASTER, "TSFRAUD_SPARK_CONF": "[1]"}, tmp_path)
    with pytest.raises(ValueError, match="TSFRAUD_SPARK_CONF must be a JSON object"):
        _spark({"TSFRAUD_SPARK_MASTER": MASTER, "TSFRAUD_SPARK_CONF": "{spark"}, tmp_path)
    aws = {"TSFRAUD_DEPLOYMENT": "aws", "TSFRAUD_LAKE": "s3://b/l"}
    with pytest.raises(ValueError, match="is for the local deployment"):
        _spark({**aws, "TSFRAUD_SPARK_MASTER": MASTER}, tmp_path)


def test_code_is_shipped_to_a_folder_once_as_it_is_to_s3(tmp_path: Path) -> None:
    """The same two content-hashed files EMR gets, written once: a second run with unchanged
    code finds them and rewrites nothing."""
    code = ship_job_code(None, str(tmp_path / "code"))
    script, package = job_script(), build_package_zip()
    assert Path(code.script_uri) == tmp_path / "code" / script.name
    assert Path(code.package_uri) == tmp_path / "code" / package.name
    assert Path(code.package_uri).read_bytes() == package.data
    assert Path(code.script_uri).read_bytes() == script.data
    before = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "code").iterdir()}
    assert ship_job_code(None, str(tmp_path / "code")) == code
    after = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "code").iterdir()}
    assert after == before  # nothing rewritten
    assert sorted(after) == sorted([script.name, package.name])  # no temporary file left
    with pytest.raises(ValueError, match="needs an S3 client"):
        ship_job_code(None, "s3://bucket/code")


def test_the_command_line_is_emrs_with_another_master(tmp_path: Path) -> None:
    """After the master and deploy mode, the standalone command is EMR's step: --conf pairs,
    the zip as --py-files, the script, the job's arguments; the output settings match local
    mode's on both."""
    code = ship_job_code(None, str(tmp_path / "code"))
    lake = str(tmp_path / "lake")
    standalone = StandaloneSparkProcessing(
        master_url=MASTER,
        code_dir=str(tmp_path / "code"),
        log_dir=str(tmp_path / "logs"),
        pyspark_python="/usr/bin/python3.11",
        spark_conf={"spark.executor.memory": "4g"},
    ).command(code, lake, START, END)
    emr = EmrPipesSparkProcessing(
        region="eu-west-1",
        code_prefix="s3://c/code",
        log_uri="s3://c/logs/",
        pipes_bucket="c",
        pyspark_python="/usr/bin/python3.11",
        spark_conf={"spark.executor.memory": "4g"},
    ).step(code, lake, START, END)["HadoopJarStep"]["Args"]

    assert standalone[1:5] == ["--master", MASTER, "--deploy-mode", "client"]
    assert list(emr[:3]) == ["spark-submit", "--deploy-mode", "cluster"]
    tail = ["--py-files", code.package_uri, code.script_uri, *job_arguments(lake, START, END)]
    assert standalone[-len(tail) :] == tail
    assert list(emr[-len(tail) :]) == tail

    def confs(args: list[str]) -> dict[str, str]:
        pairs = [args[i + 1] for i, a in enumerate(args) if a == "--conf"]
        return dict(pair.split("=", 1) for pair in pairs)

    on_cluster, on_emr, local = confs(standalone), confs(list(emr)), local_spark_conf()
    for key in OUTPUT_SPARK_CONF_KEYS:
        assert on_cluster[key] == on_emr[key] == local[key], key
    assert on_cluster["spark.pyspark.python"] == "/usr/bin/python3.11"
    assert on_cluster["spark.pyspark.driver.python"] == "/usr/bin/python3.11"
    assert on_cluster["spark.executor.memory"] == "4g"
    assert not any(key.startswith("spark.yarn.") for key in on_cluster)
