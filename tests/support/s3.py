"""A real S3-compatible server on 127.0.0.1 for the S3 file storage: moto's server mode
(HTTP, as AWS or MinIO would answer), one for the test session, a bucket of its own per test."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from agenthub.config import Settings
from tests.support.server import free_port

REGION = "us-east-1"


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The server's URL (S3_ENDPOINT_URL)."""
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()  # returns once it listens
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket; boto's credential chain finds the test's keys in the environment."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    name = f"agenthub-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_server, region_name=REGION)
    client.create_bucket(Bucket=name)
    client.close()
    return name


def s3_options(s3_server: str, bucket: str) -> dict[str, Any]:
    """The settings that put an app's files in ``bucket``."""
    return {"s3_bucket": bucket, "s3_endpoint_url": s3_server, "aws_region": REGION}


def s3_settings(data_dir: Path, *, server: str | None = None, bucket: str | None = None) -> Settings:
    """Settings of a storage under ``data_dir``, or in ``bucket`` of the test ``server``."""
    extra = s3_options(server, bucket) if server and bucket else {}
    return Settings(_env_file=None, data_dir=data_dir, **extra)
