"""The source-system simulator: a global consulting firm's timesheet database with fraud.

`simulate` fills an empty SQLite or PostgreSQL database (the customer's exact DDL) and writes
the complete ground truth to a separate Parquet file; `append_through` grows it batch by batch.
"""

from tsfraud_simulator.api import SimulationSummary, append_through, simulate
from tsfraud_simulator.fraud import DEFAULT_FRAUD_RATE
from tsfraud_simulator.knobs import WorldKnobs

__all__ = ["DEFAULT_FRAUD_RATE", "SimulationSummary", "WorldKnobs", "append_through", "simulate"]
