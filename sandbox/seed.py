"""Seed data for the sandbox: a few weeks of realistic cases, opened through Mend's own domain service."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.amends.models import Decision
from bot.amends.rules import OfferField, validate_offer
from bot.cases import ReportField, category_key, validate_report
from bot.records import RecordField
from sandbox.world import Sandbox

# How far back the seeded history starts; the sandbox is built with its clock this far in the past.
SEED_SPAN = timedelta(days=21)


@dataclass(frozen=True)
class SeedCase:
    industry: str
    customer_name: str | None
    customer_ref: str | None
    summary: str
    customer_words: str | None
    impact: str | None
    severity: str
    category: str  # a label from the default categories; unknown labels fall back to the last one
    relayed: str | None = None  # a #support message the case was started from, with the shortcut


SEED_CASES = (
    SeedCase(
        "Food delivery",
        "Mrs Adaeze Okonkwo",
        "order #58213",
        "Birthday cake delivered two hours late and crushed; the party had already started.",
        "I will never order from you again. My daughter cried.",
        "Missed the centrepiece of a 7-year-old's birthday; paid £64 for a cake nobody could eat.",
        "major",
        "Delivery",
        relayed="Customer on chat (order #58213): cake arrived 2h late and squashed, party ruined.",
    ),
    SeedCase(
        "B2B software",
        "ACME Logistics",
        "ACME-2291",
        "Invoice for March charged twice (2 × £1,240) after the card retry job ran again.",
        "Our finance lead needs this reversed before month-end close.",
        "£1,240 of their cash tied up; finance team spent a morning reconciling.",
        "moderate",
        "Billing",
    ),
    SeedCase(
        "Telecom",
        "Daniel Ferreira",
        "acct 7731-0042",
        "Broadband down for four days; three engineer visits booked and missed.",
        "I work from home. Every missed visit is a day's pay for me.",
        "Lost three working days and took unpaid leave to wait in for engineers.",
        "critical",
        "Wait time",
    ),
    SeedCase(
        "Airline",
        "Hannah Schmidt",
        "PNR QX7R2L",
        "Rebooked onto a flight a day later without notice after a schedule change; hotel not covered.",
        "Nobody told me. I found out at the check-in desk.",
        "Paid €180 for an extra hotel night and missed the first day of a conference.",
        "major",
        "Communication",
    ),
    SeedCase(
        "Retail banking",
        "Tomás Álvarez",
        None,
        "Card blocked by fraud rules while abroad; the phone line said 'call back during UK hours'.",
        "I was stuck at a petrol station at midnight with no way to pay.",
        None,
        "major",
        "Product defect",
    ),
    SeedCase(
        "Hotel",
        "The Whitfield wedding party",
        "booking WH-5521",
        "Twelve rooms double-booked on the wedding weekend; guests moved to a hotel 20 minutes away.",
        "This was supposed to be the best weekend of our lives.",
        "Guests split across two hotels; shuttle arranged at the couple's own cost.",
        "critical",
        "Product defect",
    ),
    SeedCase(
        "Healthcare clinic",
        "Mr Jacob Lindqvist",
        "patient ref 44-118",
        "Follow-up appointment cancelled by SMS an hour before; no new slot offered.",
        None,
        "Took a half day off work and arranged childcare for nothing.",
        "moderate",
        "Communication",
    ),
    SeedCase(
        "Utilities",
        None,
        "meter MPAN 1012 8834 221",
        "Estimated bill three times the usual amount; direct debit taken before the query was answered.",
        "You took £412 from my account while I was still waiting for you to call me back.",
        "Went overdrawn; bank charged £25.",
        "major",
        "Billing",
        relayed="Customer called re meter MPAN 1012 8834 221: estimated bill 3x usual, DD already taken.",
    ),
    SeedCase(
        "E-commerce",
        "Li Wei",
        "order #A-99310",
        "Parcel marked delivered but never arrived; courier photo shows a different front door.",
        "The photo isn't even my house.",
        None,
        "moderate",
        "Delivery",
    ),
    SeedCase(
        "SaaS",
        "Northwind Analytics",
        "workspace nw-prod",
        "Dashboard export failed silently for a week; their board pack went out with stale numbers.",
        "We presented last month's revenue to our board as this month's.",
        "Embarrassment in front of their board; a correction had to be sent to investors.",
        "critical",
        "Product defect",
    ),
    SeedCase(
        "Restaurant",
        "Ms Grace Mensah",
        "table booking 19:30 Fri",
        "Anniversary booking lost; the couple waited 45 minutes at the bar before being seated.",
        None,
        None,
        "minor",
        "Staff conduct",
    ),
    SeedCase(
        "Insurance",
        "Robert Kowalski",
        "claim CLM-20417",
        "Claim handler changed three times; each asked for the same photos again.",
        "I've sent the same photos of my kitchen ceiling three times now.",
        "Six weeks with a damaged ceiling and no decision.",
        "major",
        "Wait time",
    ),
    SeedCase(
        "Public transport",
        "Aisha Rahman",
        "season ticket 220-518",
        "Refund for the strike days refused by the form because the ticket was bought at a station.",
        "Your website says I'm entitled to it and your form says I'm not.",
        None,
        "minor",
        "Product defect",
    ),
    SeedCase(
        "Food delivery",
        "Oliver Grant",
        "order #58877",
        "Driver left a peanut dish for a customer who flagged a severe nut allergy.",
        "My son could have ended up in hospital.",
        "No harm done because the parent checked, but a real safety risk.",
        "critical",
        "Staff conduct",
    ),
    SeedCase(
        "Gym",
        "Sofia Rossi",
        "member 00871",
        "Membership cancellation ignored; charged for two more months.",
        "I cancelled in person and I have the email to prove it.",
        "£78 taken after cancellation.",
        "moderate",
        "Billing",
    ),
    SeedCase(
        "Home services",
        "Mr & Mrs Patel",
        "job 3312",
        "Boiler repair booked for Tuesday; engineer came Thursday without calling ahead.",
        None,
        "Two days without hot water with a newborn at home.",
        "major",
        "Wait time",
    ),
    SeedCase(
        "B2B software",
        "Helios Freight",
        "HEL-0093",
        "SSO migration locked out 40 users on a Monday morning; support queue answered after 5 hours.",
        "Half our dispatch team couldn't log in on our busiest day.",
        None,
        "critical",
        "Wait time",
    ),
    SeedCase(
        "Retail",
        "Chloé Martin",
        "receipt 0042-77",
        "Store staff refused a faulty kettle return and told her to 'read the small print'.",
        "I was made to feel like a thief in front of a queue of people.",
        None,
        "moderate",
        "Staff conduct",
    ),
)


# How far each seeded case got, in turn: a realistic mix for the team figures (acknowledged, amends decided,
# closed with a record, whose re-survey is then scheduled), not every case at step 0.
STAGES = ("untouched", "acknowledged", "amends granted", "amends decided", "closed", "closed")


def apology(case: SeedCase) -> str:
    """An owned apology the coach accepts: it names the customer and the problem, and promises a next step."""
    name = case.customer_name or "there"
    problem = case.summary[0].lower() + case.summary[1:].rstrip(".")
    return (
        f"Hi {name}, I'm so sorry: {problem}. That was our mistake and I'm taking care of it personally. "
        "I'll call you by 5pm tomorrow to tell you exactly what we are doing to put it right."
    )


async def progress(
    sandbox: Sandbox, case_id: int, case: SeedCase, owner: str, *, stage: int, rng: random.Random
) -> None:
    """Take a freshly opened case through Mend's own services as far as its stage says, a while apart."""
    name = STAGES[stage]
    if name == "untouched":
        return
    recovery, team = sandbox.mend.recovery, sandbox.double.team_id
    managers = [p.user_id for p in sandbox.personas if p.role == "manager"]

    async def later(minutes: int) -> None:
        await recovery.sync(case_id)  # the thread and card as the Slack listeners would have redrawn them
        await sandbox.settle()
        await sandbox.advance(timedelta(minutes=minutes + rng.randint(0, 10)), run_due=False)
        await sandbox.settle()

    await later(8)
    await recovery.send_apology(
        case_id, actor_user_id=owner, team_id=team, draft=apology(case), override=False
    )
    if name.startswith("amends"):
        above = name == "amends decided"
        offer, problems = validate_offer(
            {
                OfferField.KIND: "refund" if above else "credit",
                OfferField.AMOUNT: "120" if above else "25",
                OfferField.JUSTIFICATION: "To make up for what it cost them, as the customer described.",
            },
            sandbox.mend.settings.amends_policy(),
        )
        if offer is None:
            raise ValueError(f"the seeded offer is invalid: {problems}")
        await later(30)
        amends = await sandbox.mend.amends.offer(case_id, offer, actor_user_id=owner, team_id=team)
        if above and managers:
            await later(60)
            await sandbox.mend.amends.decide(
                amends.id, Decision.APPROVE, actor_user_id=managers[0], team_id=team
            )
        await recovery.sync(case_id)
        return
    # Closed: every required step done, the record written (which closes it and schedules the re-survey).
    root_cause = sandbox.mend.recovery.root_causes[stage % len(sandbox.mend.recovery.root_causes)]
    for step in ("listen", "own", "root_cause", "fix", "follow_up"):
        await later(15)
        if step == "own":
            await recovery.take_ownership(case_id, actor_user_id=owner, team_id=team)
        elif step == "root_cause":
            await recovery.record_root_cause(
                case_id, actor_user_id=owner, team_id=team, category=root_cause.key, details=case.summary
            )
        else:
            await recovery.complete_step(case_id, step, actor_user_id=owner, team_id=team)
    await later(20)
    closed = await recovery.write_record(
        case_id,
        actor_user_id=owner,
        team_id=team,
        raw={
            RecordField.ROOT_CAUSE: root_cause.key,
            RecordField.WHAT_HAPPENED: case.summary,
            RecordField.WHAT_FIXED: "An apology the same day, the cost put right, and a call back as promised.",
            RecordField.PREVENTION: "Raised with the team that owns the process; checked at the next review.",
            RecordField.LESSON: "Tell the customer early what we are doing, before they have to chase us.",
        },
    )
    if not closed:
        raise ValueError(f"seeded case {case_id} did not close with its record")
    await recovery.sync(case_id)


