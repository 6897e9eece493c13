"""Three-signals apology coach: checks a draft reply for "I care", "I understand" and "you can trust me"."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from html import unescape

from pydantic import BaseModel, ConfigDict, Field

from bot.apology_templates import greeting_name

__all__ = [
    "BLOCKING_FLAGS",
    "EMPTY_DRAFT_COACHING",
    "ENGLISH_MIN_WORDS_TO_JUDGE",
    "FIELD_ERROR_MAX_CHARS",
    "FOREIGN_MIN_FUNCTION_WORD_SHARE",
    "LATIN_MIN_SHARE",
    "LONG_DRAFT_CHARS",
    "MAX_EXCERPT_CHARS",
    "MAX_REVIEW_CHARS",
    "NOT_ENGLISH_COACHING",
    "UNDERSTAND_MIN_CONTEXT_OVERLAP",
    "UNDERSTAND_MIN_DETAIL_WORDS",
    "ApologyReview",
    "CoachContext",
    "Flag",
    "FlagKind",
    "ReviewStatus",
    "Signal",
    "SignalVerdict",
    "review_apology",
]


class Signal(StrEnum):
    CARE = "care"
    UNDERSTAND = "understand"
    TRUST = "trust"


class FlagKind(StrEnum):
    MECHANICAL_FORMULA = "mechanical_formula"
    NON_APOLOGY = "non_apology"
    BLAMES_CUSTOMER = "blames_customer"
    BLAMES_OTHERS = "blames_others"
    HIDES_BEHIND_POLICY = "hides_behind_policy"
    PASSIVE_EVASION = "passive_evasion"
    VAGUE_PROMISE = "vague_promise"


class ReviewStatus(StrEnum):
    REVIEWED = "reviewed"
    EMPTY = "empty"
    NOT_ENGLISH = "not_english"


# --- Thresholds and limits (exported so tests and the bench can refer to them) ------------------------

#: Slack shows a modal field error under the input; longer texts get cut by the client.
FIELD_ERROR_MAX_CHARS = 2000
#: Quotes from the draft inside coaching lines are cut to this length so one flag cannot fill the error.
MAX_EXCERPT_CHARS = 80
#: Share of letters that must be Latin script before the English rules are applied at all.
LATIN_MIN_SHARE = 0.5
#: A Latin-script draft is treated as another language (Spanish, French, German…) when its common
#: function words of those languages outnumber the English ones and make up at least this share of words.
#: Comparing against English rather than using an absolute floor keeps terse English ("Company policy
#: doesn't allow refunds after 30 days.") from being waved through as foreign.
FOREIGN_MIN_FUNCTION_WORD_SHARE = 0.15
#: Below this many words the function-word counts are too noisy to call a draft "not English".
ENGLISH_MIN_WORDS_TO_JUDGE = 6
#: "I understand" needs a restated problem: a failure word plus at least this many content words in the
#: same clause (e.g. "wrong" + "size" + "jacket"), so "your order hasn't arrived" alone is not enough.
UNDERSTAND_MIN_DETAIL_WORDS = 3
#: With a case context, this many distinct words (or one reference number, which counts double) shared
#: between the draft and the case summary also shows the problem was understood.
UNDERSTAND_MIN_CONTEXT_OVERLAP = 2
#: Past this length the coach adds a (non-blocking) nudge to shorten the message.
LONG_DRAFT_CHARS = 3000
#: Only this much of a draft is read. Slack caps a modal text input at 3,000 characters, so real drafts
#: never reach it; the cap bounds the work (about 30 ms worst case) for pasted walls of text; coaching says
#: that the rest was not read.
MAX_REVIEW_CHARS = 8_000

#: Flags that reject a draft even when all three signals are present, because they undo a signal:
#: blame (of the customer or of someone else) and hiding behind policy take back the ownership the
#: apology promised, and a conditional/non-apology turns "I care" into "I don't".
#: Formulas, passive voice and vague timing only coach: their damage already shows as a missing signal
#: (a formula instead of an apology leaves "I care" missing, "soon" instead of a time leaves "trust"
#: missing); next to a real apology and a real time they are style, not substance.
BLOCKING_FLAGS: frozenset[FlagKind] = frozenset(
    {
        FlagKind.NON_APOLOGY,
        FlagKind.BLAMES_CUSTOMER,
        FlagKind.BLAMES_OTHERS,
        FlagKind.HIDES_BEHIND_POLICY,
    }
)

EMPTY_DRAFT_COACHING = (
    "Write the message to the customer first — then I'll check it for the three signals: "
    "I care, I understand, and you can trust me to take care of this."
)
NOT_ENGLISH_COACHING = (
    "This coach reads English only, and this draft is mostly in another language, so I can't check it. "
    "Before you send, make sure it (1) says sorry for what went wrong, (2) restates the customer's problem "
    "in specifics, and (3) gives a concrete next step with a time."
)


# --- Public models ------------------------------------------------------------------------------------


class CoachContext(BaseModel):
    """What the case is about, so "I understand" can be checked against the real problem."""

    model_config = ConfigDict(frozen=True)

    customer_name: str | None = Field(default=None, max_length=200)
    summary: str | None = Field(default=None, max_length=2000)
    category: str | None = Field(default=None, max_length=100)


class SignalVerdict(BaseModel):
    model_config = ConfigDict(frozen=True)

    signal: Signal
    present: bool
    #: The words in the draft that showed the signal, when present.
    evidence: str | None = None
    #: Short machine-friendly reason, e.g. "owned_apology", "formula_only", "no_time".
    reason: str


class Flag(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: FlagKind
    excerpt: str
    blocking: bool


class ApologyReview(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: ReviewStatus
    care: SignalVerdict
    understand: SignalVerdict
    trust: SignalVerdict
    flags: list[Flag]
    accepted: bool
    #: Addressed to the agent, most important first; each names the problem and shows a better wording.
    coaching: list[str]

    @property
    def flag_kinds(self) -> frozenset[FlagKind]:
        return frozenset(flag.kind for flag in self.flags)

    @property
    def signals(self) -> dict[Signal, bool]:
        return {v.signal: v.present for v in (self.care, self.understand, self.trust)}

    @property
    def blocks_sending(self) -> bool:
        """Whether the UI should stop the agent; drafts in a language we can't read are never blocked."""
        return not self.accepted and self.status is not ReviewStatus.NOT_ENGLISH

    def coaching_text(self, limit: int = FIELD_ERROR_MAX_CHARS) -> str:
        """The coaching lines as one string of at most ``limit`` characters, dropping the least important."""
        return _join_within(self.coaching, limit)

    def field_error(self, limit: int = FIELD_ERROR_MAX_CHARS) -> str | None:
        """Text for a Slack modal field error, or None when the draft may be sent as it is."""
        if not self.blocks_sending:
            return None
        return self.coaching_text(limit) or EMPTY_DRAFT_COACHING


# --- Normalisation ------------------------------------------------------------------------------------

