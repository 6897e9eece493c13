"""Composition root: Settings -> database -> services -> Bolt app -> listeners -> aiohttp (runtime/ runs it)."""

import runpy
from dataclasses import dataclass
from datetime import timedelta

from slack_bolt.async_app import AsyncApp

import handlers
from bot.amends import AmendsEffect, AmendsEffects, AmendsService
from bot.cases import CaseService
from bot.catch_up import CatchUpService
from bot.clock import Clock, SystemClock, parse_duration
from bot.deliveries import Deliveries
from bot.events import AmendsChanged, CaseAnnounced, CaseChanged, CaseWasClosed, Events
from bot.export import ExportService
from bot.followups import CASE_KINDS, CaseFollowUpRules, FollowUpKind, FollowUpService, kind_table
from bot.insights import DigestService, InsightsService
from bot.learning import EmployeeCareService, LearningService
from bot.recovery import RecoveryService
from bot.workspaces import WorkspaceService
from handlers.amends import AmendsHomeSection, AmendsListeners
from handlers.amends_effects import AmendsEffectHandler
from handlers.cases import CaseListeners, SlackCaseNotifier
from handlers.deliveries import EventDeduplication
from handlers.errors import ErrorPolicy
from handlers.export import ExportListeners
from handlers.followups import (
    CaseFollowUpHandler,
    FollowUpListeners,
    NoticeHandler,
    SlackFollowUpMessenger,
)
from handlers.home import HomeListeners, HomePublisher
from handlers.learning import LearningListeners, SlackCheckInNotifier, SlackLearningNotifier
from handlers.recovery import RecoveryListeners, SlackRecoveryNotifier
from handlers.slack_api import SlackPoster, make_web_client
from handlers.tasks import BackgroundTasks
from handlers.web import build_web_app
from handlers.workspaces import WorkspaceListeners
from runtime.scheduler import Scheduler
from runtime.server import Process
from settings import DatabaseSettings, Settings
from storage.amends import SqlAmendsRepository
from storage.cases import SqlCaseRepository
from storage.catch_up import SqlLaggingCases
from storage.db import Database
from storage.deliveries import SqlDeliveryLog
from storage.export import SqlExportRepository
from storage.followups import SqlFollowUpRepository
from storage.insights import SqlInsightsRepository
from storage.learning import SqlLearningRepository
from storage.recovery import SqlRecoveryRepository
from storage.workspaces import SqlWorkspaceRepository

# Follow-ups post through a client that never retries and gives up after this many seconds (chat.postMessage
# takes well under one): the post is then "unknown" and reconciled before any resend, so keep it short.
OUTBOX_TIMEOUT = 5


@dataclass(kw_only=True)
class Mend(Process):
    """Everything one running Mend process is made of, built once from Settings; `Process` starts and stops it."""

    cases: CaseService
    events: Events
    recovery: RecoveryService
    home: HomePublisher
    amends: AmendsService
    followups: FollowUpService


