"""Hand-labelled apology drafts for the three-signals coach, labelled as a support lead would judge them."""

from __future__ import annotations

from dataclasses import dataclass

from bot.apology_coach import CoachContext, FlagKind

# Labels were written before the rules were tuned and must not be changed to flatter the numbers:
# items the rules get wrong stay here so the bench keeps showing them.

MECH = FlagKind.MECHANICAL_FORMULA
NONAP = FlagKind.NON_APOLOGY
BLAME_C = FlagKind.BLAMES_CUSTOMER
BLAME_O = FlagKind.BLAMES_OTHERS
POLICY = FlagKind.HIDES_BEHIND_POLICY
PASSIVE = FlagKind.PASSIVE_EVASION
VAGUE = FlagKind.VAGUE_PROMISE


@dataclass(frozen=True)
class LabelledDraft:
    key: str
    industry: str
    draft: str
    care: bool
    understand: bool
    trust: bool
    accept: bool
    flags: frozenset[FlagKind] = frozenset()
    context: CoachContext | None = None


def _ctx(name: str | None, summary: str, category: str) -> CoachContext:
    return CoachContext(customer_name=name, summary=summary, category=category)


def _d(
    key: str,
    industry: str,
    draft: str,
    care: bool,
    understand: bool,
    trust: bool,
    accept: bool,
    flags: tuple[FlagKind, ...] = (),
    context: CoachContext | None = None,
) -> LabelledDraft:
    return LabelledDraft(key, industry, draft, care, understand, trust, accept, frozenset(flags), context)


T, F = True, False

