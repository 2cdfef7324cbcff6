"""Posting a team's weekly digest when its promise falls due, and promising the next.

The digest is a promise like any other scheduled message (kind ``weekly_digest``, no
ticket, its team named in its text): the sweeper claims it when due and fences it as
it fences every lapse, then hands it here rather than to the per-ticket planner. Here
it is written in the team's words from last week's figures (bot/reports/, the same
figures and lines as ``/helpdesk report``), queued for the team's triage channel in
the same transaction, marked kept by the desk, and the next week's is promised. A
digest switched off meanwhile, or for a team since removed, says nothing and is not
promised again; a team with no triage channel says nothing this week and is promised
again (a channel set meanwhile gets the next one).
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core import OutboundMessage
from bot.desk.policy import Desk, DeskPolicy, Policies
from bot.desk.report_words import COMPARED, PolicyWords, moved, summary
from bot.domain.digest import digest_team, digest_week, next_digest_at
from bot.domain.people import Workspace
from bot.domain.promises import Promise
from bot.domain.teams import Team
from bot.reports import ReportFilter, compute_figures
from bot.storage.uow import UnitOfWork

logger = logging.getLogger(__name__)

# What the digest shows (no per-agent rows, no per-day rows: the triage channel reads
# it, and the dashboard has the rest).
DIGEST_PARTS = frozenset({"counts", "durations", "promises", "csat", "backlog", "incidents"})


async def post_digests(uow: UnitOfWork, desk: Desk, promises: list[Promise],
                       now: datetime) -> int:
    """Post the fenced digest ``promises`` in this unit of work and promise the next
    ones; returns how many were posted."""
    policies = Policies(desk)
    posted = 0
    for promise in promises:
        workspace = await uow.workspaces.get(promise.workspace_id)
        team_id = digest_team(promise.text)
        team = next((t for t in workspace.teams if t.id == team_id), None)
        if team is None:
            await uow.promises.digest_done(promise.id, None)
            logger.info("a weekly digest's team %s is gone; nothing posted", team_id)
            continue
        policy = policies.of(workspace, team.id)
        if not policy.weekly_digest:
            await uow.promises.digest_done(promise.id, None)
            continue
        triage = (await uow.workspaces.triage_of_teams({team.id}, {workspace.id: workspace})
                  ).get(team.id)
        outbox_id = None
        if triage:
            text = await digest_words(uow, workspace, team, policy, promise.due_at, now)
            outbox_id = await uow.outbox.add(
                workspace.id, workspace.platform,
                OutboundMessage(channel_id=triage, text=text, audience="agents"), now)
            posted += 1
        else:
            logger.info("team %s has no triage channel; its weekly digest waits a week",
                        team.id)
        await uow.promises.digest_done(promise.id, outbox_id)
        await uow.promises.schedule_digest(workspace.id, team.id,
                                           next_digest_at(policy.calendar, now), now,
                                           parent_id=promise.id)
    return posted


async def digest_words(uow: UnitOfWork, workspace: Workspace, team: Team,
                       policy: DeskPolicy, due: datetime, now: datetime) -> str:
    """The digest of the week before ``due`` for ``team``, in its words, with the
    backlog as it stands at ``now``."""
    calendar = policy.calendar
    start, end = digest_week(calendar, due)
    filt = ReportFilter(workspace.id, start, end, team_id=team.id,
                        team_default=team.is_default)
    figures = await compute_figures(uow, filt, now, calendar=calendar, sla=policy.sla,
                                    parts=DIGEST_PARTS)
    before = ReportFilter(workspace.id, start - (end - start), start, team_id=team.id,
                          team_default=team.is_default)
    previous = await compute_figures(uow, before, start, calendar=calendar, sla=policy.sla,
                                     parts=COMPARED)
    words = PolicyWords(policy)
    zone = ZoneInfo(calendar.timezone)

    def day(moment: datetime) -> str:
        local = moment.astimezone(zone)
        return words.t("digest.day", weekday=policy.templates.raw("when.weekdays")[local.weekday()],
                       day=local.day, month=policy.templates.raw("when.months")[local.month - 1])

    several = len(workspace.teams) > 1
    lines = [words.t("digest.header_team" if several else "digest.header", team=team.name,
                     start=day(start), end=day(end - timedelta(days=1)))]
    lines += summary(words, figures, words.t("digest.period"))
    incidents = figures.incidents
    if incidents.opened:
        lines.append(words.t("digest.incidents", count=incidents.opened,
                             linked=incidents.linked_tickets, open=incidents.open_now))
    elif incidents.open_now:
        lines.append(words.t("digest.incidents_open", open=incidents.open_now))
    lines.append(moved(words, figures, previous, end - start))
    lines.append(words.t("digest.footer"))
    return "\n".join(lines)
