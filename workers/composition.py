"""The composition root: settings -> clients -> activity instances -> Worker."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import redis.asyncio as redis
from temporalio.client import Client
from temporalio.worker import Worker
from temporalio.worker.workflow_sandbox import SandboxedWorkflowRunner, SandboxRestrictions

from activities.agent_replies import AgentReplies
from activities.conductor import Conductor
from activities.intake import Intake
from activities.orchestration import Orchestration
from activities.post_office import PostOffice
from activities.questions import Questions
from activities.traffic_cop import TrafficCop
from agents.builtin import BuiltInResponder
from agents.capabilities.content import UploadMetadata
from agents.openai_compatible import OpenAICompatibleProvider
from agents.orchestrators import OrchestratorRegistry, default_registry
from agents.replies import ReplyProvider
from foundations.admission import ContentPolicy, MessageAdmission, RateLimits
from foundations.clients import communication_foundation
from foundations.gateway import PlatformGateway
from foundations.processes import ProcessRunner
from foundations.questions import QuestionBook
from foundations.sessions import SessionStore
from foundations.settings import Settings
from foundations.uploads import UploadStore
from workflows.chat_session import ChatSessionWorkflow

# The agents package is pure Python with no side effects; passing it through keeps its types
# (payload dataclasses among them) the same objects inside and outside the sandbox, which
# type-hint resolution of nested payloads needs.
WORKFLOW_RUNNER = SandboxedWorkflowRunner(
    restrictions=SandboxRestrictions.default.with_passthrough_modules("agents")
)

# Imported once by the server that forks capability processes, so each starts in milliseconds.
CAPABILITY_PRELOAD = ("activities.orchestration",)

# Heartbeats deliver cancellation: this keeps a user's Stop within about a second.
HEARTBEAT_THROTTLE = timedelta(seconds=1)


def reply_provider(settings: Settings) -> ReplyProvider:
    if settings.reply_provider == "openai":
        return OpenAICompatibleProvider(
            settings.openai_base_url, settings.openai_api_key, settings.openai_model
        )
    return BuiltInResponder(delta_delay=timedelta(milliseconds=settings.builtin_delta_delay_ms))


def platform_gateway(
    client: redis.Redis,
    settings: Settings,
    orchestrators: OrchestratorRegistry,
    provider: ReplyProvider,
) -> PlatformGateway:
    """Every abstraction the platform offers, for the gateway to hand out by realm."""
    communication = communication_foundation(client, settings)
    return PlatformGateway(
        {
            "session": SessionStore(client, settings.session_ttl_seconds),
            "cache": client,
            "state": client,
            "policy": ContentPolicy(tuple(settings.blocked_terms)),
            "llm": provider,
            "orchestrators": orchestrators,
            "file_storage": UploadStore(client, settings.session_ttl_seconds, UploadMetadata),
            "communication_foundation": communication,
            # Raw communication infrastructure exists, but only the experience realm gets it.
            "websocket": communication,
            "messaging": communication,
            "event_bus": communication,
        }
    )


def activities(
    client: redis.Redis,
    settings: Settings,
    provider: ReplyProvider | None = None,
    orchestrators: OrchestratorRegistry | None = None,
) -> Sequence[Any]:
    """The bound activity methods, each role given only what its realm may use."""
    provider = provider or reply_provider(settings)
    gateway = platform_gateway(client, settings, orchestrators or default_registry(), provider)
    cop = gateway.grant(TrafficCop.REALM, TrafficCop.USES)
    traffic_cop = TrafficCop(
        cop.session,
        MessageAdmission(
            cop.cache,
            cop.policy,
            RateLimits(settings.session_messages_per_minute, settings.user_messages_per_minute),
        ),
    )
    conducting = gateway.grant(Conductor.REALM, Conductor.USES)
    conductor = Conductor(
        conducting.orchestrators,
        conducting.communication_foundation,
        settings.context_window_messages,
    )
    orchestrating = gateway.grant(Orchestration.REALM, Orchestration.USES)
    orchestration = Orchestration(
        orchestrating.orchestrators,
        orchestrating.file_storage,
        orchestrating.communication_foundation,
        ProcessRunner(
            settings.capability_processes,
            preload=CAPABILITY_PRELOAD,
            memory_bytes=settings.capability_memory_mb * 1024 * 1024,
        ),
        settings.capability_timeout_seconds,
    )
    post_office = PostOffice(
        gateway.grant(PostOffice.REALM, PostOffice.USES).communication_foundation
    )
    replies_grant = gateway.grant(AgentReplies.REALM, AgentReplies.USES)
    agent_replies = AgentReplies(
        replies_grant.llm,
        replies_grant.communication_foundation,
        settings.context_window_messages,
        timedelta(milliseconds=settings.reply_frame_window_ms),
        post_office,
    )
    intake = Intake(traffic_cop, post_office, conductor)
    questions = Questions(
        orchestrating.communication_foundation,
        orchestrating.file_storage,
        QuestionBook(client, settings.session_ttl_seconds),
        settings.capability_asks_first,
    )
    return [
        intake.accept_message,
        traffic_cop.admit_message,
        conductor.route,
        orchestration.run_capability,
        post_office.record_user_message,
        post_office.read_message,
        post_office.forget_session,
        post_office.record_reply,
        post_office.announce_handoff,
        post_office.report_turn_failure,
        post_office.publish_step,
        agent_replies.generate_reply,
        questions.ask,
        questions.resolve,
    ]


def chat_worker(
    client: Client,
    redis_client: redis.Redis,
    settings: Settings,
    *,
    task_queue: str | None = None,
    provider: ReplyProvider | None = None,
    orchestrators: OrchestratorRegistry | None = None,
) -> Worker:
    return Worker(
        client,
        task_queue=task_queue or settings.task_queue,
        workflows=[ChatSessionWorkflow],
        workflow_runner=WORKFLOW_RUNNER,
        activities=activities(redis_client, settings, provider, orchestrators),
        max_concurrent_activities=200,
        default_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        max_heartbeat_throttle_interval=HEARTBEAT_THROTTLE,
        graceful_shutdown_timeout=timedelta(seconds=settings.worker_graceful_shutdown_seconds),
    )
