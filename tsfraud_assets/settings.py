"""Which deployment this is and where things live, read from the environment in one place.

Resources, the dbt target and the CLI ask this module; nothing else reads `os.environ` for
these settings, so a deployment is switched by environment variables alone.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

Deployment = Literal["local", "aws"]
DEPLOYMENTS: tuple[Deployment, ...] = ("local", "aws")


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
    notify_webhook_from_env: bool = False
    """TSFRAUD_NOTIFY_WEBHOOK is set: late list changes go there (it stays an EnvVar: the URL
    is a secret); otherwise to data_dir/notifications.jsonl."""

    @property
    def default_ground_truth(self) -> Path:
        return self.data_dir / "source.db.ground_truth.parquet"


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    deployment = env.get("TSFRAUD_DEPLOYMENT", "local")
    if deployment not in DEPLOYMENTS:
        raise ValueError(
            f"TSFRAUD_DEPLOYMENT={deployment!r} is not one of {', '.join(DEPLOYMENTS)}"
        )
    data_dir = Path(env.get("TSFRAUD_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    budget = float(env.get("TSFRAUD_ALERT_BUDGET", "0.01"))
    if not 0 < budget < 1:
        raise ValueError(f"TSFRAUD_ALERT_BUDGET must be a share in (0, 1), got {budget}")
    start = env.get("TSFRAUD_PARTITION_START", "2025-01-01")
    dt.date.fromisoformat(start)  # fail early and clearly on a malformed date
    return Settings(
        deployment=deployment,  # type: ignore[arg-type]
        data_dir=data_dir,
        source_url=env.get("TSFRAUD_SOURCE_URL", f"sqlite:///{data_dir / 'source.db'}"),
        source_url_from_env="TSFRAUD_SOURCE_URL" in env,
        lake_root=env.get("TSFRAUD_LAKE", str(data_dir / "lake")),
        duckdb_path=env.get("TSFRAUD_DUCKDB_PATH", str(data_dir / "warehouse.duckdb")),
        partition_start=start,
        alert_budget=budget,
        notify_webhook_from_env=bool(env.get("TSFRAUD_NOTIFY_WEBHOOK")),
    )
