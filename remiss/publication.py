"""What the public may read: launched rounds, their recipients, and submitted replies.

A reply is a public record once it has been received, so everything here about a reply is read
from `response_versions` (what was sent), never from `responses` (the body's working copy, which
may hold words the body has not sent). `responses` is joined only for its link to the referral.
Every function runs a fixed number of queries, whatever the number of bodies.
"""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Text, case, cast, exists, func, or_, select
from sqlalchemy.orm import Session, aliased, contains_eager, joinedload, undefer

from .i18n import swedish_key
from .models import (
    Body, Draft, Referral, ReferralRound, ReferralState, Response, ResponseVersion, RoundState, StoredFile,
    Strategy,
)

LAUNCHED = (RoundState.OPEN, RoundState.CLOSED)
ANSWERED = (ReferralState.SUBMITTED, ReferralState.DECLINED)


@dataclass(frozen=True, slots=True)
class PublishedRound:
    round: ReferralRound
    answered: int
    recipients: int  # not counting withdrawn referrals


@dataclass(frozen=True, slots=True)
class Recipient:
    """One body on a round's sändlista, with its latest submitted version when it has answered."""

    referral: Referral
    version: ResponseVersion | None

    @property
    def withdrawn(self) -> bool:
        return self.referral.state == ReferralState.WITHDRAWN


@dataclass(frozen=True, slots=True)
class PublishedReply:
    version: ResponseVersion
    referral_id: int
    round_id: int
    body_name: str
    strategy_title: str
    case_reference: str


def _published_versions():
    """Submitted versions of answered referrals in launched rounds: what a public page may show."""
    return (
        select(ResponseVersion)
        .join(Response, Response.id == ResponseVersion.response_id)
        .join(Referral, Referral.id == Response.referral_id)
        .join(ReferralRound, ReferralRound.id == Referral.round_id)
        .where(ReferralRound.state.in_(LAUNCHED), Referral.state.in_(ANSWERED))
    )


def _latest_of(versions):
    """Narrow a select of ResponseVersion to the latest version of each response (the one that counts)."""
    later = aliased(ResponseVersion)
    return versions.where(~exists().where(later.response_id == ResponseVersion.response_id,
                                          later.number > ResponseVersion.number))


def list_published_rounds(session: Session) -> list[PublishedRound]:
    """Launched rounds, newest first, with how many of their recipients have answered. Two queries."""
    rounds = session.scalars(
        select(ReferralRound).join(Strategy, Strategy.id == ReferralRound.strategy_id)
        .options(contains_eager(ReferralRound.strategy))
        .where(ReferralRound.state.in_(LAUNCHED))
        .order_by(ReferralRound.launched_at.desc(), ReferralRound.id.desc())
    ).all()
    counts = {round_id: (answered, total) for round_id, answered, total in session.execute(
        select(Referral.round_id,
               func.count(case((Referral.state.in_(ANSWERED), 1))),
               func.count(case((Referral.state != ReferralState.WITHDRAWN, 1))))
        .where(Referral.round_id.in_([r.id for r in rounds]))
        .group_by(Referral.round_id)
    )} if rounds else {}
    return [PublishedRound(r, *counts.get(r.id, (0, 0))) for r in rounds]


def get_published_round(session: Session, round_id: int) -> ReferralRound | None:
    """A launched round with its strategy and draft (the file's name, not its bytes). One query."""
    return session.scalar(
        select(ReferralRound)
        .options(joinedload(ReferralRound.strategy), joinedload(ReferralRound.draft).joinedload(Draft.file),
                 joinedload(ReferralRound.draft).joinedload(Draft.clean_file))
        .where(ReferralRound.id == round_id, ReferralRound.state.in_(LAUNCHED))
    )