_QUOTE_MAP = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201b": "'",
        "\u02bc": "'",
        "\u00b4": "'",
        "`": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2014": " - ",
        "\u2013": " - ",
        "\u2012": " - ",
        "\u2015": " - ",
        "\u2011": "-",
        "\u00a0": " ",
        "*": " ",
        "~": " ",
    }
)
# Slack mrkdwn: <!channel>, <@U123>, <#C123|name>, <https://x|label>; [^<>] keeps the scan linear.
_SLACK_TOKEN = re.compile(r"<([^<>]*)>")
_UNDERSCORE_MARKUP = re.compile(r"(?<!\w)_|_(?!\w)")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_NEWLINES = re.compile(r" *\n[ \n]*")


def _slack_token(match: re.Match[str]) -> str:
    inner = match.group(1)
    if "|" in inner:
        return " " + inner.split("|", 1)[1] + " "
    return " "


def _normalise(draft: str) -> str:
    text = unicodedata.normalize("NFKC", draft)
    text = _SLACK_TOKEN.sub(_slack_token, text)
    text = unescape(text) if "&" in text else text
    text = text.translate(_QUOTE_MAP)
    text = _UNDERSCORE_MARKUP.sub(" ", text)
    text = _SPACES.sub(" ", text)
    return _NEWLINES.sub("\n", text).strip()


# --- Language gate ------------------------------------------------------------------------------------

_LATIN_LETTER = re.compile(r"[A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_NON_LATIN_LETTER = re.compile(r"[^\W\d_A-Za-z\u00c0-\u024f\u1e00-\u1eff]")
_LATIN_WORD = re.compile(r"[a-z\u00e0-\u024f]+(?:'[a-z]+)?")


def _words(spaced: str) -> frozenset[str]:
    return frozenset(spaced.split())


_ENGLISH_FUNCTION_WORDS = _words(
    "the a an to you your we our i my me is are was were be been it its this that and or but of for on "
    "in at with by from will would can could have has had not do did so if as about what when how "
    "there they them their he she his her us ur u im ive ill thats dont sorry doesn't don't didn't can't "
    "won't isn't wasn't after before all any just only no yes please thanks thank hi up out"
)
# Spanish, French, German, Italian, Portuguese and Dutch function words that are not English words.
_FOREIGN_FUNCTION_WORDS = _words(
    "de la el los las del y que en un una su sus lo le les por para con se es muy pero mañana "
    "et est une des du pour pas avec vous nous votre sur ce qui très "
    "der die das und ist nicht ein eine zu mit sie wir ihr ihre auf für dem den sehr "
    "il che di è non per della sono gli "
    "o os um uma não com para seu sua muito "
    "het een van niet ook zijn voor"
)


def _language_status(text: str) -> ReviewStatus:
    latin = len(_LATIN_LETTER.findall(text))
    other = len(_NON_LATIN_LETTER.findall(text))
    if latin + other == 0:
        return ReviewStatus.EMPTY
    if latin / (latin + other) < LATIN_MIN_SHARE:
        return ReviewStatus.NOT_ENGLISH
    words = _LATIN_WORD.findall(text.lower())
    if len(words) >= ENGLISH_MIN_WORDS_TO_JUDGE:
        english = sum(1 for w in words if w in _ENGLISH_FUNCTION_WORDS)
        foreign = sum(1 for w in words if w in _FOREIGN_FUNCTION_WORDS)
        if foreign > english and foreign / len(words) >= FOREIGN_MIN_FUNCTION_WORD_SHARE:
            return ReviewStatus.NOT_ENGLISH
    return ReviewStatus.REVIEWED


# --- Sentences ----------------------------------------------------------------------------------------

_SENTENCE_SPLIT = re.compile(r"(?<=[.!?])\s+|\n")
# Clauses for "I understand": a dash, semicolon, colon or "but" starts a new thought.
_CLAUSE_SPLIT = re.compile(r"\s+-\s+|\s*[;:]\s+|\s+but\s+", re.I)


@dataclass(frozen=True)
class _Sentence:
    start: int
    end: int
    text: str


def _sentences(text: str) -> list[_Sentence]:
    out: list[_Sentence] = []
    pos = 0
    for match in _SENTENCE_SPLIT.finditer(text):
        if match.start() > pos:
            out.append(_Sentence(pos, match.start(), text[pos : match.start()]))
        pos = match.end()
    if pos < len(text):
        out.append(_Sentence(pos, len(text), text[pos:]))
    return out


def _sentence_index(sentences: list[_Sentence], offset: int) -> int:
    lo, hi = 0, len(sentences) - 1
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if sentences[mid].start <= offset:
            lo = mid
        else:
            hi = mid - 1
    return lo


def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.I)


def _widen(text: str, start: int, end: int) -> str:
    """The matched words, widened to whole words so a quote never starts mid-word ("'ll look into it")."""
    while start > 0 and (text[start - 1].isalnum() or text[start - 1] == "'"):
        start -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    return text[start:end]


def _excerpt(text: str) -> str:
    text = text.strip(" ,.;:-!?\"'")
    if len(text) <= MAX_EXCERPT_CHARS:
        return text
    return text[: MAX_EXCERPT_CHARS - 1].rstrip() + "…"


# --- "I care": apology words and how each one is meant --------------------------------------------------

_APOLOGY_WORD = _rx(r"\b(?:sor+y+|soz|apolog(?:y|ies|i[sz]e[sd]?|i[sz]ing)|apols|regret)\b")
# Owning the failure counts as an apology even without "sorry": "we let you down", "that's on us".
_OWNERSHIP = _rx(
    r"\b(?:we|i)\s+(?:really\s+|truly\s+|completely\s+|totally\s+)?(?:let\s+you\s+down|(?:messed|screwed)\s+"
    r"(?:this\s+|it\s+|that\s+)?up|dropped\s+the\s+ball|got\s+(?:this|it|that)\s+wrong|made\s+an?\s+"
    r"(?:\w+\s+)?(?:mistake|error)|should\s+have\s+\w+)"
    r"|\b(?:that|this|it)(?:'?s|\s+is|\s+was)\s+(?:\w+\s+)?(?:on\s+(?:us|me)\b|(?:our|my)\s+(?:\w+\s+)?"
    r"(?:fault|mistake|error|failure)\b)"
    r"|\b(?:entirely|completely|totally|all)\s+(?:ours|mine|on\s+us|our\s+(?:fault|mistake))\b"
    r"|\bour\s+(?:\w+\s+)?let\s+you\s+down\b"
    r"|\b(?:fault|blame|responsibility)\s+(?:lies|rests|is)\s+(?:entirely\s+|squarely\s+|fully\s+)?with\s+"
    r"(?:us|me)\b"
)
_NEGATION_BEFORE = _rx(r"(?:\bnot|n't|\bno|\bnever|\bnothing|\brefuse\s+to)(?:\W+\w+){0,3}\W*$")
_OWNERSHIP_NEGATED = _rx(r"\bnot\b|n't\b|\bnever\b")
_NEGATION_JUST_BEFORE = _rx(r"(?:\bnot|n't|\bnever)\W*$")
_NEGATION_EXCEPTION = _rx(
    r"\b(?:can't|cannot|can\s+not)\s+(?:tell|say|express)\s+you\s+how\s*$|\bnot\s+only\b"
)
_NO_NEED_BEFORE = _rx(r"\bno\s+need\s+to\s*$")
_CONDITIONAL_AFTER = _rx(
    r"^\W*(?:if\b|(?:that\s+)?you\s+(?:feel|felt|think|thought|see\s+it|believe|perceive|had\s+(?:such\s+)?"
    r"an?\s+(?:bad|poor|negative|unpleasant)\s+(?:time|experience)|were\s+(?:upset|offended|unhappy|"
    r"disappointed|annoyed))|(?:that\s+)?you(?:'re|\s+are)\s+(?:upset|unhappy|disappointed|frustrated|"
    r"annoyed|offended)|for\s+how\s+you\s+feel)"
)
_MECHANICAL_AFTER = _rx(
    r"^\W*(?:(?:for|about|over)\s+)?(?:any\s+(?:\w+\s+)?(?:inconvenience|confusion|trouble|disruption|"
    r"frustration|issues?|problems?)|the\s+inconvenience)"
)
_SYMPATHY_AFTER = _rx(r"^\s+to\s+(?:hear|learn|see|read|bother|disturb|trouble|interrupt|inform|say|ask)\b")
_BUT_AFTER = _rx(r"^\W*but\b")
_REGRET_OWNED_AFTER = _rx(r"^\s+(?:that\s+)?(?:we|i|our|my)\b")
_APOLOGY_NOUN_OWNED_BEFORE = _rx(r"(?:\bowe\s+you\s+(?:an?\s+)?|\b(?:my|our)\s+)(?:\w+\s+)?$")

