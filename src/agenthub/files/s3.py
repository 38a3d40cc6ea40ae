"""Files in an S3-compatible bucket (AWS S3, MinIO, Ceph, ...), through boto3.

Credentials come from boto's own chain (``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``,
a profile, an instance role); ``S3_ENDPOINT_URL`` names a server other than AWS's, and
``AWS_REGION`` (else ``AWS_DEFAULT_REGION``) the bucket's region. boto3 blocks, so each call
runs in a worker thread; its client is thread-safe and shared.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any, BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from agenthub.config import Settings
from agenthub.files.checks import attachment_disposition
from agenthub.files.storage import CHUNK_BYTES, FileStorage, StorageUnavailable, StoredBytesMissing, check_key

log = logging.getLogger(__name__)

_MISSING = {"NoSuchKey", "404", "NotFound"}


class S3FileStorage(FileStorage):
    def __init__(self, bucket: str, client: Any) -> None:
        """``client``: a boto3 S3 client."""
        self.bucket = bucket
        self._client = client

    @classmethod
    def from_settings(cls, settings: Settings) -> S3FileStorage:
        assert settings.s3_bucket, "S3FileStorage needs S3_BUCKET"
        client = boto3.session.Session().client(
            "s3", endpoint_url=settings.s3_endpoint_url, region_name=settings.aws_region,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
        )
        return cls(settings.s3_bucket, client)

    async def _call(self, what: str, method: Any, *args: Any, **kwargs: Any) -> Any:
        """A client call in a worker thread; StorageUnavailable (503) when S3 fails, a
        missing key StoredBytesMissing (404)."""
        try:
            return await asyncio.to_thread(method, *args, **kwargs)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                raise StoredBytesMissing(f"the file's bytes are missing from the storage ({what})") from None
            log.error("S3 %s failed: %s", what, error)
        except BotoCoreError as error:
            log.error("S3 %s failed: %s", what, error)
        raise StorageUnavailable("the file storage (S3) can't be reached now")

    async def put(self, key: str, source: BinaryIO) -> None:
        source.seek(0)
        # upload_fileobj sends a large file in parts; the object appears only once all are there.
        await self._call("upload", self._client.upload_fileobj, source, self.bucket, check_key(key))

    async def chunks(self, key: str) -> AsyncIterator[bytes]:
        answer = await self._call(key, self._client.get_object, Bucket=self.bucket, Key=check_key(key))
        body = answer["Body"]
        try:
            while chunk := await asyncio.to_thread(body.read, CHUNK_BYTES):
                yield chunk
        finally:
            body.close()

    async def delete(self, key: str) -> None:
        await self._call("delete", self._client.delete_object, Bucket=self.bucket, Key=check_key(key))

    def presigned_url(self, key: str, *, expires_in: int, file_name: str, content_type: str) -> str:
        """Signed locally (no request); the download carries the file's name and type."""
        url: str = self._client.generate_presigned_url(
            "get_object", ExpiresIn=expires_in, Params={
                "Bucket": self.bucket, "Key": check_key(key),
                "ResponseContentDisposition": attachment_disposition(file_name),
                "ResponseContentType": content_type,
            },
        )
        return url

    async def close(self) -> None:
        await asyncio.to_thread(self._client.close)