def seed_times(count: int, *, start: datetime, span: timedelta, rng: random.Random) -> list[datetime]:
    """Spread `count` moments over `span` from `start`, in working hours, oldest first."""
    times = []
    for i in range(count):
        day = start + span * (i + 0.5) / count
        day = day.replace(hour=rng.randint(8, 17), minute=rng.randint(0, 59), second=rng.randint(0, 59))
        times.append(min(day, start + span - timedelta(hours=1)))
    return sorted(times)


async def seed_cases(sandbox: Sandbox, cases: tuple[SeedCase, ...] = SEED_CASES, *, seed: int = 8) -> int:
    """Open `cases` back-dated over the sandbox's past, then bring its clock to the present.

    The sandbox must have been created with its clock SEED_SPAN before its start; each case is opened and
    announced (card, thread, reporter notice) at its moment as Mend would have done it then.
    Returns how many cases were opened.
    """
    rng = random.Random(seed)
    start = sandbox.clock.now()
    config = sandbox.mend.cases.config
    agents = [p.user_id for p in sandbox.personas if p.role == "agent"] or [sandbox.personas[0].user_id]
    reporters = agents * 3 + [p.user_id for p in sandbox.personas if p.role == "manager"]
    team_id = sandbox.double.team_id
    span = sandbox.start_offset - sandbox.clock.offset
    opened = 0
    for i, (case, at) in enumerate(
        zip(cases, seed_times(len(cases), start=start, span=span, rng=rng), strict=True)
    ):
        wait = at - sandbox.clock.now()
        if wait > timedelta(0):
            await sandbox.advance(wait, run_due=False)
        reporter = rng.choice(reporters)
        permalink = None
        if case.relayed:
            relayer = rng.choice(list(sandbox.teammates.values()))
            message = sandbox.double.post_as_user(relayer, sandbox.support_channel, case.relayed)
            permalink = sandbox.double.api.permalink(sandbox.support_channel, message)
        category = config.category(category_key(case.category)) or config.categories[-1]
        raw = {
            ReportField.CUSTOMER_NAME: case.customer_name,
            ReportField.CUSTOMER_REF: case.customer_ref,
            ReportField.SUMMARY: case.summary,
            ReportField.CUSTOMER_WORDS: case.customer_words,
            ReportField.IMPACT: case.impact,
            ReportField.SEVERITY: case.severity,
            ReportField.CATEGORY: category.key,
        }
        report, problems = validate_report(raw, config, source_permalink=permalink)
        if report is None:
            raise ValueError(f"seed case {i} is invalid: {problems}")
        new, created = await sandbox.mend.cases.open_case(
            report,
            team_id=team_id,
            reporter_user_id=reporter,
            origin_channel_id=sandbox.support_channel,
            report_key=f"sandbox-seed-{i}",
        )
        if created:
            await sandbox.mend.cases.announce(new.id)
            opened += 1
            await sandbox.settle()
            await progress(sandbox, new.id, case, reporter, stage=i % len(STAGES), rng=rng)
        await sandbox.settle()
    if sandbox.clock.offset < sandbox.start_offset:
        await sandbox.advance(sandbox.start_offset - sandbox.clock.offset, run_due=False)
    # Ephemeral notices vanish when Slack is reloaded; weeks-old ones would only clutter the demo.
    for ephemeral in sandbox.double.workspace.ephemerals:
        ephemeral.deleted = True
    return opened
