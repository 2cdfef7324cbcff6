"""The dashboard's routes on the desk's web server: sign-in, the pages, the downloads.

- ``GET /dashboard/login?token=...`` shows a Sign in button; only the POST it sends
  spends the single-use token, so a link preview fetching the URL cannot use it up.
- ``POST /dashboard/login`` spends the token and sets the signed session cookie.
- ``GET /dashboard``, ``/dashboard/{promises,agents,backlog}``, ``/dashboard/tickets.csv``,
  ``/dashboard/figures.csv``: only with a session, and only of the session's workspace;
  without one they redirect to ``/dashboard/signed-out``, which says how to get a link.
  Each request checks (one query) that the session's person is still a lead or admin of
  the workspace; otherwise the session ends with a page saying why.
- ``POST /dashboard/logout`` needs the session's CSRF token, as any state change does.
"""

from __future__ import annotations

import logging
from importlib import resources
from datetime import datetime, timedelta
from typing import Any, Callable
from zoneinfo import ZoneInfo
from urllib.parse import urlencode, urlsplit

import jinja2
from aiohttp import web
from markupsafe import Markup, escape
from sqlalchemy import select

from bot.clock import Clock
from bot.domain.people import Role, Workspace
from bot.reports import Figures
from bot.storage.tables import PersonRow
from bot.storage.uow import Database
from bot.templates import Templates
from bot.web.dashboard.exports import figures_text, stream_tickets
from bot.web.dashboard.session import (
    LOGIN_COOKIE, SESSION_COOKIE, SESSION_LIFETIME, Session, SessionSigner, new_login_nonce, same,
)
from bot.web.dashboard.view import (
    PAGE_PARTS, PERIODS, PRIORITIES, DashboardFilter, WorkspacePolicy, chart_data,
    intake_channels, page_figures,
)
from bot.web.server import WebServer

logger = logging.getLogger(__name__)

PAGES = ("overview", "promises", "agents", "backlog")
# The command that gives a sign-in link, shown as code wherever a page names it.
LINK_COMMAND = "/helpdesk dashboard"
# Who may see the dashboard: checked at sign-in and on every request, not only when
# the link was given (someone removed from the leads loses it at once).
DASHBOARD_ROLES = (Role.LEAD.value, Role.ADMIN.value)
STATIC = {"chart.umd.min.js": "application/javascript", "dashboard.js": "application/javascript",
          "dashboard.css": "text/css", "chart.js-LICENSE.md": "text/plain"}
# Every dashboard answer: nothing cached, never framed, scripts only from here.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; object-src 'none'; base-uri 'none'; "
                                "frame-ancestors 'none'; form-action 'self'"),
}


def _duration(value: timedelta | None) -> str:
    """A business-time duration as a table shows it: minutes under two hours."""
    if value is None:
        return "—"
    minutes = value.total_seconds() / 60
    return f"{minutes:.0f} min" if minutes < 120 else f"{minutes / 60:.1f} h"