# fmt: off
# (kept compact: one label row per draft reads better than one label per line)
CORPUS: tuple[LabelledDraft, ...] = (
    # --- Good apologies: all three signals, nothing blocking -------------------------------------
    _d(
        "cake-late", "delivery",
        "Hi Priya, I'm so sorry we let you down on your birthday order. I can see order #4411 arrived "
        "two days late and the cake was crushed — that's not what you paid for. I've refunded the full "
        "£38 today and you'll see it on your card within 3 working days.",
        T, T, T, T,
        context=_ctx("Priya", "order #4411 arrived two days late and the birthday cake was crushed", "delivery"),
    ),
    _d(
        "wrong-size", "e-commerce",
        "Tom, I'm sorry we sent the wrong size. You ordered the medium jacket and we sent an XL — I can "
        "see it on the packing slip. I've re-sent the medium by express; it will arrive by Thursday, and "
        "the courier will collect the XL at the same time.",
        T, T, T, T,
        context=_ctx("Tom", "sent size XL instead of the medium jacket he ordered", "e-commerce"),
    ),
    _d(
        "dashboard-outage", "saas",
        "Dana, I'm really sorry — that's on us. Our dashboard was down for three hours on Monday and it "
        "blocked your payroll export right when you needed it. I'll email you our incident write-up by "
        "5pm tomorrow, and I've added a 10% credit to this month's invoice.",
        T, T, T, T,
        context=_ctx("Dana", "dashboard outage for 3 hours on Monday blocked their payroll export", "saas"),
    ),
    _d(
        "double-charge", "bank",
        "Mr Okafor, I apologise that we charged your card twice for the £120 payment on 3 March. I "
        "understand how worrying it is to see money leave your account twice. I have reversed the "
        "duplicate charge this morning and it will be back in your account within 24 hours.",
        T, T, T, T,
        context=_ctx("Mr Okafor", "card charged twice for the same £120 payment on 3 March", "billing"),
    ),
    _d(
        "lost-bag", "airline",
        "Ms Lee, my apologies — four days without your bag after flight BA 117 is not acceptable and we "
        "should have found it by now. I've escalated it to our baggage tracing lead and I will call you "
        "before 3pm today with where it is.",
        T, T, T, T,
        context=_ctx("Ms Lee", "bag lost on flight BA 117 to New York, still missing after 4 days", "airline"),
    ),
    _d(
        "cold-anniversary", "restaurant",
        "Sam, I'm sorry we ruined your anniversary dinner. Waiting 50 minutes and then getting a cold "
        "main course is exactly what shouldn't happen. I've refunded the mains to your card today and "
        "I'd love to host you both again — I'll hold a table for you on any evening next week.",
        T, T, T, T,
        context=_ctx("Sam", "waited 50 minutes for a cold main course at the anniversary dinner", "restaurant"),
    ),
    _d(
        "broadband-down", "telecom",
        "Ahmed, I'm sorry your broadband has been down since Saturday, especially when you work from "
        "home. That's on us. An engineer is booked for tomorrow morning between 8 and 12, and I'll text "
        "you the engineer's name by 6pm tonight.",
        T, T, T, T,
        context=_ctx("Ahmed", "broadband down since Saturday, working from home", "telecom"),
    ),
    _d(
        "clinic-cancelled", "clinic",
        "Mrs Patel, I am truly sorry we cancelled your appointment without telling you, after you had "
        "taken a day off work to come in. That should never happen, and I've made sure the reminder "
        "system is checked. I have booked you the first slot on Friday at 9:30am, and I will call you "
        "tomorrow to confirm it suits you.",
        T, T, T, T,
        context=_ctx("Mrs Patel", "appointment cancelled without notice after she took a day off work", "clinic"),
    ),
    _d(
        "estimated-bill", "utilities",
        "Mr Byrne, I'm sorry we sent you an estimated bill of £640 — roughly double your usual — "
        "instead of using your meter reading. I can see why that was a shock. I've cancelled that bill "
        "today and a corrected one, based on your actual reading, will reach you by email within 48 hours.",
        T, T, T, T,
        context=_ctx(
            "Mr Byrne", "estimated bill of £640 instead of a meter reading, double the usual amount", "utilities"
        ),
    ),
    _d(
        "room-not-cleaned", "hotel",
        "Elena, I'm so sorry — your room wasn't cleaned for two days and your towels weren't replaced. "
        "That's on us, not housekeeping being busy. Our duty manager will have the room fully serviced "
        "within the hour, and I've taken tonight's rate off your bill.",
        T, T, T, T,
        context=_ctx("Elena", "room not cleaned for two days during stay, towels not replaced", "hotel"),
    ),
    # --- Good, awkward real-world phrasing --------------------------------------------------------
    _d(
        "texting-parcel", "delivery",
        "so sorry about this!! i can see ur parcel got left at the wrong address on tuesday, thats on us. "
        "ive booked a redelivery for tmrw morning and ill msg u when its out 🙏",
        T, T, T, T,
    ),
    _d(
        "caps-refund", "e-commerce",
        "I'm REALLY sorry — That's On Us. Your refund for order 88213 should have gone through last week "
        "and it didn't. I have pushed it through manually TODAY and you will see it by Friday.",
        T, T, T, T,
    ),
    _d(
        "run-on-wrong-card", "bank",
        "Hi Jo so sorry for the mix-up with your refund I can see we refunded the wrong card ending 4421 "
        "instead of the one ending 9910 and that's completely our mistake I've already asked the bank to "
        "reverse it and I'll ring you tomorrow before noon to confirm it has landed",
        T, T, T, T,
    ),
    _d(
        "mixup-refund", "e-commerce",
        "apologies for the mix-up with your refund — we credited £25 instead of £52. I get how "
        "frustrating it is to chase us for your own money. I've sent the missing £27 now and you'll have "
        "it within 2 working days.",
        T, T, T, T,
    ),
    _d(
        "port-number", "telecom",
        "My apologies, Chris. I hear you: you've been on hold three times this week trying to port your "
        "number and each time the call dropped. I've now completed the port request myself and your "
        "number will be active on the new SIM by 5pm today.",
        T, T, T, T,
    ),
    _d(
        "late-fee", "bank",
        "I'm sorry we charged your late fee — your payment was on time on 28 May and our system posted it "
        "on 2 June. I've removed the £12 fee and corrected your credit file entry; both will show by end "
        "of day.",
        T, T, T, T,
    ),
    _d(
        "clinic-waiting-room", "clinic",
        "I'm so sorry you were kept waiting 2 hours in reception yesterday without anyone telling you why "
        "— we got that wrong. I've spoken to the clinic manager and I'll call you on Monday morning to "
        "offer you a priority appointment.",
        T, T, T, T,
    ),
    _d(
        "hotel-construction-no", "hotel",
        "Mr Rossi, I'm sorry — we should have warned you about the construction next door before you "
        "booked, and the noise on Tuesday night was unacceptable. I can't refund a non-refundable rate in "
        "full, but I have refunded last night's stay and moved you to a quiet room on the 5th floor, "
        "ready by 2pm today.",
        T, T, T, T,
        context=_ctx(
            "Mr Rossi",
            "wants a full refund for a non-refundable booking after a noisy night next to construction",
            "hotel",
        ),
    ),
    _d(
        "wedding-missed", "airline",
        "I'm really sorry the flight was cancelled and that you missed your sister's wedding in Lisbon — "
        "I understand nothing we do now gives you that day back. I can't offer compensation for the "
        "weather closure itself, but I've refunded your unused return leg and our team will call you "
        "tomorrow by 11am about the hotel costs you paid.",
        T, T, T, T,
    ),
    _d(
        "account-frozen", "bank",
        "Ms Nguyen, I'm deeply sorry. We froze your account for nine days on suspicion of fraud without "
        "telling you why, and you couldn't pay your rent. That was wrong, and it should never happen to "
        "you or anyone else. I've unfrozen the account this morning, refunded the £35 late-rent fee your "
        "landlord charged, and I'll call you on Thursday at 10am to walk through what we're changing.",
        T, T, T, T,
    ),
    _d(
        "history-lost", "saas",
        "I'm sorry — we lost 3 days of your project history in Tuesday's migration, and that's entirely "
        "our fault. I know that's weeks of your team's notes. Our engineers are restoring it from backups "
        "now, and I will send you a status update by 4pm today and every 4 hours until it's back.",
        T, T, T, T,
    ),
    _d(
        "rental-not-ready", "travel",
        "Gary, I'm sorry — your car wasn't ready at 7am when you'd booked it, and you were left standing "
        "at the desk. That's our failure. I've got a car for you at the Terminal 2 desk now, ready by "
        "7:45am, and today's rental is free.",
        T, T, T, T,
        context=_ctx("Gary", "car rental not ready at 7am pickup; customer swore at the agent", "travel"),
    ),
    _d(
        "typo-overcharge", "telecom",
        "Hi Maria, im so sory we overcharged you — your bill for Febuary shows £89 insted of your £45 "
        "plan. thats our mistake. ive credited the £44 back to your acount today and you'll see it on "
        "your next statment on 12 March.",
        T, T, T, T,
    ),
    _d(
        "tea-set-address", "e-commerce",
        "Dear 王伟, I'm sorry we shipped your tea set to the old address in Shenzhen — you told us about "
        "the move on 2 May and we didn't update it. I've re-sent the set by express to your new address "
        "and it will arrive by Tuesday 14 May.",
        T, T, T, T,
    ),
    _d(
        "upgrade-not-honoured", "telecom",
        "I'm sorry, Leah — I know you were promised a free upgrade when you signed up in January, and it "
        "wasn't honoured. That's on us. I can't add the upgrade to this contract, but I've applied a £10 "
        "monthly credit for the next 6 months starting today, and I'll email you the confirmation within "
        "the hour.",
        T, T, T, T,
    ),
    _d(
        "peanut-allergy", "restaurant",
        "Ms Ortiz, I am so sorry. You told our staff about your daughter's peanut allergy and we still "
        "served her a dish containing peanuts. That is a serious failure and it is entirely ours. I've "
        "suspended that dish while we retrain the team, and I will call you tomorrow at 10am to hear how "
        "she is and to talk about what we will do to put this right.",
        T, T, T, T,
        context=_ctx(
            "Ms Ortiz",
            "served a dish with peanuts after telling staff about a peanut allergy; daughter had a reaction",
            "restaurant",
        ),
    ),
    _d(
        "installation-missed", "telecom",
        "I'm sorry we missed your installation appointment on Wednesday — you took the morning off for "
        "it. I'll ring you first thing tomorrow to rebook at a time that suits you.",
        T, T, T, T,
    ),
    _d(
        "network-cut-off", "telecom",
        "I get how frustrating it is to be cut off mid-call three times in one day, and I'm sorry our "
        "network let you down. I've reset your line and I'll check back with you tomorrow by 6pm.",
        T, T, T, T,
    ),
    _d(
        "power-out-oxygen", "utilities",
        "I'm sorry your power has been out since 6am in Elm Street — I know you rely on it for your mum's "
        "oxygen machine. Crews are on site now and we expect power back by 4pm today; I'll call you at "
        "2pm with an update either way.",
        T, T, T, T,
    ),
    _d(
        "billing-run-passive", "telecom",
        "I'm really sorry, Ben. An error occurred in our billing run and you were charged £240 for a £24 "
        "top-up. I've refunded the £216 today and you'll see it within 2 working days.",
        T, T, T, T, (PASSIVE,),
    ),
    _d(
        "2fa-delayed", "saas",
        "Hi team, apologies — the 2FA emails were delayed by up to 40 minutes this morning because of a "
        "bug in our mail queue, which locked several of you out. We've fixed the bug and every code sent "
        "from now on arrives within 30 seconds; I'll post a full write-up here by 5pm.",
        T, T, T, T,
    ),
    _d(
        "spa-closed-emoji", "hotel",
        "Hi Aisha 😊 I'm so sorry the spa was closed for your whole weekend stay — we should have told you "
        "when you booked. I've refunded the £90 spa package today and you'll see it on your card within 3 "
        "working days.",
        T, T, T, T,
    ),
    _d(
        "rome-delay", "airline",
        "Really sorry about the 5 hour delay on your flight to Rome yesterday, that was our crew "
        "scheduling, not the weather. Your €250 compensation is approved and will be paid within 7 days, "
        "I'll confirm by email as soon as it's sent.",
        T, T, T, T,
    ),
    _d(
        "taxi-wrong-date-formula", "travel",
        "I'm so sorry we booked your airport taxi for the wrong date — 14 June instead of 14 July, so no "
        "one came to collect you. I've booked a car for 6am tomorrow and refunded the original fare "
        "today. We value your business.",
        T, T, T, T, (MECH,),
    ),
    _d(
        "contract-wrong-email", "property",
        "I'm sorry — we sent your contract to the wrong email and you missed the signing deadline for the "
        "flat on Friday. That's our mistake and I've asked the landlord's agent to hold it; I'll confirm "
        "with you by end of day.",
        T, T, T, T,
    ),
    _d(
        "charged-twice-5520", "e-commerce",
        "Apologies for the trouble — I know you've been charged twice for order 5520 and I've cancelled "
        "the second charge; it'll disappear from your account by Friday.",
        T, T, T, T,
    ),
    _d(
        "let-you-down-phone", "e-commerce",
        "We let you down on this one, Kim: the replacement phone we sent on the 3rd had the same cracked "
        "screen. A brand new one is on its way by next-day delivery and will reach you tomorrow before 1pm.",
        T, T, T, T,
    ),
    _d(
        "regret-owned", "hotel",
        "We regret that we charged you for a room you had already cancelled on 4 April. I've voided the "
        "£180 charge this afternoon; it will drop off your statement within 5 working days.",
        T, T, T, T,
    ),
    # --- Missing one signal -----------------------------------------------------------------------
    _d(
        "no-understand", "e-commerce",
        "I'm really sorry about this, that's on us. I'll call you back before 3pm today.",
        T, F, T, F,
    ),
    _d(
        "no-time-prescription", "clinic",
        "I'm sorry we sent your prescription reminder to the wrong email address — I know that's personal "
        "information. I'll make sure this gets fixed.",
        T, T, F, F,
    ),
    _d(
        "time-no-step", "airline",
        "I'm sorry your flight AF 1024 to Nice was delayed 6 hours on Sunday and you missed your "
        "connection. Thanks for your patience today.",
        T, T, F, F,
    ),
    _d(
        "soon-double-charge", "saas",
        "I'm so sorry we double-charged you £59.99 for your March subscription. I'll get this sorted soon.",
        T, T, F, F, (VAGUE,),
    ),
    _d(
        "get-back-internet", "telecom",
        "So sorry your internet keeps dropping every evening around 8pm during your calls. We'll get back "
        "to you.",
        T, T, F, F, (VAGUE,),
    ),
    _d(
        "reply-delay-only", "saas",
        "Sorry for the delay in getting back to you! I'll look into your ticket and update you by 2pm.",
        T, F, T, F,
    ),
    _d(
        "bill-fix-no-time", "utilities",
        "Really sorry about your bill, that's on us. I'll get it fixed.",
        T, F, F, F,
    ),
    _d(
        "hedged-card", "bank",
        "I'm sorry your replacement card hasn't arrived after 10 days. I'll try to get a new one out, "
        "hopefully by next week.",
        T, T, F, F, (VAGUE,),
    ),
    _d(
        "understand-only-depot", "delivery",
        "I can see your parcel 7781 has been stuck at the Leeds depot since Monday.",
        F, T, F, F,
    ),
    _d(
        "bare-sorry-understand", "e-commerce",
        "I'm sorry. I understand. We'll fix it.",
        T, F, F, F,
    ),
    _d(
        "sorry-messed-up", "restaurant",
        "Sorry we messed up!",
        T, F, F, F,
    ),
    _d(
        "emoji-glitch", "saas",
        "Sorry!! 😬 Tech glitch on our side. Will fix asap 👍",
        T, F, F, F, (VAGUE,),
    ),
    # --- Formulas, non-apologies, blame, policy, evasion, vague -----------------------------------
    _d(
        "formula-all", "e-commerce",
        "We apologize for any inconvenience caused. We value your business and will look into the matter. "
        "Thank you for your patience.",
        F, F, F, F, (MECH, VAGUE),
    ),
    _d(
        "sorry-if-feel", "saas",
        "I'm sorry if you feel we didn't meet your expectations. We'll get back to you.",
        F, F, F, F, (NONAP, VAGUE),
    ),
    _d(
        "feel-that-way-timeframe", "delivery",
        "I'm sorry you feel that way about the delay. Your order was dispatched within our stated "
        "timeframe.",
        F, F, F, F, (NONAP, POLICY),
    ),
    _d(
        "regret-shortly", "bank",
        "We regret any inconvenience this may have caused. Your refund will be processed shortly.",
        F, F, F, F, (MECH, VAGUE),
    ),
    _d(
        "postcode-blame", "delivery",
        "Hi, I'm sorry about the delay but you should have entered the correct postcode at checkout. I've "
        "re-sent it to the right address and it will arrive by Friday.",
        F, F, T, F, (BLAME_C,),
    ),
    _d(
        "warehouse-blame", "e-commerce",
        "So sorry! Our warehouse team messed up and packed the wrong item. I'll send the right one out "
        "today and it'll be with you by Wednesday.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "courier-fault", "delivery",
        "Unfortunately this is the courier's fault, not ours. Please contact DPD directly about your "
        "missing parcel.",
        F, F, F, F, (BLAME_O,),
    ),
    _d(
        "policy-30-days", "e-commerce",
        "I'm sorry, but company policy doesn't allow refunds after 30 days. Is there anything else I can "
        "help with?",
        F, F, F, F, (POLICY,),
    ),
    _d(
        "unable-terms", "airline",
        "Unfortunately we are unable to offer compensation as per our terms and conditions. We apologise "
        "for any inconvenience.",
        F, F, F, F, (POLICY, MECH),
    ),
    _d(
        "mistakes-were-made", "e-commerce",
        "Mistakes were made in processing your order and an error occurred with the payment. It will be "
        "fixed soon.",
        F, F, F, F, (PASSIVE, VAGUE),
    ),
    _d(
        "processed-incorrectly", "bank",
        "Your account was processed incorrectly. We'll look into it.",
        F, F, F, F, (PASSIVE, VAGUE),
    ),
    _d("bare-understand", "telecom", "I understand.", F, F, F, F),
    _d(
        "understand-asap", "utilities",
        "I understand your frustration and we will resolve this as soon as possible.",
        F, F, F, F, (VAGUE,),
    ),
    _d(
        "not-sorry", "airline",
        "I'm not sorry — you were told twice that the booking was non-refundable.",
        F, F, F, F, (NONAP, BLAME_C),
    ),
    _d(
        "sorry-to-hear-formula", "hotel",
        "Sorry to hear about your experience. We strive to provide excellent service and take your "
        "feedback seriously.",
        F, F, F, F, (MECH,),
    ),
    _d(
        "sorry-to-hear-damaged", "delivery",
        "Sorry to hear your package arrived damaged.",
        F, F, F, F,
    ),
    _d(
        "rude-back", "travel",
        "Gary, there's no need for that language. If you had read your booking confirmation you'd know "
        "pickup is from 8am.",
        F, F, F, F, (BLAME_C,),
        context=_ctx("Gary", "car rental not ready at 7am pickup; customer swore at the agent", "travel"),
    ),
    _d(
        "inconvenience-refund", "e-commerce",
        "sorry for the inconvenience, we will refund you within 5-7 business days.",
        F, F, T, F, (MECH,),
    ),
    _d(
        "any-inconvenience-refunded", "delivery",
        "Apologies for any inconvenience. I've refunded the £15 delivery charge today; you'll see it "
        "within 3 days.",
        F, F, T, F, (MECH,),
    ),
    _d(
        "policy-reissue", "airline",
        "Our policy states that we cannot reissue tickets after departure. Unfortunately there is nothing "
        "more we can do.",
        F, F, F, F, (POLICY,),
    ),
    _d(
        "matter-for-airline", "travel",
        "We are unable to help with this as it is a matter for the airline.",
        F, F, F, F, (BLAME_O, POLICY),
    ),
    _d(
        "delays-happen", "delivery",
        "Hi! I understand your order hasn't arrived. Delays happen during busy periods. It should be with "
        "you shortly.",
        F, F, F, F, (VAGUE, PASSIVE),
    ),
    _d(
        "look-into-get-back", "saas",
        "We'll look into it and get back to you.",
        F, F, F, F, (VAGUE,),
    ),
    _d(
        "feedback-important", "telecom",
        "Thank you for reaching out. Your feedback is important to us and has been passed on to the "
        "relevant department.",
        F, F, F, F, (MECH,),
    ),
    _d(
        "upset-by-email", "bank",
        "I'm sorry that you were upset by our email.",
        F, F, F, F, (NONAP,),
    ),
    _d(
        "apologise-if-rude", "utilities",
        "I apologise if our engineer was rude to you on Tuesday.",
        F, F, F, F, (NONAP,),
    ),
    _d(
        "system-wont-let-me", "bank",
        "Sorry, there's nothing I can do — the system won't let me.",
        F, F, F, F, (POLICY,),
    ),
    _d(
        "faq-blame", "e-commerce",
        "As stated in our FAQ, orders placed after 2pm ship the next day, so the delay is expected. Sorry "
        "for any confusion.",
        F, F, F, F, (BLAME_C, MECH),
    ),
    _d(
        "seriously-due-course", "clinic",
        "I completely understand how frustrating this must be for you. Rest assured we take this very "
        "seriously and will be in touch in due course.",
        F, F, F, F, (MECH, VAGUE),
    ),
    _d(
        "payment-provider-blame", "saas",
        "I'm sorry, this was our payment provider's error, not ours. The refund will show by Friday.",
        F, F, T, F, (BLAME_O,),
    ),
    _d(
        "bad-time-eventually", "restaurant",
        "Hey, sorry you had a bad time. That's life sometimes! Anyway we'll sort it eventually.",
        F, F, F, F, (NONAP, VAGUE),
    ),
    _d(
        "overdraft-policy", "bank",
        "I'm sorry, but per our policy we cannot waive the overdraft fee. Thank you for your understanding.",
        F, F, F, F, (POLICY, MECH),
    ),
    _d(
        "hear-you-make-right", "restaurant",
        "I hear you, and I understand how upsetting that must have been. We'll make it right.",
        F, F, F, F,
    ),
    _d(
        "think-service-poor", "telecom",
        "I'm sorry you think our service was poor, but our agents followed the correct procedure.",
        F, F, F, F, (NONAP, POLICY),
    ),
    _d(
        "clinic-policy-results", "clinic",
        "Due to clinic policy, we cannot release your test results over the phone. Please come in during "
        "opening hours.",
        F, F, F, F, (POLICY,),
    ),
    _d(
        "router-failed-return", "telecom",
        "Our records show you failed to return the router within 14 days, so the £60 charge stands.",
        F, F, F, F, (BLAME_C,),
    ),
    _d(
        "sorry-to-bother-photo", "delivery",
        "Sorry to bother you, but could you send us a photo of the damaged box? We'll look at it after "
        "that.",
        F, F, F, F, (VAGUE,),
    ),
    _d(
        "logged-due-course", "utilities",
        "Your complaint has been logged (ref 55102). A member of the team will contact you in due course.",
        F, F, F, F, (VAGUE,),
    ),
    _d(
        "apology-not-needed", "utilities",
        "We don't think an apology is needed here as the engineer arrived within the booked window.",
        F, F, F, F, (NONAP,),
    ),
    # --- Blame passed to a third party (issue #13), and near-misses that own it --------------------
    # The rule: saying what a partner did, or what you have asked them to do, is fine when the draft owns
    # the failure ("our courier lost your parcel and I'm sorry", "I've asked our courier to redeliver").
    # It is blame when it hands the responsibility to them: their fault, their responsibility, caused by
    # or down to them, "not us", or sending the customer to them.
    _d(
        "courier-responsible", "delivery",
        "Hi Sam, I'm so sorry your parcel turned up four days late and the lamp inside was broken. The "
        "courier is responsible for that. I've sent a replacement lamp by express today and it will reach "
        "you by 5pm tomorrow.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "contractor-not-us", "home services",
        "I'm really sorry the boiler service on Tuesday left your heating off for two days. That was caused "
        "by our contractor, not us. An engineer will be with you tomorrow between 8am and 10am to fix it.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "partner-to-blame", "telecom",
        "Apologies, Leila — your broadband has dropped every evening since Saturday and you work from home. "
        "Our network partner is to blame. I've booked an engineer for Thursday at 9am and I'll text you his "
        "name by 6pm today.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "supplier-not-us-restock", "e-commerce",
        "Sorry, the supplier is responsible for that, not us. We'll send a new one when they restock.",
        F, F, F, F, (BLAME_O, VAGUE),
    ),
    _d(
        "airline-take-it-up", "travel",
        "I'm sorry your bags didn't arrive in Lisbon with you. The airline is responsible for lost luggage, "
        "so you'll need to take it up with them directly.",
        T, T, F, F, (BLAME_O,),
    ),
    _d(
        "asked-courier-redeliver", "delivery",
        "Hi Ben, I'm sorry your sofa wasn't delivered on Saturday after you stayed in all day for it. That's "
        "on us. I've asked our courier to redeliver it tomorrow between 8am and 12pm, and I'll call you by "
        "6pm today to confirm the slot.",
        T, T, T, T,
    ),
    _d(
        "courier-lost-make-right", "delivery",
        "Our courier lost your parcel and I'm sorry, that's on me to make right. Your order of two pairs of "
        "trainers never reached you on Friday. I'll send a replacement today and you'll have it by Tuesday.",
        T, T, T, T,
    ),
    _d(
        "chasing-supplier-myself", "e-commerce",
        "I'm sorry your kitchen tiles are three weeks late — you've had builders waiting since the 4th. I've "
        "rung our supplier myself this morning and they're on a van tomorrow; I'll confirm the delivery time "
        "by 2pm today.",
        T, T, T, T,
    ),
    _d(
        "contractor-hole-ceiling", "home services",
        "I'm so sorry our contractor left a hole in your ceiling on Monday and didn't come back. That's our "
        "job to put right, not yours. I've booked our own plasterer for Wednesday at 10am and I'll ring you "
        "Tuesday evening to confirm.",
        T, T, T, T,
    ),
    _d(
        "not-our-fault-wrong-address", "delivery",
        "It wasn't our fault — the courier left your parcel at the wrong address. We'll send another one "
        "soon.",
        F, T, F, F, (BLAME_O, VAGUE),
    ),
    _d(
        "hosting-provider-end", "saas",
        "Sorry you couldn't log in to your account for two hours this morning. The outage was on our hosting "
        "provider's end, not ours. It's back up now, and I'll email you the provider's incident report by "
        "5pm.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "due-to-warehouse-partner", "e-commerce",
        "Apologies, Dev: order #5520 was meant to reach you on Monday and still hasn't. That's due to our "
        "warehouse partner, who are short-staffed this week. It will ship by Friday and I'll email you the "
        "tracking number the moment it does.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "manufacturer-fault-anyway", "retail",
        "I'm sorry the kettle you bought from us stopped working after a week. That's a manufacturer fault "
        "rather than anything we did, but I've refunded the £45 today anyway.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "driver-rebooked", "delivery",
        "I'm sorry our driver missed your delivery window on Thursday and didn't call ahead — you'd taken the "
        "afternoon off for it. I've booked a new slot for Saturday 9-11am, and I'll text you when he's on "
        "his way.",
        T, T, T, T,
    ),
    _d(
        "billing-responsible", "telecom",
        "Sorry about the double charge. Billing is responsible for refunds, so I've passed this to them.",
        T, F, F, F, (BLAME_O,),
    ),
    _d(
        "responsibility-landlord-contractor", "utilities",
        "I know you've been without hot water since Friday, and that's miserable with two small children. "
        "The responsibility for the repair lies with your landlord's contractor, so please contact them "
        "directly.",
        F, T, F, F, (BLAME_O,),
    ),
    _d(
        "wrong-part-not-engineer", "repairs",
        "I'm sorry — we ordered the wrong part for your washing machine, so the repair on Monday couldn't be "
        "finished. That's our mistake, not the engineer's. He'll be back with the right part on Thursday at "
        "8am.",
        T, T, T, T,
    ),
    _d(
        "system-to-blame-not-me", "bank",
        "Sorry, the system is to blame for that, not me. The refund will go back to your card within 5 "
        "working days.",
        F, F, T, F, (BLAME_O,),
    ),
)
# fmt: on

