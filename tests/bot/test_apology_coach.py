"""Tests for the three-signals apology coach: signals, flags, edge inputs, coaching text and corpus scores."""

from __future__ import annotations

import pytest

from bot.apology_coach import (
    BLOCKING_FLAGS,
    EMPTY_DRAFT_COACHING,
    FIELD_ERROR_MAX_CHARS,
    LONG_DRAFT_CHARS,
    MAX_REVIEW_CHARS,
    ApologyReview,
    CoachContext,
    FlagKind,
    ReviewStatus,
    Signal,
    review_apology,
)
from tests.bot.apology_corpus import CORPUS, HELDOUT, LabelledDraft

CAKE = CoachContext(
    customer_name="Priya",
    summary="Order #4411 arrived two days late and the birthday cake was crushed.",
    category="delivery",
)
GOOD = (
    "Hi Priya, I'm so sorry we let you down. I can see order #4411 arrived two days late and the cake "
    "was crushed. I've refunded the full £38 today and you'll see it on your card within 3 working days."
)


def review(draft: str, context: CoachContext | None = None) -> ApologyReview:
    return review_apology(draft, case_context=context)


# --- I care ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draft",
    [
        "So sorry about this!!",
        "I'm really sorry — that's on us.",
        "apologies for the mix-up with your refund",
        "My apologies, Chris.",
        "We let you down on this one.",
        "I apologise that we charged your card twice.",
        "I’m sorry we sent the wrong size.",
        "I can't tell you how sorry I am that we lost your bag.",
        "We regret that we charged you for a cancelled room.",
        "That was completely our mistake.",
        "I'M SO SORRY WE SENT THE WRONG SIZE.",
    ],
)
def test_care_present_for_owned_apologies(draft: str) -> None:
    verdict = review(draft).care
    assert verdict.present, draft
    assert verdict.evidence


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        ("I'm sorry if you feel we let you down.", "conditional_apology"),
        ("I'm sorry you feel that way.", "conditional_apology"),
        ("I'm sorry that you were upset by our email.", "conditional_apology"),
        ("We regret any inconvenience this may have caused.", "formula_only"),
        ("We apologize for any inconvenience caused.", "formula_only"),
        ("I'm not sorry — the booking was non-refundable.", "negated_apology"),
        ("Sorry to hear your package arrived damaged.", "sympathy_only"),
        ("I'm sorry, but you should have entered the correct postcode.", "apology_taken_back"),
        ("Thanks for getting in touch about your order.", "no_apology"),
        ("It's not our fault the parcel was late.", "no_apology"),
    ],
)
def test_care_absent_for_non_apologies(draft: str, reason: str) -> None:
    verdict = review(draft).care
    assert not verdict.present, draft
    assert verdict.reason == reason


# --- I understand ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draft",
    [
        "I hear you: you've been on hold three times this week trying to port your number.",
        "I get how frustrating it is to be charged twice for order 5520 in the same month.",
        "I can see your parcel 7781 has been stuck at the Leeds depot since Monday.",
        "I'm sorry we sent the medium jacket in the wrong size.",
    ],
)
def test_understand_present_when_problem_restated(draft: str) -> None:
    verdict = review(draft).understand
    assert verdict.present, draft
    assert verdict.reason == "restated_problem"


def test_understand_matches_the_case_summary() -> None:
    # No failure word at all, but it names the order and the cake from the case.
    verdict = review("Priya, about order #4411 and the birthday cake: that's on us.", CAKE).understand
    assert verdict.present
    assert verdict.reason == "matches_case_summary"
    assert "4411" in (verdict.evidence or "")


