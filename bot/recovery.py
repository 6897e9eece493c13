"""Guiding a case through its playbook: finishing steps, the apology, ownership, root cause and closing."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Protocol

from bot.apology_coach import ApologyReview, CoachContext, review_apology
from bot.apology_templates import unfilled_placeholders
from bot.cases import Case, CaseConfig, Category, MessageRef
from bot.clock import Clock
from bot.errors import CaseNotFound, InvalidInput, MendError, NotAllowed, Person
from bot.events import AmendsChanged, CaseAnnounced, CaseChanged, CaseWasClosed, Events
from bot.followups import FollowUpPolicy, FollowUpRequest, fix_step
from bot.permissions import ApproverCheck, CaseChange, CaseEditors, CaseGuard
from bot.playbook import CaseStep, Progress, StepChange, StepRole, StepStatus, progress_of, step_with
from bot.records import CaseRecord, RecordField, validate_record
from bot.step_roles import rules_of

MAX_NOTE = 3000
#: The one line a step that `asks` records on Done (Slack's input holds it to this too).
MAX_ASKED_NOTE = 300


def prompt_of(step: CaseStep) -> MessageRef | None:
    """Where the step's prompt is in the thread, if it has one."""
    if not step.prompt_channel_id or not step.prompt_ts:
        return None
    return MessageRef(channel_id=step.prompt_channel_id, ts=step.prompt_ts)


class RecoveryRepository(Protocol):
    async def load(self, case_id: int) -> tuple[Case, list[CaseStep]] | None: ...

    async def finish_step(self, change: StepChange) -> bool:
        """Apply the change if the case is open and the step still pending; False otherwise, nothing written."""
        ...

    async def record_prompt(self, case_id: int, step_key: str, ref: MessageRef) -> bool: ...

    async def mark_rendered(self, case_id: int, step_key: str, status: StepStatus) -> None: ...

    async def mark_card_rendered(self, case_id: int, version: int) -> None: ...

    async def close(
        self, case_id: int, actor_user_id: str, at: datetime, follow_ups: Sequence[FollowUpRequest] = ()
    ) -> bool:
        """Close an open case (and stage `follow_ups` with it); False if it was closed already."""
        ...

    async def reopen_steps(
        self, case_id: int, step_keys: Sequence[str], actor_user_id: str, at: datetime, reason: str
    ) -> bool:
        """Put steps of an open case back to pending, marked reopened and without a prompt (a fresh one is
        posted when each is due); False if the case is closed."""
        ...

    async def write_record(
        self,
        record: CaseRecord,
        finish: StepChange | None,
        *,
        close: bool,
        follow_ups: Sequence[FollowUpRequest] = (),
    ) -> bool:
        """Store the record, finish its step and, with `close`, close the case (staging `follow_ups`).

        False (nothing written) when the case is no longer open or the step was finished meanwhile.
        """
        ...

    async def get_record(self, case_id: int) -> CaseRecord | None: ...

    async def reopen(
        self, case_id: int, actor_user_id: str, at: datetime, reason: str, steps: Sequence[str] = ()
    ) -> bool:
        """Reopen a closed case and `steps` of it (as reopen_steps); False if it was open already."""
        ...

    async def record_closed_notice(self, case_id: int, ref: MessageRef, reopen_count: int) -> None: ...

    async def audit(
        self, case_id: int, kind: str, actor_user_id: str | None, at: datetime, **data: Any
    ) -> None:
        """A line in the case's trail that changes nothing (a refused change)."""
        ...


class RecoveryNotifier(Protocol):
    """What guiding a case needs from the chat surface."""

    async def post_step_prompt(self, case: Case, step: CaseStep, progress: Progress) -> MessageRef: ...

    async def redraw_step_prompt(self, case: Case, step: CaseStep, progress: Progress) -> None: ...

    async def update_case_card(self, case: Case, progress: Progress) -> None: ...

    async def post_closing_summary(
        self, case: Case, steps: Sequence[CaseStep], record: CaseRecord | None
    ) -> MessageRef: ...

    async def announce_reopened(self, case: Case, actor_user_id: str, reason: str) -> None: ...

    async def retire_prompt(
        self, case: Case, step: CaseStep, ref: MessageRef, progress: Progress, *, reopened: bool
    ) -> None:
        """Redraw a reopened step's old prompt as history: "reopened below" (`reopened`), or, for a later
        step put back to wait, "waiting: it comes again below"."""
        ...