# Held-out drafts: written and labelled after the rules existed and committed before the coach was
# ever run on them. They are never used to tune the rules, so the bench's held-out figures are the
# honest estimate of how the coach does on drafts it has not seen.
# fmt: off
HELDOUT: tuple[LabelledDraft, ...] = (
    _d(
        "gym-owe-apology", "gym",
        "Hi Marcus, we owe you an apology. We kept charging your membership for three months after you "
        "cancelled in person at the front desk in January. I've refunded all three payments (£105) this "
        "morning and you'll see them within five working days.",
        T, T, T, T,
    ),
    _d(
        "out-of-stock", "e-commerce",
        "Apologies, the item is out of stock. We will notify you when it is back.",
        T, F, F, F, (VAGUE,),
    ),
    _d(
        "cleaner-no-show", "home services",
        "This is totally unacceptable on our part and I want to make it right. Your cleaner didn't turn up "
        "on Tuesday or Thursday, and you'd arranged to work from home both days to let her in. I'll "
        "personally make sure a cleaner is there this Saturday at 9am, free of charge, and I'll text you "
        "her name tonight.",
        T, T, T, T,
    ),
    _d("sucks-sort-you-out", "saas", "Hey! Totally get it, that sucks. We'll sort you out.", F, F, F, F),
    _d(
        "blocked-card-abroad", "bank",
        "I'm sorry for the wait on the phone earlier — 45 minutes is far too long, especially when you were "
        "calling about a blocked card while abroad. I've unblocked the card now, and I'll call you at 6pm "
        "your time to check it's working.",
        T, T, T, T,
    ),
    _d(
        "distress-noted", "clinic",
        "We sincerely apologise for any distress caused. Please be assured that your feedback has been "
        "noted.",
        F, F, F, F, (MECH,),
    ),
    _d("not-happy-meal", "restaurant", "I'm sorry you weren't happy with your meal.", F, F, F, F, (NONAP,)),
    _d(
        "code-expired", "e-commerce",
        "Sorry, but the discount code expired yesterday, as the email said. You'll need to place the order "
        "at full price.",
        F, F, F, F, (BLAME_C,),
    ),
    _d(
        "supplier-late-parts", "repairs",
        "The delay was caused by the supplier, who shipped the parts late. Nothing we could have done. Your "
        "repair will be finished by Friday.",
        F, F, T, F, (BLAME_O,),
    ),
    _d(
        "physio-wrong-clinic", "clinic",
        "I'm so sorry — I booked your physio session at the wrong clinic, so you drove 40 minutes to "
        "Westfield for nothing. That's my mistake. I've rebooked you at the Hill Road clinic for Monday at "
        "11am and I'm refunding your parking and fuel today.",
        T, T, T, T,
    ),
    _d(
        "my-bad-link", "saas",
        "my bad!! the link i sent u was for the old plan. heres the right one, and ive applied the discount "
        "to ur account already",
        T, T, T, T,
    ),
    _d(
        "sincere-apologies-working", "utilities",
        "Dear Mr Adeyemi, Please accept our sincere apologies for the inconvenience. Our team is working "
        "hard to resolve all issues. We thank you for your patience.",
        F, F, F, F, (MECH, VAGUE),
    ),
    _d(
        "passport-docs-lost", "government services",
        "I'm really sorry we lost your passport application documents — I know you need them for your trip "
        "on 3 August. I've put a trace on the courier bag and I'll phone you by noon tomorrow with what I've "
        "found; if they haven't turned up, I'll arrange an urgent replacement appointment that same day.",
        T, T, T, T,
    ),
    _d(
        "atc-unavoidable", "airline",
        "We're sorry your flight was delayed. Delays are sometimes unavoidable due to air traffic control "
        "restrictions.",
        T, F, F, F, (PASSIVE, BLAME_O),
    ),
    _d(
        "router-mix-up", "telecom",
        "Apologies for the mix up!! Your new router will arrive on 18 Sept, and the engineer will activate "
        "it the same day.",
        T, F, T, F,
    ),
    _d(
        "mould-callbacks", "housing",
        "I hear how stressful this has been. You were promised a call back three times last week about the "
        "mould in your bathroom and nobody rang. I'm sorry; that's not good enough. A surveyor will visit on "
        "Wednesday between 10 and 2, and I'll ring you Tuesday evening to confirm.",
        T, T, T, T,
    ),
    _d(
        "claim-outside-terms", "insurance",
        "Regrettably your claim cannot be processed at this time as it falls outside the terms of your "
        "policy.",
        F, F, F, F, (POLICY,),
    ),
    _d(
        "twin-room-try", "hotel",
        "So sorry, we messed up your booking — you asked for a twin room and we gave you a double. We'll try "
        "to move you tomorrow if something frees up.",
        T, T, F, F, (VAGUE,),
    ),
    _d(
        "plus-delivery-fee", "e-commerce",
        "I'm sorry, I can see that you were charged £12.50 for a delivery that was meant to be free with "
        "your Plus membership. I have refunded it. It should appear in 3-5 days.",
        T, T, T, T,
    ),
    _d(
        "explained-three-times", "bank",
        "Look, I've explained this three times. The refund takes 10 working days. There is nothing I can do "
        "to speed it up.",
        F, F, F, F, (POLICY, BLAME_C),
    ),
    _d("confusion-bill", "utilities", "I'm sorry for the confusion over your bill.", F, F, F, F, (MECH,)),
    _d(
        "fasting-instructions", "clinic",
        "Hi Fatima, I'm so sorry that our nurse gave you the wrong fasting instructions and your blood test "
        "on Monday had to be cancelled. That was our error, not yours. I've booked a new test for Thursday "
        "at 8:15am and I've emailed the correct instructions to you just now.",
        T, T, T, T,
    ),
    _d(
        "outage-restored", "saas",
        "Our apologies for the outage this morning. Service has been restored.",
        T, F, F, F,
    ),
    _d(
        "misunderstanding-fee", "travel",
        "I am sorry if there was any misunderstanding regarding the cancellation fee.",
        F, F, F, F, (NONAP,),
    ),
    _d(
        "dress-refund-x", "e-commerce",
        "Ugh, I'm so sorry Jen — three weeks waiting for a refund on a dress you sent back is ridiculous and "
        "it's on us. Refund's gone through today, you'll have it by Friday at the latest x",
        T, T, T, T,
    ),
    _d(
        "aware-engineers-working", "saas",
        "We are aware of the issue and our engineers are working on it.",
        F, F, F, F, (VAGUE,),
    ),
    _d(
        "someone-from-billing", "telecom",
        "Sorry about that. Someone from billing will call you.",
        T, F, F, F, (VAGUE,),
    ),
    _d(
        "pool-closed", "hotel",
        "I'm sorry we didn't tell you the pool would be closed for your stay; you booked partly because of "
        "it, and you were right to be annoyed. I've credited €60 to your room tonight and I'll ask the "
        "manager to call you before 10am tomorrow about the rest of your stay.",
        T, T, T, T,
    ),
    _d(
        "wrong-colour-swap", "e-commerce",
        "Im sorry ur order came with the wrong colour. Pls send it back with the prepaid label and we'll "
        "swap it once it arrives at our warehouse.",
        T, T, F, F,
    ),
    _d(
        "driver-swore", "delivery",
        "I'm so sorry. There's no excuse for how our driver spoke to you on Friday — swearing at a customer "
        "is never acceptable, and I've reported it to his manager today. I'll let you know the outcome by "
        "next Friday.",
        T, T, T, T,
    ),
    _d(
        "signed-contract", "telecom",
        "I understand you're upset, but you signed the contract, so the early termination fee applies.",
        F, F, F, F, (BLAME_C, POLICY),
    ),
    _d(
        "sim-swap-wrong-serial", "telecom",
        "Sorry for the hassle with your SIM swap, Ola. Your number was moved to the wrong SIM on Saturday "
        "because we typed the wrong serial number — that's our mistake. The right SIM is active now, and "
        "I've added 10GB of free data to say sorry.",
        T, T, T, T,
    ),
    # Added for issue #13 (blame passed to a third party), labelled and committed before the coach that
    # flags it was written, and never used to tune it.
    _d(
        "removals-contractor-responsible", "moving",
        "I'm sorry your wardrobe was scratched during Tuesday's move. Our removals contractor is responsible "
        "for any damage in transit, so I've passed your photos to them and they'll be in touch.",
        T, T, F, F, (BLAME_O, VAGUE),
    ),
    _d(
        "caused-by-banking-partner", "finance",
        "Apologies for the failed payment on your rent transfer yesterday. This was caused by our banking "
        "partner's outage, not by anything on our side. I've re-sent the payment now and it will arrive "
        "today before 5pm.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "neighbour-parcel-owned", "delivery",
        "Hi Grace, I'm sorry — your parcel was left with a neighbour you've never met, and you spent Saturday "
        "looking for it. That shouldn't have happened and it's on us. I've asked the courier to collect it "
        "from them and redeliver it to you on Monday before noon.",
        T, T, T, T,
    ),
    _d(
        "fault-lies-travel-agent", "hotel",
        "We're sorry your transfer didn't turn up at the airport. The booking was made through a travel "
        "agent, so the fault lies with them, not the hotel.",
        T, T, F, F, (BLAME_O,),
    ),
    _d(
        "engineer-wrong-area-ours", "telecom",
        "I'm sorry the engineer didn't arrive on Wednesday — we booked him into the wrong area, so the "
        "mistake was ours. He's confirmed for tomorrow at 8am, and I'll call you at 7:30 to check you're "
        "ready.",
        T, T, T, T,
    ),
    _d(
        "vendor-to-blame-soon", "saas",
        "Our payment vendor is to blame for the checkout errors. We hope to have it fixed soon.",
        F, F, F, F, (BLAME_O, VAGUE),
    ),
    _d(
        "courier-partner-lost-gift", "delivery",
        "Our courier partner lost your parcel with the anniversary gift inside, and I'm truly sorry, Ahmed. "
        "I'll make it right: a replacement is going out today by next-day delivery, and I've refunded the "
        "postage.",
        T, T, T, T,
    ),
    _d(
        "leak-down-to-contractor", "housing",
        "The leak in your kitchen ceiling is down to the contractor who fitted the bathroom upstairs. I'm "
        "sorry you've had to put buckets out all week. I'll have someone there to look at it on Thursday "
        "morning.",
        T, T, T, F, (BLAME_O,),
    ),
    _d(
        "transit-not-our-responsibility", "e-commerce",
        "Damage in transit isn't our responsibility once the parcel leaves our warehouse. Please raise a "
        "claim with Parcelforce.",
        F, F, F, F, (BLAME_O,),
    ),
    _d(
        "print-partner-reprinted", "events",
        "I'm so sorry we sent your wedding invitations with the wrong date printed on them. Our print partner "
        "has reprinted all 80 at our cost this morning, and I'll courier them to you to arrive by Thursday.",
        T, T, T, T,
    ),
)
# fmt: on
