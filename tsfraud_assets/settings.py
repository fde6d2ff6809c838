"""Which deployment this is and where things live, read from the environment in one place.

`load_settings()` is the only reader of `TSFRAUD_*` variables (and of the AWS region the cloud
resources default to). Everything else takes a `Settings`: `build_definitions(settings)` builds
the partitions, the dbt target, the alert budget and every resource from it, so a test or a CLI
command can load two deployments in one process, and a deployment is switched by environment
variables alone.
"""

from __future__ import annotations

import datetime as dt
import os
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

Deployment = Literal["local", "aws"]
DEPLOYMENTS: tuple[Deployment, ...] = ("local", "aws")

DEFAULT_PARTITION_START = "2025-01-01"
DEFAULT_TIMEZONE = "Europe/London"
TIMEZONE_ENV = "TSFRAUD_TIMEZONE"
GROUND_TRUTH_ENV = "TSFRAUD_GROUND_TRUTH"
SWEEP_DAYS_ENV = "TSFRAUD_SWEEP_DAYS"
DEFAULT_SWEEP_DAYS = 35
RAW_RETENTION_ENV = "TSFRAUD_RAW_RETENTION_DAYS"
HISTORY_RETENTION_ENV = "TSFRAUD_HISTORY_RETENTION_DAYS"
DEFAULT_RETENTION_DAYS = 2557  # 7 years of calendar days
EMR_PREFIX = "TSFRAUD_EMR_"
SPARK_PREFIX = "TSFRAUD_SPARK_"
ATHENA_PREFIX = "TSFRAUD_ATHENA_"
AWS_REGION_VARIABLES = ("AWS_REGION", "AWS_DEFAULT_REGION")
SETTINGS_FILE_NAME = "tsfraud.env"
SETTINGS_FILE_ENV = "TSFRAUD_SETTINGS_FILE"
"""Another settings file than `<data dir>/tsfraud.env`; empty: none (the test suite sets that,
so a developer's `make demo` does not change what the tests see)."""
"""`<data dir>/tsfraud.env`: settings a command derived from the data it wrote (the demo writes
the partition start of the firm it simulated there), so the UI, the daemon and later commands on
the same data dir agree with it without anyone exporting variables. The environment wins."""


@dataclass(frozen=True)
class Settings:
    deployment: Deployment
    data_dir: Path
    source_url: str
    source_url_from_env: bool  # the URL may carry a password: then it stays an EnvVar in config
    lake_root: str
    duckdb_path: str
    partition_start: str
    alert_budget: float
    # The last daily partition, for data that ends (the demo's simulated firm); None: today.
    partition_end: str | None = None
    timezone: str = DEFAULT_TIMEZONE
    ground_truth: str | None = None  # None: the simulator's file next to the default source
    # How many work dates, ending with the last complete one, the completeness sweep compares
    # between source and lake (docs/audit-trail.md): late edits older than this are not sought.
    sweep_days: int = DEFAULT_SWEEP_DAYS
    # Work dates kept in the lake's raw extracts and in the entry history (docs/audit-trail.md):
    # firm policy, e.g. 7 years for DCAA-style audits. Older partitions are deleted whole.
    raw_retention_days: int = DEFAULT_RETENTION_DAYS
    history_retention_days: int = DEFAULT_RETENTION_DAYS
    # The cloud resources' own variables (docs/emr.md, docs/bi-access.md), handed over as read
    # here; each resource's parser names the missing ones.
    emr_env: Mapping[str, str] = field(default_factory=dict)
    athena_env: Mapping[str, str] = field(default_factory=dict)
    # TSFRAUD_SPARK_* (docs/spark-cluster.md): with TSFRAUD_SPARK_MASTER set, the local
    # deployment submits the Spark job to that standalone cluster instead of running it
    # in-process.
    spark_env: Mapping[str, str] = field(default_factory=dict)
    notify_webhook_from_env: bool = False
    """TSFRAUD_NOTIFY_WEBHOOK is set: late list changes go there (it stays an EnvVar: the URL
    is a secret); otherwise to data_dir/notifications.jsonl."""

    @property
    def default_ground_truth(self) -> Path:
        return self.data_dir / "source.db.ground_truth.parquet"

    @property
    def ground_truth_location(self) -> str:
        """`TSFRAUD_GROUND_TRUTH`, else the simulator's default next to the local source DB."""
        return self.ground_truth or str(self.default_ground_truth)

    def dbt_env(self) -> dict[str, str]:
        """What dbt (a subprocess reading `env_var()` in its profile and sources) must see: the
        same resolved locations the Python resources use."""
        return {
            "TSFRAUD_LAKE": self.lake_root,
            "TSFRAUD_DUCKDB_PATH": self.duckdb_path,
            "TSFRAUD_PARTITION_START": self.partition_start,
            **{k: v for k, v in self.athena_env.items() if k.startswith(ATHENA_PREFIX)},
        }


def timezone_from(env: Mapping[str, str]) -> str:
    """The investigators' time zone; an unknown name fails at load time, not at 07:00."""
    name = env.get(TIMEZONE_ENV, DEFAULT_TIMEZONE)
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{TIMEZONE_ENV}={name!r} is not an IANA time zone") from exc
    return name