class StepAlreadyFinished(MendError):
    def __init__(self, step: CaseStep) -> None:
        done = "skipped" if step.status is StepStatus.SKIPPED else "done"
        by = (" by ", Person(step.actor_user_id)) if step.actor_user_id else ()
        super().__init__(f"“{step.step.title}” was already {done}", *by, ". Nothing changed.")


#: Why "Not yet" on "Is the customer satisfied?" reopened the fix (and the steps after it).
NOT_SATISFIED = "customer not satisfied yet"


def _cant_close(case: Case, missing: Sequence[CaseStep]) -> str:
    names = ", ".join(f"“{s.step.title}”" for s in missing)
    one = len(missing) == 1
    again = ""
    if any(s.note == NOT_SATISFIED for s in missing):
        again = (
            " The customer wasn't satisfied yet: once the fix is in, check with them again "
            "(Mend asks “Is the customer satisfied?”) before closing."
        )
    return (
        f"Case {case.reference} can't be closed yet: {names} {'is' if one else 'are'} still open. "
        f"Finish or skip {'it' if one else 'them'} (with a reason) first.{again}"
    )


class ApologyNeedsForm(MendError):
    """Done on an apology step the coach is on for: the apology is recorded through its form, never blank.
    The edge opens the form (what was sent, with the templates) instead of finishing the step."""

    def __init__(self, case: Case, step: CaseStep) -> None:
        self.case, self.step = case, step
        super().__init__(f"Record the apology you sent for case {case.reference} first.")


class CaseClosed(MendError):
    def __init__(self, case: Case) -> None:
        super().__init__(f"Case {case.reference} is closed, so nothing changed.")