_NON_APOLOGY_PHRASE = _rx(
    r"\b(?:no|an?)\s+apology\s+(?:is\s+|was\s+)?(?:needed|necessary|required|warranted|due)"
    r"|\b(?:won't|will\s+not|not\s+going\s+to|refuse\s+to|don't\s+need\s+to)\s+apologi[sz]e"
    r"|\bsorry,?\s+not\s+sorry\b"
)


class _Meaning(StrEnum):
    OWNED = "owned"
    CONDITIONAL = "conditional"
    NEGATED = "negated"
    MECHANICAL = "mechanical"
    SYMPATHY = "sympathy"
    REFUSAL = "refusal"
    NEUTRAL = "neutral"


@dataclass(frozen=True)
class _Apology:
    meaning: _Meaning
    sentence: int
    excerpt: str


def _classify_apology(text: str, match: re.Match[str], sentence: _Sentence) -> _Meaning:
    word = match.group(0).lower()
    before = text[max(sentence.start, match.start() - 40) : match.start()]
    after = text[match.end() : min(sentence.end, match.end() + 90)]
    if _NO_NEED_BEFORE.search(before):
        return _Meaning.NEUTRAL
    if _NEGATION_BEFORE.search(before) and not _NEGATION_EXCEPTION.search(before):
        return _Meaning.NEGATED
    if _MECHANICAL_AFTER.search(after):
        return _Meaning.MECHANICAL
    if _CONDITIONAL_AFTER.search(after):
        return _Meaning.CONDITIONAL
    if word == "regret":
        return _Meaning.OWNED if _REGRET_OWNED_AFTER.search(after) else _Meaning.NEUTRAL
    if word == "apology":
        return _Meaning.OWNED if _APOLOGY_NOUN_OWNED_BEFORE.search(before) else _Meaning.NEUTRAL
    if _SYMPATHY_AFTER.search(after):
        return _Meaning.SYMPATHY
    if _BUT_AFTER.search(after):
        return _Meaning.REFUSAL
    return _Meaning.OWNED


# --- Flags ----------------------------------------------------------------------------------------------

# Someone other than "us" the failure can be pinned on: partners outside the company, then teams,
# colleagues and "the system" inside it. Blaming either takes back the ownership the apology promised.
_EXTERNAL_PARTY = (
    r"(?:courier|carrier|driver|delivery\s+(?:company|partner|firm)|dpd|ups|fedex|dhl|royal\s+mail|usps|evri|"
    r"hermes|supplier|vendor|manufacturer|partner|provider|airline|contractor|subcontractor|third[-\s]party|"
    r"landlord|insurer|seller|retailer|factory|lab|printer|agency)s?"
)
_PARTY = (
    r"(?:" + _EXTERNAL_PARTY + r"|(?:warehouse|kitchen|chef|housekeeping|technician|team|department|dept|"
    r"colleague|agent|head\s+office|system|billing|accounts|finance|logistics)s?)"
)
_ARTICLE = r"(?:(?:the|our|their|your|an?)\s+)?"

