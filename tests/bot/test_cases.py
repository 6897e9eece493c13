"""Service tests for reporting and announcing cases, on in-memory fakes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.cases import (
    CaseConfig,
    CaseService,
    ReportField,
    Severity,
    categories_from_labels,
    format_reference,
    parse_reference,
    validate_report,
)
from bot.clock import FrozenClock
from bot.errors import NoCardChannel
from tests.fakes import InMemoryCaseRepository, RecordingCaseNotifier

NOW = datetime(2026, 11, 23, 9, 30, tzinfo=UTC)
CONFIG = CaseConfig()


def raw(**overrides: object) -> dict[ReportField, object]:
    base: dict[ReportField, object] = {
        ReportField.CUSTOMER_NAME: "Dana Cole",
        ReportField.CUSTOMER_REF: None,
        ReportField.SUMMARY: "Parcel never arrived",
        ReportField.SEVERITY: "major",
        ReportField.CATEGORY: "delivery",
    }
    base.update({ReportField(k): v for k, v in overrides.items()})
    return base


def test_valid_report_is_cleaned() -> None:
    report, errors = validate_report(raw(summary="  Parcel never arrived \n"), CONFIG)
    assert errors == {}
    assert report is not None
    assert report.summary == "Parcel never arrived"
    assert report.severity is Severity.MAJOR
    assert report.category == "delivery"


def test_customer_name_or_reference_is_required() -> None:
    report, errors = validate_report(raw(customer_name="   ", customer_ref=None), CONFIG)
    assert report is None
    assert set(errors) == {ReportField.CUSTOMER_NAME}
    report, errors = validate_report(raw(customer_name=None, customer_ref="order #4411"), CONFIG)
    assert errors == {} and report is not None and report.customer_display == "order #4411"


@pytest.mark.parametrize("summary", [None, "", "   ", "\n\t", "\x00"])
def test_blank_summary_is_refused(summary: object) -> None:
    _, errors = validate_report(raw(summary=summary), CONFIG)
    assert ReportField.SUMMARY in errors


def test_lengths_are_checked_server_side() -> None:
    _, errors = validate_report(raw(summary="x" * 3001, customer_name="n" * 201, impact="i" * 3001), CONFIG)
    assert set(errors) == {ReportField.SUMMARY, ReportField.CUSTOMER_NAME, ReportField.IMPACT}
    assert "3001" in errors[ReportField.SUMMARY]


def test_unknown_severity_and_category_are_field_errors() -> None:
    _, errors = validate_report(raw(severity="apocalyptic", category="weather"), CONFIG)
    assert set(errors) == {ReportField.SEVERITY, ReportField.CATEGORY}


def test_categories_from_configuration() -> None:
    cats = categories_from_labels(["Late delivery", " Billing ", "Other"])
    assert [c.key for c in cats] == ["late_delivery", "billing", "other"]
    with pytest.raises(ValueError, match="twice"):
        categories_from_labels(["Billing", "billing"])
    with pytest.raises(ValueError, match="no letters"):
        categories_from_labels(["Billing", " , "])


def test_references() -> None:
    assert format_reference(42) == "R-0042"
    assert format_reference(123456) == "R-123456"
    assert parse_reference(" r-0042 ") == 42
    assert parse_reference("R42") == 42
    assert parse_reference("case 42") is None


async def test_open_and_announce_posts_card_in_origin_channel_then_thread() -> None:
    repo, notifier = InMemoryCaseRepository(), RecordingCaseNotifier()
    service = CaseService(repo, notifier, FrozenClock(NOW), CONFIG)
    report, _ = validate_report(raw(), CONFIG)
    assert report is not None
    case, created = await service.open_case(
        report, team_id="T1", reporter_user_id="U1", origin_channel_id="C1", report_key="V1"
    )
    assert created and case.owner_user_id == "U1" and case.created_at == NOW
    announced = await service.announce(case.id)
    assert notifier.cards == [(case.id, "C1")]
    assert notifier.threads == [case.id] and notifier.reporter_notices == [case.id]
    assert announced.card is not None and announced.thread_opened


async def test_recovery_channel_wins_over_origin() -> None:
    repo, notifier = InMemoryCaseRepository(), RecordingCaseNotifier()
    service = CaseService(repo, notifier, FrozenClock(NOW), CaseConfig(recovery_channel_id="CRECOVERY"))
    report, _ = validate_report(raw(), CONFIG)
    assert report is not None
    case, _ = await service.open_case(
        report, team_id="T1", reporter_user_id="U1", origin_channel_id="C1", report_key=None
    )
    await service.announce(case.id)
    assert notifier.cards == [(case.id, "CRECOVERY")]


async def test_replayed_submission_opens_no_second_case() -> None:
    repo, notifier = InMemoryCaseRepository(), RecordingCaseNotifier()
    service = CaseService(repo, notifier, FrozenClock(NOW), CONFIG)
    report, _ = validate_report(raw(), CONFIG)
    assert report is not None
    first, created1 = await service.open_case(
        report, team_id="T1", reporter_user_id="U1", origin_channel_id="C1", report_key="V9"
    )
    again, created2 = await service.open_case(
        report, team_id="T1", reporter_user_id="U1", origin_channel_id="C1", report_key="V9"
    )
    assert (created1, created2) == (True, False) and first.id == again.id and len(repo.cases) == 1


async def test_announce_resumes_without_reposting_the_card() -> None:
    repo, notifier = InMemoryCaseRepository(), RecordingCaseNotifier()
    notifier.fail_thread_once = True
    service = CaseService(repo, notifier, FrozenClock(NOW), CONFIG)
    report, _ = validate_report(raw(), CONFIG)
    assert report is not None
    case, _ = await service.open_case(
        report, team_id="T1", reporter_user_id="U1", origin_channel_id="C1", report_key=None
    )
    with pytest.raises(RuntimeError):
        await service.announce(case.id)
    await service.announce(case.id)
    assert len(notifier.cards) == 1 and notifier.threads == [case.id]


async def test_no_channel_anywhere_is_explained() -> None:
    service = CaseService(InMemoryCaseRepository(), RecordingCaseNotifier(), FrozenClock(NOW), CONFIG)
    report, _ = validate_report(raw(), CONFIG)
    assert report is not None
    case, _ = await service.open_case(
        report, team_id="T1", reporter_user_id="U1", origin_channel_id=None, report_key=None
    )
    with pytest.raises(NoCardChannel, match="RECOVERY_CHANNEL"):
        await service.announce(case.id)


def test_control_characters_are_dropped_but_text_and_newlines_kept() -> None:
    report, errors = validate_report(raw(summary="Lost\x00 \x1b[31mparcel\x7f\n\tsecond line"), CONFIG)
    assert errors == {} and report is not None
    assert report.summary == "Lost [31mparcel\n\tsecond line"