def build(settings: Settings, *, clock: Clock | None = None) -> Mend:
    clock = clock or SystemClock()
    db = Database(settings.database_url)
    token = settings.slack_bot_token.get_secret_value()
    client = make_web_client(token, settings.slack_api_url)
    poster = SlackPoster(client)
    errors = ErrorPolicy(poster)
    tasks = BackgroundTasks(errors)
    case_config = settings.case_config()
    workspaces = WorkspaceService(SqlWorkspaceRepository(db), clock)
    playbook = settings.playbook()
    root_causes = settings.root_cause_category_list()
    policy = settings.follow_up_policy()
    events = Events()  # how features react to each other: the subscriptions below (docs/architecture.md)
    case_notifier = SlackCaseNotifier(poster, case_config, playbook.steps)
    case_repo = SqlCaseRepository(db)
    cases = CaseService(
        case_repo, case_notifier, clock, case_config, playbook, policy, workspaces=workspaces, events=events
    )
    recovery_repo = SqlRecoveryRepository(db)
    follow_up_repo = SqlFollowUpRepository(db)  # also what the card lists: open promises and check-ins
    recovery_notifier = SlackRecoveryNotifier(poster, case_config, root_causes, follow_up_repo)
    recovery = RecoveryService(
        recovery_repo, recovery_notifier, clock, case_config, root_causes, events, policy
    )
    outbox_client = make_web_client(token, settings.slack_api_url, retry_posts=False, timeout=OUTBOX_TIMEOUT)
    people = poster.people  # users.info: nudges' time zones, the approvers, every picker
    amends_repo = SqlAmendsRepository(db)
    approvers = settings.approvers()
    case_handler = CaseFollowUpHandler(CaseFollowUpRules(recovery_repo, follow_up_repo, clock), policy)
    amends_effects = AmendsEffectHandler(AmendsEffects(amends_repo, clock, approvers), outbox_client, client)
    followups = FollowUpService(
        follow_up_repo,
        SlackFollowUpMessenger(outbox_client, client),
        people,
        clock,
        policy,
        # The kind table: every kind's handler; another feature adds its kinds here (docs/followups.md).
        kinds=kind_table(
            (CASE_KINDS, case_handler),
            ([FollowUpKind.NOTICE], NoticeHandler()),
            (AmendsEffect, amends_effects),  # reminders, backups, copies, notices, the requester's DM
        ),
        lease=parse_duration(settings.follow_up_lease),
        cases=recovery_repo,
        recovery=recovery,
        send_timeout=timedelta(seconds=OUTBOX_TIMEOUT),
    )
    # `followups`: what an offer or a decision staged goes out at once; the poller retries the rest.
    amends_policy = settings.amends_policy()
    amends = AmendsService(amends_repo, people, followups, clock, amends_policy, approvers, events)
    recovery.guard(settings.case_editor_rule(), amends.may_decide)  # who may close, skip, reopen, reassign
    insights_repo = SqlInsightsRepository(db)
    insights = InsightsService(insights_repo, clock, root_causes, case_config.categories, policy.ack_nudge_after)
    home = HomePublisher(insights, poster, clock, tasks, [AmendsHomeSection(amends)], amends.may_decide)
    learning_notifier = SlackLearningNotifier(poster, labels=settings.root_cause_label)
    learning = LearningService(
        SqlLearningRepository(db), learning_notifier, clock, settings.recurrence_config(), root_causes
    )
    learning_listeners = LearningListeners(learning, poster, tasks)
    care = EmployeeCareService(
        SlackCheckInNotifier(poster), settings.manager_map(), approvers=amends.approver_ids
    )
    # Reactions, each told in this order and awaited by the service that publishes it (bot/events.py).
    events.subscribe(CaseAnnounced, recovery.case_announced)  # the playbook's first step in the new thread
    events.subscribe(CaseChanged, home.case_changed, learning_listeners.case_changed)  # tabs; recurrences
    events.subscribe(CaseWasClosed, care.case_was_closed, cases.case_was_closed)  # check-in; origin reply
    events.subscribe(AmendsChanged, recovery.amends_changed, home.amends_changed)  # a grant ends the step
    export_service = ExportService(SqlExportRepository(db), clock, amends.may_decide, settings.export_labels())
    exports = ExportListeners(export_service, poster, tasks)
    catch_up = CatchUpService(SqlLaggingCases(db), clock, announce=cases.announce, sync=recovery.sync)
    digest = DigestService(insights, insights_repo, follow_up_repo, clock, settings.digest_channel)
    poll = parse_duration(settings.follow_up_poll)
    poller = Scheduler(followups, tasks, poll, catch_up=catch_up, digest=digest)
    # process_before_response: each listener's own ack is the HTTP response; slow work goes to BackgroundTasks.
    bolt = AsyncApp(
        client=client,
        signing_secret=settings.slack_signing_secret.get_secret_value(),
        process_before_response=True,
        # Unhandled requests go to the error policy, which acks them 200 (see ErrorPolicy).
        raise_error_for_unhandled_request=True,
    )
    handlers.register(
        bolt,
        cases=CaseListeners(cases, poster, tasks, export=exports.export, recovery=recovery),
        recovery=RecoveryListeners(recovery, poster, tasks),
        home=HomeListeners(home, tasks),
        learning=learning_listeners,
        amends=AmendsListeners(amends, poster, tasks),
        workspaces=WorkspaceListeners(workspaces),
        deliveries=EventDeduplication(Deliveries(SqlDeliveryLog(db), clock)),
        followups=FollowUpListeners(followups, recovery, case_handler, poster, people, tasks, clock),
        errors=errors,
    )
    return Mend(
        settings=settings,
        db=db,
        bolt=bolt,
        web_app=build_web_app(bolt, db.ping, settings.slack_signing_secret.get_secret_value()),
        tasks=tasks,
        cases=cases,
        events=events,
        recovery=recovery,
        home=home,
        amends=amends,
        workspaces=workspaces,
        followups=followups,
        poller=poller,
        slack_client=client,
        outbox_client=outbox_client,
    )


def build_export(settings: DatabaseSettings) -> tuple[Database, ExportService]:
    """`python app.py export`: the export alone, from the database settings (no Slack token needed)."""
    db = Database(settings.database_url)
    return db, ExportService(SqlExportRepository(db), SystemClock(), may_export=_nobody)


async def _nobody(_user_id: str) -> bool:
    return False  # the admin at the shell is trusted by having the database; no Slack user may export here


if __name__ == "__main__":
    # `python app.py` is `python -m runtime`, started by name: the command line imports this module, never
    # the other way round (sandbox -> app -> sandbox was a cycle).
    runpy.run_module("runtime", run_name="__main__")
