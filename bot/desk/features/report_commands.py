"""Reports in chat: ``/helpdesk report`` for leads and admins, ``/ticket stats`` for an
agent's own figures. Both answer privately, in the desk's words, from the same figures
the dashboard and the exports use (:mod:`bot.reports`)."""

from __future__ import annotations

from bot.desk.context import BadInput, Context
from bot.desk.people_refs import one_person
from bot.desk.quoting import defang, excerpt
from bot.domain.errors import Unreadable
from bot.domain.people import Role
from bot.reports import Period, ReportFilter, compute_figures, period_for
from bot.reports.figures import ticket_lines
from bot.desk.report_words import (
    COMPARED as _COMPARED, moved as _moved, spoken_time as _time, summary as _summary,
)

DEFAULT_PERIOD = Period.SEVEN_DAYS
# What the answer shows: no per-agent or per-day rows. The command's unit of work holds
# SQLite's write lock while these run (docs/reports.md), so nothing more is asked for.
REPORT_PARTS = frozenset({"counts", "durations", "promises", "csat", "backlog"})


async def report(ctx: Context) -> None:
    """``/helpdesk report [today|7d|30d|week|month] [agent <person>]``.

    Every word is read or refused by name: a second period, a second person or any
    other word is "not understood", never silently dropped (the reader would believe
    the figures answer what they asked). An agent who has left the agents keeps their
    past figures: anyone who has owned a ticket or a promise can be reported on."""
    words = ctx.args.split()
    period = DEFAULT_PERIOD
    if words and words[0].lower() != "agent":
        period = _period(words.pop(0), "usage.helpdesk_report")
    agent = None
    if words:
        rest = " ".join(words)
        if words[0].lower() != "agent":
            raise BadInput("reports.not_understood", "usage.helpdesk_report", text=rest)
        ref, rest = one_person(" ".join(words[1:]))
        if ref is None:
            raise BadInput("reports.need_agent", "usage.helpdesk_report")
        if rest:
            raise BadInput("reports.not_understood_agent", "usage.helpdesk_report",
                           text=rest, name=ref.label)
        assert ctx.workspace is not None
        agent = await ctx.uow.people.find(ctx.workspace.id, ref.ref)
        if agent is None:
            raise BadInput("input.not_an_agent", name=ref.label)
        if not agent.role.at_least(Role.AGENT) and not await ctx.uow.people.has_worked(
                ctx.workspace.id, agent.id):
            raise BadInput("reports.never_an_agent", name=agent.name)
    if agent is None:
        await _answer_report(ctx, period, None, "reports.header")
    else:
        await _answer_report(ctx, period, agent.id, "reports.header_agent", agent=agent.name)


async def stats(ctx: Context) -> None:
    """``/ticket stats [today|7d|30d|week|month]``: the agent's own figures."""
    words = ctx.args.split()
    if words and words[0].lower() == "agent":
        raise BadInput("reports.stats_own_only")
    period = _period(words.pop(0), "usage.ticket_stats") if words else DEFAULT_PERIOD
    if words:
        rest = " ".join(words)
        raise BadInput("reports.not_understood", "usage.ticket_stats", text=rest)
    assert ctx.person is not None
    await _answer_report(ctx, period, ctx.person.id, "reports.header_own")


def _period(word: str, usage: str) -> Period:
    try:
        return Period.parse(word)
    except Unreadable as error:
        raise BadInput.unreadable(error, usage) from None


async def _answer_report(ctx: Context, period: Period, agent_id: int | None,
                         header: str, **fields: str) -> None:
    """Answer privately with the summary of ``period`` (for one agent, or the desk)."""
    assert ctx.workspace is not None and ctx.policy is not None
    calendar, sla = ctx.policy.calendar, ctx.policy.sla
    start, end = period_for(period, ctx.now, calendar.timezone)
    filt = ReportFilter(ctx.workspace.id, start, end, agent_id=agent_id)
    figures = await compute_figures(ctx.uow, filt, ctx.now, calendar=calendar, sla=sla,
                                    parts=REPORT_PARTS)
    before = ReportFilter(ctx.workspace.id, start - (end - start), start, agent_id=agent_id)
    previous = await compute_figures(ctx.uow, before, start, calendar=calendar, sla=sla,
                                     parts=_COMPARED)
    tickets = await ticket_lines(ctx.uow, filt, ctx.now, calendar, figures=figures)
    period_words = ctx.t(f"reports.period_{period.value}")
    lines = [ctx.t(header, period=period_words, **fields)]
    lines += _summary(ctx, figures, period_words)
    for line in tickets or ():
        lines.append(_ticket_line(ctx, line, period_words))
    lines.append(_moved(ctx, figures, previous, end - start))
    ctx.handled = True
    await ctx.answer("\n".join(lines))


def _ticket_line(ctx: Context, line, period_words: str) -> str:
    """One listed ticket; its promises and rating are the period's, as the summary's."""
    p = line.promises
    promises = (ctx.t("reports.ticket_promises", made=p.made, kept=p.kept, covered=p.covered,
                      late=p.late, open=p.open) if p.made
                else ctx.t("reports.ticket_no_promises", period=period_words))
    return ctx.t("reports.ticket", number=line.number, subject=defang(excerpt(line.subject)),
                 first=_time(ctx, line.first_response) if line.first_response is not None
                 else ctx.t("reports.ticket_not_answered"),
                 promises=promises,
                 rating=ctx.t("reports.ticket_rating", rating=line.rating)
                 if line.rating is not None
                 else ctx.t("reports.ticket_not_rated", period=period_words))


def register(router) -> None:
    """Wire the report commands into the router."""
    router.on_command("helpdesk", "report", report, role=Role.LEAD,
                      description="commands.helpdesk_report")
    router.on_command("ticket", "stats", stats, role=Role.AGENT,
                      description="commands.ticket_stats")
