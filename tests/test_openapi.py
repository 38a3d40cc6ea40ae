"""The OpenAPI document and the server agree: schemathesis generates requests from the
document (valid ones and ones it should refuse) and checks every answer against it: status
documented, body and media type as declared, no 500, valid requests accepted, invalid ones
refused. Against the real app served on 127.0.0.1 (SQLite, the in-process bus), with a
fixed number of examples per operation and derandomised generation, so a run is the same
every time. Nearly all of its time is Hypothesis and schemathesis making the requests (the
invalid ones most: each is a schema mutated and worked out anew), not the server answering."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
import uvicorn
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Sink
from email_validator import EmailNotValidError, validate_email
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.config import SchemathesisConfig
from schemathesis.generation.modes import GenerationMode
from schemathesis.schemas import APIOperation

from agenthub.app import create_app
from tests.support.server import OWNER_EMAIL, OWNER_PASSWORD, free_port, make_settings

pytestmark = pytest.mark.openapi

VALID_EXAMPLES = 4
INVALID_EXAMPLES = 2
"""Requests per operation and mode. An invalid request costs schemathesis about twice what a
valid one does (its mutated schema is canonicalised for each), and this test runs beside
the suite in CI, taking a core for its whole length."""
FEWER_VALID_EXAMPLES = {("POST", "/api/v1/bots/import"): 2, ("POST", "/api/v1/templates"): 2}
"""Operations whose valid requests are whole bot documents: a generated document almost
never names only keys it holds, so each valid one costs Hypothesis dozens of deep documents
thrown away (a third of this test's time at 8). The documents' rules are tested in
tests/scenarios (test_export_import.py, test_template*.py); here 2 valid ones each."""
PATCHED = "patched"
BASELINE = {"provider": "fake", "model_id": "demo", "base_url": None, "system_prompt": "", "integrations": []}
CONFIG = SchemathesisConfig.from_dict({
    "checks": {"negative_data_rejection": {
        # Refusing a request is right whichever way it is refused; 413 too (a body past the
        # limit, as a string far beyond its maxLength makes it), which schemathesis does not
        # count by default.
        "expected-statuses": [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429],
    }},
    # Every request is the owner's (its Authorization is set on each call): a request made
    # invalid by a mangled Authorization alone would be valid again.
    "generation": {"with-security-parameters": False},
})


def _crons() -> st.SearchStrategy[str]:
    """Cron expressions croniter takes (fields of the `cron` format): JSON Schema can't say
    which strings those are, so valid requests get theirs from here."""
    fields = [
        st.sampled_from(["*", "0", "*/5", "15,45", "0-30"]), st.sampled_from(["*", "9", "*/2", "8-17"]),
        st.sampled_from(["*", "1", "15"]), st.sampled_from(["*", "1", "6-8"]), st.sampled_from(["*", "1-5", "0"]),
    ]
    return st.tuples(*fields).map(" ".join)


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    """The app under uvicorn in a thread of its own (schemathesis' calls are blocking): its
    address and the ``Authorization`` of the default organisation's owner."""
    schemathesis.openapi.format("cron", _crons())
    database = Path(tmp_path_factory.mktemp("openapi")) / "agenthub.db"
    # No rate limits: hundreds of requests a minute here check the document, not the limits.
    # A server that sends e-mail (to a local SMTP server that keeps nothing), as e-mail channels need.
    mail = Controller(Sink(), hostname="127.0.0.1", port=free_port())
    mail.start()
    app = create_app(make_settings(
        database_url=f"sqlite+aiosqlite:///{database.as_posix()}", demo_agent=True,
        rate_limit_per_minute=0, rate_limit_anonymous_per_minute=0,
        smtp_host=mail.hostname, smtp_port=mail.port, smtp_tls=False, smtp_from="openapi@example.com",
        # A bot for Telegram notifications, as Telegram channels need; its Bot API is a closed
        # port of this machine (a notification sent there fails, and nothing leaves it).
        telegram_bot_token="123456:openapi-test-bot-token", telegram_api_base_url=f"http://127.0.0.1:{free_port()}",
    ))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, name="openapi-app", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:  # uvicorn offers no event to wait for: its flag, with a deadline
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app did not start")
        thread.join(0.02)
    url = f"http://127.0.0.1:{port}"
    # FastAPI makes the document at its first request (seconds of CPU for this app, more on a
    # loaded machine, where this test runs niced) and keeps it: made here, schemathesis' own
    # load (10 s timeout) finds it ready.
    assert httpx.get(f"{url}/openapi.json", timeout=300).status_code == 200
    login = httpx.post(f"{url}/api/v1/auth/login", json={"email": OWNER_EMAIL, "password": OWNER_PASSWORD})
    assert login.status_code == 200, login.text
    headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
    created = httpx.post(f"{url}/api/v1/agents", headers=headers, json={
        "id": PATCHED, "name": "Changed by PATCH", "settings": BASELINE,
    })
    assert created.status_code == 201, created.text
    try:
        yield url, headers
    finally:
        server.should_exit = True
        thread.join(30)
        mail.stop()


def test_the_server_answers_as_its_openapi_document_says(served: tuple[str, dict[str, str]]) -> None:
    served_url, headers = served
    api = schemathesis.openapi.from_url(f"{served_url}/openapi.json", config=CONFIG)
    failures: list[str] = []
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) >= 15, [o.label for o in operations]
    for operation in operations:
        for mode, agent_id in _passes(operation):
            try:
                _checked(served_url, headers, operation, mode, agent_id)()
            except Unsatisfiable:  # nothing to get wrong: an operation without parameters
                assert mode is GenerationMode.NEGATIVE, operation.label
            except (Exception, BaseExceptionGroup) as error:  # noqa: BLE001 - all operations, then all failures
                failures.append(f"{operation.label} ({mode}, agent {agent_id or 'generated'}): {error}")
    assert not failures, "\n\n".join(failures)


def _passes(operation: APIOperation) -> list[tuple[GenerationMode, str | None]]:
    """Valid and invalid requests as generated; then valid ones on an agent that exists
    (generated ids find none): the demo agent, but a PATCH changes one of its own and a
    DELETE is left out (the agent would be gone for the operations after it)."""
    passes: list[tuple[GenerationMode, str | None]] = [(GenerationMode.POSITIVE, None), (GenerationMode.NEGATIVE, None)]
    if "{agent_id}" in operation.path and operation.method.upper() != "DELETE":
        passes.append((GenerationMode.POSITIVE, PATCHED if operation.method.upper() == "PATCH" else "demo"))
    return passes


def _checked(
    base_url: str, headers: dict[str, str], operation: APIOperation, mode: GenerationMode, agent_id: str | None
) -> Callable[[], None]:
    """A Hypothesis test calling the operation with generated requests of ``mode``, as
    the owner (``headers``)."""
    path_parameters = {"agent_id": agent_id} if agent_id else None

    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    @settings(
        max_examples=INVALID_EXAMPLES if mode is not GenerationMode.POSITIVE
        else FEWER_VALID_EXAMPLES.get((operation.method.upper(), operation.path), VALID_EXAMPLES),
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the first failure is reported as found
    )
    def answers_as_documented(case: schemathesis.Case) -> None:
        if mode is GenerationMode.POSITIVE:
            assume(not _repeats_an_integration_type(case.body))
            assume(not _breaks_an_intelligence_rule(case.body))
            assume(not _reserved_email_domain(case.body))
            assume(not _names_an_invitation(case.body))
            assume(not _an_impossible_schedule(case.operation.path, case.body))
            assume(not _names_an_embedding_endpoint(case.body))
            assume(not _overfills_a_memory_block(case.operation.path, case.body))
            assume(not _breaks_a_bot_rule(case.operation.path, case.operation.method, case.body))
        if agent_id == PATCHED:
            # Each change starts from the same agent: whether one is valid depends on what
            # is stored (a provider that needs a base_url; a base_url that provider needs).
            assume(not _leaves_no_base_url(case.body))
            reset = httpx.patch(f"{base_url}/api/v1/agents/{PATCHED}", headers=headers, json={"settings": BASELINE})
            assert reset.status_code == 200, reset.text
        case.call_and_validate(headers=headers, excluded_checks=_expected_server_errors(case.operation.path))

    return answers_as_documented


UPSTREAM_ROUTES = ("/api/v1/providers/{provider}/models",)
"""Routes that ask a server a URL names: its failure is a documented 502 (the test machine
reaches no provider: OpenAI, OpenRouter, a local Ollama), and where a generated URL leads
(a name that does not resolve, a link-local address) is the outbound guard's decision at
the request, a documented 422 no schema can say."""


def _expected_server_errors(path: str) -> list[Any]:
    """The checks left out for ``path`` (the bodies are still checked against the document)."""
    from schemathesis.checks import not_a_server_error, positive_data_acceptance

    return [not_a_server_error, positive_data_acceptance] if path in UPSTREAM_ROUTES else []


def _repeats_an_integration_type(body: object) -> bool:
    """An agent with two integrations of one type: refused (422), as the document says in
    words; JSON Schema can't say "unique by one property", so such bodies are not generated
    as valid ones."""
    settings_ = body.get("settings") if isinstance(body, dict) else None
    integrations = settings_.get("integrations") if isinstance(settings_, dict) else None
    if not isinstance(integrations, list):
        return False
    types = [i.get("type") for i in integrations if isinstance(i, dict)]
    return len(types) != len(set(types))


def _breaks_an_intelligence_rule(body: object) -> bool:
    """Settings whose fields disagree with each other (two HTTP tools of one name, a `rag`
    agent without knowledge bases...): refused (422), as the document says in words; JSON
    Schema can't say it."""
    from pydantic import ValidationError

    from agenthub.agents.intelligence import IntelligenceSettings, check_intelligence

    settings_ = body.get("settings") if isinstance(body, dict) else None
    if not isinstance(settings_, dict):
        return False
    if _names_a_credential(settings_):
        return True
    try:
        fields = IntelligenceSettings.model_validate(
            {name: value for name, value in settings_.items() if name in IntelligenceSettings.model_fields and value is not None}
        )
        check_intelligence(fields)
    except ValidationError:
        return False  # a field of its own is wrong: the document says so, and it is checked
    except ValueError:
        return True
    return False


def _names_a_credential(settings_: dict[str, Any]) -> bool:
    """Settings naming a credential (a model key, a bot token, a header's value): a generated
    id is never one of the organisation's, and is refused (422 naming the field) as an
    unknown agent id is 404."""
    from agenthub.agents.credential_refs import named

    try:
        return any(True for _ in named(settings_))
    except (AttributeError, TypeError):
        return False


def _reserved_email_domain(body: object) -> bool:
    """An e-mail of a domain reserved for special use (``.test``, ``.invalid``, ...): refused
    (422) by registration and by e-mail notification channels (``address``), which JSON
    Schema's ``format: email`` does not say."""
    email = (body.get("email") or body.get("address")) if isinstance(body, dict) else None
    if not isinstance(email, str):
        return False
    try:
        validate_email(email, check_deliverability=False)
    except EmailNotValidError as error:
        return "special-use or reserved" in str(error)
    return False


def _names_an_invitation(body: object) -> bool:
    """A registration with an invitation: a generated one is never one the server issued,
    and is refused (422, field ``invitation``) as an unknown agent id is 404. Likewise a
    message sent with files (:func:`_names_files`). (One helper for both: the examples are
    drawn from a seed of ``answers_as_documented``'s source, which stays as it is.)"""
    return isinstance(body, dict) and (body.get("invitation") is not None or _names_files(body))


def _an_impossible_schedule(path: str, body: object) -> bool:
    """A calendar event or a bot's cron (also in an imported document) whose ``cron``
    croniter does not take (or that never runs), whose ``timezone`` is no IANA zone, or
    whose ``start_at`` is outside the years it may be: refused (422), as the document says
    in words; JSON Schema can't say it."""
    if not isinstance(body, dict):
        return False
    from agenthub.calendar import schemas

    if path.startswith("/api/v1/calendar/") or path.startswith("/api/v1/bots/{bot_id}/crons"):
        schedules = [body]
    elif path == "/api/v1/bots/import" and isinstance(body.get("crons"), list):
        schedules = [cron for cron in body["crons"] if isinstance(cron, dict)]
    else:
        return False
    try:
        for schedule in schedules:
            schemas.EventUpdate.model_validate(
                {name: schedule[name] for name in ("cron", "timezone", "start_at") if name in schedule}
            )
    except ValueError:
        return True
    return False


def _names_an_embedding_endpoint(body: object) -> bool:
    """A knowledge base's ``embedding_base_url`` is checked by the outbound guard, after DNS
    resolution: a generated host resolves to no address (422, as the document says in words)."""
    return isinstance(body, dict) and body.get("embedding_base_url") is not None


def _overfills_a_memory_block(path: str, body: object) -> bool:
    """Core memory blocks with a repeated label, or a value longer than its limit (2000 when
    none is given, for agents without `memory_blocks`): refused (422), as the document says in
    words; JSON Schema can't compare two fields."""
    blocks = body.get("blocks") if path.endswith("/memory") and isinstance(body, dict) else None
    if not isinstance(blocks, list):
        return False
    items = [block for block in blocks if isinstance(block, dict)]
    labels = [block.get("label") for block in items]
    return len(labels) != len(set(labels)) or any(
        len(str(block.get("value") or "")) > (block.get("limit") or 2000) for block in items
    )


def _leaves_no_base_url(body: object) -> bool:
    """A change to the baseline agent that makes it an ``openai_compatible`` one without a
    ``base_url``: refused (422), as the document says of the settings."""
    settings_ = body.get("settings") if isinstance(body, dict) else None
    return (
        isinstance(settings_, dict)
        and settings_.get("provider") == "openai_compatible"
        and settings_.get("base_url") is None
    )


def _breaks_a_bot_rule(path: str, method: str, body: object) -> bool:
    """Scenario bots: a document (an import, a template's steps) whose keys name steps,
    requests or templates it does not hold, rules the evaluator can't take, or a group with
    neither `step_id` nor `bot_id`:
    refused (422 saying where), as the document says in words; JSON Schema can't say it."""
    if not isinstance(body, dict):
        return False
    from pydantic import ValidationError

    from agenthub.errors import InvalidInput
    from agenthub.scenarios.document import BotDocument, references
    from agenthub.scenarios.rules import validate_rules
    from agenthub.scenarios.schemas import TemplateBody
    from agenthub.scenarios.service_parts import check_template_body

    try:
        if path.startswith("/api/v1/connections") and isinstance(body.get("rules"), dict):
            validate_rules(body["rules"])
        if path == "/api/v1/bots/import":
            return bool(references(BotDocument.model_validate(body)))
        if path.startswith("/api/v1/templates") and isinstance(body.get("document"), dict):
            check_template_body(TemplateBody.model_validate(body["document"]))
    except ValidationError as error:
        # Rules the evaluator can't take are refused as the document says in words; any other
        # field of its own that is wrong is said by the schema, and checked.
        return any(problem["type"] == "invalid_rules" for problem in error.errors())
    except ValueError:
        return True
    except InvalidInput:
        return True
    return path == "/api/v1/connection_groups" and method.upper() == "POST" and (
        body.get("step_id") is None and body.get("bot_id") is None
    )


def _names_files(body: object) -> bool:
    """A message sent with files (``attachments``): ids of files the organisation does not
    have are refused (422 naming ``attachments.<n>``), as the document says in words; no
    generated id names an uploaded file."""
    return isinstance(body, dict) and bool(body.get("attachments"))