def test_customer_name_alone_does_not_count_as_understanding() -> None:
    assert not review("Priya, I understand, Priya.", CAKE).understand.present


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        ("I understand.", "bare_understand"),
        ("I understand your frustration.", "bare_understand"),
        ("I hear you, and I understand how upsetting that must have been.", "bare_understand"),
        ("I'm really sorry about this.", "no_restatement"),
        ("Delays happen during busy periods.", "no_restatement"),
    ],
)
def test_understand_absent_without_specifics(draft: str, reason: str) -> None:
    verdict = review(draft).understand
    assert not verdict.present, draft
    assert verdict.reason == reason


def test_blame_is_not_understanding() -> None:
    draft = "Our records show you failed to return the router within 14 days, so the £60 charge stands."
    assert not review(draft).understand.present


# --- You can trust me ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "when",
    [
        "by 5pm",
        "tomorrow morning",
        "within 24 hours",
        "before Friday",
        "by end of day",
        "today",
        "on 12 March",
        "in two hours",
        "before 3:30 p.m.",
        "within the hour",
        "first thing tomorrow",
        "by the 14th",
    ],
)
def test_trust_present_with_step_and_time(when: str) -> None:
    verdict = review(f"I'll call you back {when} with an answer.").trust
    assert verdict.present, when
    assert verdict.reason == "step_and_time"


@pytest.mark.parametrize(
    "draft",
    [
        "I've re-sent the order by express; it will arrive by Thursday.",
        "Your refund will reach your card within 3 working days.",
        "An engineer is booked for tomorrow morning between 8 and 12.",
        "Let me look into this for you and I'll ring you at 2pm.",
    ],
)
def test_trust_present_in_varied_phrasing(draft: str) -> None:
    assert review(draft).trust.present, draft


@pytest.mark.parametrize(
    ("draft", "reason"),
    [
        ("We'll get back to you.", "no_time"),
        ("I'll get this sorted soon.", "no_time"),
        ("Thanks for your patience today.", "no_step"),
        ("I'll try to get a new card out, hopefully by next week.", "hedged"),
        ("Your bag was lost on Monday.", "no_step"),
        ("Sorry about that.", "no_step_no_time"),
        ("The outage started yesterday and has lasted since Monday.", "no_step_no_time"),
    ],
)
def test_trust_absent_without_a_concrete_promise(draft: str, reason: str) -> None:
    verdict = review(draft).trust
    assert not verdict.present, draft
    assert verdict.reason == reason


# --- Flags -----------------------------------------------------------------------------------------------

