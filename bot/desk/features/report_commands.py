"""Reports in chat: ``/helpdesk report`` for leads and admins, ``/ticket stats`` for an
agent's own figures. Both answer privately, in the desk's words, from the same figures
the dashboard and the exports use (:mod:`bot.reports`)."""

from __future__ import annotations

from datetime import timedelta

from bot.desk.context import BadInput, Context
from bot.desk.people_refs import one_person
from bot.desk.quoting import defang, excerpt
from bot.domain.errors import Unreadable
from bot.domain.people import Role
from bot.reports import Figures, Period, ReportFilter, compute_figures, period_for
from bot.reports.figures import ticket_lines

DEFAULT_PERIOD = Period.SEVEN_DAYS
# The parts compared with the period before ("what moved").
_COMPARED = frozenset({"counts", "durations", "promises", "csat"})
# A change smaller than this share of the earlier value has not "moved".
_MOVED = 0.10


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
    figures = await compute_figures(ctx.uow, filt, ctx.now, calendar=calendar, sla=sla)
    before = ReportFilter(ctx.workspace.id, start - (end - start), start, agent_id=agent_id)
    previous = await compute_figures(ctx.uow, before, start, calendar=calendar, sla=sla,
                                     parts=_COMPARED)
    tickets = await ticket_lines(ctx.uow, filt, ctx.now, calendar)
    period_words = ctx.t(f"reports.period_{period.value}")
    lines = [ctx.t(header, period=period_words, **fields)]
    lines += _summary(ctx, figures, period_words)
    for line in tickets or ():
        lines.append(_ticket_line(ctx, line))
    lines.append(_moved(ctx, figures, previous, end - start))
    ctx.handled = True
    await ctx.answer("\n".join(lines))


def _time(ctx: Context, value: timedelta | None) -> str:
    if value is None or value < timedelta(minutes=1):
        return ctx.t("reports.no_time")
    # Whole minutes: a report reads "52 minutes", not seconds.
    return ctx.policy.business_time(timedelta(minutes=int(value.total_seconds() // 60)),
                                    working_days=False)


def _summary(ctx: Context, f: Figures, period: str) -> list[str]:
    t = ctx.t
    lines = [t("reports.tickets", opened=f.opened, resolved=f.resolved, closed=f.closed,
               reopened=f.reopened)]
    for key, durations in (("first_response", f.first_response),
                           ("resolution", f.resolution)):
        if not durations.count:
            lines.append(t(f"reports.{key}_none", period=period))
            continue
        median, p90 = _time(ctx, durations.median), _time(ctx, durations.p90)
        lines.append(t(f"reports.{key}_one" if median == p90 else f"reports.{key}",
                       median=median, p90=p90, count=durations.count))
    p = f.promises
    if p.made:
        lines.append(t("reports.promises", made=p.made, kept=p.kept, covered=p.covered,
                       late=p.late, open=p.open))
        if p.late_known:
            lines.append(t("reports.promises_late", average=_wall(ctx, p.late_by_average),
                           worst=_wall(ctx, p.late_by_max)))
    else:
        lines.append(t("reports.promises_none", period=period))
    # A measure with nothing measured is left out of its row, not shown as "0/0".
    rows = [t("reports.sla_row" if row.first_total and row.resolve_total
              else "reports.sla_row_first" if row.first_total else "reports.sla_row_resolve",
              priority=row.priority, first_met=row.first_met, first_total=row.first_total,
              resolve_met=row.resolve_met, resolve_total=row.resolve_total)
            for row in f.sla if row.first_total or row.resolve_total]
    lines.append(t("reports.sla", rows=ctx.join(rows)) if rows else t("reports.sla_none"))
    c = f.csat
    if c.responses:
        rate = c.response_rate
        lines.append(t("reports.csat", average=f"{c.average:.1f}", count=c.responses,
                       rate=f"{rate:.0%}") if rate is not None
                     else t("reports.csat_no_rate", average=f"{c.average:.1f}",
                            count=c.responses))
    else:
        lines.append(t("reports.csat_none", period=period))
    if c.comments:
        number, text, _ = c.comments[0]
        lines.append(t("reports.comments", count=c.comment_count, number=number,
                       text=defang(excerpt(text))))
    if f.self_solved:
        lines.append(t("reports.self_solved", count=f.self_solved))
    old = sum(b.count for b in f.backlog if b.label in ("7_30d", "over_30d"))
    lines.append(t("reports.backlog", total=f.backlog_total, old=old) if f.backlog_total
                 else t("reports.backlog_none"))
    return lines


def _wall(ctx: Context, value: timedelta | None) -> str:
    """A lateness in clock time, to the minute."""
    minutes = int((value or timedelta(0)).total_seconds() // 60)
    if minutes < 1:
        return ctx.t("reports.no_time")
    hours, minutes = divmod(minutes, 60)
    parts = ([ctx.t("durations.hour", count=hours)] if hours else []) + \
        ([ctx.t("durations.minute", count=minutes)] if minutes else [])
    return str(ctx.policy.templates.raw("durations.joiner")).join(parts)


def _ticket_line(ctx: Context, line) -> str:
    p = line.promises
    promises = (ctx.t("reports.ticket_promises", made=p.made, kept=p.kept, covered=p.covered,
                      late=p.late, open=p.open) if p.made else ctx.t("reports.ticket_no_promises"))
    return ctx.t("reports.ticket", number=line.number, subject=defang(excerpt(line.subject)),
                 first=_time(ctx, line.first_response) if line.first_response is not None
                 else ctx.t("reports.ticket_not_answered"),
                 promises=promises,
                 rating=ctx.t("reports.ticket_rating", rating=line.rating)
                 if line.rating is not None else ctx.t("reports.ticket_not_rated"))


def _moved(ctx: Context, now: Figures, before: Figures, length: timedelta) -> str:
    """The figures that changed by more than a tenth since the period before."""
    t = ctx.t
    changes = []

    def compare(what: str, old, new, shown) -> None:
        if old is None or new is None:
            return
        if old == new or (old and abs(new - old) / abs(old) < _MOVED):
            return
        changes.append(t("reports.moved_item", what=t(f"reports.moved_{what}"),
                         before=shown(old), now=shown(new)))

    compare("opened", before.opened, now.opened, str)
    compare("first", before.first_response.median, now.first_response.median,
            lambda v: _time(ctx, v))
    compare("on_time", before.promises.on_time_share, now.promises.on_time_share,
            lambda v: f"{v:.0%}")
    compare("csat", before.csat.average, now.csat.average, lambda v: f"{v:.1f}")
    days = max(1, round(length / timedelta(days=1)))
    span = t("reports.length_day") if days == 1 else t("reports.length_days", count=days)
    if not changes:
        return t("reports.moved_none", length=span)
    return t("reports.moved", length=span, changes=ctx.join(changes))


def register(router) -> None:
    """Wire the report commands into the router."""
    router.on_command("helpdesk", "report", report, role=Role.LEAD,
                      description="commands.helpdesk_report")
    router.on_command("ticket", "stats", stats, role=Role.AGENT,
                      description="commands.ticket_stats")