class RecoveryService:
    """The rules of moving a case along; Slack shows the result through `sync`, which can always be rerun."""

    def __init__(
        self,
        repo: RecoveryRepository,
        notifier: RecoveryNotifier,
        clock: Clock,
        config: CaseConfig,
        root_causes: Sequence[Category],
        events: Events | None = None,
        policy: FollowUpPolicy | None = None,
    ) -> None:
        self._policy = policy
        self._guard: CaseGuard | None = None  # see `guard`
        self._repo = repo
        # Told CaseChanged after each sync, and CaseWasClosed once per closing (see bot/events.py).
        self._events = events or Events()
        self._notifier = notifier
        self._clock = clock
        self._config = config
        self.root_causes = tuple(root_causes)
        # One sync at a time per case in this process, so two quick clicks cannot post a prompt twice.
        self._locks: dict[int, asyncio.Lock] = {}
        # The old prompts of reopened steps, redrawn as history by the next sync (after the fresh prompt).
        self._retiring: dict[int, list[tuple[CaseStep, MessageRef, bool]]] = {}

    async def load(self, case_id: int, team_id: str) -> tuple[Case, list[CaseStep]]:
        """A case and its steps, for a person of `team_id`; another workspace's case is refused."""
        loaded = await self._repo.load(case_id)
        if loaded is None:
            raise CaseNotFound(case_id)
        case, steps = loaded
        if case.team_id != team_id:
            raise NotAllowed("That case belongs to another workspace.")
        return case, steps

    async def step(self, case_id: int, step_key: str, team_id: str) -> tuple[Case, CaseStep]:
        case, steps = await self.load(case_id, team_id)
        step = next((s for s in steps if s.key == step_key), None)
        if step is None:
            raise MendError(f"Case {case.reference} has no step “{step_key}”.")
        return case, step

    async def open_step(self, case_id: int, step_key: str, team_id: str) -> tuple[Case, CaseStep]:
        """A step someone is about to act on: it must be pending and its case open."""
        case, step = await self.step(case_id, step_key, team_id)
        if not case.is_open:
            raise CaseClosed(case)
        if step.finished:
            raise StepAlreadyFinished(step)
        return case, step

    def guard(self, editors: CaseEditors, is_approver: ApproverCheck) -> None:
        """Who may close, skip a required step, reopen and reassign (CASE_EDITORS); until told, anyone."""
        self._guard = CaseGuard(editors, self._repo, self._clock, is_approver)

    async def check(self, case: Case, change: CaseChange, actor_user_id: str) -> None:
        """Refuse (audited, in words that say who may) a change this person may not make to this case."""
        if self._guard is not None:
            await self._guard.check(case, change, actor_user_id)

    async def check_addressed(self, case: Case, addressee: str | None, actor_user_id: str) -> None:
        """Refuse (audited) a click on a message addressed to someone else, unless by an approver."""
        if self._guard is not None:
            await self._guard.check_addressed(case, addressee, actor_user_id)

    async def open_skip(
        self, case_id: int, step_key: str, *, actor_user_id: str, team_id: str
    ) -> tuple[Case, CaseStep]:
        """A step someone is about to skip: open, and if it is required, theirs to skip."""
        case, step = await self.open_step(case_id, step_key, team_id)
        if step.step.required:
            await self.check(case, CaseChange.SKIP_REQUIRED, actor_user_id)
        return case, step

    async def open_assignment(
        self, case_id: int, step_key: str, *, actor_user_id: str, team_id: str
    ) -> tuple[Case, CaseStep]:
        """The ownership step, about to be given to someone (anyone may still take it for themselves)."""
        case, step = await self.open_step(case_id, step_key, team_id)
        await self.check(case, CaseChange.REASSIGN, actor_user_id)
        return case, step

    async def closed_case(self, case_id: int, *, actor_user_id: str, team_id: str) -> Case:
        """A case someone is about to reopen: it must be closed, and theirs to reopen."""
        case, _ = await self.load(case_id, team_id)
        if case.is_open:
            raise MendError(f"Case {case.reference} is open already.")
        await self.check(case, CaseChange.REOPEN, actor_user_id)
        return case

    async def complete_step(
        self, case_id: int, step_key: str, *, actor_user_id: str, team_id: str, note: str | None = None
    ) -> None:
        """Done on a step; `note` is the one optional line a step that `asks` for one records."""
        case, step = await self.open_step(case_id, step_key, team_id)
        if rules_of(step).acknowledges and step.step.coach:
            raise ApologyNeedsForm(case, step)  # the playbook's `coach = false` lets Done finish it
        note = ((note or "").strip() or None) if step.step.asks else None
        if note and len(note) > MAX_ASKED_NOTE:
            raise InvalidInput("note", f"Please keep it under {MAX_ASKED_NOTE} characters.")
        await self._finish(
            StepChange(
                case_id=case_id,
                step_key=step_key,
                status=StepStatus.DONE,
                actor_user_id=actor_user_id,
                at=self._clock.now(),
                note=note,
                event_kind="step_done",
                event_data={"step": step_key, "note": note} if note else {"step": step_key},
                acknowledges=rules_of(step).acknowledges,
            ),
            team_id,
        )

    async def skip_step(
        self, case_id: int, step_key: str, *, actor_user_id: str, team_id: str, reason: str | None
    ) -> None:
        _case, step = await self.open_skip(case_id, step_key, actor_user_id=actor_user_id, team_id=team_id)
        reason = (reason or "").strip() or None
        if step.step.required and not reason:
            raise InvalidInput("reason", "This step is required: say why it is being skipped.")
        if reason and len(reason) > MAX_NOTE:
            raise InvalidInput("reason", f"Please keep the reason under {MAX_NOTE} characters.")
        await self._finish(
            StepChange(
                case_id=case_id,
                step_key=step_key,
                status=StepStatus.SKIPPED,
                actor_user_id=actor_user_id,
                at=self._clock.now(),
                note=reason,
                event_kind="step_skipped",
                event_data={"step": step_key, "reason": reason},
            ),
            team_id,
        )

    async def take_ownership(
        self, case_id: int, *, actor_user_id: str, team_id: str, owner_user_id: str | None = None
    ) -> None:
        owner = owner_user_id or actor_user_id
        step_key = await self._step_with_action(case_id, StepRole.OWNERSHIP, team_id)
        if owner != actor_user_id:  # giving the case to someone else; taking it oneself is the step itself
            await self.open_assignment(case_id, step_key, actor_user_id=actor_user_id, team_id=team_id)
        await self._finish(
            StepChange(
                case_id=case_id,
                step_key=step_key,
                status=StepStatus.DONE,
                actor_user_id=actor_user_id,
                at=self._clock.now(),
                event_kind="owner_assigned",
                event_data={"owner": owner, "step": step_key},
                new_owner_user_id=owner,
            ),
            team_id,
        )

    async def record_root_cause(
        self, case_id: int, *, actor_user_id: str, team_id: str, category: str | None, details: str | None
    ) -> None:
        known = {c.key: c for c in self.root_causes}
        if category not in known:
            raise InvalidInput("category", "Choose the root cause from the list.")
        details = (details or "").strip()
        if not details:
            raise InvalidInput("details", "Say what caused it, in a sentence or two.")
        if len(details) > MAX_NOTE:
            raise InvalidInput("details", f"Please keep this under {MAX_NOTE} characters.")
        step_key = await self._step_with_action(case_id, StepRole.ROOT_CAUSE, team_id)
        await self._finish(
            StepChange(
                case_id=case_id,
                step_key=step_key,
                status=StepStatus.DONE,
                actor_user_id=actor_user_id,
                at=self._clock.now(),
                note=details,
                event_kind="root_cause_recorded",
                event_data={"category": category, "step": step_key},
                root_cause_category=category,
                root_cause_details=details,
            ),
            team_id,
        )

    def coach(self, case: Case, draft: str) -> ApologyReview:
        report = case.report
        category = self._config.category(report.category)
        context = CoachContext(
            customer_name=report.customer_name,
            summary=report.summary,
            category=category.label if category else report.category,
        )
        return review_apology(draft, case_context=context)

    async def send_apology(
        self, case_id: int, *, actor_user_id: str, team_id: str, draft: str | None, override: bool
    ) -> ApologyReview:
        """Record the apology sent to the customer; a draft the coach would stop comes back with coaching."""
        draft = (draft or "").strip()
        if not draft:
            raise InvalidInput("draft", "Write the message you will send the customer first.")
        if len(draft) > MAX_NOTE:
            raise InvalidInput("draft", f"Slack takes at most {MAX_NOTE} characters here; please shorten it.")
        placeholders = unfilled_placeholders(draft)
        if placeholders:
            raise InvalidInput("draft", f"Fill in the template's {placeholders[0]} before sending.")
        step_key = await self._step_with_action(case_id, StepRole.APOLOGY, team_id)
        case, _ = await self.load(case_id, team_id)
        review = self.coach(case, draft)
        error = review.field_error()
        if error and not override:
            raise InvalidInput("draft", error)
        await self._finish(
            StepChange(
                case_id=case_id,
                step_key=step_key,
                status=StepStatus.DONE,
                actor_user_id=actor_user_id,
                at=self._clock.now(),
                note=draft,
                event_kind="apology_sent",
                acknowledges=True,
                event_data={
                    "step": step_key,
                    "override": bool(error and override),
                    "signals": {s.value: present for s, present in review.signals.items()},
                    "flags": sorted(f.value for f in review.flag_kinds),
                },
            ),
            team_id,
        )
        return review

    async def close_case(self, case_id: int, *, actor_user_id: str, team_id: str) -> None:
        case, steps = await self.load(case_id, team_id)
        if not case.is_open:
            raise CaseClosed(case)
        await self.check(case, CaseChange.CLOSE, actor_user_id)
        missing = progress_of(steps).missing_required
        if missing:
            raise MendError(_cant_close(case, missing))
        at = self._clock.now()
        follow_ups = self._policy.on_close(at) if self._policy else ()
        if not await self._repo.close(case_id, actor_user_id, at, follow_ups):
            raise CaseClosed(case)

    async def close_as_duplicate(self, case_id: int, *, actor_user_id: str, team_id: str) -> Case:
        """Close without asking for required steps: the recovery goes on in the case it duplicates."""
        case, _ = await self.load(case_id, team_id)
        if not case.is_open:
            raise CaseClosed(case)
        await self.check(case, CaseChange.CLOSE, actor_user_id)
        if not await self._repo.close(case_id, actor_user_id, self._clock.now()):
            raise CaseClosed(case)
        return case

    async def write_record(
        self, case_id: int, *, actor_user_id: str, team_id: str, raw: dict[RecordField, Any]
    ) -> bool:
        """Store the written record; it closes the case when nothing else required is open. True if closed."""
        case, steps = await self.load(case_id, team_id)
        if not case.is_open:
            raise CaseClosed(case)
        now = self._clock.now()
        record, problems = validate_record(
            raw, self.root_causes, case_id=case_id, actor_user_id=actor_user_id, at=now
        )
        if record is None:
            field, message = next(iter(problems.items()))
            raise InvalidInput(field.value, message)
        step = step_with(steps, StepRole.RECORD)
        finish = None
        if step is not None and not step.finished:
            finish = StepChange(
                case_id=case_id,
                step_key=step.key,
                status=StepStatus.DONE,
                actor_user_id=actor_user_id,
                at=now,
                note=record.what_happened,
                event_kind="record_written",
                event_data={"step": step.key, "root_cause": record.root_cause_category},
                root_cause_category=record.root_cause_category,
            )
        still_open = [s for s in progress_of(steps).missing_required if step is None or s.key != step.key]
        close = not still_open
        if close:  # the record closes the case: that is closing it
            await self.check(case, CaseChange.CLOSE, actor_user_id)
        follow_ups = self._policy.on_close(now) if close and self._policy else ()
        if not await self._repo.write_record(record, finish, close=close, follow_ups=follow_ups):
            # Closed or finished by someone else meanwhile: explain what the person sees now.
            if step is not None:
                await self.open_step(case_id, step.key, team_id)
            raise MendError("That didn't go through; please try again.")
        return close

    @staticmethod
    def reopened_by_default(steps: Sequence[CaseStep]) -> list[str]:
        """What reopening a closed case reopens unless the person chooses otherwise: the fix and the record."""
        return [s.key for s in (fix_step(steps), step_with(steps, StepRole.RECORD)) if s is not None]

    async def reopen_case(
        self,
        case_id: int,
        *,
        actor_user_id: str,
        team_id: str,
        reason: str | None,
        steps: Sequence[str] | None = None,
    ) -> None:
        """Reopen a closed case and the steps chosen (None: `reopened_by_default`); those steps are open on
        the card again and get fresh prompts at the bottom of the thread."""
        case = await self.closed_case(case_id, actor_user_id=actor_user_id, team_id=team_id)
        _, case_steps = await self.load(case_id, team_id)
        reason = (reason or "").strip()
        if not reason:
            raise InvalidInput("reason", "Say why the case is being reopened.")
        if len(reason) > MAX_NOTE:
            raise InvalidInput("reason", f"Please keep the reason under {MAX_NOTE} characters.")
        chosen = self.reopened_by_default(case_steps) if steps is None else list(dict.fromkeys(steps))
        known = {s.key: s for s in case_steps}
        if not chosen or any(key not in known for key in chosen):
            raise InvalidInput("steps", "Choose the steps to do again (the fix and the record, usually).")
        old = [(known[k], prompt_of(known[k])) for k in chosen]
        at = self._clock.now()
        if case.is_open or not await self._repo.reopen(case_id, actor_user_id, at, reason, chosen):
            raise MendError(f"Case {case.reference} is open already.")
        self._retiring[case_id] = [(s, ref, True) for s, ref in old if ref is not None]

    async def announce_reopened(self, case_id: int, *, actor_user_id: str, reason: str) -> None:
        loaded = await self._repo.load(case_id)
        if loaded is not None:
            await self._notifier.announce_reopened(loaded[0], actor_user_id, reason)

    async def _step_with_action(self, case_id: int, action: StepRole, team_id: str) -> str:
        case, steps = await self.load(case_id, team_id)
        step = next((s for s in steps if s.step.action is action), None)
        if step is None:
            raise MendError(f"Case {case.reference}'s playbook has no step for this.")
        await self.open_step(case_id, step.key, team_id)
        return step.key

    async def complete_apology(self, case_id: int, *, actor_user_id: str, team_id: str) -> None:
        """Done on an acknowledgement nudge: the apology step is done (if nobody finished it meanwhile); with
        the coach on (the default) that raises ApologyNeedsForm, and the form's submission finishes it."""
        case, steps = await self.load(case_id, team_id)
        apology = step_with(steps, StepRole.APOLOGY)
        if apology is None or apology.finished or not case.is_open:
            return
        try:
            await self.complete_step(case_id, apology.key, actor_user_id=actor_user_id, team_id=team_id)
        except StepAlreadyFinished:
            return
        await self.sync(case_id)

    async def reopen_fix(
        self, case_id: int, *, actor_user_id: str, team_id: str, reason: str = NOT_SATISFIED
    ) -> CaseStep:
        """The customer is not satisfied yet: the fix step is posted again at the bottom of the thread, and
        the steps after it wait for it: a live one loses its prompt, the follow-up is to be done again (so
        the case cannot close before the customer is asked again)."""
        case, steps = await self.load(case_id, team_id)
        if not case.is_open:
            raise CaseClosed(case)
        step = fix_step(steps)
        if step is None:
            raise MendError(f"Case {case.reference}'s playbook has no fix step to reopen.")
        follow_up = step_with(steps, StepRole.FOLLOW_UP)
        later = [
            s
            for s in steps
            if s.position > step.position and ((not s.finished and s.prompt_ts) or s is follow_up)
        ]
        reopened = [step, *later]
        old = [(s, prompt_of(s), s is step) for s in reopened]
        if not await self._repo.reopen_steps(
            case_id, [s.key for s in reopened], actor_user_id, self._clock.now(), reason
        ):
            raise CaseClosed(case)
        self._retiring[case_id] = [(s, ref, below) for s, ref, below in old if ref is not None]
        await self.sync(case_id)
        return step

    async def _finish(self, change: StepChange, team_id: str) -> None:
        if self._policy is not None:
            _case, step = await self.step(change.case_id, change.step_key, team_id)
            requests = self._policy.on_step_finished(step.step, change.status, change.at)
            if requests:
                change = change.model_copy(update={"follow_ups": requests})
        if not await self._repo.finish_step(change):
            # Someone else got there first (or the case closed meanwhile): explain what they see now.
            await self.open_step(change.case_id, change.step_key, team_id)
            raise MendError("That didn't go through; please try again.")
        # No sync here: modal submissions save before Slack's ack; callers sync once they have acked.

    async def sync(self, case_id: int) -> None:
        """Make Slack show what the database says: redraw changed prompts, post the next one, update the card.

        Safe to run any number of times, from any process: each part records what it has drawn.
        """
        lock = self._locks.setdefault(case_id, asyncio.Lock())
        async with lock:
            loaded = await self._repo.load(case_id)
            if loaded is None:
                return
            case, steps = loaded
            if case.card is None or not case.thread_opened:
                return  # the case is still being announced; that ends with a sync of its own
            progress = progress_of(steps)
            for step in steps:
                if step.prompt_ts and step.rendered_status is not step.status:
                    await self._notifier.redraw_step_prompt(case, step, progress)
                    await self._repo.mark_rendered(case_id, step.key, step.status)
            current = progress.current
            if case.is_open and current is not None and current.prompt_ts is None:
                ref = await self._notifier.post_step_prompt(case, current, progress)
                await self._repo.record_prompt(case_id, current.key, ref)
            if not case.is_open and case.closed_notice_ts is None:
                record = await self._repo.get_record(case_id)
                ref = await self._notifier.post_closing_summary(case, steps, record)
                await self._repo.record_closed_notice(case_id, ref, case.reopen_count)
                await self._events.publish(CaseWasClosed(case))
            if case.version > case.card_version:
                await self._notifier.update_case_card(case, progress)
                await self._repo.mark_card_rendered(case_id, case.version)
            for old, ref, reopened in self._retiring.pop(case_id, []):
                await self._notifier.retire_prompt(case, old, ref, progress, reopened=reopened)
        await self._events.publish(CaseChanged(case))

    # ---- what it does when other features change a case (subscribed in app.py) -----------------

    async def case_announced(self, event: CaseAnnounced) -> None:
        """The thread is open: post the playbook's first step there."""
        await self.sync(event.case_id)

    async def amends_changed(self, event: AmendsChanged) -> None:
        """A grant finishes the case's amends step in its own transaction: show it."""
        if event.amends.state.given:
            await self.sync(event.amends.case_id)