def list_recipients(session: Session, round_: ReferralRound) -> list[Recipient]:
    """The sändlista in Swedish alphabetical order, each answered body with its latest version. Two queries."""
    referrals = session.scalars(
        select(Referral).join(Body, Body.id == Referral.body_id).options(contains_eager(Referral.body))
        .where(Referral.round_id == round_.id)
    ).all()
    latest = {referral_id: version for version, referral_id in session.execute(
        _latest_of(_published_versions().add_columns(Response.referral_id)).where(Referral.round_id == round_.id)
    )}
    return [Recipient(r, latest.get(r.id)) for r in sorted(referrals, key=lambda r: swedish_key(r.body.name))]


def get_published_reply(session: Session, round_id: int, referral_id: int) -> tuple[Referral, ResponseVersion] | None:
    """An answered body's latest submitted version, in a launched round. Two queries."""
    referral = session.scalar(
        select(Referral).join(ReferralRound, ReferralRound.id == Referral.round_id)
        .options(contains_eager(Referral.round).joinedload(ReferralRound.strategy), joinedload(Referral.body))
        .where(Referral.id == referral_id, Referral.round_id == round_id,
               ReferralRound.state.in_(LAUNCHED), Referral.state.in_(ANSWERED))
    )
    if referral is None:
        return None
    version = session.scalar(_latest_of(_published_versions()).where(Referral.id == referral.id))
    return (referral, version) if version is not None else None


def _lists_file(content: dict, file_id: int) -> bool:
    return any(isinstance(a, dict) and a.get("file_id") == file_id for a in content.get("attachments") or [])


def get_public_file(session: Session, file_id: int) -> StoredFile | None:
    """A stored file the public may download: the draft of a launched round as it went out (the clean
    copy where one was made, never the original with its tracked changes and comments), or an attachment
    of a submitted version. A file only in a working copy is not public. At most three queries."""
    outgoing = func.coalesce(Draft.clean_file_id, Draft.file_id)
    is_draft = session.scalar(
        select(Draft.id).join(ReferralRound, ReferralRound.draft_id == Draft.id)
        .where(outgoing == file_id, ReferralRound.state.in_(LAUNCHED)).limit(1)
    ) is not None
    if not is_draft:
        # Attachments live inside the JSON of each version, which the two databases search
        # differently: narrow with a LIKE on the text both store, then check the parsed content.
        text = cast(ResponseVersion.content, Text)
        candidates = session.scalars(_published_versions().where(or_(*(
            text.like(f'%"file_id":{space}{file_id}{end}%') for space in ("", " ") for end in (",", "}")
        )))).all()
        if not any(_lists_file(version.content, file_id) for version in candidates):
            return None
    return session.scalar(select(StoredFile).options(undefer(StoredFile.data)).where(StoredFile.id == file_id))


def list_feed_entries(session: Session, limit: int = 50) -> tuple[list[ReferralRound], list[PublishedReply]]:
    """The newest launched rounds and submitted versions, at most `limit` of each. Two queries."""
    rounds = session.scalars(
        select(ReferralRound).join(Strategy, Strategy.id == ReferralRound.strategy_id)
        .options(contains_eager(ReferralRound.strategy))
        .where(ReferralRound.state.in_(LAUNCHED))
        .order_by(ReferralRound.launched_at.desc(), ReferralRound.id.desc()).limit(limit)
    ).all()
    replies = [PublishedReply(*row) for row in session.execute(
        _published_versions()
        .join(Body, Body.id == Referral.body_id).join(Strategy, Strategy.id == ReferralRound.strategy_id)
        .add_columns(Referral.id, Referral.round_id, Body.name, Strategy.title, Strategy.case_reference)
        .order_by(ResponseVersion.submitted_at.desc(), ResponseVersion.id.desc()).limit(limit)
    )]
    return rounds, replies


def published_at(item: ReferralRound | PublishedReply) -> datetime:
    return item.launched_at if isinstance(item, ReferralRound) else item.version.submitted_at


def newest(rounds: list[ReferralRound], replies: list[PublishedReply], limit: int = 50) -> list:
    """Rounds and replies together, newest first: what the feed lists."""
    return sorted([*rounds, *replies], key=published_at, reverse=True)[:limit]
