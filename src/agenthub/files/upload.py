"""An upload read from a multipart request body as it arrives: the part named ``file`` goes
to a temporary file (in memory up to 1 MB, then on disk) while its size and SHA-256 are
counted. Past ``FILES_MAX_BYTES`` the reading stops at once (413): a body larger than the
limit is never read whole, into memory or anywhere. A type that is not allowed is refused
(415) as soon as the part's headers arrive, before its bytes."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from tempfile import SpooledTemporaryFile
from typing import Any

import python_multipart
from python_multipart.exceptions import FormParserError
from python_multipart.multipart import parse_options_header

from agenthub.errors import AgentHubError, InvalidInput
from agenthub.files.checks import SNIFF_BYTES, TypePolicy, clean_name, media_type

FIELD = "file"
MULTIPART_SLACK = 64 * 1024
"""Bytes of a body besides the file itself (boundaries, part headers, a few small fields)."""
SPOOL_BYTES = 1024 * 1024


class FileTooLarge(AgentHubError):
    status_code = 413
    code = "too_large"


class MalformedUpload(AgentHubError):
    status_code = 400
    code = "bad_request"


@dataclass
class Upload:
    """The file of an upload, its content at :attr:`file` (rewound)."""

    name: str
    content_type: str
    size: int
    sha256: str
    file: Any  # a SpooledTemporaryFile

    def close(self) -> None:
        self.file.close()


@dataclass
class _Part:
    headers: dict[bytes, bytes] = field(default_factory=dict)
    is_file: bool = False


class _Reader:
    """python-multipart's callbacks, keeping the ``file`` part and skipping any other."""

    def __init__(self, *, max_bytes: int, policy: TypePolicy) -> None:
        self.max_bytes, self.policy = max_bytes, policy
        self.part = _Part()
        self.header_name = self.header_value = b""
        self.upload: Upload | None = None
        self.head = b""
        self.digest = hashlib.sha256()
        self.spool: Any = None

    def on_part_begin(self) -> None:
        self.part = _Part()

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header_value += data[start:end]

    def on_header_end(self) -> None:
        self.part.headers[self.header_name.lower()] = self.header_value
        self.header_name = self.header_value = b""

    def on_headers_finished(self) -> None:
        _kind, options = parse_options_header(self.part.headers.get(b"content-disposition", b""))
        if options.get(b"name") != FIELD.encode() or b"filename" not in options:
            return  # another field: its bytes are counted against the body's size only
        if self.upload is not None:
            raise InvalidInput("send one file per upload, as the multipart field `file`", field=FIELD)
        name = clean_name(options[b"filename"].decode("utf-8", "replace"))
        declared = self.part.headers.get(b"content-type", b"").decode("latin-1")
        essence = media_type(declared, name)
        self.policy.check_type(essence)
        self.part.is_file = True
        self.spool = SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - closed by Upload.close
        self.upload = Upload(name=name, content_type=essence, size=0, sha256="", file=self.spool)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if not self.part.is_file or self.upload is None:
            return
        chunk = data[start:end]
        self.upload.size += len(chunk)
        if self.upload.size > self.max_bytes:
            raise FileTooLarge(f"the file is larger than FILES_MAX_BYTES ({self.max_bytes} bytes)")
        if len(self.head) < SNIFF_BYTES:
            self.head += chunk[: SNIFF_BYTES - len(self.head)]
        self.digest.update(chunk)
        self.spool.write(chunk)  # memory, or a local temporary file past SPOOL_BYTES

    def on_part_end(self) -> None:
        self.part = _Part()

    def callbacks(self) -> dict[str, Any]:
        names = ("on_part_begin", "on_header_field", "on_header_value", "on_header_end", "on_headers_finished",
                 "on_part_data", "on_part_end")
        return {name: getattr(self, name) for name in names}


def _boundary(content_type: str) -> bytes:
    kind, options = parse_options_header(content_type)
    if kind != b"multipart/form-data" or not options.get(b"boundary"):
        raise InvalidInput("send the file as multipart/form-data, in the field `file`", field=FIELD)
    return options[b"boundary"]


async def receive(
    content_type: str, content_length: str | None, body: AsyncIterator[bytes], *, max_bytes: int, policy: TypePolicy
) -> Upload:
    """The upload in a multipart body (its ``Content-Type`` and ``Content-Length`` headers,
    and its bytes as they arrive). Raises FileTooLarge (413), UnsupportedFileType (415),
    InvalidInput (422: no ``file``) or MalformedUpload (400)."""
    boundary = _boundary(content_type)
    most = max_bytes + MULTIPART_SLACK
    if content_length and content_length.isdigit() and int(content_length) > most:
        raise FileTooLarge(f"the file is larger than FILES_MAX_BYTES ({max_bytes} bytes)")
    reader = _Reader(max_bytes=max_bytes, policy=policy)
    try:
        await _parse(reader, boundary, body, most)
        upload = reader.upload
        if upload is None:
            raise InvalidInput("send the file as the multipart field `file` (with a file name)", field=FIELD)
        policy.check_content(upload.content_type, reader.head)
    except BaseException:
        if reader.spool is not None:
            reader.spool.close()
        raise
    upload.sha256 = reader.digest.hexdigest()
    upload.file.seek(0)
    return upload


async def _parse(reader: _Reader, boundary: bytes, body: AsyncIterator[bytes], most: int) -> None:
    parser = python_multipart.MultipartParser(boundary, reader.callbacks())  # type: ignore[arg-type]
    received = 0
    try:
        async for chunk in body:
            received += len(chunk)
            if received > most:
                raise FileTooLarge(f"the body is larger than FILES_MAX_BYTES ({reader.max_bytes} bytes) allows")
            parser.write(chunk)
        parser.finalize()
    except FormParserError:
        raise MalformedUpload("the multipart body is malformed") from None
