"""`--seed`: a realistic mix of cases, taken through Mend's own services, so the team figures show something."""

from __future__ import annotations

from sqlalchemy import func, select

from storage.amends import AmendsRow
from storage.followups import FollowUpRow
from storage.records import CaseRecordRow
from storage.tables import CaseEventRow, CaseRow
from tests.sandbox.conftest import MakeClient, channel


async def test_seeded_cases_are_a_mix_and_the_team_figures_are_not_zero(make_client: MakeClient) -> None:
    client = await make_client(seed=True)
    sandbox = client.sandbox
    async with sandbox.mend.db.transaction() as session:
        cases = list((await session.execute(select(CaseRow))).scalars())
        amends = list((await session.execute(select(AmendsRow))).scalars())
        records = (await session.execute(select(func.count()).select_from(CaseRecordRow))).scalar_one()
        apologies = list(
            (await session.execute(select(CaseEventRow).where(CaseEventRow.kind == "apology_sent"))).scalars()
        )
        resurveys = list(
            (await session.execute(select(FollowUpRow).where(FollowUpRow.kind == "resurvey"))).scalars()
        )
    acknowledged = [c for c in cases if c.acknowledged_at is not None]
    closed = [c for c in cases if c.closed_at is not None]
    assert 0 < len(closed) < len(acknowledged) < len(cases)  # some untouched, some acknowledged, some closed
    assert len(apologies) == len(acknowledged)  # acknowledged by an apology, with its text
    assert all("sorry" in (e.data or {}).get("note", "sorry") for e in apologies)
    assert records == len(closed) and len(resurveys) == len(
        closed
    )  # each closed with a record, re-survey set
    decided = [a for a in amends if a.decided_by is not None]
    assert amends and decided and len(decided) < len(amends) + 1
    # The thread shows it as Mend posted it: the apology quoted, the closing summary.
    st = await client.state()
    threads = str(channel(st, "recovery")["messages"])
    assert "so sorry" in threads, threads[:3000]
    # The team figures on the Home tab are not all zero.
    answer = await client.post("home", {"as": client.persona("morgan")})
    home = str(answer["state"]["home"]["blocks"])
    assert "Team view" in home
    view = await sandbox.mend.home._insights.team_view(sandbox.double.team_id, fresh=True)
    assert view.last_weeks.opened > 0 and view.last_weeks.closed > 0
    assert view.last_weeks.median_acknowledge is not None and view.last_weeks.median_resolve is not None
    sandbox.double.assert_no_rejections()
