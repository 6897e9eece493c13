"""A realistic, offline stand-in for Slack: Web API server, workspace state and signed "user" requests."""

from slack_double.api import REJECTION_ERRORS, ApiError
from slack_double.faults import Fault, FaultPlan
from slack_double.server import SlackDouble
from slack_double.socket_mode import Delivery, Envelope, Link, SocketModeServer
from slack_double.state import Call, Channel, Clock, Ephemeral, User
from slack_double.user import AppResponse, ElementNotFound, Found, Person, SlackSender

__all__ = [
    "REJECTION_ERRORS",
    "ApiError",
    "AppResponse",
    "Call",
    "Channel",
    "Clock",
    "Delivery",
    "ElementNotFound",
    "Envelope",
    "Ephemeral",
    "Fault",
    "FaultPlan",
    "Found",
    "Link",
    "Person",
    "SlackDouble",
    "SlackSender",
    "SocketModeServer",
    "User",
]
