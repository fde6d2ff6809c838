"""What the Dagster instance loads from dagster.yaml: the run launcher run monitoring needs."""