FLAG_POSITIVES: list[tuple[FlagKind, str]] = [
    (FlagKind.MECHANICAL_FORMULA, "We apologize for any inconvenience."),
    (FlagKind.MECHANICAL_FORMULA, "We value your business."),
    (FlagKind.MECHANICAL_FORMULA, "Your call is important to us."),
    (FlagKind.MECHANICAL_FORMULA, "Thank you for your understanding."),
    (FlagKind.NON_APOLOGY, "I'm sorry if you were offended."),
    (FlagKind.NON_APOLOGY, "Sorry you feel that way."),
    (FlagKind.NON_APOLOGY, "I won't apologise for following the rules."),
    (FlagKind.NON_APOLOGY, "We don't think an apology is needed here."),
    (FlagKind.BLAMES_CUSTOMER, "You should have checked the address."),
    (FlagKind.BLAMES_CUSTOMER, "You failed to return the router."),
    (FlagKind.BLAMES_CUSTOMER, "If you had read the confirmation you'd know."),
    (FlagKind.BLAMES_CUSTOMER, "As stated in our FAQ, orders ship the next day."),
    (FlagKind.BLAMES_OTHERS, "This is the courier's fault, not ours."),
    (FlagKind.BLAMES_OTHERS, "Our warehouse team messed up and packed the wrong item."),
    (FlagKind.BLAMES_OTHERS, "It's out of our hands."),
    (FlagKind.BLAMES_OTHERS, "Please contact DPD directly."),
    # Blame shifted onto a third party (issue #13): these were accepted before.
    (FlagKind.BLAMES_OTHERS, "The courier is responsible for that."),
    (FlagKind.BLAMES_OTHERS, "That was caused by our contractor, not us."),
    (FlagKind.BLAMES_OTHERS, "Our partner is to blame."),
    (FlagKind.BLAMES_OTHERS, "The delay was caused by the supplier."),
    (FlagKind.BLAMES_OTHERS, "It's due to our delivery partner, who are short-staffed."),
    (FlagKind.BLAMES_OTHERS, "The fault lies with the courier."),
    (FlagKind.BLAMES_OTHERS, "The responsibility for the repair lies with your landlord's contractor."),
    (FlagKind.BLAMES_OTHERS, "The outage was on our hosting provider's end."),
    (FlagKind.BLAMES_OTHERS, "Damage in transit isn't our responsibility."),
    (FlagKind.BLAMES_OTHERS, "We weren't responsible for the delay."),
    (FlagKind.BLAMES_OTHERS, "Billing is responsible for refunds."),
    (FlagKind.BLAMES_OTHERS, "The system is to blame for that, not me."),
    (FlagKind.BLAMES_OTHERS, "You'll need to take it up with the airline."),
    (FlagKind.HIDES_BEHIND_POLICY, "Company policy doesn't allow refunds after 30 days."),
    (FlagKind.HIDES_BEHIND_POLICY, "Our policy doesn't allow that."),
    (FlagKind.HIDES_BEHIND_POLICY, "Unfortunately we are unable to offer compensation."),
    (FlagKind.HIDES_BEHIND_POLICY, "Due to clinic policy, we cannot release results by phone."),
    (FlagKind.HIDES_BEHIND_POLICY, "There's nothing I can do."),
    (FlagKind.PASSIVE_EVASION, "Mistakes were made."),
    (FlagKind.PASSIVE_EVASION, "An error occurred with your payment."),
    (FlagKind.PASSIVE_EVASION, "It was processed incorrectly."),
    (FlagKind.PASSIVE_EVASION, "These things happen."),
    (FlagKind.VAGUE_PROMISE, "We'll fix it soon."),
    (FlagKind.VAGUE_PROMISE, "It will be resolved eventually."),
    (FlagKind.VAGUE_PROMISE, "We will resolve this as soon as possible."),
    (FlagKind.VAGUE_PROMISE, "Your refund will be processed shortly."),
    (FlagKind.VAGUE_PROMISE, "Someone will be in touch in due course."),
    (FlagKind.VAGUE_PROMISE, "We'll look into it."),
    (FlagKind.VAGUE_PROMISE, "I'll try to call you by 5pm."),
]

FLAG_NEGATIVES: list[tuple[FlagKind, str]] = [
    (FlagKind.MECHANICAL_FORMULA, "I'm sorry we sent the wrong size."),
    (FlagKind.NON_APOLOGY, "I'm sorry we sent the wrong size."),
    (FlagKind.NON_APOLOGY, "No need to apologise for calling us!"),
    (FlagKind.BLAMES_CUSTOMER, "You should have received a confirmation email; I've re-sent it."),
    (FlagKind.BLAMES_CUSTOMER, "I'm sorry you were kept waiting."),
    (FlagKind.BLAMES_OTHERS, "That's on us, and I'm chasing the courier myself."),
    (FlagKind.BLAMES_OTHERS, "I'm sorry our network let you down."),
    # Naming a partner is fine when the draft owns the failure or says what you're doing about it.
    (FlagKind.BLAMES_OTHERS, "I've asked our courier to redeliver today."),
    (FlagKind.BLAMES_OTHERS, "Our courier lost it and I'm sorry, I'll make it right."),
    (FlagKind.BLAMES_OTHERS, "I've rung our supplier myself and they're on a van tomorrow."),
    (FlagKind.BLAMES_OTHERS, "That's our mistake, not the engineer's."),
    (FlagKind.BLAMES_OTHERS, "That's our job to put right, not yours."),
    (FlagKind.BLAMES_OTHERS, "The fault lies with us, not the courier."),
    (FlagKind.BLAMES_OTHERS, "Thanks to our courier, it will be with you by noon."),
    (FlagKind.BLAMES_OTHERS, "Our courier team is responsible for redelivering it tomorrow."),
    (FlagKind.BLAMES_OTHERS, "I'm responsible for your case from now on."),
    (FlagKind.HIDES_BEHIND_POLICY, "I can't refund the fare, but I've rebooked you for free."),
    (FlagKind.HIDES_BEHIND_POLICY, "I've changed our policy so this won't happen again."),
    (FlagKind.PASSIVE_EVASION, "We charged you twice — that was our mistake."),
    (FlagKind.VAGUE_PROMISE, "I'll call you as soon as I hear, and no later than 5pm today."),
    (FlagKind.VAGUE_PROMISE, "Sorry for the delay in getting back to you!"),
    (FlagKind.VAGUE_PROMISE, "I'll look into it and call you by 2pm."),
]