def sweep_days_from(env: Mapping[str, str]) -> int:
    """`TSFRAUD_SWEEP_DAYS`: a positive whole number of work dates, checked at load time."""
    return _positive_days(env, SWEEP_DAYS_ENV, DEFAULT_SWEEP_DAYS)


def _positive_days(env: Mapping[str, str], name: str, default: int) -> int:
    text = env.get(name, str(default))
    try:
        days = int(text)
    except ValueError:
        days = 0
    if days < 1:
        raise ValueError(f"{name} must be a whole number of days >= 1, got {text!r}")
    return days


def _with_region(env: Mapping[str, str], prefix: str) -> dict[str, str]:
    picked = {k: v for k, v in env.items() if k.startswith(prefix)}
    picked.update({k: env[k] for k in AWS_REGION_VARIABLES if k in env})
    return picked


def read_settings_file(path: Path) -> dict[str, str]:
    """`KEY=VALUE` lines (blank lines and `#` comments allowed) naming `TSFRAUD_*` settings; a
    missing file is empty, anything else in it is an error naming the line."""
    if not path.exists():
        return {}
    values: dict[str, str] = {}
    for number, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        key = key.strip()
        if not sep or not key.startswith("TSFRAUD_") or key == "TSFRAUD_DATA_DIR":
            raise ValueError(f"{path}:{number}: expected TSFRAUD_NAME=value, got {raw!r}")
        values[key] = value.strip()
    return values


def write_settings_file(data_dir: Path, values: Mapping[str, str], reason: str) -> Path:
    """Merge `values` into `<data_dir>/tsfraud.env` (other keys kept), saying who wrote them."""
    path = data_dir / SETTINGS_FILE_NAME
    merged = {**read_settings_file(path), **values}
    lines = [
        f"# Written by {reason}.",
        "# Read by every tsfraud command, `make ui` and the daemon on this data dir;",
        "# a variable set in the environment overrides the same name here.",
        *(f"{k}={v}" for k, v in sorted(merged.items())),
    ]
    data_dir.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n")
    return path


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Settings from `env`, or from the process environment over `<data dir>/tsfraud.env`.

    An explicit `env` is taken alone (tests and side-by-side deployments stay hermetic)."""
    if env is None:
        data_dir_env = os.environ.get("TSFRAUD_DATA_DIR", PROJECT_ROOT / "data")
        file = os.environ.get(SETTINGS_FILE_ENV, str(Path(data_dir_env) / SETTINGS_FILE_NAME))
        from_file = read_settings_file(Path(file).resolve()) if file else {}
        env = {**from_file, **os.environ}
    env = dict(env)
    deployment = env.get("TSFRAUD_DEPLOYMENT", "local")
    if deployment not in DEPLOYMENTS:
        raise ValueError(
            f"TSFRAUD_DEPLOYMENT={deployment!r} is not one of {', '.join(DEPLOYMENTS)}"
        )
    data_dir = Path(env.get("TSFRAUD_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    budget = float(env.get("TSFRAUD_ALERT_BUDGET", "0.01"))
    if not 0 < budget < 1:
        raise ValueError(f"TSFRAUD_ALERT_BUDGET must be a share in (0, 1), got {budget}")
    start = env.get("TSFRAUD_PARTITION_START", DEFAULT_PARTITION_START)
    sweep_days = sweep_days_from(env)
    dt.date.fromisoformat(start)  # fail early and clearly on a malformed date
    end = env.get("TSFRAUD_PARTITION_END") or None
    if end is not None and dt.date.fromisoformat(end) < dt.date.fromisoformat(start):
        raise ValueError(f"TSFRAUD_PARTITION_END={end} is before TSFRAUD_PARTITION_START={start}")
    return Settings(
        deployment=deployment,  # type: ignore[arg-type]
        data_dir=data_dir,
        source_url=env.get("TSFRAUD_SOURCE_URL", f"sqlite:///{data_dir / 'source.db'}"),
        source_url_from_env="TSFRAUD_SOURCE_URL" in env,
        lake_root=env.get("TSFRAUD_LAKE", str(data_dir / "lake")),
        duckdb_path=env.get("TSFRAUD_DUCKDB_PATH", str(data_dir / "warehouse.duckdb")),
        partition_start=start,
        partition_end=end,
        alert_budget=budget,
        timezone=timezone_from(env),
        ground_truth=env.get(GROUND_TRUTH_ENV) or None,
        sweep_days=sweep_days,
        raw_retention_days=_positive_days(env, RAW_RETENTION_ENV, DEFAULT_RETENTION_DAYS),
        history_retention_days=_positive_days(env, HISTORY_RETENTION_ENV, DEFAULT_RETENTION_DAYS),
        emr_env=_with_region(env, EMR_PREFIX),
        athena_env=_with_region(env, ATHENA_PREFIX),
        spark_env={k: v for k, v in env.items() if k.startswith(SPARK_PREFIX)},
        notify_webhook_from_env=bool(env.get("TSFRAUD_NOTIFY_WEBHOOK")),
    )