_FLAG_PATTERNS: dict[FlagKind, re.Pattern[str]] = {
    FlagKind.MECHANICAL_FORMULA: _rx(
        r"\bwe\s+value\s+(?:your\s+(?:business|custom|feedback|loyalty|patronage)|you\s+as\s+(?:a|our)\s+\w+)"
        r"|\byour\s+(?:call|business|feedback|satisfaction|custom|complaint|concerns?|opinion)\s+(?:is|are)\s+"
        r"(?:very\s+|extremely\s+|really\s+)?(?:important|valuable|valued)\s+to\s+us"
        r"|\bthank(?:s|\s+you)\s+for\s+your\s+(?:patience\s+and\s+)?understanding"
        r"|\bwe\s+strive\s+to\b|\brest\s+assured\b|\bregret\s+to\s+inform\b"
        r"|\bwe\s+take\s+(?:this|these|it|your\s+\w+|all\s+\w+|such\s+\w+)(?:\s+\w+)?\s+(?:very\s+)?seriously"
        r"|\bthank\s+you\s+for\s+bringing\s+this\s+to\s+our\s+attention"
        r"|\bwe\s+are\s+committed\s+to\s+(?:providing|delivering|excellen)"
        r"|\b(?:any|the)\s+inconvenience\s+(?:this|that|it)?\s*(?:may|might|has|have)?\s*(?:have\s+)?caused"
    ),
    FlagKind.NON_APOLOGY: _NON_APOLOGY_PHRASE,
    FlagKind.BLAMES_CUSTOMER: _rx(
        r"\byou\s+(?:should(?:\s+have|'ve|\s+of)|shouldn't\s+have)\b(?!\s+(?:received|got|gotten|been\s+"
        r"(?:sent|given|told|offered|informed)))"
        r"|\byou\s+(?:failed|forgot|neglected|omitted|didn't\s+bother)\s+to\b"
        r"|\byou\s+(?:didn't|did\s+not|never)\s+(?:read|check|follow|provide|enter|include|update|tell|inform|"
        r"notify|specify|select|click|pay|confirm|contact|return|cancel)\b"
        r"|\bif\s+you\s+(?:had|'d)\s+(?:read|checked|followed|provided|entered|included|updated|told|contacted|"
        r"called|cancelled|paid|listened)\b"
        r"|\byou\s+were\s+(?:clearly\s+)?(?:told|informed|advised|warned|notified)\s+(?:twice|already|clearly|"
        r"several|multiple|repeatedly|before)\b"
        r"|\b(?:your\s+(?:own\s+)?fault|user\s+error|customer\s+error)\b"
        r"|\bas\s+(?:clearly\s+)?(?:stated|mentioned|explained|outlined|noted|shown)\s+(?:in|on|before|"
        r"previously|earlier|above)\b"
        r"|\bas\s+i\s+(?:already\s+|previously\s+)?(?:said|mentioned|explained|told\s+you)\b"
        r"|\byou\s+(?:entered|selected|chose|typed|gave\s+us)\s+the\s+wrong\b"
        r"|\byou\s+(?:need|needed)\s+to\s+(?:read|check)\b"
    ),
    FlagKind.BLAMES_OTHERS: _rx(
        r"\b(?:\w+\s+)?" + _PARTY + r"(?:'s|')?\s+(?:fault|mistake|error|responsibility)\b"
        r"|\b(?:\w+\s+)?"
        + _PARTY
        + r"\s+(?:(?:messed|screwed|mucked)\s+(?:it\s+|this\s+|things\s+)?up|dropped\s+the\s+"
        r"ball|got\s+it\s+wrong|made\s+an?\s+(?:\w+\s+)?(?:mistake|error)|forgot\s+to|failed\s+to)"
        r"|\bnot\s+(?:ours|our\s+fault|my\s+fault|on\s+us)\b|\b(?:isn't|wasn't|is\s+not|was\s+not)\s+"
        r"(?:our|my)\s+fault\b|\bnothing\s+to\s+do\s+with\s+(?:us|me)\b|\bout\s+of\s+(?:our|my)\s+hands\b"
        # Handing the responsibility to someone: "the courier is responsible for that", "our partner is
        # to blame", "caused by our contractor", "the responsibility lies with the landlord".
        r"|\b(?:\w+\s+)?"
        + _PARTY
        + r"(?:\s+(?:who|that))?(?:\s+(?:is|are|was|were)|'s|'re)\s+(?:(?:entirely|"
        r"fully|solely|totally|completely|wholly|really|the\s+ones?)\s+)?(?:responsible|to\s+blame|at\s+fault|"
        r"liable|accountable)\b(?!\s+for\s+(?:re\w+ing|collecting|delivering)\b)"
        r"|\b(?:caused|created)\s+by\s+" + _ARTICLE + r"(?:\w+\s+)?" + _EXTERNAL_PARTY + r"\b"
        r"|\b(?:due\s+to|because\s+of)\s+" + _ARTICLE + r"(?:\w+\s+)?" + _EXTERNAL_PARTY + r"\b"
        r"(?!'s\s+(?:own\s+)?(?:polic|terms|rules))"
        r"|\b(?:fault|blame|responsibility)(?:\s+for(?:\s+\w+){1,3}?)?\s+(?:lies|lay|rests|sits|is)\s+"
        r"(?:\w+\s+)?with\s+(?!us\b|me\b)(?:(?:the|our|their|your|an?)\s+)?\w+"
        # Distancing: "..., not us", "not our responsibility", "we're not responsible", "on their end".
        r"|,\s*(?:and\s+)?not\s+(?:us|me|by\s+us|(?:by\s+)?anything\s+(?:we|i)\s+did)\b"
        r"|\brather\s+than\s+(?:us|anything\s+(?:we|i)\s+did)\b"
        r"|\bnot\s+(?:by\s+)?anything\s+on\s+(?:our|my)\s+(?:side|end|part)\b"
        r"|\b(?:isn't|wasn't|is\s+not|was\s+not|not)\s+(?:our|my)\s+(?:responsibility|doing|problem)\b"
        r"|\b(?:we|i)(?:'re|'m|\s+are|\s+am|\s+were|\s+was)(?:n't|\s+not)\s+(?:responsible|to\s+blame|at\s+fault|"
        r"liable)\b"
        r"|\bon\s+(?:their|(?:the|our)\s+(?:\w+\s+)?\w+'s?)\s+(?:end|side)\b"
        r"|\btake\s+(?:it|this|that|the\s+matter)\s+up\s+with\b"
        r"|\b(?:beyond|outside)\s+(?:of\s+)?(?:our|my)\s+control\b|\bblame\s+(?:the|our|their)\b"
        r"|\bmatter\s+for\s+(?:the\s+)?\w+|\bcontact\s+(?:the\s+)?\w+(?:\s+\w+)?\s+directly\b"
        r"|\b(?:that's|it's|this\s+is|that\s+is)\s+down\s+to\s+(?:the|our|their)\s+\w+"
    ),
    FlagKind.HIDES_BEHIND_POLICY: _rx(
        r"\b(?:due\s+to|per|as\s+per|according\s+to|under|against|in\s+line\s+with)\s+(?:our\s+|the\s+|"
        r"company\s+|\w+\s+)?(?:polic(?:y|ies)|terms(?:\s+and\s+conditions)?|t\s*&\s*cs|rules|procedures?|"
        r"guidelines|regulations)\b"
        r"|\b(?:polic(?:y|ies)|terms(?:\s+and\s+conditions)?|rules|procedures?|guidelines)\s+(?:\w+\s+)?"
        r"(?:doesn't|does\s+not|don't|do\s+not|won't|will\s+not|can't|cannot|states?|says?|prevents?|"
        r"prohibits?|forbids?|requires?|only\s+allows?)\b"
        r"|\b(?:unfortunately|regrettably|sadly),?\s+(?:we|i)\s+(?:can't|cannot|can\s+not|won't|are\s+unable|"
        r"am\s+unable|'re\s+unable|'m\s+unable|are\s+not\s+able)\b"
        r"|\b(?:we|i)(?:\s+are|\s+am|'re|'m)\s+(?:unable|not\s+able|not\s+permitted|not\s+allowed)\s+to\b"
        r"|\b(?:there(?:'s|\s+is)\s+)?nothing\s+(?:more\s+|else\s+)?(?:we|i)\s+can\s+do\b"
        r"|\bour\s+hands\s+are\s+tied\b|\bsystem\s+(?:won't|will\s+not|doesn't|does\s+not)\s+(?:let|allow)\b"
        r"|\bfollowed\s+(?:the\s+)?(?:correct\s+|standard\s+|proper\s+|usual\s+)?(?:procedure|process|"
        r"protocol|policy)\b"
        r"|\b(?:our\s+)?(?:stated|advertised)\s+(?:timeframe|time\s+frame|delivery\s+times?|terms|window)\b"
    ),
    FlagKind.PASSIVE_EVASION: _rx(
        r"\bmistakes?\s+(?:were|was|have\s+been|has\s+been)\s+made\b"
        r"|\b(?:error|mistake|glitch|issue|problem|fault)s?\s+(?:occurred|occured|happened|was\s+made|has\s+"
        r"occurred|arose)\b"
        r"|\b(?:was|were|has\s+been|have\s+been)\s+(?:\w+\s+)?(?:processed|handled|entered|applied|charged|"
        r"billed|sent|shipped|issued|recorded)\s+(?:incorrectly|wrongly|in\s+error|by\s+mistake|erroneously)\b"
        r"|\b(?:these|such)\s+things\s+(?:can\s+)?happen\b|\b(?:delays|mistakes|errors|issues|problems)\s+"
        r"(?:can\s+|do\s+)?happen\b|\bit\s+happens\b"
        r"|\bthere\s+(?:was|has\s+been)\s+(?:an?\s+)?(?:error|mistake|glitch|mix-?up)\b"
    ),
}

