"""The Slack edge of follow-ups: paced exactly-once delivery, what each kind of follow-up shows, and the
listeners for nudge buttons and the follow-up modals (people's time zones: handlers/people.py)."""

from handlers.followups.delivery import ChannelPacer, SlackFollowUpMessenger
from handlers.followups.kinds import CaseFollowUpHandler, NoticeHandler
from handlers.followups.listeners import FollowUpListeners

__all__ = [
    "CaseFollowUpHandler",
    "ChannelPacer",
    "FollowUpListeners",
    "NoticeHandler",
    "SlackFollowUpMessenger",
]
