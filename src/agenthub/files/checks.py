"""What an upload may be: its name made safe, its media type against ``FILES_ALLOWED_TYPES``,
and its first bytes against the type it claims.

The policy is an allow-list (by default files people attach: images, PDF, plain text, CSV,
JSON, audio, video, office documents, archives). A type a browser would run (HTML, SVG,
JavaScript) is left out of it; on top, content that starts as HTML or SVG markup is refused
under any type that is not itself allowed, and PNG, JPEG, GIF, WebP, PDF and ZIP files must
start as those formats do. Downloads are sent as attachments with ``nosniff`` all the same.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata
from urllib.parse import quote

from agenthub.errors import AgentHubError

GENERIC = "application/octet-stream"
_ESSENCE = re.compile(r"^[a-z0-9][a-z0-9!#$&^_.+-]{0,62}/[a-z0-9][a-z0-9!#$&^_.+-]{0,62}$")
_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "application/pdf": (b"%PDF-",),
    "application/zip": (b"PK\x03\x04", b"PK\x05\x06"),
}
_MARKUP = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<(?:!doctype\s+html|html|head|body|script|svg|\?xml)", re.IGNORECASE)
MARKUP_TYPES = ("text/html", "image/svg+xml", "application/xhtml+xml")
SNIFF_BYTES = 512
"""The first bytes of an upload its checks look at."""


class UnsupportedFileType(AgentHubError):
    """Not a media type uploads may have, or content that is not what its type says (415)."""

    status_code = 415
    code = "unsupported_media_type"


def clean_name(name: str | None) -> str:
    """The file's name without a folder, control characters or more than 255 characters; ``file`` for none."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = "".join(c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c)[0] != "C").strip()
    return base[:255].strip() or "file"


def media_type(declared: str | None, file_name: str) -> str:
    """The type an upload is kept under: the one its part declares (without parameters),
    else the one its name suggests, else ``application/octet-stream``."""
    essence = (declared or "").split(";", 1)[0].strip().lower()
    if essence and essence != GENERIC:
        if not _ESSENCE.fullmatch(essence):
            raise UnsupportedFileType(f"{declared!r} is not a media type")
        return essence
    guessed, _encoding = mimetypes.guess_type(file_name, strict=False)
    return guessed if guessed and _ESSENCE.fullmatch(guessed) else GENERIC


class TypePolicy:
    """``FILES_ALLOWED_TYPES``: exact types, families (``image/*``) or ``*``."""

    def __init__(self, allowed: str) -> None:
        self.patterns = tuple(p.strip().lower() for p in allowed.split(",") if p.strip())

    def allows(self, essence: str) -> bool:
        family = essence.split("/", 1)[0] + "/*"
        return any(p in ("*", "*/*", essence, family) or (p.endswith(".*") and essence.startswith(p[:-1]))
                   for p in self.patterns)

    def check_type(self, essence: str) -> None:
        if not self.allows(essence):
            raise UnsupportedFileType(
                f"files of type {essence} are not taken here (FILES_ALLOWED_TYPES: {', '.join(self.patterns)})"
            )

    def check_content(self, essence: str, head: bytes) -> None:
        """The first bytes (:data:`SNIFF_BYTES`) are what ``essence`` says."""
        signatures = _SIGNATURES.get(essence)
        if signatures is not None and not head.startswith(signatures):
            raise UnsupportedFileType(f"the file's content is not {essence}")
        if essence == "image/webp" and not (head.startswith(b"RIFF") and head[8:12] == b"WEBP"):
            raise UnsupportedFileType("the file's content is not image/webp")
        if _MARKUP.match(head) and essence not in MARKUP_TYPES and not any(map(self.allows, MARKUP_TYPES)):
            raise UnsupportedFileType(f"the file's content is HTML or SVG markup, not {essence}")


def attachment_disposition(file_name: str) -> str:
    """A ``Content-Disposition`` that downloads the file under its name (RFC 6266: an ASCII
    fallback, and the name in UTF-8)."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\;' else "_" for c in file_name)
    return f"attachment; filename=\"{fallback or 'file'}\"; filename*=UTF-8''{quote(file_name, safe='')}"
