"""The reports' figures in the desk's words: the summary lines ``/helpdesk report``,
``/ticket stats`` and the weekly digest share, and "what moved" since the period before.

Each function speaks through a :class:`Speaker`: a command's Context, or
:class:`PolicyWords` where there is no command (the ledger's weekly digest)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Iterable, Protocol

from bot.desk.policy import DeskPolicy
from bot.desk.quoting import defang, excerpt
from bot.reports import Figures

# The parts compared with the period before ("what moved").
COMPARED = frozenset({"counts", "durations", "promises", "csat"})
# A change smaller than this share of the earlier value has not "moved".
_MOVED = 0.10


class Speaker(Protocol):
    """What the report's words need: the templates in force and the policy."""

    policy: Any

    def t(self, key: str, **fields: Any) -> str: ...

    def join(self, items: Iterable[str]) -> str: ...


@dataclass(frozen=True)
class PolicyWords:
    """A :class:`Speaker` for one team's policy, outside any command."""

    policy: DeskPolicy

    def t(self, key: str, **fields: Any) -> str:
        """A template in this policy's wording."""
        fields.setdefault("prefix", "/ticket")
        return self.policy.templates.render(key, **fields)

    def join(self, items: Iterable[str]) -> str:
        """Items as a sentence lists them."""
        return self.policy.templates.join(items)


def spoken_time(ctx: Speaker, value: timedelta | None) -> str:
    """A business-time duration to the minute, or the words for none."""
    if value is None or value < timedelta(minutes=1):
        return ctx.t("reports.no_time")
    # Whole minutes: a report reads "52 minutes", not seconds.
    return ctx.policy.business_time(timedelta(minutes=int(value.total_seconds() // 60)),
                                    working_days=False)


def summary(ctx: Speaker, f: Figures, period: str) -> list[str]:
    """The report's lines for ``f``: tickets, times, promises, SLA, ratings, backlog."""
    t = ctx.t
    lines = [t("reports.tickets", opened=f.opened, resolved=f.resolved, closed=f.closed,
               reopened=f.reopened)]
    for key, durations in (("first_response", f.first_response),
                           ("resolution", f.resolution)):
        if not durations.count:
            lines.append(t(f"reports.{key}_none", period=period))
            continue
        median, p90 = spoken_time(ctx, durations.median), spoken_time(ctx, durations.p90)
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


def _wall(ctx: Speaker, value: timedelta | None) -> str:
    """A lateness in clock time, to the minute."""
    minutes = int((value or timedelta(0)).total_seconds() // 60)
    if minutes < 1:
        return ctx.t("reports.no_time")
    hours, minutes = divmod(minutes, 60)
    parts = ([ctx.t("durations.hour", count=hours)] if hours else []) + \
        ([ctx.t("durations.minute", count=minutes)] if minutes else [])
    return str(ctx.policy.templates.raw("durations.joiner")).join(parts)


def moved(ctx: Speaker, now: Figures, before: Figures, length: timedelta) -> str:
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
            lambda v: spoken_time(ctx, v))
    compare("on_time", before.promises.on_time_share, now.promises.on_time_share,
            lambda v: f"{v:.0%}")
    compare("csat", before.csat.average, now.csat.average, lambda v: f"{v:.1f}")
    days = max(1, round(length / timedelta(days=1)))
    span = t("reports.length_day") if days == 1 else t("reports.length_days", count=days)
    if not changes:
        return t("reports.moved_none", length=span)
    return t("reports.moved", length=span, changes=ctx.join(changes))


