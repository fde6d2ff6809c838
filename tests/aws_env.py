"""Pointing this process's AWS clients at a local S3 (moto) for one test."""

from __future__ import annotations

import boto3
import fsspec
import pytest


def point_aws_clients_at(endpoint: str, monkeypatch: pytest.MonkeyPatch, **extra: str) -> None:
    """The standard AWS variables, so clients find the endpoint through AWS_ENDPOINT_URL as in
    production, plus `extra` ones (e.g. AWS_MAX_ATTEMPTS). boto3's default session and s3fs's
    cached filesystems keep what they resolved first (an earlier test's endpoint or
    credentials), so both start afresh; monkeypatch restores the variables afterwards."""
    env = {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        **extra,
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    fsspec.config.conf.pop("s3", None)
    fsspec.get_filesystem_class("s3").clear_instance_cache()
