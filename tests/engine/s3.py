"""An S3 API on 127.0.0.1 for the engine tests' team backend: moto's server, started through
children.py (stopped by its PID, and with the test run if that dies), with one bucket.

`MotoS3.backend(prefix)` is the `--backend` URL a user would type for an S3-compatible store
(`s3://bucket/prefix?endpoint=...`), `env` the credentials the pulumi CLI reads for it, and
`objects()` what the bucket holds, read back with boto3 as any S3 client would.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from children import Child, free_port, spawn

BUCKET = "secureai-state"
REGION = "us-east-1"
# moto accepts any key pair; these are what the pulumi CLI (the AWS SDK) and boto3 read.
CREDENTIALS = {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": REGION}
START_TIMEOUT = 60.0


def moto_server() -> str | None:
    """moto's server script beside this interpreter, or None (pip install 'moto[server]')."""
    return shutil.which("moto_server", path=str(Path(sys.executable).parent))


def backend_url(host: str, bucket: str = BUCKET, prefix: str = "") -> str:
    """The S3 backend URL for an endpoint on `host` (`127.0.0.1:PORT`), plain http, path-style."""
    path = f"/{prefix.strip('/')}" if prefix.strip("/") else ""
    return f"s3://{bucket}{path}?endpoint={host}&disableSSL=true&s3ForcePathStyle=true&region={REGION}"


@dataclass
class MotoS3:
    endpoint: str  # http://127.0.0.1:PORT
    process: Child

    @property
    def host(self) -> str:
        return self.endpoint.removeprefix("http://")

    @property
    def env(self) -> dict[str, str]:
        return dict(CREDENTIALS)

    def backend(self, prefix: str = "", bucket: str = BUCKET) -> str:
        return backend_url(self.host, bucket, prefix)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    def keys(self, prefix: str = "", bucket: str = BUCKET) -> list[str]:
        """Every object key in `bucket` under `prefix`."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def read(self, key: str, bucket: str = BUCKET) -> bytes:
        body: bytes = self.client().get_object(Bucket=bucket, Key=key)["Body"].read()
        return body

    def objects(self, prefix: str = "", bucket: str = BUCKET) -> dict[str, bytes]:
        return {key: self.read(key, bucket) for key in self.keys(prefix, bucket)}

    def buckets(self) -> list[str]:
        return [b["Name"] for b in self.client().list_buckets().get("Buckets", [])]


def start_moto(log: Path) -> MotoS3:
    """moto's server on a free 127.0.0.1 port, serving once bucket BUCKET exists."""
    server = moto_server()
    assert server is not None, "moto_server not installed (pip install 'moto[server]')"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    process = spawn([server, "-H", "127.0.0.1", "-p", str(port)], log=log, env=env)
    moto = MotoS3(f"http://127.0.0.1:{port}", process)
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            moto.client().create_bucket(Bucket=BUCKET)
            return moto
        except Exception:
            if not process.alive() or time.monotonic() > deadline:
                process.stop()
                raise AssertionError(f"moto did not start:\n{log.read_text(errors='replace')}") from None
            time.sleep(0.3)


def moto_fixture(log: Path) -> Iterator[MotoS3]:
    """The body of a pytest fixture: a started MotoS3, stopped by its PID afterwards."""
    moto = start_moto(log)
    try:
        yield moto
    finally:
        moto.process.stop()
