"""The fake OpenAI server itself: wire format, scripting, and use from another process."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import httpx
import openai
import pytest

from tests.support.fake_openai import FakeOpenAI

ROOT = Path(__file__).resolve().parents[2]


def _events(response: httpx.Response) -> list[str]:
    return [line[len("data: "):] for line in response.iter_lines() if line.startswith("data: ")]


def test_stream_wire_format(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("one two  three ", prompt_tokens=5, completion_tokens=3)
    body = {"model": "m", "stream": True, "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}]}
    with httpx.stream("POST", f"{fake_openai.url}/chat/completions", json=body) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)

    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["model"] == "m" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    assert chunks[0]["choices"][0]["delta"]["role"] == "assistant"
    words = [c["choices"][0]["delta"].get("content") for c in chunks[1:-2]]
    assert words == ["one", " two", "  three "]
    assert chunks[-2]["choices"][0]["finish_reason"] == "stop"
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}


def test_stream_without_usage_has_no_usage_chunk(fake_openai: FakeOpenAI) -> None:
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi there"}]}
    with httpx.stream("POST", f"{fake_openai.url}/chat/completions", json=body) as response:
        chunks = [json.loads(e) for e in _events(response)[:-1]]
    assert all(c["choices"] for c in chunks)
    assert all("usage" not in c for c in chunks)
    assert "".join(c["choices"][0]["delta"].get("content", "") for c in chunks) == "echo: hi there"


def test_non_streaming_and_path_without_v1(fake_openai: FakeOpenAI) -> None:
    root = fake_openai.url.removesuffix("/v1")
    body = {"model": "m", "messages": [{"role": "system", "content": "a b"}, {"role": "user", "content": "c"}]}
    reply = httpx.post(f"{root}/chat/completions", json=body).json()
    assert reply["object"] == "chat.completion"
    assert reply["choices"][0]["message"] == {"role": "assistant", "content": "echo: c", "refusal": None}
    # Default usage: words sent, words answered.
    assert reply["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert fake_openai.requests[0].body == body


def test_models_and_unknown_routes(fake_openai: FakeOpenAI) -> None:
    models = openai.OpenAI(base_url=fake_openai.url, api_key="k").models.list()
    assert [m.id for m in models.data] == ["fake-model"]
    assert httpx.get(f"{fake_openai.url}/nope").status_code == 404


def test_scripted_error_is_openai_shaped(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_error(503, "overloaded")
    response = httpx.post(f"{fake_openai.url}/chat/completions", json={"messages": []})
    assert response.status_code == 503
    assert response.json()["error"]["message"] == "overloaded"


def test_delay_paces_the_chunks(fake_openai: FakeOpenAI) -> None:
    fake_openai.add_answer("a b c", delay=0.15)
    client = openai.OpenAI(base_url=fake_openai.url, api_key="k")
    arrivals = []
    start = time.monotonic()
    for chunk in client.chat.completions.create(model="m", stream=True, messages=[]):
        if chunk.choices and chunk.choices[0].delta.content:
            arrivals.append(time.monotonic() - start)
    assert len(arrivals) == 3
    assert arrivals[-1] - arrivals[0] >= 0.25


def test_start_stop_and_reuse() -> None:
    server = FakeOpenAI(answers=["scripted", {"text": "second", "completion_tokens": 9}]).start()
    try:
        client = openai.OpenAI(base_url=server.url, api_key="k")
        first = client.chat.completions.create(model="m", messages=[{"role": "user", "content": "x"}])
        second = client.chat.completions.create(model="m", messages=[])
        assert first.choices[0].message.content == "scripted"
        assert second.usage is not None and second.usage.completion_tokens == 9
    finally:
        server.stop()
    with pytest.raises(RuntimeError):
        server.url  # noqa: B018


def test_separate_process_serves_script_until_killed(tmp_path: Path) -> None:
    script = tmp_path / "answers.json"
    script.write_text(json.dumps([{"text": "from a script"}, {"text": "slow answer here", "delay": 5}]))
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_openai", "--port", "0", "--script", str(script)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        client = openai.OpenAI(base_url=url, api_key="k", max_retries=0)
        answer = client.chat.completions.create(model="m", messages=[])
        assert answer.choices[0].message.content == "from a script"

        # Kill the server mid-answer: the client sees the stream break.
        stream = client.chat.completions.create(model="m", stream=True, messages=[])
        first = next(iter(stream))
        assert first.choices[0].delta.role == "assistant"
        process.kill()
        with pytest.raises((httpx.HTTPError, openai.APIError)):
            for _ in stream:
                pass
    finally:
        process.kill()
        process.wait(timeout=5)


def test_stop_cuts_an_answer_being_streamed() -> None:
    server = FakeOpenAI(answers=[{"text": "a b c d e f", "delay": 1.0}]).start()
    client = openai.OpenAI(base_url=server.url, api_key="k", max_retries=0)
    stream = client.chat.completions.create(model="m", stream=True, messages=[])
    assert next(iter(stream)).choices[0].delta.role == "assistant"
    server.stop()
    with pytest.raises((httpx.HTTPError, openai.APIError)):
        for _ in stream:
            pass


def test_words_join_back_exactly() -> None:
    from tests.support.fake_openai import _words

    assert _words("one two  three ") == ["one", " two", "  three "]
    assert _words("  ") == ["  "]
    assert _words("") == []
