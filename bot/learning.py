"""The learning loop: recurring root causes raise an alert, and an alert turns into a process fix with an owner."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Protocol

from pydantic import BaseModel, ConfigDict

from bot.cases import Case, Category, MessageRef, Severity
from bot.clock import Clock
from bot.errors import InvalidInput, MendError, NotAllowed
from bot.events import CaseWasClosed

MAX_FIX_TEXT = 3000


class RecurrenceConfig(BaseModel):
    model_config = ConfigDict(frozen=True)

    channel_id: str | None = None
    threshold: int = 3
    window: timedelta = timedelta(days=7)


class RecurringCase(BaseModel):
    model_config = ConfigDict(frozen=True)

    case_id: int
    reference: str
    customer: str


class RecurrenceAlert(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    team_id: str
    category: str
    cases: tuple[RecurringCase, ...]
    window: timedelta
    created_at: datetime
    message: MessageRef | None = None


class ProcessFix(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    alert_id: int
    team_id: str
    category: str
    description: str
    owner_user_id: str
    due_on: date
    created_by: str
    created_at: datetime
    # Slack's view id of the modal that created it: a repeated submission stores no second fix.
    submission_key: str | None = None


class LearningRepository(Protocol):
    async def recent_with_root_cause(
        self, team_id: str, category: str, since: datetime
    ) -> list[RecurringCase]: ...

    async def add_alert(
        self,
        team_id: str,
        category: str,
        bucket: int,
        cases: Sequence[RecurringCase],
        at: datetime,
        window: timedelta,
    ) -> RecurrenceAlert | None:
        """Store an alert unless one exists for this team, category and time bucket (then None)."""
        ...

    async def alert(self, alert_id: int) -> RecurrenceAlert | None: ...

    async def record_alert_message(self, alert_id: int, ref: MessageRef) -> None: ...

    async def add_fix(
        self,
        alert: RecurrenceAlert,
        description: str,
        owner_user_id: str,
        due_on: date,
        created_by: str,
        at: datetime,
        submission_key: str | None = None,
    ) -> ProcessFix:
        """Store a fix; idempotent on `submission_key` (the fix stored under it comes back)."""
        ...

    async def fixes_for(self, alert_id: int) -> list[ProcessFix]: ...


class LearningNotifier(Protocol):
    async def post_alert(self, alert: RecurrenceAlert, channel_id: str) -> MessageRef: ...

    async def update_alert(self, alert: RecurrenceAlert, fixes: Sequence[ProcessFix]) -> None: ...


class LearningService:
    def __init__(
        self,
        repo: LearningRepository,
        notifier: LearningNotifier,
        clock: Clock,
        config: RecurrenceConfig,
        root_causes: Sequence[Category],
    ) -> None:
        self._repo = repo
        self._notifier = notifier
        self._clock = clock
        self._config = config
        self.root_causes = tuple(root_causes)

    def label(self, category: str) -> str:
        return next((c.label for c in self.root_causes if c.key == category), category)

    async def check_recurrence(self, case: Case) -> RecurrenceAlert | None:
        """After a case changes: if its root cause has now recurred often enough, raise one alert for it."""
        if not self._config.channel_id or not case.root_cause_category:
            return None
        now = self._clock.now()
        recent = await self._repo.recent_with_root_cause(
            case.team_id, case.root_cause_category, now - self._config.window
        )
        if len(recent) < self._config.threshold:
            return None
        # One alert per category per window-long bucket of time, however many processes notice it at once.
        bucket = int(now.timestamp() // self._config.window.total_seconds())
        alert = await self._repo.add_alert(
            case.team_id, case.root_cause_category, bucket, recent, now, self._config.window
        )
        if alert is None:
            return None
        ref = await self._notifier.post_alert(alert, self._config.channel_id)
        await self._repo.record_alert_message(alert.id, ref)
        return alert

    async def create_fix(
        self,
        alert_id: int,
        *,
        team_id: str,
        actor_user_id: str,
        description: str | None,
        owner_user_id: str | None,
        due_on: str | None,
        submission_key: str | None = None,
    ) -> ProcessFix:
        alert = await self.alert_for(alert_id, team_id)
        text = (description or "").strip()
        if not text:
            raise InvalidInput("description", "Say what will change in the process.")
        if len(text) > MAX_FIX_TEXT:
            raise InvalidInput("description", f"Please keep this under {MAX_FIX_TEXT} characters.")
        if not owner_user_id:
            raise InvalidInput("owner", "Choose who owns the fix.")
        try:
            due = date.fromisoformat(due_on or "")
        except ValueError:
            raise InvalidInput("due", "Choose the date the fix is due.") from None
        today = self._clock.now().date()
        if due < today:
            raise InvalidInput("due", "The due date is in the past; choose today or later.")
        if due > today + timedelta(days=366):
            raise InvalidInput("due", "Choose a due date within the next year.")
        return await self._repo.add_fix(
            alert, text, owner_user_id, due, actor_user_id, self._clock.now(), submission_key
        )

    async def alert(self, alert_id: int) -> RecurrenceAlert | None:
        return await self._repo.alert(alert_id)

    async def alert_for(self, alert_id: int, team_id: str) -> RecurrenceAlert:
        """An alert, for a person of `team_id`; another workspace's alert is refused."""
        alert = await self._repo.alert(alert_id)
        if alert is None:
            raise MendError("I can't find that alert any more.")
        if alert.team_id != team_id:
            raise NotAllowed("That alert belongs to another workspace.")
        return alert

    async def show_fixes(self, alert_id: int) -> None:
        alert = await self._repo.alert(alert_id)
        if alert is not None and alert.message is not None:
            await self._notifier.update_alert(alert, await self._repo.fixes_for(alert_id))


class CheckInNotifier(Protocol):
    async def ask_to_check_in(self, case: Case, manager_user_id: str) -> None: ...


class EmployeeCareService:
    """Employee recovery: after a hard case closes, the agent's manager is asked to check in with them."""

    def __init__(
        self,
        notifier: CheckInNotifier,
        managers: dict[str, str],
        approvers: Callable[[], Awaitable[Sequence[str]]],
        min_severity: Severity = Severity.MAJOR,
    ) -> None:
        self._notifier = notifier
        self._managers = dict(managers)
        self._approvers = approvers
        self._min_severity = min_severity

    async def who_checks_in(self, agent_user_id: str) -> list[str]:
        """The agent's manager when one is configured, else the approvers; never the agent themselves."""
        manager = self._managers.get(agent_user_id)
        people = [manager] if manager else list(await self._approvers())
        return [p for p in dict.fromkeys(people) if p and p != agent_user_id]

    async def case_was_closed(self, event: CaseWasClosed) -> None:
        """After a hard case closes, whoever looks after its owner is asked to check in: once per case, so a
        case closed again after a reopen asks nobody twice."""
        case = event.case
        if case.report.severity.rank < self._min_severity.rank or case.reopen_count:
            return
        for manager in await self.who_checks_in(case.owner_user_id):
            await self._notifier.ask_to_check_in(case, manager)