@pytest.mark.parametrize(("kind", "draft"), FLAG_POSITIVES)
def test_flag_raised(kind: FlagKind, draft: str) -> None:
    result = review(draft)
    assert kind in result.flag_kinds, draft
    flag = next(f for f in result.flags if f.kind is kind)
    assert flag.excerpt and flag.excerpt.lower() in draft.lower().replace("’", "'")
    assert flag.blocking is (kind in BLOCKING_FLAGS)


@pytest.mark.parametrize(("kind", "draft"), FLAG_NEGATIVES)
def test_flag_not_raised(kind: FlagKind, draft: str) -> None:
    assert kind not in review(draft).flag_kinds, draft


def test_blocking_flags_are_blame_policy_and_non_apology() -> None:
    assert (
        frozenset(
            {
                FlagKind.NON_APOLOGY,
                FlagKind.BLAMES_CUSTOMER,
                FlagKind.BLAMES_OTHERS,
                FlagKind.HIDES_BEHIND_POLICY,
            }
        )
        == BLOCKING_FLAGS
    )


# --- Acceptance ------------------------------------------------------------------------------------------


def test_good_apology_is_accepted_with_no_coaching() -> None:
    result = review(GOOD, CAKE)
    assert result.status is ReviewStatus.REVIEWED
    assert result.signals == {Signal.CARE: True, Signal.UNDERSTAND: True, Signal.TRUST: True}
    assert result.accepted
    assert result.flags == []
    assert result.coaching == []
    assert result.field_error() is None


def test_blocking_flag_rejects_even_with_all_signals() -> None:
    draft = (
        "So sorry! Our warehouse team messed up and packed the wrong item. I'll send the right one out "
        "today and it'll be with you by Wednesday."
    )
    result = review(draft)
    assert all(result.signals.values())
    assert not result.accepted
    assert "warehouse team messed up" in (result.field_error() or "")


@pytest.mark.parametrize(
    "excuse",
    [
        "The courier is responsible for that.",
        "That was caused by our contractor, not us.",
        "Our partner is to blame.",
    ],
)
def test_blame_shifted_to_a_third_party_is_rejected_with_coaching(excuse: str) -> None:
    draft = (
        "I'm so sorry your parcel arrived two days late and the vase inside was smashed. "
        f"{excuse} I've sent a replacement today and it will arrive by 5pm tomorrow."
    )
    result = review(draft, CAKE)
    # All three signals are there, and before issue #13 the draft was accepted.
    assert all(result.signals.values())
    assert not result.accepted
    assert result.flag_kinds == {FlagKind.BLAMES_OTHERS}
    error = result.field_error() or ""
    assert error.startswith("“")
    assert "doesn't care whose fault it was" in error
    assert "say what you will do" in error
    assert "re-sent your order" in error  # the next step to offer instead, in the case's own terms


