"""What the panel shows of a JSON or text value: secrets masked at any depth."""

from __future__ import annotations

from agenthub.admin_panel.masking import format_json, mask_json, shown_columns


def test_values_under_secrets_names_headers_and_url_passwords_are_masked_at_any_depth() -> None:
    document = {
        "steps": [{"key": "start", "name": "Hello", "message": {"text": "Hi"}}],
        "requests": [{"key": "menu", "url": "https://bot:PASS1@example.com/m",
                      "headers": {"X-Key": "HEADER2", "Accept": "application/json"}}],
        "variables": {"api_token": "TOKEN3", "nested": [{"webhook_secret": "HOOK4"}], "city": "Oslo"},
        "empty_token": "",
    }
    shown = mask_json(document)
    assert shown == {
        "steps": [{"key": "start", "name": "Hello", "message": {"text": "Hi"}}],
        "requests": [{"key": "menu", "url": "https://bot:***@example.com/m",
                      "headers": {"X-Key": "***", "Accept": "***"}}],
        "variables": {"api_token": "***", "nested": [{"webhook_secret": "***"}], "city": "Oslo"},
        "empty_token": "",
    }
    page = str(format_json(document))
    assert not any(secret in page for secret in ("PASS1", "HEADER2", "TOKEN3", "HOOK4"))
    assert "<pre" in page and "&#34;city&#34;: &#34;Oslo&#34;" in page  # escaped, not raw HTML


def test_secret_columns_are_never_listed() -> None:
    columns = ["id", "email", "password_hash", "key_hash", "token_hash", "refresh_token_hash", "code_hash",
               "sealed_value", "input_tokens", "name", "prefix"]
    assert shown_columns(columns) == ["id", "email", "input_tokens", "name", "prefix"]
