"""The desk's services and each workspace's policy (hours, SLA targets, wording).

Defaults come from ``config/policy.toml`` (shipped in ``bot/config/``, or the operator's
own: :mod:`bot.config_files`); a workspace's own choices, made with the
``/helpdesk`` admin commands, are stored in its settings and win over the defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from importlib.resources.abc import Traversable
from typing import Any, Callable

from bot.clock import Clock
from bot.config_files import ConfigFolder, read_toml
from bot.core import Actor
from bot.desk import words
from bot.domain.calendar import BusinessCalendar, parse_day
from bot.domain.errors import DomainError, Phrase, Unreadable
from bot.domain.people import Workspace
from bot.domain.priority import Priority
from bot.domain.promises import WaitPlan
from bot.domain.service_exceptions import exception_target
from bot.domain.teams import Team
from bot.domain.tickets import TicketStatus
from bot.domain.sla import SlaPolicy, SlaTarget, parse_duration
from bot.settings import Settings, SettingsError
from bot.templates import Templates


@dataclass(frozen=True)
class DeskPolicy:
    """How one workspace's desk runs."""

    calendar: BusinessCalendar
    sla: SlaPolicy
    templates: Templates
    ticket_emoji: str
    waiting: WaitPlan
    confirmation: WaitPlan
    # The reaction an agent puts on a requester's message to flag a difficult
    # conversation to the lead on duty (🚩 always works too).
    flag_emoji: str = "triangular_flag_on_post"
    # Offer the requester their transcript when they confirm it is solved.
    offer_transcript: bool = False
    # Post the team's weekly digest to its triage channel at the week's first opening.
    weekly_digest: bool = False

    def when(self, moment: datetime, now: datetime, tz: str | None = None) -> str:
        """``moment`` in this workspace's words, as a person in ``tz`` reads it:
        "tomorrow at 09:00 UTC"."""
        return words.when(self.templates, moment, now, tz)

    def status(self, status: TicketStatus, *, agent: bool = False) -> str:
        """A ticket's status in this workspace's words, for its requester or (``agent``)
        for the staff: "open, waiting for an agent", "open, not claimed yet"."""
        return self.templates.render(f"status.agent.{status.value}" if agent
                                     else f"status.{status.value}")

    def priority(self, priority: Priority) -> str:
        """A priority with its name: "P1 (critical)"."""
        return self.templates.render("priority.label", priority=priority.value,
                                     name=self.templates.render(f"priority.{priority.name.lower()}"))

    def for_ticket(self, ticket) -> "DeskPolicy":
        """This policy as it applies to ``ticket``: with a lead's service exception,
        the ticket's own targets for its priority."""
        if not ticket.sla_exception:
            return self
        target = exception_target(self.sla.target(ticket.priority), ticket.sla_exception)
        return replace(self, sla=self.sla.with_target(ticket.priority, target))

    def business_time(self, value: timedelta, *, working_days: bool = True) -> str:
        """``value`` of business time on this desk's calendar, in its words."""
        return words.business_time(self.templates, value, self.calendar,
                                   working_days=working_days)


@dataclass(frozen=True)
class Defaults:
    """Policy every workspace starts from."""

    calendar: BusinessCalendar
    sla: SlaPolicy
    ticket_emoji: str
    waiting: WaitPlan
    confirmation: WaitPlan
    flag_emoji: str = "triangular_flag_on_post"
    # Offer the requester their transcript when they confirm it is solved.
    offer_transcript: bool = False
    # Post each team's weekly digest (switched per team with ``/helpdesk digest``).
    weekly_digest: bool = False

    @classmethod
    def load(cls, path: Traversable, timezone_override: str | None = None) -> "Defaults":
        """Read ``policy.toml``; ``timezone_override`` (HELPDESK_TIMEZONE) replaces its zone.
        A file that is missing or not TOML is a SettingsError naming it."""
        data = read_toml(path)
        hours, sla, intake = data["hours"], data["sla"], data.get("intake", {})
        calendar = BusinessCalendar.from_spec(
            hours["days"], hours["span"], timezone_override or hours["timezone"],
            holidays=[_date(d) for d in hours.get("holidays", [])],
        )
        targets = {
            Priority.parse(p): SlaTarget(parse_duration(t["first"]), parse_duration(t["update"]),
                                         parse_duration(t["resolve"]))
            for p, t in sla.items() if p.upper().startswith("P")
        }
        waiting, confirmation = data["waiting"], data["confirmation"]
        return cls(calendar, SlaPolicy(targets, sla.get("warn_at", 0.75)),
                   intake.get("ticket_emoji", "ticket"),
                   WaitPlan(parse_duration(waiting["nudge_after"]),
                            parse_duration(waiting["close_after"])),
                   WaitPlan(parse_duration(confirmation["remind_after"]),
                            parse_duration(confirmation["close_after"])),
                   intake.get("flag_emoji", "triangular_flag_on_post"),
                   _switch(data.get("closing", {}), "offer_transcript", path),
                   _switch(data.get("digest", {}), "weekly", path))


def _switch(section: dict, name: str, path: Traversable) -> bool:
    """An on/off setting: true or false, nothing else (a quoted "no" would be true)."""
    value = section.get(name, False)
    if not isinstance(value, bool):
        raise SettingsError(f"{path}: {name} must be true or false, not {value!r}.")
    return value


# A tip: the words that make it relevant (none: the fallback), and its text.
Tip = tuple[tuple[str, ...], str]


