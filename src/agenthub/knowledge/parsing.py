"""A document's text from its bytes (txt, md, html, pdf), and its chunks."""

from __future__ import annotations

import io
import re
from pathlib import PurePosixPath

from agenthub.errors import AgentHubError

FILE_TYPES = {".txt": "txt", ".text": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html",
              ".pdf": "pdf"}
MEDIA_TYPES = {"text/plain": "txt", "text/markdown": "md", "text/x-markdown": "md", "text/html": "html",
               "application/xhtml+xml": "html", "application/pdf": "pdf"}
CHUNK_SIZE = 1000
"""Characters of a chunk at most."""
CHUNK_OVERLAP = 150
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class UnsupportedDocument(AgentHubError):
    """Not a file type a knowledge base takes (415)."""

    status_code = 415
    code = "unsupported_media_type"


class DocumentTooLarge(AgentHubError):
    status_code = 413
    code = "too_large"


class UnreadableDocument(AgentHubError):
    """Its bytes are not what its type says (a broken PDF): the document fails."""


def file_type(file_name: str, media_type: str | None) -> str:
    """``txt``, ``md``, ``html`` or ``pdf``, by the file's extension, else its media type."""
    suffix = PurePosixPath(file_name).suffix.lower()
    if suffix in FILE_TYPES:
        return FILE_TYPES[suffix]
    media = (media_type or "").split(";")[0].strip().lower()
    if media in MEDIA_TYPES:
        return MEDIA_TYPES[media]
    raise UnsupportedDocument(
        f"{file_name or 'the file'} is not a document a knowledge base takes: send a .txt, .md, .html or .pdf file"
    )


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1251"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def extract_text(data: bytes, kind: str) -> str:
    """The text of a document of type ``kind``; control characters (NUL...) dropped."""
    if kind == "pdf":
        text = _pdf_text(data)
    elif kind == "html":
        from bs4 import BeautifulSoup

        soup = BeautifulSoup(_decode(data), "html.parser")
        for hidden in soup(["script", "style", "noscript", "template"]):
            hidden.decompose()
        text = soup.get_text("\n")
    else:
        text = _decode(data)
    return _CONTROL.sub("", text).strip()


def _pdf_text(data: bytes) -> str:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return "\n\n".join(page.extract_text() or "" for page in reader.pages)
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise UnreadableDocument(f"the PDF could not be read ({type(error).__name__})") from None


def split_text(text: str) -> list[str]:
    """The chunks of a document's text, the same every time for the same text (a document
    whose processing was cut off resumes at the chunk it had reached)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return [chunk for chunk in splitter.split_text(text) if chunk.strip()]