class Dashboard:
    """The dashboard's handlers, for one desk: its database, wording, key and clock."""

    def __init__(self, db: Database, templates: Templates, secret_key: str, public_url: str,
                 clock: Clock, policy_of: Callable[[Workspace], WorkspacePolicy],
                 places: tuple[str, ...] = ("slack", "discord"),
                 admins: frozenset[str] = frozenset()) -> None:
        self.db = db
        # Where the desk answers (its adapters: "slack", "discord", "console"), named in
        # "how to get a link"; and HELPDESK_ADMINS, admins whatever their stored role.
        self.places = tuple(p for p in places if p in ("slack", "discord", "console")) \
            or ("slack", "discord")
        self.admins = frozenset(admins)
        self.words = templates
        # A workspace's calendar, SLA targets and wording (the desk's policy for it).
        self.policy_of = policy_of
        self.signer = SessionSigner(secret_key)
        self.clock = clock
        self.secure = public_url.lower().startswith("https://")
        # Pages link to each other by path, under the public URL's own path if it has one.
        self.base = urlsplit(public_url).path.rstrip("/") if public_url else ""
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("bot.web.dashboard", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined)
        self.env.globals.update(t=self.t, base=self.base, duration=_duration,
                                static=lambda name: f"{self.base}/dashboard/static/{name}")

    def t(self, key: str, **fields: Any) -> str:
        """The dashboard's words, from the desk's templates."""
        return self.words.render(key, **fields)

    def mount(self, server: WebServer) -> None:
        """Add the dashboard's routes to ``server``."""
        server.add_route("GET", "/dashboard/login", self.login_page)
        server.add_route("POST", "/dashboard/login", self.login)
        server.add_route("POST", "/dashboard/logout", self.logout)
        server.add_route("GET", "/dashboard/signed-out", self.signed_out)
        server.add_route("GET", "/dashboard/static/{name}", self.static)
        server.add_route("GET", "/dashboard/tickets.csv", self.tickets_csv)
        server.add_route("GET", "/dashboard/figures.csv", self.figures_csv)
        server.add_route("GET", "/dashboard", self.page)
        server.add_route("GET", "/dashboard/{page}", self.page)

    # ------------------------------------------------------------------ rendering

    def _html(self, template: str, status: int = 200, **context: Any) -> web.Response:
        body = self.env.get_template(template).render(**context)
        return web.Response(text=body, status=status, content_type="text/html",
                            charset="utf-8", headers=SECURITY_HEADERS)

    def _message(self, heading: str, *lines: str, status: int = 200,
                 how: bool = True) -> web.Response:
        """A notice page: ``heading``, ``lines`` (template keys) and, unless ``how`` is
        False, how to get a new sign-in link."""
        shown = [self.t(line) for line in lines] + ([self._how()] if how else [])
        return self._html("message.html", status, heading=self.t(heading), lines=shown)

    def _how(self) -> Markup:
        """How to get a link, naming where this desk answers, the command as code (a
        page is HTML: a chat's backticks would show as they are)."""
        where = self.words.join((self.t(f"web.where_{place}") for place in self.places),
                                alternatives=True)
        text = escape(self.t("web.how_to_sign_in", where=where))
        return Markup(text.replace(escape(LINK_COMMAND),
                                   Markup("<code>{}</code>").format(LINK_COMMAND)))

    def _link_refused(self, state: str, status: int) -> web.Response:
        """The page for a link that cannot sign in: missing, used, expired or unknown."""
        return self._message(f"web.link_{state}_heading", f"web.link_{state}", status=status)

    async def _may_see(self, uow, workspace_id: int, person_id: int) -> bool:
        """Whether the person is a lead or admin of the workspace now (one query)."""
        row = (await uow.session.execute(
            select(PersonRow.role, PersonRow.external_id)
            .where(PersonRow.id == person_id, PersonRow.workspace_id == workspace_id))).first()
        return row is not None and (row.role in DASHBOARD_ROLES or row.external_id in self.admins)

    def _session_ended(self) -> web.Response:
        """The answer to a session whose person is no longer a lead or admin: it ends."""
        response = self._message("web.session_ended_heading", "web.session_ended",
                                 status=403, how=False)
        response.del_cookie(SESSION_COOKIE, path=f"{self.base}/dashboard")
        return response

    def _session(self, request: web.Request) -> Session | None:
        return self.signer.read(request.cookies.get(SESSION_COOKIE), self.clock.now())

    def _to_sign_in(self) -> web.Response:
        raise web.HTTPSeeOther(f"{self.base}/dashboard/signed-out", headers=SECURITY_HEADERS)

    # ------------------------------------------------------------------ sign-in

    async def login_page(self, request: web.Request) -> web.Response:
        """The link's landing page: a Sign in button that POSTs the token. A GET spends
        nothing, whatever fetches it; a link that cannot sign in (used, expired, unknown,
        or no link at all) says so at once instead of offering the button."""
        token = request.query.get("token", "")
        if not token:
            return self._link_refused("missing", 400)
        async with self.db.reading() as uow:
            state = await uow.dashboard_links.state(token, self.clock.now())
        if state != "ready":
            return self._link_refused(state, 404 if state == "unknown" else 410)
        nonce = new_login_nonce()
        response = self._html("login.html", token=token, login_csrf=nonce)
        response.set_cookie(LOGIN_COOKIE, nonce, max_age=600, path=f"{self.base}/dashboard",
                            httponly=True, samesite="Strict", secure=self.secure)
        return response

    async def login(self, request: web.Request) -> web.Response:
        """Spend the token and start a session for a person who is still a lead or
        admin. Refusals say what happened: a used, expired or unknown link; a form not
        sent from our own page (which spends nothing: the link still works, if it does);
        someone no longer a lead or admin."""
        form = await request.post()
        token = str(form.get("token", ""))
        now = self.clock.now()
        if not same(request.cookies.get(LOGIN_COOKIE), str(form.get("login_csrf", ""))):
            async with self.db.reading() as uow:
                state = await uow.dashboard_links.state(token, now) if token else "missing"
            if state != "ready":
                return self._link_refused(state, 403)
            return self._message("web.form_refused_heading", "web.form_refused",
                                  "web.form_link_ok", status=403, how=False)
        async with self.db.unit_of_work() as uow:
            state = await uow.dashboard_links.state(token, now) if token else "missing"
            signed = await uow.dashboard_links.spend(token, now) if state == "ready" else None
            allowed = signed is not None and await self._may_see(
                uow, signed.workspace_id, signed.person_id)
        if signed is None:
            logger.info("dashboard: a sign-in link was refused (%s)",
                        "used or expired just now" if state == "ready" else state)
            return self._link_refused("used" if state == "ready" else state, 403)
        if not allowed:
            logger.info("dashboard: person %s of workspace %s is no longer a lead or admin; "
                        "not signed in", signed.person_id, signed.workspace_id)
            return self._message("web.not_a_lead_heading", "web.not_a_lead", status=403,
                                 how=False)
        logger.info("dashboard: person %s of workspace %s signed in", signed.person_id,
                    signed.workspace_id)
        response = web.HTTPSeeOther(f"{self.base}/dashboard", headers=SECURITY_HEADERS)
        response.set_cookie(SESSION_COOKIE,
                            self.signer.issue(signed.workspace_id, signed.person_id,
                                              signed.role, now),
                            max_age=int(SESSION_LIFETIME.total_seconds()),
                            path=f"{self.base}/dashboard",
                            httponly=True, samesite="Lax", secure=self.secure)
        response.del_cookie(LOGIN_COOKIE, path=f"{self.base}/dashboard")
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        """End the session (needs its CSRF token)."""
        session = self._session(request)
        form = await request.post()
        if session is None:
            self._to_sign_in()
        if not self.signer.csrf_ok(session, str(form.get("csrf", ""))):
            return self._message("web.csrf_heading", "web.csrf", status=403)
        response = self._message("web.signed_out_heading", "web.signed_out_done")
        response.del_cookie(SESSION_COOKIE, path=f"{self.base}/dashboard")
        return response

    async def signed_out(self, request: web.Request) -> web.Response:
        """Where every dashboard request without a session lands: how to get a link."""
        return self._message("web.signed_out_heading")

    async def static(self, request: web.Request) -> web.Response:
        """The vendored chart library, the page's script and style (fixed names only)."""
        name = request.match_info["name"]
        if name not in STATIC:
            raise web.HTTPNotFound()
        body = resources.files("bot.web.dashboard").joinpath("static", name).read_bytes()
        return web.Response(body=body, headers={
            "Content-Type": STATIC[name], "Cache-Control": "public, max-age=3600",
            "X-Content-Type-Options": "nosniff"})

    # ------------------------------------------------------------------ pages

    async def page(self, request: web.Request) -> web.Response:
        """One dashboard page for the session's workspace under the chosen filters."""
        session = self._session(request)
        if session is None:
            self._to_sign_in()
        page = request.match_info.get("page", "overview")
        if page not in PAGES:
            raise web.HTTPNotFound()
        filters = DashboardFilter.from_query(request.query)
        now = self.clock.now()
        async with self.db.reading() as uow:
            seen = await self._in_view(uow, session, filters)
            if seen is None:
                return self._session_ended()
            workspace, filters = seen
            policy = self.policy_of(workspace)
            if filters.unknown:  # nothing to show for a slice the workspace lacks
                figures = Figures(filters.report_filter(
                    workspace.id, now, policy.calendar.timezone), now,
                    policy.calendar.timezone, frozenset())
            else:
                figures = await page_figures(uow, workspace.id, policy, filters, now,
                                             PAGE_PARTS[page])
            channels = await intake_channels(uow, workspace.id)
        words = getattr(policy, "templates", self.words)

        def t(key: str, **fields: Any) -> str:
            return words.render(key, **fields)

        zone = ZoneInfo(figures.zone)

        def local(moment: datetime) -> str:
            return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

        charts = chart_data(figures)
        charts["backlogLabels"] = [t(f"web.age_{bucket.label}") for bucket in figures.backlog]
        charts["labels"] = {
            "opened": t("web.opened"), "resolved": t("web.resolved"),
            "firstResponse": t("web.first_response_median_h"),
            "resolution": t("web.resolution_median_h"),
            "hours": t("web.business_hours"), "day": t("web.day"),
            "promises": [t("web.promises_kept"), t("web.promises_covered"),
                         t("web.promises_late")],
            "csat": t("web.count"), "backlog": t("web.count")}
        return self._html(
            "dashboard.html", fig=figures, filters=filters, channels=channels, page=page,
            charts=charts, t=t, local=local, csrf=self.signer.csrf_token(session),
            teams=sorted(team.name for team in workspace.teams),
            query=urlencode(filters.query()),
            pages=[(key, t(f"web.page_{key}")) for key in PAGES],
            periods=list(PERIODS), priorities=PRIORITIES)

    async def tickets_csv(self, request: web.Request) -> web.StreamResponse:
        """The tickets of the session's workspace under the chosen filters, as CSV,
        streamed as the database yields them."""
        session = self._session(request)
        if session is None:
            self._to_sign_in()
        filters = DashboardFilter.from_query(request.query)
        response = web.StreamResponse(headers={
            **SECURITY_HEADERS, "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": self._attachment("tickets", filters)})
        async with self.db.reading() as uow:
            seen = await self._in_view(uow, session, filters)
            if seen is None:
                return self._session_ended()
            workspace, filters = seen
            if filters.unknown:
                return self._unknown_filters(filters)
            policy = self.policy_of(workspace)
            await response.prepare(request)
            await stream_tickets(response, uow, workspace.id, policy, filters,
                                 self.clock.now())
        await response.write_eof()
        return response

    async def figures_csv(self, request: web.Request) -> web.Response:
        """Every figure the pages show, as CSV (one figure a row)."""
        session = self._session(request)
        if session is None:
            self._to_sign_in()
        filters = DashboardFilter.from_query(request.query)
        async with self.db.reading() as uow:
            seen = await self._in_view(uow, session, filters)
            if seen is None:
                return self._session_ended()
            workspace, filters = seen
            if filters.unknown:
                return self._unknown_filters(filters)
            text = await figures_text(uow, workspace.id, self.policy_of(workspace), filters,
                                      self.clock.now())
        return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
            **SECURITY_HEADERS, "Content-Disposition": self._attachment("figures", filters)})

    async def _in_view(self, uow, session, filters: DashboardFilter
                       ) -> tuple[Workspace, DashboardFilter] | None:
        """The session's workspace and ``filters`` checked against it (its teams and
        channels), or None when the person may no longer see the dashboard (the role is
        re-checked on every request)."""
        if not await self._may_see(uow, session.workspace_id, session.person_id):
            return None
        workspace = await uow.workspaces.get(session.workspace_id)
        return workspace, await filters.with_teams(workspace.teams).with_channel_checked(
            uow, workspace.id)

    def _unknown_filters(self, filters: DashboardFilter) -> web.Response:
        """A download asked for a channel or team the workspace does not have: say
        which, and give no file (an empty one would read as "nothing happened there")."""
        return self._html("message.html", 404, heading=self.t("web.unknown_heading"),
                          lines=[self.t(f"web.unknown_{kind}", name=name)
                                 for kind, name in filters.unknown])

    @staticmethod
    def _attachment(name: str, filters: DashboardFilter) -> str:
        return f'attachment; filename="helpdesk-{name}-{filters.period}.csv"'


def mount_dashboard(server: WebServer, db: Database, templates: Templates, secret_key: str,
                    public_url: str, clock: Clock,
                    policy_of: Callable[[Workspace], WorkspacePolicy],
                    places: tuple[str, ...] = ("slack", "discord"),
                    admins: frozenset[str] = frozenset()) -> Dashboard:
    """Serve the dashboard on ``server`` (only call with a secret key set); ``places``
    are where the desk answers, ``admins`` HELPDESK_ADMINS."""
    dashboard = Dashboard(db, templates, secret_key, public_url, clock, policy_of, places,
                          admins)
    dashboard.mount(server)
    return dashboard