def load_tips(path: Traversable) -> tuple[Tip, ...]:
    """The ``[[tip]]`` entries of ``tips.toml``, keywords in lower case; a file that is
    missing, not TOML or a tip without its text is a SettingsError naming the file."""
    data = read_toml(path)
    try:
        return tuple((tuple(str(k).lower() for k in tip.get("keywords", ())), str(tip["text"]))
                     for tip in data.get("tip", ()))
    except (KeyError, TypeError, AttributeError):
        raise SettingsError(f"{path}: each [[tip]] needs a text (and may have a list of "
                            "keywords).") from None


def words_for(templates: Templates, error: DomainError, **defaults: Any) -> str:
    """``error`` in the desk's words: its template filled with its fields, any
    :class:`Phrase` among them rendered first, and ``defaults`` for what the error leaves
    out (the command prefix). A missing template or field raises KeyError."""
    def filled(fields: dict[str, Any]) -> dict[str, Any]:
        return {**defaults, **{name: templates.render(value.key, **filled(value.fields))
                               if isinstance(value, Phrase) else value
                               for name, value in fields.items()}}

    return templates.render(error.template, **filled(error.fields))


def _date(value: Any):
    from datetime import date
    # A holiday in policy.toml is read as an admin's is: 2026-02-30 is named as no date.
    return value if isinstance(value, date) else parse_day(str(value))


class Desk:
    """Everything a handler needs besides its unit of work: settings, clock, defaults,
    wording and the closing tips. Built once by the composition root."""

    def __init__(self, settings: Settings, clock: Clock, templates: Templates,
                 defaults: Defaults, tips: tuple[Tip, ...] = ()) -> None:
        self.settings = settings
        self.clock = clock
        self.templates = templates
        self.defaults = defaults
        self.tips = tips
        self.admins = frozenset(settings.admins)
        # The full URL of a path on the desk's web server, as people reach it (set by
        # the composition root when a web server runs; None: no pages are served).
        self.web_url: Callable[[str], str] | None = None

    @classmethod
    def from_settings(cls, settings: Settings, clock: Clock) -> "Desk":
        """Load templates, default policy and tips from the config files in force
        (:class:`ConfigFolder`); any problem with them is a SettingsError naming the file."""
        folder = ConfigFolder.of(settings.config_dir)
        timezone_override = settings.timezone or None
        templates = Templates.load(folder)
        current = folder.path("policy.toml")
        try:
            defaults = Defaults.load(current, timezone_override)
        except SettingsError:  # already names the file (a ValueError, so said first)
            raise
        except Unreadable as error:  # a value the file (or HELPDESK_TIMEZONE) got wrong
            detail = words_for(templates, error)
            if timezone_override and error.template == "input.unknown_time_zone":
                raise SettingsError(f"HELPDESK_TIMEZONE: {detail}") from None
            raise SettingsError(f"{current}: {detail}") from None
        except (KeyError, TypeError, ValueError) as error:
            detail = f"missing {error}" if isinstance(error, KeyError) else str(error)
            raise SettingsError(f"{current}: {detail}.") from None
        return cls(settings, clock, templates, defaults, load_tips(folder.path("tips.toml")))

    def is_admin(self, actor: Actor) -> bool:
        """True when ``actor`` administers the desk whatever role is stored for them:
        named in HELPDESK_ADMINS, or an admin of the platform's own workspace."""
        return actor.user_id in self.admins or actor.is_platform_admin

    def policy(self, workspace: Workspace, team: Team | None = None) -> DeskPolicy:
        """The policy in force for ``team`` of ``workspace`` (its default team when
        None): the team's own settings, then the workspace's, then the defaults."""
        team = team or workspace.default_team
        stored = {**workspace.settings, **(team.settings if team is not None else {})}
        calendar = (BusinessCalendar.from_dict(stored["calendar"]) if "calendar" in stored
                    else self.defaults.calendar)
        sla = SlaPolicy.from_dict(stored["sla"]) if "sla" in stored else self.defaults.sla
        templates = self.templates
        if team is not None and not team.is_default:
            templates = templates.with_overrides(self._team_words(team.name))
        return DeskPolicy(
            calendar=calendar, sla=sla,
            templates=templates.with_overrides(stored.get("templates")),
            ticket_emoji=stored.get("ticket_emoji", self.defaults.ticket_emoji),
            waiting=self.defaults.waiting, confirmation=self.defaults.confirmation,
            flag_emoji=stored.get("flag_emoji", self.defaults.flag_emoji),
            offer_transcript=bool(stored.get("offer_transcript",
                                             self.defaults.offer_transcript)),
            weekly_digest=bool(stored.get("weekly_digest", self.defaults.weekly_digest)),
        )


    def _team_words(self, name: str) -> dict[str, str]:
        """``[team_words]`` with ``{team}`` filled in: how a team other than the default
        one speaks of itself."""
        prefix = "team_words."
        return {key[len(prefix):]: str(self.templates.raw(key)).replace("{team}", name)
                for key in self.templates.keys() if key.startswith(prefix)}


class Policies:
    """Each workspace's policy, worked out once for a batch of work (a sweep's covers,
    a batch of cards) rather than once per ticket."""

    def __init__(self, desk: Desk) -> None:
        self.desk = desk
        self._known: dict[tuple[int, int | None], DeskPolicy] = {}

    def of(self, workspace: Workspace, team_id: int | None = None) -> DeskPolicy:
        """The policy in force for team ``team_id`` of ``workspace`` (None: its default
        team); a ticket's is ``of(workspace, ticket.team_id)``."""
        team = workspace.team(team_id)
        key = (workspace.id, team.id if team is not None else None)
        policy = self._known.get(key)
        if policy is None:
            policy = self._known[key] = self.desk.policy(workspace, team)
        return policy
