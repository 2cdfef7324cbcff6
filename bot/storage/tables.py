"""SQLAlchemy 2 mapped tables: the desk's whole state, every deadline included.

Times are stored as timezone-aware UTC (`UtcDateTime`), because SQLite has no time zone
type and a naive datetime read back from it would otherwise be ambiguous.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    DDL, BigInteger, Boolean, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text,
    TypeDecorator, UniqueConstraint, text,
)
from sqlalchemy import event
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Named constraints keep Alembic's batch mode on SQLite and PostgreSQL in step.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class UtcDateTime(TypeDecorator):
    """A DateTime that only accepts aware values and always returns aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(timezone.utc)
        # SQLite stores text; keep it naive-UTC so ordering by text is ordering by time.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect):  # noqa: D102
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    """Declarative base with the naming convention above."""

    metadata = MetaData(naming_convention=NAMING)


class WorkspaceRow(Base):
    """A tenant: one Slack team, one Discord guild or the console."""

    __tablename__ = "workspaces"
    __table_args__ = (UniqueConstraint("platform", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(200), default="")
    # Calendar, SLA policy and template overrides as JSON text.
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    next_ticket_number: Mapped[int] = mapped_column(Integer, default=1)
    # Bumped by every change to the workspace's knowledge base, so a search in any
    # process knows its cached term statistics are stale (bot/storage/kb_search.py).
    kb_revision: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # INC-N: incidents are numbered per workspace, as tickets are.
    next_incident_number: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PersonRow(Base):
    """Someone the desk knows in one workspace, with their role."""

    __tablename__ = "people"
    __table_args__ = (UniqueConstraint("workspace_id", "external_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    external_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(200), default="")
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    tz: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # With no ``tz`` from the platform: the zone the desk first told them a time in,
    # which every time after is said in (bot/domain/people.py, ``Person.reads_in``).
    told_tz: Mapped[str | None] = mapped_column(String(64), nullable=True)
    role: Mapped[str] = mapped_column(String(16), default="requester")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set while ``role`` is one a platform role raised it to (a Discord role named in
    # HELPDESK_DISCORD_*_ROLES): that role, and the role the desk had granted before,
    # to return to when the platform role goes. NULL: the desk granted ``role`` itself.
    platform_role: Mapped[str | None] = mapped_column(String(16), nullable=True)
    granted_role: Mapped[str | None] = mapped_column(String(16), nullable=True)


class TeamRow(Base):
    """A team of a workspace (IT, HR, Facilities...): its own triage channel, people and
    policy. Every workspace has one default team, ``it`` until renamed, which takes what
    no intake channel routes elsewhere."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("workspace_id", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(40))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    # The team's calendar, SLA targets and wording overrides as JSON text; what it
    # leaves out comes from the workspace's settings, then from policy.toml.
    settings_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TeamMemberRow(Base):
    """Someone who works a team, as an agent or a lead. Their role (what they may do)
    stays on the person; this says which teams they answer for."""

    __tablename__ = "team_members"
    __table_args__ = (UniqueConstraint("team_id", "person_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class OnCallRow(Base):
    """A lead on duty for a team from ``starts_at`` until ``ends_at`` (open-ended when
    NULL), set with ``/helpdesk oncall``; it wins over the team's weekly rota while it
    lasts, and the newest wins over an older one."""

    __tablename__ = "team_oncall"
    __table_args__ = (Index("ix_team_oncall_team", "team_id", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime] = mapped_column(UtcDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ChannelConfigRow(Base):
    """A channel with a job in the desk: intake or triage, for one team."""

    __tablename__ = "channel_configs"
    __table_args__ = (UniqueConstraint("workspace_id", "purpose", "channel_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    purpose: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The team it serves; NULL (rows written before teams) is the default team.
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="CASCADE"), nullable=True)


class TicketRow(Base):
    """One request, numbered per workspace."""

    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("workspace_id", "number"),
        Index("ix_tickets_requester_status", "requester_id", "status"),
        Index("ix_tickets_thread", "workspace_id", "channel_id", "thread_id"),
        # The queue: every new ticket counts the unowned open ones ahead of it, and the
        # queue views list them; without this that reads every ticket the desk ever had.
        Index("ix_tickets_queue", "workspace_id", "status", "owner_id"),
        # The latest answered tickets, for the honest wait every new ticket quotes: without
        # it, a backlog of unanswered tickets is read through on every opening.
        Index("ix_tickets_answered", "workspace_id", "id",
              sqlite_where=text("first_response_at IS NOT NULL"),
              postgresql_where=text("first_response_at IS NOT NULL")),
        # Reports (bot/reports/figures.py) read a period's tickets by when they opened,
        # were first answered and were resolved; each index also holds what the figures
        # need of the row, so a month of a big desk is read from the index alone.
        Index("ix_tickets_report_opened", "workspace_id", "created_at", "priority",
              "owner_id", "channel_id"),
        Index("ix_tickets_report_answered", "workspace_id", "first_response_at",
              "created_at", "priority", "owner_id", "channel_id"),
        Index("ix_tickets_report_resolved", "workspace_id", "resolved_at", "created_at",
              "priority", "owner_id", "channel_id"),
        Index("ix_tickets_report_closed", "workspace_id", "closed_at", "resolved_at",
              "priority", "owner_id", "channel_id"),
        # The reports an incident's card counts as asked and not answered yet: a handful
        # of rows among all the desk's tickets, so only those are indexed.
        Index("ix_tickets_offered", "offered_incident_id",
              sqlite_where=text("offered_incident_id IS NOT NULL"),
              postgresql_where=text("offered_incident_id IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    requester_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(24))
    priority: Mapped[str] = mapped_column(String(2))
    impact: Mapped[str | None] = mapped_column(String(8), nullable=True)
    urgency: Mapped[str | None] = mapped_column(String(8), nullable=True)
    priority_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    subject: Mapped[str] = mapped_column(String(200))
    first_message: Mapped[str] = mapped_column(Text)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    thread_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    source_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    triage_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    triage_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    in_a_hurry: Mapped[bool] = mapped_column(Boolean, default=False)
    # The team that has it; NULL (a ticket from before teams) is the default team's.
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True)
    # A lead's service exception: this ticket's own targets (seconds by target name,
    # JSON), which win over its team's for its priority. NULL: none.
    sla_exception: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The open incident its requester was asked about at intake ("Is this what you're
    # seeing?") and has not answered: the incident's card counts it instead of a card
    # of its own (bot/desk/cards.py). NULL once it leaves that shadow. No foreign key:
    # an incident is never deleted but with its workspace, and its tickets with it.
    offered_incident_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


# The timeline lines reports count, each with a partial index of its own (below):
# a reopen (a status change out of resolved or closed back to work), a rating, a rating's
# comment, a ticket the requester solved with an article. Written out in full, not with
# bound values, so that a query stating the same words can use its index.
REOPENED = ("kind = 'status' AND body NOT IN ('resolved', 'closed') AND "
            "(data_json LIKE '{\"previous\": \"resolved\"%' OR "
            "data_json LIKE '{\"previous\": \"closed\"%')")
RATED = "kind = 'feedback' AND data_json LIKE '{\"rating\":%'"
COMMENTED = "kind = 'feedback' AND data_json LIKE '{\"comment\":%'"
SELF_SOLVED = "kind = 'self_solved'"
# A resolution and a close: status lines. The reports count them from ReportOutcomeRow
# (below), which the timeline writes with each of them.
RESOLVED_EVENT = "kind = 'status' AND body = 'resolved'"
CLOSED_EVENT = "kind = 'status' AND body = 'closed'"


class TicketEventRow(Base):
    """One line of a ticket's timeline: a message, a note or a change, with who and when."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),
                      # Reports count a period's reopens, ratings, comments and
                      # self-solves, each from a small index of those lines alone: a
                      # general (kind, time) index reads every status change of a period
                      # to find its few reopens, and SQLite prefers it when it exists.
                      Index("ix_ticket_events_reopened", "created_at", "ticket_id",
                            sqlite_where=text(REOPENED), postgresql_where=text(REOPENED)),
                      Index("ix_ticket_events_rated", "created_at", "ticket_id", "body",
                            sqlite_where=text(RATED), postgresql_where=text(RATED)),
                      Index("ix_ticket_events_commented", "created_at", "ticket_id",
                            sqlite_where=text(COMMENTED), postgresql_where=text(COMMENTED)),
                      Index("ix_ticket_events_self_solved", "created_at", "ticket_id",
                            sqlite_where=text(SELF_SOLVED),
                            postgresql_where=text(SELF_SOLVED)))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    body: Mapped[str] = mapped_column(Text, default="")
    data_json: Mapped[str] = mapped_column(Text, default="{}")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PromiseRow(Base):
    """A time the desk stated: kept by a person, or covered by the bot when it falls due."""

    __tablename__ = "promises"
    __table_args__ = (
        Index("ix_promises_due", "status", "due_at"),
        Index("ix_promises_warn", "status", "warned_at", "warn_at"),
        # PostgreSQL cannot read min(warn_at) in order from ix_promises_warn (it does not
        # order by the column after an IS NULL), so the tick's probe scanned the table.
        # SQLite reads it from ix_promises_warn and would not use a partial index for a
        # bound "status = ?" anyway. See docs/performance.md.
        Index("ix_promises_warn_open", "warn_at",
              postgresql_where=text("status = 'pending' AND warned_at IS NULL"))
        .ddl_if(dialect="postgresql"),
        Index("ix_promises_ticket", "ticket_id", "status"),
        # Retention keeps the outbox rows that covered a lapse (bot/storage/retention.py)
        # and asks, for each row it would prune, whether a promise points at it.
        Index("ix_promises_cover", "cover_outbox_id"),
        # Reports read the promises made in a period (bot/reports/figures.py), from the
        # index alone: a month of a big desk is over a hundred thousand promises.
        Index("ix_promises_report", "workspace_id", "made_at", "kind", "status",
              "resolution", "owner_id", "due_at", "resolved_at", "cover_outbox_id",
              "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    # NULL only for an incident's promise (``incident_id``): it is owed to every linked
    # ticket's requester at once.
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"),
                                                  nullable=True)
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="CASCADE"), nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    text: Mapped[str] = mapped_column(Text, default="")
    made_at: Mapped[datetime] = mapped_column(UtcDateTime)
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    warn_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    resolution: Mapped[str | None] = mapped_column(String(16), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    misses_in_row: Mapped[int] = mapped_column(Integer, default=0)
    # Waiting promises lapse in steps: 0 = nudge the requester, 1 = close the ticket.
    step: Mapped[int] = mapped_column(Integer, default=0)
    warned_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # A paused promise (status 'paused', while the desk waits on the requester): the
    # seconds of business time it had left, which it resumes with.
    paused_remaining: Mapped[float | None] = mapped_column(Float, nullable=True)
    # The outbox row that covered this promise when it lapsed (for the keep-our-word report).
    cover_outbox_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("promises.id"), nullable=True)
    claim_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)


class IncidentRow(Base):
    """A major incident, numbered INC-N per workspace, led by its declarer."""

    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),
                      Index("ix_incidents_open", "workspace_id", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    status: Mapped[str] = mapped_column(String(12), default="open")
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    # The incident's own card in a triage channel, counting the reports asked about it
    # (bot/desk/cards.py): where it is, and when its latest drawing is due, which
    # paces its edits.
    card_channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    card_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    card_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class IncidentTicketRow(Base):
    """A ticket linked to an incident: a ticket belongs to at most one at a time."""

    __tablename__ = "incident_tickets"
    __table_args__ = (UniqueConstraint("ticket_id"),
                      Index("ix_incident_tickets_incident", "incident_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class IncidentUpdateRow(Base):
    """One update everyone affected was given (by the lead, or by the ledger covering
    a lapsed promise: ``kind`` 'cover'), with the next time it promised."""

    __tablename__ = "incident_updates"
    __table_args__ = (Index("ix_incident_updates_incident", "incident_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    incident_id: Mapped[int] = mapped_column(ForeignKey("incidents.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(12), default="update")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), nullable=True)
    body: Mapped[str] = mapped_column(Text, default="")
    next_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TicketClusterRow(Base):
    """New tickets that look alike (bot/desk/features/detection.py): one card in the
    triage channel, the anchor ticket's, counts them until someone declares them an
    incident (``incident_id``)."""

    __tablename__ = "ticket_clusters"
    __table_args__ = (UniqueConstraint("anchor_ticket_id"),
                      Index("ix_ticket_clusters_workspace", "workspace_id", "id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    anchor_ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    incident_id: Mapped[int | None] = mapped_column(
        ForeignKey("incidents.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class TicketClusterMemberRow(Base):
    """A ticket counted on a cluster's card (a ticket is in at most one cluster)."""

    __tablename__ = "ticket_cluster_members"
    __table_args__ = (UniqueConstraint("ticket_id"),
                      Index("ix_ticket_cluster_members_cluster", "cluster_id"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    cluster_id: Mapped[int] = mapped_column(
        ForeignKey("ticket_clusters.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))


class OutboxRow(Base):
    """Something the desk must say, written in the same transaction as its cause."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id", ondelete="SET NULL"), nullable=True
    )
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="post")
    payload_json: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # When the row was first due: ``due_at`` moves forward on every retry, rate limit
    # and pacing delay, so only this says how long a stuck row has really waited.
    first_due_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claim_token: Mapped[str | None] = mapped_column(String(36), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result_message_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class InboxRow(Base):
    """An inbound event acknowledged to its platform and not yet handled (issue 18).

    Slack does not deliver again what was answered 200, so an event is written here
    before its acknowledgement and deleted once the desk has handled it. ``owner`` is
    the process handling it, which renews ``lease_until`` while it lives; a row whose
    lease ran out (its owner died, or stopped and handed it back) is taken by any
    instance and handled again from ``payload`` (the router's dedupe drops it if the
    first try had committed after all)."""

    __tablename__ = "inbox"
    __table_args__ = (UniqueConstraint("platform", "event_key"),
                      Index("ix_inbox_lease", "lease_until"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_key: Mapped[str] = mapped_column(String(128))
    payload: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(36))
    lease_until: Mapped[datetime] = mapped_column(UtcDateTime)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    attempts: Mapped[int] = mapped_column(Integer, default=1)


class ProcessedEventRow(Base):
    """An inbound platform event already handled; a retry of it is dropped."""

    __tablename__ = "processed_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),
                      # Retention prunes the oldest (bot/storage/retention.py).
                      Index("ix_processed_events_received", "received_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(128))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)


class KbArticleRow(Base):
    """A knowledge-base article, numbered KB-N per workspace, with what it has done.

    ``*_terms`` hold the analysed text of each field (bot/domain/knowledge.py): the
    full-text index is built from them, so SQLite and PostgreSQL index the same terms.
    """

    __tablename__ = "kb_articles"
    __table_args__ = (UniqueConstraint("workspace_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text, default="")
    tags: Mapped[str] = mapped_column(String(500), default="")  # space-separated
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("people.id", ondelete="SET NULL"), nullable=True)
    title_terms: Mapped[str] = mapped_column(Text, default="")
    tags_terms: Mapped[str] = mapped_column(Text, default="")
    body_terms: Mapped[str] = mapped_column(Text, default="")
    suggested_count: Mapped[int] = mapped_column(Integer, default=0)
    opened_count: Mapped[int] = mapped_column(Integer, default=0)
    helpful_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


# The full-text index of the articles, one per database (the migration 0006 writes the
# same): SQLite's FTS5 table, kept by triggers; PostgreSQL's weighted tsvector, an
# expression GIN index that the search repeats word for word (bot/storage/kb_search.py).
KB_SQLITE_DDL = (
    "CREATE VIRTUAL TABLE kb_fts USING fts5(title, tags, body, scope, "
    "content='kb_articles', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER kb_fts_insert AFTER INSERT ON kb_articles BEGIN "
    "INSERT INTO kb_fts(rowid, title, tags, body, scope) VALUES (new.id, new.title_terms, "
    "new.tags_terms, new.body_terms, 'w' || new.workspace_id); END",
    "CREATE TRIGGER kb_fts_delete AFTER DELETE ON kb_articles BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title, tags, body, scope) VALUES ('delete', old.id, "
    "old.title_terms, old.tags_terms, old.body_terms, 'w' || old.workspace_id); END",
    "CREATE TRIGGER kb_fts_update AFTER UPDATE OF title_terms, tags_terms, body_terms "
    "ON kb_articles BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title, tags, body, scope) VALUES ('delete', old.id, "
    "old.title_terms, old.tags_terms, old.body_terms, 'w' || old.workspace_id); "
    "INSERT INTO kb_fts(rowid, title, tags, body, scope) VALUES (new.id, new.title_terms, "
    "new.tags_terms, new.body_terms, 'w' || new.workspace_id); END",
)
KB_SQLITE_DROP = ("DROP TABLE IF EXISTS kb_fts",)
KB_PG_VECTOR = ("(setweight(to_tsvector('english', title_terms), 'A') || "
                "setweight(to_tsvector('english', tags_terms), 'B') || "
                "setweight(to_tsvector('english', body_terms), 'C'))")
# Stored, so ranking reads the vector instead of building it again for every match.
KB_PG_DDL = (f"ALTER TABLE kb_articles ADD COLUMN kb_fts_vector tsvector "
             f"GENERATED ALWAYS AS {KB_PG_VECTOR} STORED",
             "CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (kb_fts_vector)")
KB_PG_DROP = ("DROP INDEX IF EXISTS ix_kb_articles_search",
              "ALTER TABLE kb_articles DROP COLUMN IF EXISTS kb_fts_vector")
KB_INDEX_OBJECTS = ("kb_fts", "ix_kb_articles_search")


def kb_index_ddl(dialect: str) -> tuple[str, ...]:
    """The statements that create the articles' full-text index on ``dialect``."""
    return KB_SQLITE_DDL if dialect == "sqlite" else KB_PG_DDL


def kb_index_drop(dialect: str) -> tuple[str, ...]:
    """The statements that drop it."""
    return KB_SQLITE_DROP if dialect == "sqlite" else KB_PG_DROP


for _statement in KB_SQLITE_DDL:
    event.listen(KbArticleRow.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="sqlite"))
for _statement in KB_PG_DDL:
    event.listen(KbArticleRow.__table__, "after_create",
                 DDL(_statement).execute_if(dialect="postgresql"))
event.listen(KbArticleRow.__table__, "before_drop",
             DDL(KB_SQLITE_DROP[0]).execute_if(dialect="sqlite"))


class DashboardLinkRow(Base):
    """A sign-in link to the web dashboard, given to one lead or admin of one workspace.

    Only a hash of the link's token is kept: someone who reads the database cannot sign
    in with it. A link is spent by its first use (``used_at``) and dies at
    ``expires_at`` whether used or not."""

    __tablename__ = "dashboard_links"
    __table_args__ = (UniqueConstraint("token_hash"),
                      Index("ix_dashboard_links_expires", "expires_at"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64))
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    # The role that entitled them to the link when it was given (lead or admin).
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime, nullable=True)


class MovedCardRow(Base):
    """A triage card a ticket had before it was transferred to another team. People
    keep writing in the old card's thread (it is where they answered before), so a
    message there still finds its ticket instead of being dropped."""

    __tablename__ = "moved_cards"
    __table_args__ = (Index("ix_moved_cards_message", "channel_id", "message_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class ReportOutcomeRow(Base):
    """A resolution or a close of a ticket, as the reports count it: in the period it
    happened in, with the ticket's slices (owner, priority, channel, team) as they were
    then. Written with the status line of the timeline (``TicketRepository.add_events``),
    never changed after: a later reopen clears the ticket's ``resolved_at`` and
    ``closed_at`` but not this, so last week's resolutions stay last week's (issue 19,
    review finding 13). One index holds everything the figures read of it, so a month
    of a big desk is read from the index alone, with no join to its tickets."""

    __tablename__ = "report_outcomes"
    __table_args__ = (
        Index("ix_report_outcomes", "workspace_id", "kind", "at", "ticket_created_at",
              "priority", "owner_id", "channel_id", "team_id", "asked", "ticket_id"),
        Index("ix_report_outcomes_ticket", "ticket_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    workspace_id: Mapped[int] = mapped_column(ForeignKey("workspaces.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "resolved" or "closed"
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # A close out of resolved: the requester's "yes", which asks for a rating.
    asked: Mapped[bool] = mapped_column(Boolean, default=False)
    ticket_created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    priority: Mapped[str] = mapped_column(String(2))
    owner_id: Mapped[int | None] = mapped_column(BigId, nullable=True)
    channel_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # A team removed since: NULL, the default team's, as on its tickets.
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), nullable=True)


def report_outcomes_from_timeline(where: str = "") -> str:
    """The SQL that writes the report outcomes of the timeline's status lines (both
    dialects), each with its ticket's slices as they are now; ``where`` narrows the
    lines (``AND ...`` on ``e``, the timeline, and ``t``, the tickets)."""
    return (
        "INSERT INTO report_outcomes (workspace_id, ticket_id, kind, at, asked, "
        "ticket_created_at, priority, owner_id, channel_id, team_id) "
        "SELECT t.workspace_id, t.id, e.body, e.created_at, "
        "(e.body = 'closed' AND e.data_json LIKE '{\"previous\": \"resolved\"%'), "
        "t.created_at, t.priority, t.owner_id, t.channel_id, t.team_id "
        "FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.kind = 'status' AND e.body IN ('resolved', 'closed') " + where)