_EXTERNAL_PARTY_WORD = _rx(r"\b" + _EXTERNAL_PARTY + r"\b")

# Vague timing is only a flag when the same sentence has no concrete time ("as soon as it's sent,
# by 5pm" is fine); hedges are flagged regardless because they take the promise back.
_VAGUE_TIME = _rx(
    r"\b(?:soon|shortly|eventually|asap|a\.s\.a\.p|in\s+due\s+course|at\s+some\s+point|in\s+the\s+near\s+"
    r"future|at\s+(?:the|our)\s+earliest\s+(?:opportunity|convenience)|when\s+(?:we|i)\s+(?:can|get\s+a\s+"
    r"chance)|sometime|one\s+of\s+these\s+days|in\s+a\s+(?:few|couple\s+of)\s+days)\b"
    # Only as promises: "sorry for the delay in getting back to you" is an apology, not a vague promise.
    r"|(?:\bwill|'ll|\bshall|\bgoing\s+to|\bto)\s+(?:\w+\s+)?(?:look\s+(?:into|at)\s+(?:it|this|that|"
    r"the\s+matter|the\s+issue)|get\s+back\s+to\s+you|be\s+in\s+touch|follow\s+up|reach\s+out\s+to\s+you)\b"
)
_HEDGE = _rx(
    r"\b(?:hopefully|try\s+(?:to|and)|might|can't\s+promise|cannot\s+promise|no\s+promises|can't\s+guarantee|"
    r"cannot\s+guarantee|fingers\s+crossed|with\s+any\s+luck|possibly|probably|if\s+all\s+goes\s+well)\b"
)

# --- "You can trust me": a commitment and a concrete time in the same sentence -------------------------

