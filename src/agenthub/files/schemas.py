"""Files as the API shows them."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field


class FileRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(description="What message attachments and request files name (`file_id`)")
    name: str = Field(description="The file's name as uploaded, without folders")
    content_type: str = Field(description="Its media type, as downloads send it")
    size: int = Field(description="Bytes")
    sha256: str = Field(description="SHA-256 of its bytes, in hex")
    created_by: str | None = Field(description="The user or API key that uploaded it")
    created_at: datetime
    download_path: str = Field(description="`GET` it with your credentials for the bytes")


class FilePage(BaseModel):
    items: list[FileRead]
    total: int = Field(description="Files of the organisation in all")


class SignedUrl(BaseModel):
    url: str = Field(description="Downloads the file without credentials until `expires_at`")
    expires_at: datetime
