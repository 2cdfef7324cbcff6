"""Properties of every time the desk states for something it owes (hypothesis).

Over random calendars (open days, spans, time zones with DST, holidays), start times and
promise kinds: the new time a cover gives, the SLA deadlines a claim, a reply or an
opening state, and the time a paused promise resumes at all fall in open hours (the
closing instant counts: "by 17:00" when the desk closes at 17:00) or exactly at an
opening, and never before now; a heads-up is never after the time it warns about, and
never outside open hours.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta, timezone

from hypothesis import example, given
from hypothesis import strategies as st

from bot.domain.calendar import BusinessCalendar
from bot.domain.priority import Priority
from bot.domain.promises import DESK_OWES, Promise, PromiseKind, warn_time
from bot.domain.sla import SlaPolicy, SlaTarget
from bot.domain.timefmt import stated_minute
from bot.domain.when import span_end
from bot.ledger.plans import CoverInputs, plan_cover
from tests.domain.test_calendar import PROPS, scenarios
from tests.ledger.test_plans import ALEX, ANN, LEE, POLICY, WORKSPACE, ticket


def in_business_time(calendar: BusinessCalendar, moment: datetime) -> bool:
    """Open at ``moment``, or ``moment`` is an open interval's closing instant."""
    around = calendar.open_intervals(moment - timedelta(days=2), moment + timedelta(days=2))
    return any(lo <= moment <= hi for lo, hi in around)


spans = st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(days=10))
lengths = st.timedeltas(min_value=timedelta(seconds=30), max_value=timedelta(days=10))
delays = st.timedeltas(min_value=timedelta(0), max_value=timedelta(hours=3))
kinds = st.sampled_from(sorted(DESK_OWES, key=lambda kind: kind.value))
targets = st.builds(SlaTarget, spans, spans, spans)
fractions = st.floats(min_value=0.05, max_value=0.95)


# Found by hypothesis: a cover a few seconds into a minute, due a minute from the
# minute it ran in, once put the heads-up a microsecond after that time.
_ALWAYS_OPEN_LONDON = BusinessCalendar(
    "Europe/London", tuple((time(0), time(0)) for _ in range(7)), frozenset())


@PROPS
@given(scenarios(), kinds, lengths, delays, targets, st.integers(0, 3), fractions)
@example((_ALWAYS_OPEN_LONDON, datetime(2020, 1, 1, 0, 0, 30, 1, tzinfo=timezone.utc)),
         PromiseKind.FIRST_RESPONSE, timedelta(seconds=30), timedelta(0),
         SlaTarget(timedelta(seconds=60), timedelta(seconds=60), timedelta(seconds=60)), 0, 0.5)
def test_the_new_time_after_a_lapse_is_business_time(scenario, kind, length, delay, target,
                                                     misses, fraction):
    calendar, due = scenario
    now = due + delay
    sla = SlaPolicy({p: target for p in Priority}, fraction)
    policy = replace(POLICY, calendar=calendar, sla=sla)
    missed = Promise(3, 1, 7, kind, due, due - length, owner_id=ALEX.id, misses_in_row=misses)
    plan = plan_cover(CoverInputs(missed, ticket(), WORKSPACE, policy, ANN, ALEX, (LEE,), now))
    nxt = plan.next_promise
    assert nxt.due_at >= now
    assert in_business_time(calendar, nxt.due_at)
    # Never sooner than the update interval of business time, from the minute the
    # cover runs in (counting from its seconds would drift each lapse a minute later).
    assert calendar.business_time_between(now.replace(second=0, microsecond=0),
                                          nxt.due_at) >= target.update_interval
    if nxt.warn_at is not None:
        assert now <= nxt.warn_at <= nxt.due_at
        assert in_business_time(calendar, nxt.warn_at)


@PROPS
@given(scenarios(), targets, fractions, st.sampled_from(list(Priority)))
def test_sla_deadlines_are_business_time(scenario, target, fraction, priority):
    calendar, start = scenario
    sla = SlaPolicy({p: target for p in Priority}, fraction)
    for deadline in (sla.first_response_deadline(priority, start, calendar),
                     sla.update_deadline(priority, start, calendar),
                     sla.resolution_deadline(priority, start, calendar)):
        assert start <= deadline.warn_at <= deadline.due_at
        assert in_business_time(calendar, deadline.due_at)
        assert in_business_time(calendar, deadline.warn_at)


@PROPS
@given(scenarios(), st.timedeltas(min_value=timedelta(seconds=1), max_value=timedelta(days=9)),
       fractions)
def test_a_heads_up_for_any_time_an_agent_chose_is_in_business_hours_and_before_it(
        scenario, ahead, fraction):
    # The agent's own time (a follow-up) may be any time at all; the heads-up is not.
    calendar, start = scenario
    due = start + ahead
    warn = warn_time(start, due, fraction, calendar)
    if warn is None:
        assert calendar.business_time_between(start, due) == timedelta(0)
    else:
        assert start <= warn <= due
        assert in_business_time(calendar, warn)


@PROPS
@given(scenarios(), st.one_of(
    spans, st.integers(1, 10).map(lambda n: timedelta(days=n)),
    st.integers(1, 3).map(lambda n: timedelta(weeks=n))))
def test_a_span_an_agent_gives_ends_in_business_time_as_it_is_stated(scenario, span):
    # "2h", "3d", "1w" from any moment: the follow-up falls in open hours (or exactly at
    # an opening or a closing), after now, and so does the minute it is stated and
    # recorded at; business time is never less than the span unless days are counted.
    calendar, start = scenario
    end = span_end(start, span, calendar)
    assert end > start or (end == start and calendar.is_open(start))
    assert in_business_time(calendar, end)
    assert in_business_time(calendar, stated_minute(end))
    if span % timedelta(days=1):
        assert calendar.business_time_between(start, end) == span
    elif span % timedelta(weeks=1):
        assert (end - start) >= span - timedelta(hours=2)  # working days: never sooner
