"""The dashboard's routes on the desk's web server: sign-in, the pages, the downloads.

- ``GET /dashboard/login?token=...`` shows a Sign in button; only the POST it sends
  spends the single-use token, so a link preview fetching the URL cannot use it up.
- ``POST /dashboard/login`` spends the token and sets the signed session cookie.
- ``GET /dashboard``, ``/dashboard/{promises,agents,backlog}``, ``/dashboard/tickets.csv``,
  ``/dashboard/figures.csv``: only with a session, and only of the session's workspace;
  without one they redirect to ``/dashboard/signed-out``, which says how to get a link.
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

from bot.clock import Clock
from bot.domain.people import Workspace
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
                 clock: Clock, policy_of: Callable[[Workspace], WorkspacePolicy]) -> None:
        self.db = db
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

    def _message(self, heading: str, *lines: str, status: int = 200) -> web.Response:
        return self._html("message.html", status, heading=self.t(heading),
                          lines=[self.t(line) for line in lines])

    def _session(self, request: web.Request) -> Session | None:
        return self.signer.read(request.cookies.get(SESSION_COOKIE), self.clock.now())

    def _to_sign_in(self) -> web.Response:
        raise web.HTTPSeeOther(f"{self.base}/dashboard/signed-out", headers=SECURITY_HEADERS)

    # ------------------------------------------------------------------ sign-in

    async def login_page(self, request: web.Request) -> web.Response:
        """The link's landing page: a Sign in button that POSTs the token. A GET spends
        nothing, whatever fetches it."""
        token = request.query.get("token", "")
        if not token or len(token) > 200:
            return self._message("web.link_refused_heading", "web.link_refused",
                                 "web.how_to_sign_in", status=400)
        nonce = new_login_nonce()
        response = self._html("login.html", token=token, login_csrf=nonce)
        response.set_cookie(LOGIN_COOKIE, nonce, max_age=600, path=f"{self.base}/dashboard",
                            httponly=True, samesite="Strict", secure=self.secure)
        return response

    async def login(self, request: web.Request) -> web.Response:
        """Spend the token and start a session; a used, expired or unknown link (or a
        form not sent from our own page) is refused with how to get a new one."""
        form = await request.post()
        token = str(form.get("token", ""))
        if not same(request.cookies.get(LOGIN_COOKIE), str(form.get("login_csrf", ""))):
            return self._message("web.link_refused_heading", "web.form_refused",
                                 "web.how_to_sign_in", status=403)
        now = self.clock.now()
        async with self.db.unit_of_work() as uow:
            signed = await uow.dashboard_links.spend(token, now)
        if signed is None:
            logger.info("dashboard: a sign-in link was refused (used, expired or unknown)")
            return self._message("web.link_refused_heading", "web.link_refused",
                                 "web.how_to_sign_in", status=403)
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
        response = self._message("web.signed_out_heading", "web.signed_out_done",
                                 "web.how_to_sign_in")
        response.del_cookie(SESSION_COOKIE, path=f"{self.base}/dashboard")
        return response

    async def signed_out(self, request: web.Request) -> web.Response:
        """Where every dashboard request without a session lands: how to get a link."""
        return self._message("web.signed_out_heading", "web.how_to_sign_in")

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
            workspace = await uow.workspaces.get(session.workspace_id)
            filters = filters.with_teams(workspace.teams)
            policy = self.policy_of(workspace)
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
            "firstResponse": t("web.first_response_median_min"),
            "resolution": t("web.resolution_median_h"),
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
            workspace = await uow.workspaces.get(session.workspace_id)
            filters = filters.with_teams(workspace.teams)
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
            workspace = await uow.workspaces.get(session.workspace_id)
            filters = filters.with_teams(workspace.teams)
            text = await figures_text(uow, workspace.id, self.policy_of(workspace), filters,
                                      self.clock.now())
        return web.Response(text=text, content_type="text/csv", charset="utf-8", headers={
            **SECURITY_HEADERS, "Content-Disposition": self._attachment("figures", filters)})

    @staticmethod
    def _attachment(name: str, filters: DashboardFilter) -> str:
        return f'attachment; filename="helpdesk-{name}-{filters.period}.csv"'


def mount_dashboard(server: WebServer, db: Database, templates: Templates, secret_key: str,
                    public_url: str, clock: Clock,
                    policy_of: Callable[[Workspace], WorkspacePolicy]) -> Dashboard:
    """Serve the dashboard on ``server`` (only call with a secret key set)."""
    dashboard = Dashboard(db, templates, secret_key, public_url, clock, policy_of)
    dashboard.mount(server)
    return dashboard
