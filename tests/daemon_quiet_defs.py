"""tests/daemon_defs.py plus the real daily close schedule, for tests/test_daemon_quiet.py."""

from __future__ import annotations

import dagster as dg

from tests.daemon_defs import _settings, daily_partitions, daily_raw_job
from tests.daemon_defs import defs as _raw_defs
from tsfraud_assets.defs.automation.schedules import daily_close_schedule

defs = dg.Definitions.merge(
    _raw_defs,
    dg.Definitions(
        schedules=[daily_close_schedule(_settings.timezone, daily_raw_job, daily_partitions)]
    ),
)
