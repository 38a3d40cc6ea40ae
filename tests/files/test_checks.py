"""What an upload may be called and be: names made safe, types by the allow-list, content
against its type, and the download's Content-Disposition."""

from __future__ import annotations

import pytest

from agenthub.config import DEFAULT_FILE_TYPES
from agenthub.files.checks import (
    TypePolicy,
    UnsupportedFileType,
    attachment_disposition,
    clean_name,
    media_type,
)


def test_names_lose_folders_and_control_characters() -> None:
    assert clean_name("../../etc/passwd") == "passwd"
    assert clean_name("C:\\Users\\me\\report.pdf") == "report.pdf"
    assert clean_name("a\r\nb\x00.txt") == "ab.txt"
    assert clean_name("") == clean_name(None) == clean_name("/") == "file"
    assert len(clean_name("x" * 1000)) == 255


def test_the_type_is_the_declared_one_else_the_names() -> None:
    assert media_type("Text/Plain; charset=utf-8", "a.bin") == "text/plain"
    assert media_type(None, "photo.JPG") == "image/jpeg"
    assert media_type("application/octet-stream", "table.csv") == "text/csv"
    assert media_type("", "no-extension") == "application/octet-stream"
    with pytest.raises(UnsupportedFileType):
        media_type("text/plain\r\nX-Evil: 1", "a.txt")


def test_the_default_allow_list_takes_attachments_and_nothing_a_browser_runs() -> None:
    policy = TypePolicy(DEFAULT_FILE_TYPES)
    for allowed in ("image/png", "application/pdf", "audio/ogg", "video/mp4", "text/csv",
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.document"):
        policy.check_type(allowed)
    for refused in ("text/html", "image/svg+xml", "application/javascript", "text/javascript",
                    "application/xhtml+xml", "application/x-msdownload"):
        with pytest.raises(UnsupportedFileType):
            policy.check_type(refused)
    TypePolicy("*").check_type("text/html")
    TypePolicy("image/*").check_type("image/avif")


def test_content_must_be_what_its_type_says() -> None:
    policy = TypePolicy(DEFAULT_FILE_TYPES)
    policy.check_content("image/png", b"\x89PNG\r\n\x1a\nrest")
    policy.check_content("image/webp", b"RIFF\x00\x00\x00\x00WEBPVP8 ")
    for essence, head in (("image/png", b"GIF89a"), ("application/pdf", b"<html>"), ("image/webp", b"RIFFxxxxAVI "),
                          ("text/plain", b"  <!DOCTYPE html><p>hi"), ("application/json", b"<svg/onload=x>")):
        with pytest.raises(UnsupportedFileType):
            policy.check_content(essence, head)
    policy.check_content("text/plain", b"1 < 2, and <b> is bold")


def test_downloads_keep_their_name_safely() -> None:
    assert attachment_disposition("report.pdf") == (
        "attachment; filename=\"report.pdf\"; filename*=UTF-8''report.pdf"
    )
    header = attachment_disposition('Отчёт "Q3";.pdf')
    assert header.startswith('attachment; filename="_____ _Q3__.pdf"')
    assert header.endswith("filename*=UTF-8''%D0%9E%D1%82%D1%87%D1%91%D1%82%20%22Q3%22%3B.pdf")