def test_ownership_words_pinned_on_a_partner_are_not_an_apology() -> None:
    result = review("Our courier let you down.")
    assert not result.care.present
    assert result.care.reason == "no_apology"
    assert review("Our courier let you down, and I'm sorry.").care.present
    assert review("The fault lies with us.").care.present


def test_owning_a_partners_failure_is_accepted() -> None:
    draft = (
        "Our courier lost your parcel and I'm sorry, that's on me to make right. Your order of two pairs of "
        "trainers never reached you on Friday. I've asked the courier to look for it, and I'll send a "
        "replacement today so you'll have it by Tuesday."
    )
    result = review(draft)
    assert result.accepted, result.coaching
    assert result.flags == []


def test_non_blocking_flag_is_coached_but_accepted() -> None:
    result = review(GOOD + " We value your business.", CAKE)
    assert result.accepted
    assert FlagKind.MECHANICAL_FORMULA in result.flag_kinds
    assert any("We value your business" in line for line in result.coaching)
    assert result.field_error() is None


# --- Awkward input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("draft", ["", "   ", "\n\t \n", "🙏🙏😬", "...!!", "<!channel>", "* _ ~"])
def test_empty_drafts_ask_for_a_message(draft: str) -> None:
    result = review(draft)
    assert result.status is ReviewStatus.EMPTY
    assert not result.accepted
    assert result.coaching == [EMPTY_DRAFT_COACHING]
    assert result.field_error() == EMPTY_DRAFT_COACHING
    assert "write the message" in EMPTY_DRAFT_COACHING.lower()


@pytest.mark.parametrize(
    "draft",
    [
        "ご迷惑をおかけして申し訳ございません。注文番号4411の商品は明日までに再送いたします。",
        "Приносим извинения за задержку вашего заказа. Мы отправим его завтра.",
        "نعتذر عن التأخير في طلبك، وسنرسله غداً",
        "Lo siento mucho, su pedido llegó tarde y lo enviaremos mañana por la mañana.",
    ],
)
def test_non_english_is_not_judged(draft: str) -> None:
    result = review(draft)
    assert result.status is ReviewStatus.NOT_ENGLISH
    assert result.flags == []
    assert not result.accepted
    assert "English" in result.coaching[0]
    # Never block an agent writing to a customer in their own language.
    assert not result.blocks_sending
    assert result.field_error() is None


@pytest.mark.parametrize(
    "draft",
    [
        "Company policy doesn't allow refunds after 30 days.",
        "Refund processed. Card ending 4421. Expect funds Friday.",
        "Please see the attached invoice for March and April.",
    ],
)
def test_terse_english_is_still_reviewed(draft: str) -> None:
    assert review(draft).status is ReviewStatus.REVIEWED


def test_english_with_a_non_latin_name_and_emoji_is_reviewed() -> None:
    draft = (
        "Dear 王伟 😊 I'm sorry we shipped your tea set to the old address in Shenzhen. I've re-sent it by "
        "express and it will arrive by Tuesday 14 May 🙏"
    )
    result = review(draft)
    assert result.status is ReviewStatus.REVIEWED
    assert result.accepted


def test_curly_and_straight_quotes_agree() -> None:
    straight = "I'm so sorry — that's on us. I'll call you by 5pm."
    curly = "I’m so sorry — that’s on us. I’ll call you by 5pm."
    assert review(straight).signals == review(curly).signals
    assert review(curly).care.present and review(curly).trust.present
    assert FlagKind.NON_APOLOGY in review("I’m sorry if you feel that way.").flag_kinds


def test_slack_markup_is_ignored() -> None:
    draft = (
        "<!channel> <@U123ABC> *I'm so sorry* we sent the _wrong size_ jacket. I've re-sent the medium "
        "— <https://track.example.com/1|tracking link> — and it will arrive by Thursday."
    )
    result = review(draft)
    assert result.care.present and result.understand.present and result.trust.present
    assert all("channel" not in f.excerpt for f in result.flags)


