"""The Slack edge of follow-ups: paced exactly-once delivery, people's time zones, what each kind of
follow-up shows, and the listeners for nudge buttons and the follow-up modals."""

from handlers.followups.delivery import ChannelPacer, SlackFollowUpMessenger
from handlers.followups.kinds import CaseFollowUpHandler, NoticeHandler
from handlers.followups.listeners import FollowUpListeners
from handlers.followups.people import SlackPeopleDirectory

__all__ = [
    "CaseFollowUpHandler",
    "ChannelPacer",
    "FollowUpListeners",
    "NoticeHandler",
    "SlackFollowUpMessenger",
    "SlackPeopleDirectory",
]
