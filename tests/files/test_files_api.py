"""The files API on a real server: upload, list, read, download, signed links and delete,
on the local storage and on S3 (moto's server on 127.0.0.1); and what it refuses."""

from __future__ import annotations

import asyncio
import hashlib
import time
from pathlib import Path
from urllib.parse import urlsplit

import boto3
import httpx
import pytest

from agenthub.files.signing import UrlSigner
from tests.agents.helpers import assert_error, client_for
from tests.support.s3 import REGION, s3_bucket, s3_options, s3_server  # noqa: F401 - fixtures
from tests.support.server import free_port

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40
SECRET = "files-test-jwt-secret-0123456789abcdef"


async def _upload(client: httpx.AsyncClient, name: str, content: bytes, content_type: str) -> httpx.Response:
    return await client.post("/api/v1/files", files={"file": (name, content, content_type)})


async def test_a_file_goes_up_and_comes_back_as_it_was(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        uploaded = await _upload(client, "../../chart.png", PNG, "image/png")
        assert uploaded.status_code == 201, uploaded.text
        meta = uploaded.json()
        assert meta["name"] == "chart.png"  # no folders, whatever the client says
        assert (meta["content_type"], meta["size"]) == ("image/png", len(PNG))
        assert meta["sha256"] == hashlib.sha256(PNG).hexdigest()
        assert meta["download_path"] == f"/api/v1/files/{meta['id']}/content"
        assert (await client.get(f"/api/v1/files/{meta['id']}")).json() == meta
        listed = (await client.get("/api/v1/files")).json()
        assert listed == {"items": [meta], "total": 1}

        download = await client.get(meta["download_path"])
        assert download.status_code == 200
        assert download.content == PNG
        assert download.headers["content-type"] == "image/png"
        assert download.headers["content-disposition"].startswith('attachment; filename="chart.png"')
        assert download.headers["x-content-type-options"] == "nosniff"
        stored = list((tmp_path / "files").rglob("*"))
        assert [p.name for p in stored if p.is_file()] == [meta["id"]]  # under DATA_DIR/files, by id

        assert (await client.delete(f"/api/v1/files/{meta['id']}")).status_code == 204
        assert_error(await client.get(meta["download_path"]), 404)
        assert_error(await client.get(f"/api/v1/files/{meta['id']}"), 404)
        assert (await client.get("/api/v1/files")).json() == {"items": [], "total": 0}
        assert not [p for p in (tmp_path / "files").rglob("*") if p.is_file()]


async def test_the_list_pages_newest_first(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        ids = [(await _upload(client, f"n{i}.txt", f"note {i}".encode(), "text/plain")).json()["id"] for i in range(3)]
        page = (await client.get("/api/v1/files", params={"limit": 2})).json()
        assert page["total"] == 3 and [f["id"] for f in page["items"]] == ids[::-1][:2]
        rest = (await client.get("/api/v1/files", params={"limit": 2, "offset": 2})).json()
        assert [f["id"] for f in rest["items"]] == [ids[0]]
        assert_error(await client.get("/api/v1/files", params={"limit": 0}), 422)


async def test_uploaded_html_is_refused_and_never_served_as_a_page(sqlite_url: str, tmp_path: Path) -> None:
    page = b"<!DOCTYPE html><script>alert(document.cookie)</script>"
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        assert_error(await _upload(client, "x.html", page, "text/html"), 415, "unsupported_media_type")
        assert_error(await _upload(client, "x.svg", b"<svg onload=alert(1)>", "image/svg+xml"), 415)
        # Markup under an allowed name is seen for what it is.
        assert_error(await _upload(client, "x.txt", page, "text/plain"), 415)
        assert_error(await _upload(client, "fake.png", b"GIF89a not a png", "image/png"), 415)
        # Bytes of no declared type are kept as such; served as a download all the same.
        kept = await _upload(client, "blob", b"\x00\x01binary", "application/octet-stream")
        assert kept.status_code == 201 and kept.json()["content_type"] == "application/octet-stream"
        assert (await client.get("/api/v1/files")).json()["total"] == 1


async def test_without_a_file_field_or_multipart_body_it_says_what_to_send(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path) as (_app, client):
        error = assert_error(await client.post("/api/v1/files", files={"other": ("a.txt", b"a", "text/plain")}), 422)
        assert error["details"][0]["field"] == "file"
        assert_error(await client.post("/api/v1/files", json={"file": "a"}), 422)
        broken = await client.post("/api/v1/files", content=b"--xyz\r\nnot a part", headers={
            "content-type": "multipart/form-data; boundary=xyz"})
        assert broken.status_code in (400, 422), broken.text
        assert "Traceback" not in broken.text
        assert (await client.get("/api/v1/files")).json()["total"] == 0


async def test_a_file_past_the_limit_is_413_and_leaves_nothing(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path, files_max_bytes=1000) as (_app, client):
        assert (await _upload(client, "ok.txt", b"a" * 1000, "text/plain")).status_code == 201

        async def streamed():  # no Content-Length: only counting while reading finds it
            for _ in range(5):
                yield b"a" * 500

        response = await client.post("/api/v1/files", content=_multipart_stream(streamed()), headers={
            "content-type": f"multipart/form-data; boundary={BOUNDARY}"})
        assert_error(response, 413, "too_large")
        declared = await _upload(client, "big.txt", b"a" * 200_000, "text/plain")  # Content-Length says it
        assert_error(declared, 413)
        assert (await client.get("/api/v1/files")).json()["total"] == 1
        assert len([p for p in (tmp_path / "files").rglob("*") if p.is_file()]) == 1


async def test_the_413_comes_while_the_body_is_still_arriving(sqlite_url: str, tmp_path: Path) -> None:
    """Past the limit the server answers without waiting for the rest of the body, which
    this client never sends: the body is not read whole before it is refused."""
    async with client_for(sqlite_url, data_dir=tmp_path, files_max_bytes=10_000) as (app, _client):
        host = urlsplit(app.url)
        reader, writer = await asyncio.open_connection(host.hostname, host.port)
        head = _part_head("big.txt", "text/plain")
        writer.write((
            f"POST /api/v1/files HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {app.token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nTransfer-Encoding: chunked\r\n\r\n"
        ).encode())
        for piece in (head, b"a" * 8000, b"a" * 8000):  # 16,000 bytes of file: past 10,000
            writer.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 30)
        writer.close()
        assert status_line.split()[1] == b"413", status_line


async def test_a_signed_link_downloads_without_credentials_until_it_expires(sqlite_url: str, tmp_path: Path) -> None:
    async with client_for(sqlite_url, data_dir=tmp_path, jwt_secret=SECRET) as (app, client):
        meta = (await _upload(client, "notes.txt", b"signed bytes", "text/plain")).json()
        link = await client.post(f"/api/v1/files/{meta['id']}/url", params={"expires_in": 120})
        assert link.status_code == 200, link.text
        url, expires_at = link.json()["url"], link.json()["expires_at"]
        assert url.startswith(app.url) and expires_at
        async with httpx.AsyncClient() as anonymous:
            response = await anonymous.get(url)
            assert response.status_code == 200 and response.content == b"signed bytes"
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["content-disposition"].startswith("attachment")
            assert_error(await anonymous.get(url[:-4] + "0000"), 403)
            other = (await _upload(client, "other.txt", b"other", "text/plain")).json()["id"]
            assert_error(await anonymous.get(url.replace(meta["id"], other)), 403)
            past = int(time.time()) - 1
            expired = f"{app.url}/api/v1/files/{meta['id']}/signed?{UrlSigner(SECRET).sign(meta['id'], past)}"
            assert_error(await anonymous.get(expired), 403)
            assert_error(await anonymous.get(f"{app.url}{meta['download_path']}"), 401)
        assert_error(await client.post(f"/api/v1/files/{meta['id']}/url", params={"expires_in": 0}), 422)
        assert_error(await client.post("/api/v1/files/fil_nobody/url"), 404)


async def test_on_s3_files_live_in_the_bucket_and_links_are_presigned(
    sqlite_url: str, tmp_path: Path, s3_server: str, s3_bucket: str,  # noqa: F811 - fixtures
) -> None:
    options = s3_options(s3_server, s3_bucket)
    async with client_for(sqlite_url, data_dir=tmp_path, **options) as (_app, client):
        meta = (await _upload(client, "chart.png", PNG, "image/png")).json()
        bucket = boto3.client("s3", endpoint_url=s3_server, region_name=REGION)
        keys = [item["Key"] for item in bucket.list_objects_v2(Bucket=s3_bucket).get("Contents", [])]
        assert len(keys) == 1 and keys[0].endswith(f"/{meta['id']}")
        download = await client.get(meta["download_path"])
        assert download.content == PNG and download.headers["content-type"] == "image/png"
        link = (await client.post(f"/api/v1/files/{meta['id']}/url")).json()
        assert link["url"].startswith(s3_server)
        async with httpx.AsyncClient() as anonymous:
            presigned = await anonymous.get(link["url"])
            assert presigned.status_code == 200 and presigned.content == PNG
        assert (await client.delete(f"/api/v1/files/{meta['id']}")).status_code == 204
        assert bucket.list_objects_v2(Bucket=s3_bucket).get("KeyCount") == 0
        bucket.close()
        assert not (tmp_path / "files").exists()


async def test_an_unreachable_s3_is_a_503_and_keeps_nothing(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "test-access-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "test-secret-key")
    nobody = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    async with client_for(sqlite_url, data_dir=tmp_path, **s3_options(nobody, "gone")) as (_app, client):
        assert_error(await _upload(client, "a.txt", b"a", "text/plain"), 503, "unavailable")
        assert (await client.get("/api/v1/files")).json() == {"items": [], "total": 0}


@pytest.mark.postgres
async def test_files_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    async with client_for(postgres_url, data_dir=tmp_path) as (_app, client):
        meta = (await _upload(client, "a.csv", b"a,b\n1,2\n", "text/csv")).json()
        assert (await client.get(meta["download_path"])).content == b"a,b\n1,2\n"
        assert (await client.get("/api/v1/files")).json()["total"] == 1


BOUNDARY = "agenthub-test-boundary"


def _part_head(name: str, content_type: str) -> bytes:
    return (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\n"
            f"Content-Type: {content_type}\r\n\r\n").encode()


async def _multipart_stream(chunks):  # type: ignore[no-untyped-def]
    yield _part_head("big.txt", "text/plain")
    async for chunk in chunks:
        yield chunk
    yield f"\r\n--{BOUNDARY}--\r\n".encode()