_COMMITMENT = _rx(
    r"\bwill\b|'ll\b|\b(?:ill|ive|we'll|i'll)\b"
    r"|\b(?:i|we)(?:'ve|\s+have)\s+(?:now\s+|already\s+|just\s+|also\s+)?(?!been\b|to\b|no\b|not\b|had\b)\w+"
    r"|\b(?:i|we)(?:'m|\s+am|'re|\s+are)\s+(?:now\s+|also\s+)?(?:going\s+to|\w+ing)\b"
    r"|\blet\s+me\b|\bon\s+(?:its|their|the)\s+way\b"
    r"|\b(?:is|are)\s+(?:now\s+)?(?:booked|scheduled|arranged|approved|confirmed|sorted|restored)\b"
    r"|\bwe\s+expect\b|\bexpect\s+(?:it|them|a|the|your|power|service)\b"
)
_WEEKDAY = r"(?:mon|tues?|wed(?:nes)?|thu(?:rs?)?|fri|sat(?:ur)?|sun)day"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?|"
    r"oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_NUMBER_WORD = r"(?:\d+(?:\s*(?:-|to)\s*\d+)?|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_CONCRETE_TIME = _rx(
    r"\b(?:today|tonight|tomorrow|tomorow|tmrw|tmr|2moro|tonite)\b"
    r"|\bthis\s+(?:morning|afternoon|evening|week)\b|\bnext\s+(?:week|month|" + _WEEKDAY + r")\b"
    r"|\b" + _WEEKDAY + r"\b"
    r"|\bend\s+of\s+(?:the\s+)?(?:day|week|business|today|play)\b|\b(?:eod|cob|eow)\b|\bfirst\s+thing\b"
    r"|\b\d{1,2}(?::\d{2})?\s*(?:am|pm|a\.m\.|p\.m\.)|\b\d{1,2}:\d{2}\b|\b(?:noon|midday|midnight)\b"
    r"|\b\d{1,2}(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r"\b|\b" + _MONTH + r"\s+\d{1,2}(?:st|nd|rd|th)?\b"
    r"|\bthe\s+\d{1,2}(?:st|nd|rd|th)\b"
    r"|\b(?:within|in|inside)\s+(?:the\s+next\s+|the\s+)?" + _NUMBER_WORD + r"\s+(?:working\s+|business\s+)?"
    r"(?:seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?)\b"
    r"|\bwithin\s+the\s+hour\b|\b(?:right\s+now|right\s+away|straight\s+away|immediately)\b"
)
_PAST_BEFORE = _rx(r"\b(?:since|last|past|ago|yesterday)\s+$")

# --- "I understand": the problem restated in specifics -------------------------------------------------

_EMPATHY = _rx(
    r"\b(?:i|we)\s+(?:completely\s+|totally\s+|fully\s+|really\s+|do\s+|can\s+)?(?:understand|get|hear|see|"
    r"know|realise|realize|appreciate|imagine)\b|\bthat\s+must\s+(?:be|have\s+been)\b|\byou(?:'re|\s+are)\s+right\b"
)
_FAILURE = _rx(
    r"\b(?:late|delay(?:ed|s)?|wait(?:ed|ing)?|on\s+hold|damaged|broken|broke|crushed|cracked|smashed|wrong|"
    r"incorrect(?:ly)?|missing|missed|lost|left|stuck|cancel(?:l?ed|lation)|down|outage|offline|dropp(?:ed|ing)|"
    r"drops|cut\s+off|failed|declined|cold|(?:double|over)[-\s]?charged|overcharg\w*|charged|twice|duplicate|"
    r"froze|frozen|blocked|locked|closed|noise|noisy|rude|estimated|ruined|glitch|bug|leak(?:ed|ing|s)?|"
    r"flooded|never|no\s+one|nobody|without|instead\s+of|old|not|unacceptable|shock|messed|forgot(?:ten)?|"
    r"ignored|mix-?up|no-show|overbooked|bumped|overdue|unpaid|stopped\s+working)\b"
    r"|\b(?:been|is|are|was|were|went|gone)\s+out\b"
    r"|n't\b|(?<!you\s)\bshould(?:n't|\s+not)?\s+have\b"
)
_PERSONAL = _rx(r"\b(?:you|your|you're|you've|ur|u|we|our|us|i|my|me|i'm|im)\b")
_QUESTION_OR_REQUEST = _rx(r"\?\s*$|^\W*please\b")
_TOKEN = re.compile(r"[a-z0-9£$€#]+(?:['.-][a-z0-9]+)*")
_REFERENCE = re.compile(r"\d{2,}")
_STOPWORDS = _words(
    """a about above after again against all also am an and any are aren't as at be because been before
    being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    down during each few for from further had hadn't has hasn't have haven't having he he'd he'll he's her
    here hers herself him himself his how i i'd i'll i'm i've if in into is isn't it it's its itself just
    let's me more most mustn't my myself no nor not of off on once only or other ought our ours ourselves
    out over own same shan't she she'd she'll she's should shouldn't so some such than that that's the
    their theirs them themselves then there there's these they they'd they'll they're they've this those
    through to too under until up very was wasn't we we'd we'll we're we've were weren't what what's when
    when's where where's which while who who's whom why why's with won't would wouldn't you you'd you'll
    you're you've your yours yourself yourselves im ive ill thats dont u ur us hi hello hey dear thanks
    thank please sorry sory apologies apologise apologize apology regret really truly deeply so completely
    totally understand know see hear get got can will must been happened happen happens made make
    customer issue issues problem problems situation experience inconvenience trouble matter thing things
    frustrating frustration upsetting upset annoying disappointing disappointed feel felt way time side
    getting back order orders account request ticket case processed processing fault mistake error errors
    everything anything something nothing one now still even team anyone someone"""
)


def _stem(token: str) -> str:
    token = token.strip("'.-#£$€")
    if token.isdigit():
        return token
    if token.endswith("'s"):
        token = token[:-2]
    if len(token) > 5:
        return token[:5]
    return token[:-1] if len(token) > 3 and token.endswith("s") else token


def _content_tokens(text: str, exclude: frozenset[str] = frozenset()) -> list[str]:
    return [
        t for t in _TOKEN.findall(text.lower()) if t not in _STOPWORDS and t not in exclude and len(t) > 1
    ]


# --- The review -----------------------------------------------------------------------------------------


@dataclass
class _Findings:
    flags: list[Flag]
    flag_sentences: dict[FlagKind, set[int]]


def _find_flags(text: str, sentences: list[_Sentence], apologies: list[_Apology]) -> _Findings:
    found: dict[FlagKind, list[tuple[int, str]]] = {kind: [] for kind in FlagKind}
    for kind, pattern in _FLAG_PATTERNS.items():
        for match in pattern.finditer(text):
            quote = _widen(text, match.start(), match.end())
            found[kind].append((_sentence_index(sentences, match.start()), quote))
    for apology in apologies:
        if apology.meaning in (_Meaning.CONDITIONAL, _Meaning.NEGATED):
            found[FlagKind.NON_APOLOGY].append((apology.sentence, apology.excerpt))
        elif apology.meaning is _Meaning.MECHANICAL:
            found[FlagKind.MECHANICAL_FORMULA].append((apology.sentence, apology.excerpt))
    for idx, sentence in enumerate(sentences):
        hedge = _HEDGE.search(sentence.text)
        if hedge:
            found[FlagKind.VAGUE_PROMISE].append((idx, _widen(sentence.text, hedge.start(), hedge.end())))
            continue
        vague = _VAGUE_TIME.search(sentence.text)
        if vague and not _has_concrete_time(sentence.text):
            found[FlagKind.VAGUE_PROMISE].append((idx, _widen(sentence.text, vague.start(), vague.end())))

    flags: list[Flag] = []
    flag_sentences: dict[FlagKind, set[int]] = {}
    for kind, hits in found.items():
        seen: set[str] = set()
        for idx, raw in sorted(hits):
            excerpt = _excerpt(raw)
            flag_sentences.setdefault(kind, set()).add(idx)
            if excerpt.lower() in seen:
                continue
            seen.add(excerpt.lower())
            flags.append(Flag(kind=kind, excerpt=excerpt, blocking=kind in BLOCKING_FLAGS))
    return _Findings(flags, flag_sentences)


def _find_apologies(text: str, sentences: list[_Sentence]) -> list[_Apology]:
    out: list[_Apology] = []
    for match in _APOLOGY_WORD.finditer(text):
        idx = _sentence_index(sentences, match.start())
        sentence = sentences[idx]
        meaning = _classify_apology(text, match, sentence)
        excerpt = text[match.start() : min(sentence.end, match.end() + 40)]
        out.append(_Apology(meaning, idx, _excerpt(excerpt)))
    for match in _OWNERSHIP.finditer(text):
        idx = _sentence_index(sentences, match.start())
        before = text[max(sentences[idx].start, match.start() - 12) : match.start()]
        # "it's not our fault" disowns rather than owns; it is the blame flag's business, not an apology.
        if _OWNERSHIP_NEGATED.search(match.group(0)) or _NEGATION_JUST_BEFORE.search(before):
            continue
        # "Our courier let you down", "that's our supplier error": the words of ownership, pinned on a
        # partner. They don't own anything; the agent still has to.
        if _EXTERNAL_PARTY_WORD.search(match.group(0)):
            continue
        out.append(_Apology(_Meaning.OWNED, idx, _excerpt(match.group(0))))
    return out


def _has_concrete_time(sentence: str) -> bool:
    for match in _CONCRETE_TIME.finditer(sentence):
        if not _PAST_BEFORE.search(sentence[max(0, match.start() - 12) : match.start()]):
            return True
    return False


def _care_verdict(apologies: list[_Apology], disowning: set[int]) -> SignalVerdict:
    # "Sorry if you feel we let you down": the condition governs the whole sentence, ownership included.
    conditional = {a.sentence for a in apologies if a.meaning in (_Meaning.CONDITIONAL, _Meaning.NEGATED)}
    owned = [a for a in apologies if a.meaning is _Meaning.OWNED and a.sentence not in conditional]
    kept = [a for a in owned if a.sentence not in disowning]
    if kept:
        return SignalVerdict(
            signal=Signal.CARE, present=True, evidence=kept[0].excerpt, reason="owned_apology"
        )
    taken_back = {_Meaning.OWNED, _Meaning.REFUSAL, _Meaning.SYMPATHY}
    if any(a.meaning in taken_back and a.sentence in disowning for a in apologies):
        reason = "apology_taken_back"
    else:
        meanings = {a.meaning for a in apologies}
        reason = "no_apology"
        for meaning, why in (
            (_Meaning.CONDITIONAL, "conditional_apology"),
            (_Meaning.NEGATED, "negated_apology"),
            (_Meaning.MECHANICAL, "formula_only"),
            (_Meaning.SYMPATHY, "sympathy_only"),
            (_Meaning.REFUSAL, "apology_for_refusal"),
        ):
            if meaning in meanings:
                reason = why
                break
    return SignalVerdict(signal=Signal.CARE, present=False, reason=reason)


def _problem_text(sentence: str) -> str:
    """The part of a sentence that can restate the problem: what comes before any promise."""
    commitment = _COMMITMENT.search(sentence)
    return sentence[: commitment.start()] if commitment else sentence


def _understand_verdict(
    sentences: list[_Sentence], excluded: set[int], context: CoachContext | None, text: str
) -> SignalVerdict:
    name_tokens = frozenset(_TOKEN.findall((context.customer_name or "").lower())) if context else frozenset()
    for idx, sentence in enumerate(sentences):
        if idx in excluded or _QUESTION_OR_REQUEST.search(sentence.text):
            continue
        for clause in _CLAUSE_SPLIT.split(_problem_text(sentence.text)):
            if not _FAILURE.search(clause) or not _PERSONAL.search(clause):
                continue
            if len(_content_tokens(clause, name_tokens)) >= UNDERSTAND_MIN_DETAIL_WORDS:
                return SignalVerdict(
                    signal=Signal.UNDERSTAND,
                    present=True,
                    evidence=_excerpt(clause),
                    reason="restated_problem",
                )
    if context and context.summary:
        summary_stems = {_stem(t) for t in _content_tokens(context.summary, name_tokens)}
        allowed = " ".join(s.text for i, s in enumerate(sentences) if i not in excluded)
        shared = summary_stems & {_stem(t) for t in _content_tokens(allowed, name_tokens)}
        score = sum(2 if _REFERENCE.fullmatch(s) else 1 for s in shared)
        if score >= UNDERSTAND_MIN_CONTEXT_OVERLAP:
            return SignalVerdict(
                signal=Signal.UNDERSTAND,
                present=True,
                evidence=", ".join(sorted(shared)),
                reason="matches_case_summary",
            )
    reason = "bare_understand" if _EMPATHY.search(text) else "no_restatement"
    return SignalVerdict(signal=Signal.UNDERSTAND, present=False, reason=reason)


def _trust_verdict(sentences: list[_Sentence], excluded: set[int]) -> SignalVerdict:
    saw_commitment = saw_time = hedged = False
    for idx, sentence in enumerate(sentences):
        if idx in excluded:
            continue
        commitment = bool(_COMMITMENT.search(sentence.text))
        concrete = _has_concrete_time(sentence.text)
        saw_commitment = saw_commitment or commitment
        saw_time = saw_time or concrete
        if commitment and concrete:
            if _HEDGE.search(sentence.text):
                hedged = True
                continue
            return SignalVerdict(
                signal=Signal.TRUST, present=True, evidence=_excerpt(sentence.text), reason="step_and_time"
            )
    if hedged:
        reason = "hedged"
    elif saw_commitment:
        reason = "no_time"
    elif saw_time:
        reason = "no_step"
    else:
        reason = "no_step_no_time"
    return SignalVerdict(signal=Signal.TRUST, present=False, reason=reason)


def _absent(signal: Signal, reason: str) -> SignalVerdict:
    return SignalVerdict(signal=signal, present=False, reason=reason)


def review_apology(draft: str, *, case_context: CoachContext | None = None) -> ApologyReview:
    """Review a reply to a customer for the three signals and the anti-patterns the doctrine names."""
    raw = draft.strip()
    text = _normalise(raw[:MAX_REVIEW_CHARS])
    status = _language_status(text) if text else ReviewStatus.EMPTY
    if status is not ReviewStatus.REVIEWED:
        reason = "empty" if status is ReviewStatus.EMPTY else "not_english"
        return ApologyReview(
            status=status,
            care=_absent(Signal.CARE, reason),
            understand=_absent(Signal.UNDERSTAND, reason),
            trust=_absent(Signal.TRUST, reason),
            flags=[],
            accepted=False,
            coaching=[EMPTY_DRAFT_COACHING if status is ReviewStatus.EMPTY else NOT_ENGLISH_COACHING],
        )

    sentences = _sentences(text)
    apologies = _find_apologies(text, sentences)
    findings = _find_flags(text, sentences, apologies)
    by_kind = findings.flag_sentences
    # An apology that shares its sentence with blame or a policy excuse is taken back by it
    # ("I'm sorry, but you should have…"), and such sentences don't restate the customer's problem.
    disowning = (
        by_kind.get(FlagKind.BLAMES_CUSTOMER, set())
        | by_kind.get(FlagKind.BLAMES_OTHERS, set())
        | by_kind.get(FlagKind.HIDES_BEHIND_POLICY, set())
    )
    not_understanding = (
        by_kind.get(FlagKind.BLAMES_CUSTOMER, set())
        | by_kind.get(FlagKind.HIDES_BEHIND_POLICY, set())
        | by_kind.get(FlagKind.NON_APOLOGY, set())
    )
    care = _care_verdict(apologies, disowning)
    understand = _understand_verdict(sentences, not_understanding, case_context, text)
    trust = _trust_verdict(sentences, not_understanding)
    blocking = any(flag.blocking for flag in findings.flags)
    accepted = care.present and understand.present and trust.present and not blocking
    coaching = _coach(care, understand, trust, findings.flags, case_context, len(raw))
    return ApologyReview(
        status=status,
        care=care,
        understand=understand,
        trust=trust,
        flags=findings.flags,
        accepted=accepted,
        coaching=coaching,
    )


# --- Coaching -------------------------------------------------------------------------------------------

_PRONOUNS = (
    (re.compile(r"\b(?:he|she|they)\b", re.I), "you"),
    (re.compile(r"\b(?:his|her|their)\b", re.I), "your"),
    (re.compile(r"\bthe customer\b", re.I), "you"),
)
_STARTS_WITH_PAST_VERB = _rx(r"^(?:\w+ed|sent|lost|left|took|gave|made|kept|forgot|broke|froze|sold|told)\b")


@dataclass(frozen=True)
class _Examples:
    restate: str
    step: str


_CATEGORY_EXAMPLES: tuple[tuple[re.Pattern[str], _Examples], ...] = (
    (
        _rx(r"deliver|parcel|courier|shipping|e-?commerce|order|retail|shop"),
        _Examples(
            "I can see your order #4411 was due on Monday, and it still hasn't arrived.",
            "I've re-sent your order by express; it will arrive by Thursday, and I'll email you the tracking "
            "link within the hour.",
        ),
    ),
    (
        _rx(r"bill|bank|payment|refund|invoice|charge|card|finance"),
        _Examples(
            "I can see we charged your card twice for the same £120 payment on 3 March.",
            "I've refunded the duplicate charge today; you'll see it on your statement within 3 working days.",
        ),
    ),
    (
        _rx(r"saas|outage|software|app|platform|login|incident"),
        _Examples(
            "I can see the dashboard was down for three hours on Monday and blocked your payroll export.",
            "I'll email you an update by 3pm today, and again the moment it's fixed.",
        ),
    ),
    (
        _rx(r"air|flight|travel|train|rental|booking"),
        _Examples(
            "I can see your flight was cancelled on Sunday and you were stuck at the airport overnight.",
            "I've rebooked you on tomorrow's 9:40am flight and I'll text you the boarding pass by 6pm tonight.",
        ),
    ),
    (
        _rx(r"restaurant|food|meal|dining|kitchen|cafe"),
        _Examples(
            "I can see you waited 50 minutes and then your main course arrived cold.",
            "I've refunded your meal today, and I'll call you tomorrow before noon to invite you back.",
        ),
    ),
    (
        _rx(r"telecom|broadband|internet|phone|mobile|network|sim"),
        _Examples(
            "I can see your broadband has been down since Saturday, and you work from home.",
            "An engineer is booked for tomorrow between 8am and 12pm, and I'll text you their name by 6pm "
            "today.",
        ),
    ),
    (
        _rx(r"clinic|health|patient|appointment|doctor|dental|hospital"),
        _Examples(
            "I can see we cancelled your appointment without telling you, after you'd taken the day off.",
            "I've booked you the first slot on Friday at 9:30am and I'll call you tomorrow morning to confirm.",
        ),
    ),
    (
        _rx(r"utilit|energy|power|gas|water|electric|meter"),
        _Examples(
            "I can see we sent you an estimated bill of £640, about double your usual, instead of using your "
            "reading.",
            "I've cancelled the estimated bill; a corrected one will reach you by email within 48 hours.",
        ),
    ),
    (
        _rx(r"hotel|room|stay|resort|hospitality"),
        _Examples(
            "I can see your room wasn't cleaned for two days and your towels weren't replaced.",
            "The room will be fully serviced within the hour, and I've taken tonight's rate off your bill.",
        ),
    ),
)
_DEFAULT_EXAMPLES = _Examples(
    "I can see your order was due on Monday and still hasn't arrived, so you've had to chase us twice.",
    "I'll call you back before 3pm today with an answer.",
)


def _examples_for(context: CoachContext | None) -> _Examples:
    if context is None:
        return _DEFAULT_EXAMPLES
    haystack = f"{context.category or ''} {context.summary or ''}"
    for pattern, examples in _CATEGORY_EXAMPLES:
        if pattern.search(haystack):
            return examples
    return _DEFAULT_EXAMPLES


def _summary_for_customer(context: CoachContext | None) -> str | None:
    if context is None or not context.summary or not context.summary.strip():
        return None
    summary = " ".join(context.summary.split()).rstrip(".")
    for pattern, replacement in _PRONOUNS:
        summary = pattern.sub(replacement, summary)
    if len(summary) > 160:
        summary = summary[:159].rstrip() + "…"
    return summary[0].lower() + summary[1:] if summary[:2] != summary[:2].upper() else summary


def _salutation(context: CoachContext | None) -> str:
    name = greeting_name(context.customer_name) if context else None
    return f"{name}, " if name else ""


def _care_example(context: CoachContext | None) -> str:
    summary = _summary_for_customer(context)
    hello = _salutation(context)
    if summary is None:
        return f"“{hello}I'm sorry we got this wrong — that's on us.”"
    if _STARTS_WITH_PAST_VERB.search(summary):
        return f"“{hello}I'm sorry we {summary}. That's on us.”"
    return f"“{hello}I'm sorry — {summary}, and that's on us.”"


def _understand_example(context: CoachContext | None) -> str:
    summary = _summary_for_customer(context)
    if summary is None:
        return f"“{_examples_for(context).restate}”"
    if _STARTS_WITH_PAST_VERB.search(summary):
        return f"“I can see we {summary}.”"
    return f"“I can see what happened: {summary}.”"


def _first(flags: Iterable[Flag], kind: FlagKind) -> Flag | None:
    return next((flag for flag in flags if flag.kind is kind), None)


def _coach(
    care: SignalVerdict,
    understand: SignalVerdict,
    trust: SignalVerdict,
    flags: list[Flag],
    context: CoachContext | None,
    length: int,
) -> list[str]:
    lines: list[str] = []
    step_example = f"“{_examples_for(context).step}”"

    blame_c = _first(flags, FlagKind.BLAMES_CUSTOMER)
    if blame_c:
        lines.append(
            f"Take out “{blame_c.excerpt}” — it puts the failure on the customer, even if they played a part. "
            f"Own what you can instead: “I'm sorry this went wrong — let me put it right.”"
        )
    blame_o = _first(flags, FlagKind.BLAMES_OTHERS)
    if blame_o:
        lines.append(
            f"“{blame_o.excerpt}” shifts the blame onto someone else. Your customer doesn't care whose fault "
            f"it was: they dealt with us, and you own it now. Leave out who caused it and say what you will "
            f"do: {step_example}"
        )
    non_apology = _first(flags, FlagKind.NON_APOLOGY)
    if non_apology:
        lines.append(
            f"“{non_apology.excerpt}” doesn't apologise for what happened (it questions their feelings or "
            f"refuses), which usually makes things worse. Apologise for the failure itself: "
            f"{_care_example(context)}"
        )
    policy = _first(flags, FlagKind.HIDES_BEHIND_POLICY)
    if policy:
        lines.append(
            f"“{policy.excerpt}” hides behind a rule. If the answer is no, say it as yourself and offer what "
            f"you *can* do: “I can't refund this booking, but I can move you to any date this month at no "
            f"cost.”"
        )

    if not care.present and care.reason not in ("conditional_apology", "negated_apology"):
        why = {
            "formula_only": "“sorry for any inconvenience” is a formula, not an apology",
            "sympathy_only": "“sorry to hear” sounds like a bystander, not someone taking responsibility",
            "apology_for_refusal": "the apology is for the “no”, not for what went wrong",
            "apology_taken_back": "the apology is taken back by the excuse in the same sentence",
        }.get(care.reason, "there's no apology yet")
        lines.append(
            f"Show you care: {why}. Say sorry for what went wrong, and own it: {_care_example(context)}"
        )
    if not understand.present:
        why = (
            "“I understand” on its own doesn't show that you do"
            if understand.reason == "bare_understand"
            else "nothing in the draft restates their problem"
        )
        lines.append(
            f"Show you understand: {why}. Say what went wrong in your own words, with the specifics, so they "
            f"know you understood: {_understand_example(context)}"
        )
    vague = _first(flags, FlagKind.VAGUE_PROMISE)
    if not trust.present:
        why = {
            "hedged": "the promise is hedged, so they can't hold you to it",
            "no_time": "there's a next step but no time",
            "no_step": "there's a time but no step you will take",
        }.get(trust.reason, "there's no next step and no time")
        if vague:
            why += f" (“{vague.excerpt}” is not a time they can hold you to)"
        lines.append(
            f"Show they can trust you to take care of this: {why}. Give one concrete next step and when it "
            f"will happen: {step_example}"
        )
    elif vague:
        lines.append(f"Drop “{vague.excerpt}” — you already gave a real time; keep only that.")

    mechanical = _first(flags, FlagKind.MECHANICAL_FORMULA)
    if mechanical:
        lines.append(
            f"“{mechanical.excerpt}” reads like a form letter. Cut it, or say something only you could write "
            f"to this customer: {_care_example(context)}"
        )
    passive = _first(flags, FlagKind.PASSIVE_EVASION)
    if passive:
        lines.append(
            f"“{passive.excerpt}” hides who did it. Say “we”: “We charged you twice — that was our mistake.”"
        )
    if length > LONG_DRAFT_CHARS:
        unread = (
            f" I only read the first {MAX_REVIEW_CHARS:,} characters." if length > MAX_REVIEW_CHARS else ""
        )
        lines.append(
            f"This draft is {length:,} characters long; customers read short messages. Keep the apology, "
            f"the restated problem and the next step with its time, and cut the rest.{unread}"
        )
    return lines


def _join_within(lines: list[str], limit: int) -> str:
    out: list[str] = []
    used = 0
    for line in lines:
        extra = len(line) + (1 if out else 0)
        if used + extra <= limit:
            out.append(line)
            used += extra
        elif not out:
            # Even the most important line is too long: cut it rather than show nothing.
            return line[: max(0, limit - 1)].rstrip() + "…" if limit > 0 else ""
        else:
            break
    return "\n".join(out)
