"""The FastAPI application and its lifespan: open the database and the bus, start the code
sandbox (in the background), the supervisor, the local host and the workers; close them all
on the way out."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi_offline import FastAPIOffline
from starlette.routing import Route

from agenthub import __version__
from agenthub.access import api as access_api
from agenthub.access import budgets_api, personal_api
from agenthub.access import export as export_api
from agenthub.access.budgets import BudgetGuard
from agenthub.accounts import api as accounts_api
from agenthub.accounts import orgs_api
from agenthub.accounts import service as accounts_service
from agenthub.accounts.authenticate import AccountsAuthenticator
from agenthub.accounts.passwords import make_hasher
from agenthub.accounts.tokens import TokenIssuer, signing_key
from agenthub.admin_panel import mount_admin_panel
from agenthub.agents import api as agents_api
from agenthub.agents.demo import ensure_demo_agent
from agenthub.agents.directory import AgentDirectory
from agenthub.audit import api as audit_api
from agenthub.billing import api as billing_api
from agenthub.billing.counters import open_counters
from agenthub.bus import StreamRetention, open_bus
from agenthub.calendar import api as calendar_api
from agenthub.channels import bot_events, draft_chats_api, group_chats, openai_api, personal, sse, websocket
from agenthub.channels.gateway import Gateway
from agenthub.channels.group_chat_flows import GroupChatRoles
from agenthub.channels.hosts import HostGuard
from agenthub.channels.limits import ConnectionLimit
from agenthub.channels.openai_errors import OpenAIErrors
from agenthub.channels.origins import ForeignOriginGuard
from agenthub.channels.rate_limits import RateLimiter, RateLimits
from agenthub.channels.scenario_ask import AskRelay, GatewayAsker
from agenthub.channels.telegram import api as telegram_api
from agenthub.channels.telegram import webhook as telegram_webhook
from agenthub.channels.telegram.service import TelegramIntegrations
from agenthub.channels.telegram.starts import StartRelay
from agenthub.chats import api as chats_api
from agenthub.config import Settings
from agenthub.credentials import api as credentials_api
from agenthub.credentials.secret_box import load_box
from agenthub.db.engine import create_engine, create_session_factory, session_scope
from agenthub.db.file_lock import DatabaseFileLock
from agenthub.engines.registry import EnginesFactory, build_engines
from agenthub.files import api as files_api
from agenthub.files.service import file_reader
from agenthub.files.signing import file_signer
from agenthub.files.storage import FileStorage, open_storage
from agenthub.groupchats import api as group_chats_api
from agenthub.knowledge import api as knowledge_api
from agenthub.knowledge.embedding import KnowledgeEmbedders
from agenthub.knowledge.processor import DocumentProcessor
from agenthub.knowledge.vectors import open_index
from agenthub.lifecycle import api as lifecycle_api
from agenthub.lifecycle import bots as lifecycle_bots
from agenthub.llm.pricing import PriceTable
from agenthub.mcp.server import McpEndpoint
from agenthub.memory import api as memory_api
from agenthub.notifications import api as notifications_api
from agenthub.notifications.dispatcher import NotificationDispatcher
from agenthub.notifications.senders import build_senders
from agenthub.ops import api as ops_api
from agenthub.ops.errors import install_error_handlers
from agenthub.ops.metrics import Metrics
from agenthub.ops.openapi import install_openapi
from agenthub.ops.tracing import setup_tracing
from agenthub.outbound.guard import OutboundGuard
from agenthub.providers import api as providers_api
from agenthub.providers.service import ProviderHealth
from agenthub.readiness import embedded_database_lock, prepare_bus, prepare_database
from agenthub.roles import api as roles_api
from agenthub.roles.library import RoleLibrary
from agenthub.runtime.assembly import build_host
from agenthub.runtime.host import new_host_id
from agenthub.runtime.launcher import ProcessLauncher
from agenthub.runtime.recovery import UnansweredRecovery
from agenthub.runtime.supervisor import Supervisor
from agenthub.runtime.tasks import stop_tasks
from agenthub.sandbox.service import SandboxService
from agenthub.sandbox.settings import pool_config
from agenthub.scenarios import api as scenarios_api
from agenthub.scenarios import crons_api as scenario_crons_api
from agenthub.scenarios import presets_api
from agenthub.scenarios.actions import api as scenario_actions_api
from agenthub.scenarios.actions.process import ProcessActions
from agenthub.scenarios.live import with_live_events
from agenthub.scheduler.proactive import GatewayAgentAccess
from agenthub.scheduler.scenario_timers import ScenarioTimers
from agenthub.scheduler.worker import Scheduler
from agenthub.web import mount_console
from agenthub.workers import api as queues_api
from agenthub.workers.dead_letters import DeadLetters
from agenthub.workers.history import HistorySaverWorker
from agenthub.workers.inactivity import InactivityMonitorWorker
from agenthub.workers.purge import DeletedAgentsPurgeWorker
from agenthub.workers.token_usage import TokenUsageWorker

log = logging.getLogger(__name__)

DOCS_TAG_ORDER = ("agents", "chats", "usage", "chat", "openai", "operations", "queues")
"""The order of the groups of routes in the API docs (else the order the routes are tried in)."""


async def _authenticator(settings: Settings, sessions) -> AccountsAuthenticator:  # type: ignore[no-untyped-def]
    async with session_scope(sessions) as session:
        key = await signing_key(session, settings.jwt_secret.get_secret_value() if settings.jwt_secret else None)
    issuer = TokenIssuer(key, lifetime_seconds=settings.access_token_expire_minutes * 60)
    return AccountsAuthenticator(sessions=sessions, issuer=issuer)


def create_app(
    settings: Settings,
    *,
    on_ready: Callable[[], None] | None = None,
    engines: EnginesFactory = build_engines,
    database_lock: DatabaseFileLock | None = None,
) -> FastAPI:
    """The app; ``on_ready`` is called once start-up is complete (``agenthub serve`` settles
    the garbage collector there); ``engines`` makes the engines of the agents it hosts;
    ``database_lock``: the embedded database's lock, taken already (``agenthub serve`` takes
    it before anything else), else taken at start-up. It is released at shutdown. Raises
    ``ConfigurationError`` for a ``PRICES_FILE`` that can't be used, or a
    ``SANDBOX_REQUIRED_LAYERS`` that names no layer."""
    prices = PriceTable.load(settings.prices_file)
    mcp_endpoint = McpEndpoint()  # /mcp: the MCP server for building bots (agenthub/mcp)
    sandbox_config = pool_config(settings)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        lock = database_lock or embedded_database_lock(settings)
        if lock is not None:
            lock.acquire()
        tracing = setup_tracing(settings)  # spans of the turns this process answers
        try:
            async with mcp_endpoint.run(), _serving(app) as served:
                yield served
        finally:
            await asyncio.to_thread(tracing.shutdown)
            if lock is not None:
                lock.release()

    @contextlib.asynccontextmanager
    async def _serving(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings.effective_database_url)
        retention = StreamRetention(settings.stream_retention_seconds, settings.stream_max_length)
        bus = open_bus(settings.redis_url, prefix=settings.redis_key_prefix, retention=retention)
        counters = open_counters(settings.redis_url, prefix=settings.redis_key_prefix)
        # The sandbox's fork server and warm processes start while the rest does; /health
        # says "starting" until then, and a code step waits for it (sandbox/service.py).
        app.state.sandbox = sandbox = SandboxService(sandbox_config)
        tasks: list[asyncio.Task[None]] = []
        scheduler: Scheduler | None = None
        dispatcher: NotificationDispatcher | None = None
        documents: DocumentProcessor | None = None
        scenario_actions: ProcessActions | None = None
        file_storage: FileStorage | None = None
        ask_relay: AskRelay | None = None
        try:
            sandbox.start_in_background()
            await prepare_database(settings, engine)
            await prepare_bus(settings, bus)
            sessions = with_live_events(create_session_factory(engine), bus)  # bots' changes on the bus
            app.state.authenticator = await _authenticator(settings, sessions)
            app.state.password_hasher = make_hasher(
                time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib,
                parallelism=settings.argon2_parallelism,
            )
            app.state.secret_box = load_box(settings)  # None: the credential routes answer 503
            async with session_scope(sessions) as session:
                app.state.first_owner_password = await accounts_service.ensure_first_owner(
                    session, email=settings.admin_email,
                    password=settings.admin_password.get_secret_value() if settings.admin_password else None,
                    hasher=app.state.password_hasher,
                )
                if settings.demo_agent:
                    await ensure_demo_agent(session)
            metrics = Metrics()
            # Uploaded files: DATA_DIR/files or S3_BUCKET; links signed with the tokens' key.
            app.state.file_storage = file_storage = open_storage(settings)
            app.state.file_signer = await file_signer(settings, sessions)
            # What the actions of scenario bots hosted here use: this sandbox, and (bound once
            # the gateway is up) the gateway's asker for LLM steps.
            app.state.scenario_actions = scenario_actions = ProcessActions(
                settings, sessions, guard=app.state.outbound_guard, box=app.state.secret_box, sandbox=sandbox,
                read_file=file_reader(sessions, file_storage),
            )
            local_host = build_host(
                host_id=new_host_id("gateway"), role="local", bus=bus, session_factory=sessions, settings=settings,
                engines=engines(settings, sessions, bus, actions=scenario_actions.deps),
            )
            launcher = None if settings.embedded else ProcessLauncher(settings)
            if launcher is not None:
                await asyncio.to_thread(launcher.warm)
            supervisor = Supervisor(
                settings=settings, bus=bus, session_factory=sessions,
                local_host=local_host, launcher=launcher, metrics=metrics,
            )
            queue_workers = [
                HistorySaverWorker(bus, sessions, max_deliveries=settings.queue_max_deliveries),
                TokenUsageWorker(
                    bus, sessions, max_deliveries=settings.queue_max_deliveries, prices=prices, counters=counters
                ),
            ]
            workers = [
                *queue_workers,
                InactivityMonitorWorker(supervisor, settings),
                DeletedAgentsPurgeWorker(sessions, settings),
            ]
            for worker in workers:
                await worker.setup()
            await local_host.start()
            tasks = [asyncio.create_task(w.run(), name=w.name) for w in workers]
            # Sends the deliveries notify() writes; woken by this process's commits of them.
            dispatcher = NotificationDispatcher.from_settings(sessions, build_senders(settings), settings)
            await dispatcher.setup()
            tasks.append(asyncio.create_task(dispatcher.run(), name=dispatcher.name))
            app.state.notification_dispatcher = dispatcher
            # Knowledge documents are parsed, embedded and indexed here, under a lease each.
            guard: OutboundGuard = app.state.outbound_guard
            app.state.knowledge_index = knowledge_index = open_index(settings)
            app.state.knowledge_processor = documents = DocumentProcessor(
                sessions=sessions, index=knowledge_index, embedders=KnowledgeEmbedders(settings, guard),
            )
            await documents.setup()
            tasks.append(asyncio.create_task(documents.run(), name=documents.name))
            supervisor_task = asyncio.create_task(supervisor.run(), name="supervisor")
            tasks.append(supervisor_task)
            app.state.settings = settings
            app.state.engine = engine
            app.state.session_factory = sessions
            app.state.bus = bus
            app.state.metrics = metrics
            app.state.dead_letters = DeadLetters(bus)
            app.state.supervisor = supervisor
            app.state.supervisor_task = supervisor_task
            app.state.budgets = BudgetGuard.from_settings(settings, sessions=sessions, counters=counters)
            app.state.agent_directory = agent_directory = AgentDirectory(sessions)
            app.state.gateway = Gateway(
                bus=bus, session_factory=sessions, engine=engine, agents=agent_directory, supervisor=supervisor,
                metrics=metrics, settings=settings, budgets=app.state.budgets,
            )
            await app.state.gateway.start()
            scenario_asker = GatewayAsker(gateway=app.state.gateway, agents=agent_directory, sessions=sessions)
            scenario_actions.bind_asker(scenario_asker)
            if not settings.embedded:  # the LLM steps of bots that runners and workers host
                ask_relay = AskRelay(bus=bus, asker=scenario_asker, consumer=supervisor.id)
                await ask_relay.setup()
                tasks.append(asyncio.create_task(ask_relay.run(), name=AskRelay.name))
            app.state.calendar_agent_access = GatewayAgentAccess(app.state.gateway)
            # Group chats: who may name which agent, and the roles asked through the gateway.
            app.state.group_chat_agent_access = app.state.calendar_agent_access
            app.state.group_chat_roles = GroupChatRoles(
                gateway=app.state.gateway, sessions=sessions, bus=bus, roles=app.state.roles,
            )
            # Agents' Telegram bots (channels/telegram/service.py): started now, supervised here;
            # on Redis each in a process of its own, whose agents are started through the bus.
            app.state.telegram = telegram = TelegramIntegrations(
                settings=settings, bus=bus, sessions=sessions, gateway=app.state.gateway, box=app.state.secret_box,
                launcher=launcher,
            )
            if launcher is not None:
                start_relay = StartRelay(bus=bus, supervisor=supervisor)
                await start_relay.setup()
                tasks.append(asyncio.create_task(start_relay.run(), name=start_relay.name))
            await telegram.setup()
            tasks.append(asyncio.create_task(telegram.run(), name=telegram.name))
            # What the server left unanswered when it last stopped (the in-process bus lost
            # it; a Redis stream still has it, waiting for its agent to start).
            await UnansweredRecovery(
                bus=bus, session_factory=sessions, supervisor=supervisor,
                window=settings.recovery_window, requeue=settings.embedded,
            ).run()
            # Calendar events run from here on (each once, whatever the replicas: calendar/leases.py).
            app.state.scheduler = scheduler = Scheduler(sessions=sessions, gateway=app.state.gateway, settings=settings)
            await scheduler.setup()
            scheduler_task = asyncio.create_task(scheduler.run(), name=scheduler.name)
            tasks.append(scheduler_task)
            # Scenario bots' delayed moves and crons (each once, whatever the replicas).
            app.state.scenario_timers = timers = ScenarioTimers(
                sessions=sessions, gateway=app.state.gateway, settings=settings
            )
            timers_task = asyncio.create_task(timers.run(), name=timers.name)
            tasks.append(timers_task)
            if on_ready is not None:
                on_ready()
            log.info("agenthub ready", extra={"bus": bus.name, "database": engine.dialect.name})
            yield
            await stop_tasks([scheduler_task, timers_task])
            await scheduler.cleanup()
            await app.state.group_chat_roles.cleanup()
            await telegram.cleanup()
            await app.state.gateway.close()
            await supervisor.shutdown()
            await local_host.close(grace=settings.stop_grace_period)
            # Let the queue workers store what the last turns produced.
            for queue_worker in queue_workers:
                await queue_worker.drain()
        finally:
            await stop_tasks(tasks)
            if scheduler is not None:
                await scheduler.cleanup()
            if dispatcher is not None:
                await dispatcher.cleanup()
            if documents is not None:
                await documents.cleanup()
            if ask_relay is not None:
                await ask_relay.cleanup()
            if scenario_actions is not None:
                await scenario_actions.close()
            if file_storage is not None:
                await file_storage.close()
            await sandbox.close()
            await counters.close()
            await bus.close()
            await limiter.close()
            await engine.dispose()

    # The docs pages are served with their own copy of Swagger UI and ReDoc, not from a
    # CDN: they work on a machine without internet access.
    app = FastAPIOffline(
        title="AgentHub",
        version=__version__,
        description="Host AI agents and talk to them over WebSocket, SSE and REST.",
        lifespan=lifespan,
        openapi_tags=[{"name": tag} for tag in DOCS_TAG_ORDER],
    )
    limiter = RateLimiter.from_settings(settings)
    app.state.rate_limiter = limiter
    # The providers' health, checked on request (reused a few seconds), and the guard of the
    # addresses callers ask about.
    app.state.outbound_guard = OutboundGuard.from_settings(settings)
    app.state.provider_health = ProviderHealth(settings)
    # The roles' files, read on first use and re-read when they change (see roles/library.py).
    app.state.roles = RoleLibrary.from_settings(settings)
    # Added first, so innermost: inside the guards below (what they refuse is not counted),
    # CORS (a 429 carries its headers) and the error middleware installed next.
    app.add_middleware(RateLimits, limiter=limiter)
    install_error_handlers(app)
    install_openapi(app, own_errors=(openai_api.router.prefix + "/",))
    if settings.origins:  # pages of other origins may call the API (see channels/origins.py)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["*"] if "*" in settings.origins else sorted(settings.origins),
            allow_methods=["*"],
            allow_headers=["*"],
        )
    app.add_middleware(ForeignOriginGuard, allowed=settings.origins)  # outside CORS: refuses its preflights
    app.add_middleware(ConnectionLimit, per_client=settings.ws_max_connections_per_client)
    # Outermost: a request for another host name (DNS rebinding) is refused before anything.
    app.add_middleware(HostGuard, allowed=settings.hosts)
    # Outside everything that may refuse a request: every error under /v1 in OpenAI's shape.
    app.add_middleware(OpenAIErrors)
    # The SSE chat route first: it is matched on every message, and the router tries the
    # routes in order (each try costs microseconds). The docs keep DOCS_TAG_ORDER.
    app.include_router(sse.router)
    app.include_router(accounts_api.router)
    app.include_router(orgs_api.router)
    app.include_router(access_api.keys_router)
    app.include_router(access_api.authorizations_router)
    app.include_router(agents_api.router)
    app.include_router(lifecycle_api.router)
    app.include_router(chats_api.router)
    app.include_router(billing_api.router)
    app.include_router(audit_api.router)
    app.include_router(export_api.router)
    app.include_router(credentials_api.router)
    app.include_router(calendar_api.router)
    app.include_router(providers_api.router)
    app.include_router(budgets_api.router)
    app.include_router(personal_api.router)
    app.include_router(personal.router)
    app.include_router(websocket.router)
    app.include_router(openai_api.router)
    app.include_router(telegram_api.router)
    app.include_router(telegram_webhook.router)
    app.include_router(ops_api.router)
    app.include_router(queues_api.router)
    app.include_router(notifications_api.router)
    app.include_router(memory_api.router)
    app.include_router(group_chats_api.router)
    app.include_router(group_chats.router)
    app.include_router(bot_events.router)
    app.include_router(roles_api.router)
    app.include_router(knowledge_api.router)
    app.include_router(knowledge_api.uploads)
    app.include_router(files_api.router)
    app.include_router(files_api.uploads)
    app.include_router(scenario_actions_api.router)
    app.include_router(scenarios_api.bots)
    app.include_router(lifecycle_bots.router)
    app.include_router(scenarios_api.parts)
    app.include_router(presets_api.router)
    app.include_router(scenario_crons_api.router)
    app.include_router(draft_chats_api.router)
    app.router.routes.append(Route("/mcp", mcp_endpoint, methods=["GET", "POST", "DELETE"], include_in_schema=False))
    if settings.admin_panel:  # /admin: the operators' panel (agenthub/admin_panel), not in the API docs
        mount_admin_panel(app, settings)

    mount_console(app, settings)  # the web console at / (agenthub/web)
    return app
