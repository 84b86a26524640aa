"""The data model of DESIGN.md, one module per part of the process."""
from .people import Body, BodyKind, LoginAttempt, Membership, PasswordToken, Role, User
from .records import AuditEvent, Compilation, OutboxMessage, OutboxState, PlannedReminder
from .referrals import (
    DEFAULT_REMINDER_OFFSETS,
    ExtensionRequest,
    ExtensionState,
    Referral,
    ReferralRound,
    ReferralState,
    RoundState,
)
from .responses import (
    Disposition,
    DispositionDecision,
    Response,
    ResponseAttachment,
    ResponseVersion,
    SectionComment,
    Stance,
)
from .strategies import Draft, Section, Strategy, StoredFile
from .types import UTCDateTime

__all__ = [
    "AuditEvent", "Body", "Compilation", "BodyKind", "DEFAULT_REMINDER_OFFSETS", "Disposition", "DispositionDecision",
    "Draft", "ExtensionRequest", "ExtensionState", "LoginAttempt", "Membership", "OutboxMessage",
    "OutboxState", "PasswordToken", "PlannedReminder", "Referral", "ReferralRound", "ReferralState", "Response",
    "ResponseAttachment", "ResponseVersion", "Role", "RoundState", "Section", "SectionComment",
    "Stance", "StoredFile", "Strategy", "User", "UTCDateTime",
]
