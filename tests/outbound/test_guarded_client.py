"""The guard holds for the connections a client really opens, and for every redirect."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from agenthub.outbound.guard import OutboundGuard, OutboundRefused
from agenthub.outbound.http import guarded_client, guarded_client2, send_following
from tests.support.target import Target


@pytest.fixture
def target() -> Iterator[Target]:
    with Target() as server:
        yield server


async def _get(guard: OutboundGuard, url: str, *, trusted: bool = False) -> httpx.Response:
    async with guarded_client(guard, trusted=trusted, timeout=5) as client:
        response = await send_following(client, client.build_request("GET", url))
        await response.aread()
        await response.aclose()
        return response


async def test_a_local_server_is_refused_without_the_allowlist(target: Target) -> None:
    with pytest.raises(OutboundRefused) as refused:
        await _get(OutboundGuard(), f"{target.url}/hello")
    assert refused.value.message == "refused: 127.0.0.1 is a loopback address"
    assert target.requests == []


async def test_a_name_is_shown_with_the_address_it_resolved_to(target: Target) -> None:
    with pytest.raises(OutboundRefused) as refused:
        await _get(OutboundGuard(), f"http://localhost:{target.port}/hello")
    assert refused.value.message.startswith("refused: localhost (")
    assert refused.value.message.endswith(") is a loopback address")
    assert target.requests == []


@pytest.mark.parametrize("allowlist", ["127.0.0.1", "127.0.0.0/8", "localhost"])
async def test_the_allowlist_lets_an_address_a_network_or_a_name_through(target: Target, allowlist: str) -> None:
    host = "localhost" if allowlist == "localhost" else "127.0.0.1"
    guard = OutboundGuard.from_allowlist([allowlist])
    # A name that resolves to ::1 first is connected to on the next address (127.0.0.1).
    response = await _get(guard, f"http://{host}:{target.port}/hello?a=1")
    assert response.status_code == 200
    assert response.json()["path"] == "/hello"
    if allowlist == "localhost":  # the name is allowed, not the address written out
        with pytest.raises(OutboundRefused):
            await _get(guard, f"{target.url}/hello")


async def test_trusted_allows_loopback_but_never_metadata(target: Target) -> None:
    response = await _get(OutboundGuard(), f"{target.url}/hello", trusted=True)
    assert response.status_code == 200
    with pytest.raises(OutboundRefused) as refused:
        await _get(OutboundGuard(), "http://169.254.169.254/latest/meta-data/", trusted=True)
    assert refused.value.message == "refused: 169.254.169.254 is a link-local address (cloud metadata)"


async def test_a_redirect_to_a_refused_address_is_refused(target: Target) -> None:
    guard = OutboundGuard.from_allowlist(["127.0.0.1"])
    with pytest.raises(OutboundRefused) as refused:
        await _get(guard, f"{target.url}/redirect?to=http://169.254.169.254/latest/meta-data/")
    assert "169.254.169.254" in refused.value.message
    assert [r["path"] for r in target.requests] == ["/redirect"]


async def test_an_allowed_redirect_is_followed_and_private_headers_stay_home(target: Target) -> None:
    guard = OutboundGuard.from_allowlist(["127.0.0.1", "localhost"])
    async with guarded_client(guard, timeout=5) as client:
        # Another origin: the same server under its name.
        elsewhere = f"http://localhost:{target.port}/landed"
        request = client.build_request("GET", f"{target.url}/redirect?to={elsewhere}", headers={"X-Key": "secret"})
        response = await send_following(client, request, private_headers=["X-Key"])
        await response.aread()
        await response.aclose()
    assert response.json()["path"] == "/landed"
    assert target.requests[0]["headers"]["x-key"] == "secret"
    assert "x-key" not in target.requests[1]["headers"]


async def test_redirects_stop_after_five(target: Target) -> None:
    guard = OutboundGuard.from_allowlist(["127.0.0.1"])
    url = f"{target.url}/end"
    for _ in range(6):
        url = f"{target.url}/redirect?to={httpx.URL(url)}"
    with pytest.raises(OutboundRefused, match="more than 5 redirects"):
        await _get(guard, url)


async def test_the_httpx2_client_is_guarded_too(target: Target) -> None:
    async with guarded_client2(OutboundGuard(), timeout=5) as client:
        with pytest.raises(OutboundRefused, match="127.0.0.1 is a loopback address"):
            await client.get(f"{target.url}/hello")
    async with guarded_client2(OutboundGuard.from_allowlist(["127.0.0.1"]), timeout=5) as client:
        response = await client.get(f"{target.url}/hello")
    assert response.status_code == 200


async def test_the_allowlist_setting_is_what_the_guard_reads(target: Target) -> None:
    from agenthub.config import Settings

    guard = OutboundGuard.from_settings(Settings(_env_file=None, outbound_allowlist="10.0.0.0/8, 127.0.0.1"))
    response = await _get(guard, f"{target.url}/hello")
    assert response.status_code == 200


async def test_the_connection_goes_to_the_checked_address_without_a_second_lookup(
    target: Target, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The name is resolved once, by the guard; the socket is opened to what it checked
    (here a name no DNS server knows, which the guard is made to resolve to 127.0.0.1)."""
    import ipaddress

    checked: list[str] = []

    async def resolve(self: OutboundGuard, host: str, port: int, *, trusted: bool = False) -> list:  # type: ignore[type-arg]
        checked.append(host)
        return [ipaddress.ip_address("127.0.0.1")]

    monkeypatch.setattr(OutboundGuard, "resolve", resolve)
    response = await _get(OutboundGuard(), f"http://api.example.invalid:{target.port}/hello")
    assert response.status_code == 200
    assert checked == ["api.example.invalid"]
    assert target.requests[0]["headers"]["host"] == f"api.example.invalid:{target.port}"
