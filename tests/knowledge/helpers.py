"""Helpers of the knowledge-base tests: a small PDF, uploads, waiting for a document's status."""

from __future__ import annotations

import asyncio
import io
from typing import Any

import httpx

FINAL = ("ready", "failed")


def make_pdf(text: str) -> bytes:
    """A one-page PDF whose text is ``text`` (one line), made with pypdf."""
    from pypdf import PdfWriter
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

    writer = PdfWriter()
    page = writer.add_blank_page(width=612, height=792)
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"),
    })
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)}),
    })
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = DecodedStreamObject()
    stream.set_data(f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1"))
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


async def create_kb(client: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await client.post("/api/v1/knowledge-bases", json={"name": "Handbook", "embedding_model": "fake", **body})
    assert response.status_code == 201, response.text
    return dict(response.json())


async def upload(
    client: httpx.AsyncClient, kb_id: str, name: str, data: bytes, media_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        f"/api/v1/knowledge-bases/{kb_id}/documents", files={"file": (name, data, media_type)}, headers=headers
    )


async def wait_for_document(
    client: httpx.AsyncClient, kb_id: str, document_id: str, statuses: tuple[str, ...] = FINAL, timeout: float = 30
) -> dict[str, Any]:
    """The document once its status is one of ``statuses`` (the processor runs in the server)."""
    async with asyncio.timeout(timeout):
        while True:
            listed = await client.get(f"/api/v1/knowledge-bases/{kb_id}/documents")
            assert listed.status_code == 200, listed.text
            (document,) = [d for d in listed.json() if d["id"] == document_id]
            if document["status"] in statuses:
                return dict(document)
            await asyncio.sleep(0.05)
