"""Contract suite for the file storage: every test runs on the local file system and on S3
(a real S3-compatible server on 127.0.0.1: moto's server mode, reached by boto3 over HTTP),
so the two behave the same for uploads and downloads."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from agenthub.files.s3 import S3FileStorage
from agenthub.files.storage import (
    CHUNK_BYTES,
    FileStorage,
    LocalFileStorage,
    StorageUnavailable,
    StoredBytesMissing,
    open_storage,
)
from tests.support.s3 import s3_bucket, s3_server, s3_settings  # noqa: F401 - fixtures


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[FileStorage]:
    if request.param == "local":
        made: FileStorage = open_storage(s3_settings(tmp_path))
        assert isinstance(made, LocalFileStorage)
    else:
        bucket = request.getfixturevalue("s3_bucket")
        made = open_storage(s3_settings(tmp_path, server=request.getfixturevalue("s3_server"), bucket=bucket))
        assert isinstance(made, S3FileStorage)
    try:
        yield made
    finally:
        await made.close()


BIG = bytes(range(256)) * (CHUNK_BYTES // 256 * 3 + 7)  # more than three chunks


async def test_what_is_put_reads_back_the_same(storage: FileStorage) -> None:
    await storage.put("org_a/fil_1", io.BytesIO(b"hello"))
    await storage.put("org_a/fil_2", io.BytesIO(BIG))
    assert await storage.read("org_a/fil_1") == b"hello"
    assert await storage.read("org_a/fil_2") == BIG
    chunks = [chunk async for chunk in storage.chunks("org_a/fil_2")]
    assert len(chunks) > 1 and b"".join(chunks) == BIG


async def test_put_reads_its_source_from_the_start_and_replaces(storage: FileStorage) -> None:
    source = io.BytesIO(b"first")
    source.read()  # at its end, as a spooled upload is after it was written
    await storage.put("org_a/fil_1", source)
    await storage.put("org_a/fil_1", io.BytesIO(b"second"))
    assert await storage.read("org_a/fil_1") == b"second"


async def test_an_empty_file_is_a_file(storage: FileStorage) -> None:
    await storage.put("org_a/fil_1", io.BytesIO(b""))
    assert await storage.read("org_a/fil_1") == b""


async def test_a_deleted_or_unknown_key_has_no_bytes(storage: FileStorage) -> None:
    await storage.put("org_a/fil_1", io.BytesIO(b"x"))
    await storage.delete("org_a/fil_1")
    await storage.delete("org_a/fil_1")  # again: not an error
    for key in ("org_a/fil_1", "org_a/fil_never"):
        with pytest.raises(StoredBytesMissing):
            await storage.read(key)


async def test_keys_of_another_shape_are_refused(storage: FileStorage) -> None:
    for key in ("../escape", "org_a/../../etc/passwd", "/abs/path", "org_a/fil_1/more", "org_a", ""):
        with pytest.raises(ValueError):
            await storage.put(key, io.BytesIO(b"x"))
        with pytest.raises(ValueError):
            await storage.read(key)


async def test_organisations_keys_do_not_meet(storage: FileStorage) -> None:
    await storage.put("org_a/fil_1", io.BytesIO(b"a's"))
    await storage.put("org_b/fil_1", io.BytesIO(b"b's"))
    assert await storage.read("org_a/fil_1") == b"a's"
    assert await storage.read("org_b/fil_1") == b"b's"


async def test_a_presigned_url_downloads_without_credentials_where_the_storage_makes_them(
    storage: FileStorage,
) -> None:
    await storage.put("org_a/fil_1", io.BytesIO(b"%PDF-1.4 report"))
    url = storage.presigned_url("org_a/fil_1", expires_in=60, file_name="Q3 report.pdf", content_type="application/pdf")
    if isinstance(storage, LocalFileStorage):
        assert url is None  # the gateway signs its own (tests/files/test_files_api.py)
        return
    assert url is not None
    async with httpx.AsyncClient() as client:  # no AWS credentials: the URL is all it takes
        response = await client.get(url)
        assert response.status_code == 200, response.text
        assert response.content == b"%PDF-1.4 report"
        assert response.headers["content-type"] == "application/pdf"
        assert 'filename="Q3 report.pdf"' in response.headers["content-disposition"]
        assert response.headers["content-disposition"].startswith("attachment")
        tampered = await client.get(url.replace("fil_1", "fil_2"))
        assert tampered.status_code == 403


def test_local_files_land_under_data_dir_written_whole(tmp_path: Path) -> None:
    storage = open_storage(s3_settings(tmp_path))
    assert isinstance(storage, LocalFileStorage) and storage.root == tmp_path / "files"


async def test_the_local_store_leaves_no_temporary_files(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "files")
    await storage.put("org_a/fil_1", io.BytesIO(BIG))
    assert [p.name for p in (tmp_path / "files" / "org_a").iterdir()] == ["fil_1"]

    class Broken(io.BytesIO):
        def read(self, *args: Any) -> bytes:
            raise OSError("the upload's temporary file went away")

    with pytest.raises(StorageUnavailable):  # a 503 for the client; the cause is logged
        await storage.put("org_a/fil_2", Broken(b"x"))
    assert [p.name for p in (tmp_path / "files" / "org_a").iterdir()] == ["fil_1"]