def test_html_escaped_text_from_slack() -> None:
    result = review("I&#39;m sorry we lost your bag &amp; I&#39;ll call you by 5pm.")
    assert result.care.present and result.trust.present


def test_long_draft_is_read_within_the_cap_and_coached() -> None:
    # Speed on long and hostile input is measured by bench/coach_eval.py, not asserted here.
    draft = (GOOD + " ") * 520  # about 100 kB
    assert len(draft) > 100_000
    result = review(draft, CAKE)
    assert result.accepted
    assert any(f"{len(draft.strip()):,} characters" in line for line in result.coaching)
    assert any(f"first {MAX_REVIEW_CHARS:,} characters" in line for line in result.coaching)


@pytest.mark.parametrize(
    "draft",
    [
        "a" * 100_000,
        "<a " * 33_000,
        "sorry " * 17_000,
        "not sorry if you feel " * 5_000,
        "we have " * 12_500,
        "_*~" * 33_000,
        "by 5pm tomorrow " * 6_000,
        "i'll " * 20_000,
        "(" * 100_000,
    ],
)
def test_pathological_input_is_reviewed(draft: str) -> None:
    result = review(draft)
    assert result.status in set(ReviewStatus)
    assert result.field_error() is None or len(result.field_error() or "") <= FIELD_ERROR_MAX_CHARS


def test_medium_draft_gets_length_nudge_but_is_fully_read() -> None:
    draft = "We value your customers' time. " * 100 + GOOD
    assert LONG_DRAFT_CHARS < len(draft) < MAX_REVIEW_CHARS
    result = review(draft, CAKE)
    assert result.care.present and result.trust.present
    assert not any("first" in line and "characters" in line for line in result.coaching)


# --- Coaching text ---------------------------------------------------------------------------------------


def test_coaching_names_each_missing_signal_with_an_example() -> None:
    result = review("I understand.")
    text = "\n".join(result.coaching)
    assert "care" in text and "understand" in text and "trust" in text
    assert len(result.coaching) == 3
    for line in result.coaching:
        assert "“" in line and "”" in line, line  # each line carries an example wording
    assert "on its own" in result.coaching[1]


def test_coaching_is_tailored_to_the_case() -> None:
    result = review("We apologize for any inconvenience.", CAKE)
    text = "\n".join(result.coaching)
    assert "Priya" in text
    assert "#4411" in text and "crushed" in text
    assert "“I can see what happened: order #4411 arrived two days late" in text
    assert "re-sent your order" in text  # a delivery-flavoured next step


def test_coaching_quotes_the_offending_words() -> None:
    result = review("Unfortunately we are unable to refund. We'll get back to you soon.")
    text = "\n".join(result.coaching)
    assert "“Unfortunately we are unable" in text
    assert "“We'll get back to you”" in text


def test_coaching_puts_blocking_problems_first() -> None:
    result = review("We value your business. Mistakes were made. You should have read the terms.")
    assert "You should have" in result.coaching[0]
    assert "form letter" in result.coaching[-2] or "form letter" in result.coaching[-1]


def test_field_error_fits_slack_and_keeps_most_important_first() -> None:
    draft = (
        "I'm sorry if you feel upset. You should have read the terms. The courier's fault, not ours. Company "
        "policy doesn't allow refunds. Mistakes were made. We value your business. We'll look into it soon. "
    ) * 30
    result = review(draft, CAKE)
    error = result.field_error()
    assert error is not None
    assert len(error) <= FIELD_ERROR_MAX_CHARS
    assert error.startswith(result.coaching[0])
    tight = result.field_error(limit=300)
    assert tight is not None and len(tight) <= 300
    assert tight.startswith(result.coaching[0][:100])


def test_field_error_cuts_a_single_overlong_line() -> None:
    result = review("I understand.")
    tiny = result.coaching_text(limit=40)
    assert len(tiny) <= 40
    assert tiny.endswith("…")


def test_review_is_deterministic() -> None:
    draft = "Sorry!! 😬 Tech glitch on our side. Will fix asap 👍"
    assert review(draft) == review(draft)


# --- Corpus ----------------------------------------------------------------------------------------------


def _precision_recall(pairs: list[tuple[bool, bool]]) -> tuple[float, float]:
    tp = sum(1 for want, got in pairs if want and got)
    fp = sum(1 for want, got in pairs if got and not want)
    fn = sum(1 for want, got in pairs if want and not got)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return precision, recall


def _scores(corpus: tuple[LabelledDraft, ...]) -> dict[str, float]:
    reviews = [(item, review(item.draft, item.context)) for item in corpus]
    scores: dict[str, float] = {}
    for signal in Signal:
        pairs = [(getattr(item, signal.value), r.signals[signal]) for item, r in reviews]
        scores[f"{signal.value}_precision"], scores[f"{signal.value}_recall"] = _precision_recall(pairs)
    scores["accuracy"] = sum(item.accept == r.accepted for item, r in reviews) / len(reviews)
    scores["accept_precision"], _ = _precision_recall([(item.accept, r.accepted) for item, r in reviews])
    flag_pairs = [(k in item.flags, k in r.flag_kinds) for item, r in reviews for k in FlagKind]
    scores["flag_precision"], scores["flag_recall"] = _precision_recall(flag_pairs)
    return scores


# Floors sit just under what the coach measured (bench/coach_eval.py), rounded down to 0.05.
# Development set (rules were written against it): care 1.00/1.00, understand 0.98/0.98,
# trust 1.00/1.00, accuracy 0.991, flag precision/recall 1.00/0.99.
DEVELOPMENT_FLOORS = {
    "care_precision": 0.95,
    "care_recall": 0.95,
    "understand_precision": 0.95,
    "understand_recall": 0.95,
    "trust_precision": 0.95,
    "trust_recall": 0.95,
    "accuracy": 0.95,
    "accept_precision": 0.95,
    "flag_precision": 0.95,
    "flag_recall": 0.95,
}
# Held-out set (labelled before the coach ever ran on it, never tuned on): care 0.90/0.93,
# understand 0.95/0.87, trust 1.00/0.86, accuracy 0.857, accept precision 0.92 (one false accept:
# "leak-down-to-contractor", blame the rules don't know), flags 1.00/0.44.
HELDOUT_FLOORS = {
    "care_precision": 0.85,
    "care_recall": 0.90,
    "understand_precision": 0.95,
    "understand_recall": 0.85,
    "trust_precision": 0.95,
    "trust_recall": 0.85,
    "accuracy": 0.85,
    "accept_precision": 0.90,
    "flag_precision": 0.95,
    "flag_recall": 0.40,
}


@pytest.mark.parametrize(
    ("name", "corpus", "floors"),
    [("development", CORPUS, DEVELOPMENT_FLOORS), ("held-out", HELDOUT, HELDOUT_FLOORS)],
)
def test_corpus_scores_stay_above_floors(
    name: str, corpus: tuple[LabelledDraft, ...], floors: dict[str, float]
) -> None:
    scores = _scores(corpus)
    below = {k: round(scores[k], 3) for k, floor in floors.items() if scores[k] < floor}
    assert not below, f"{name} corpus fell below its floors: {below}"


def test_corpus_is_big_varied_and_consistently_labelled() -> None:
    everything = CORPUS + HELDOUT
    assert len(CORPUS) >= 70
    assert len({item.key for item in everything}) == len(everything)
    assert len({item.industry for item in everything}) >= 9
    assert sum(item.accept for item in everything) >= 30
    assert sum(not item.accept for item in everything) >= 30
    for item in everything:
        # The product rule: accept exactly when all three signals are there and nothing blocks.
        expected = item.care and item.understand and item.trust and not (item.flags & BLOCKING_FLAGS)
        assert item.accept == expected, item.key
