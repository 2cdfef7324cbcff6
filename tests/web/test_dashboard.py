"""The dashboard over HTTP: a link from ``/helpdesk dashboard`` signs a lead in once,
within ten minutes, into their own workspace only; every page and download needs the
signed session; a state change needs the CSRF token. (tests/web/test_dashboard_browser.py
drives the same in a real browser.)"""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import aiohttp
from sqlalchemy import select

from bot.storage.tables import DashboardLinkRow
from tests.web.dashboard_desk import DashboardDesk

FORM_FIELD = re.compile(r'name="(\w+)" value="([^"]*)"')


def client() -> aiohttp.ClientSession:
    """A client that keeps cookies for 127.0.0.1 and never follows redirects by itself."""
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def sign_in(http: aiohttp.ClientSession, link: str) -> aiohttp.ClientResponse:
    """Open the link, then press Sign in (the form's own fields)."""
    async with http.get(link) as page:
        assert page.status == 200
        fields = dict(FORM_FIELD.findall(await page.text()))
    return await http.post(link.split("?")[0], data=fields, allow_redirects=False)


async def staffed_with_a_ticket(desk: DashboardDesk) -> None:
    await desk.staffed(leads=("lee",))
    await desk.dm("ann", "The VPN drops every few minutes")
    await desk.command("sam", "ticket claim 1")
    await desk.command("sam", "ticket reply 1 Which laptop is it?")


async def test_a_lead_signs_in_once_and_sees_the_ticket_count(db_url):
    async with DashboardDesk(db_url) as desk:
        await staffed_with_a_ticket(desk)
        link = await desk.link_for("lee")
        assert desk.last().text.endswith(
            "It works once, only for you, within the next 10 minutes. Please don't share it.")
        async with client() as http:
            # Opening the link (as a preview would) spends nothing.
            for _ in range(2):
                async with http.get(link) as page:
                    assert page.status == 200 and "Sign in" in await page.text()
            response = await sign_in(http, link)
            assert response.status == 303
            assert response.headers["Location"] == "/dashboard"
            cookie = response.headers.getall("Set-Cookie")
            session = next(c for c in cookie if c.startswith("helpdesk_session="))
            assert "HttpOnly" in session and "SameSite=Lax" in session
            assert "Max-Age=43200" in session and "Secure" not in session
            async with http.get(desk.web.url_for("/dashboard")) as page:
                body = await page.text()
                assert page.status == 200
                assert re.search(r'id="ticket-count">1<', body), body
                assert "Content-Security-Policy" in page.headers

            # The second use of the same link is refused, even by the person it was for.
            async with client() as other:
                async with other.get(link) as again:  # said at once, with no button
                    text = await again.text()
                    assert again.status == 410 and 'id="sign-in"' not in text
                    assert "This sign-in link has been used" in text
                    assert "<code>/helpdesk dashboard</code>" in text and "`" not in text


async def test_only_a_hash_of_the_token_is_stored(sqlite_url):
    async with DashboardDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        link = await desk.link_for("lee")
        token = parse_qs(urlsplit(link).query)["token"][0]
        async with desk.db.reading() as uow:
            stored = (await uow.session.execute(select(DashboardLinkRow))).scalars().all()
        assert len(stored) == 1 and stored[0].token_hash != token
        assert token not in stored[0].token_hash and len(stored[0].token_hash) == 64


async def test_an_expired_link_is_refused(db_url):
    async with DashboardDesk(db_url) as desk:
        await desk.staffed(leads=("lee",))
        link = await desk.link_for("lee")
        async with client() as http:
            async with http.get(link) as page:  # the page was opened in time
                fields = dict(FORM_FIELD.findall(await page.text()))
            desk.clock.advance(timedelta(minutes=10, seconds=1))
            response = await http.post(link.split("?")[0], data=fields, allow_redirects=False)
            assert response.status == 403
            assert "This sign-in link has expired" in await response.text()
            async with http.get(desk.web.url_for("/dashboard"), allow_redirects=False) as page:
                assert page.status == 303


async def test_a_link_just_inside_ten_minutes_still_works(sqlite_url):
    async with DashboardDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        link = await desk.link_for("lee")
        desk.clock.advance(timedelta(minutes=9, seconds=59))
        async with client() as http:
            assert (await sign_in(http, link)).status == 303


async def test_without_a_session_every_page_and_download_goes_to_how_to_sign_in(sqlite_url):
    async with DashboardDesk(sqlite_url) as desk:
        await staffed_with_a_ticket(desk)
        async with client() as http:
            for path in ("/dashboard", "/dashboard/agents", "/dashboard/promises",
                         "/dashboard/backlog", "/dashboard/tickets.csv",
                         "/dashboard/figures.csv?period=7d"):
                async with http.get(desk.web.url_for(path), allow_redirects=False) as page:
                    assert page.status == 303, path
                    assert page.headers["Location"] == "/dashboard/signed-out"
            async with http.get(desk.web.url_for("/dashboard/signed-out")) as page:
                text = await page.text()
                assert "send <code>/helpdesk dashboard</code> to the help desk bot" in text
                assert "`" not in text
            # A forged or altered cookie is no session either.
            http.cookie_jar.update_cookies({"helpdesk_session": "eyJ3IjoxfQ.forged"})
            async with http.get(desk.web.url_for("/dashboard"), allow_redirects=False) as page:
                assert page.status == 303


async def test_requesters_and_agents_get_no_link(sqlite_url):
    async with DashboardDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        for user in ("ann", "sam"):
            await desk.command(user, "helpdesk dashboard")
            assert "dashboard" in desk.last().text and "token=" not in desk.last().text
        async with desk.db.reading() as uow:
            assert (await uow.session.execute(select(DashboardLinkRow))).first() is None


async def test_a_session_sees_only_its_own_workspace(db_url):
    async with DashboardDesk(db_url, admins=("boss",)) as desk:
        await staffed_with_a_ticket(desk)  # workspace T-test: one ticket, "VPN"
        link = await desk.link_for("boss", workspace="T-other")  # an admin of both
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            async with http.get(desk.web.url_for("/dashboard")) as page:
                assert re.search(r'id="ticket-count">0<', await page.text())
            async with http.get(desk.web.url_for("/dashboard/tickets.csv")) as page:
                rows = list(csv.reader(io.StringIO(await page.text())))
                assert rows == [rows[0]] and "VPN" not in await page.text()
            # No query parameter chooses the workspace: the session alone does.
            async with http.get(desk.web.url_for("/dashboard/tickets.csv?workspace_id=1")) as page:
                assert "VPN" not in await page.text()


async def test_downloads_hold_the_tickets_and_figures_without_formulas(db_url):
    async with DashboardDesk(db_url) as desk:
        await desk.staffed(leads=("lee",))
        await desk.dm("ann", "=HYPERLINK(\"http://evil\") printer jam")
        link = await desk.link_for("lee")
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            async with http.get(desk.web.url_for("/dashboard/tickets.csv?period=7d")) as page:
                assert page.status == 200 and page.content_type == "text/csv"
                assert "attachment" in page.headers["Content-Disposition"]
                rows = list(csv.reader(io.StringIO(await page.text())))
            assert rows[0][:4] == ["number", "status", "priority", "subject"]
            assert rows[1][0] == "1" and rows[1][3].startswith("'=HYPERLINK")
            async with http.get(desk.web.url_for("/dashboard/figures.csv")) as page:
                figures = {tuple(r[:3]): r[3] for r in csv.reader(io.StringIO(await page.text()))}
            assert figures[("tickets", "all", "opened")] == "1"
            assert figures[("promises", "all", "made")] == "1"


async def test_filters_narrow_the_figures(db_url):
    async with DashboardDesk(db_url) as desk:
        await staffed_with_a_ticket(desk)
        await desk.command("sam", "ticket priority 1 P1")
        await desk.dm("bob", "Teams has no sound")
        link = await desk.link_for("lee")
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            counts = {}
            for query in ("", "?priority=P1", "?priority=P4", "?period=today&priority=bogus"):
                async with http.get(desk.web.url_for("/dashboard" + query)) as page:
                    counts[query] = re.search(r'id="ticket-count">(\d+)<',
                                              await page.text()).group(1)
            assert counts == {"": "2", "?priority=P1": "1", "?priority=P4": "0",
                              "?period=today&priority=bogus": "2"}


async def test_an_unknown_channel_is_named_and_shows_no_figures(db_url):
    # Review finding 5: a channel no ticket came in through read as "All" (too long) or
    # showed zeros under a picker saying "All"; now every page and download says which
    # channel it does not know, and shows nothing that could be read as its figures.
    async with DashboardDesk(db_url) as desk:
        await staffed_with_a_ticket(desk)
        link = await desk.link_for("lee")
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            async with http.get(desk.web.url_for("/dashboard")) as page:
                body = await page.text()
                known = re.findall(r'<option value="([^"]+)">', re.search(
                    r'<select id="f-channel".*?</select>', body, re.S).group(0))
            assert len(known) == 1 and re.search(r'id="ticket-count">1<', body)
            async with http.get(desk.web.url_for(
                    f"/dashboard?channel={known[0]}")) as page:
                assert re.search(r'id="ticket-count">1<', await page.text())
            for name in ("C-nowhere", "C" * 200):
                for path in ("/dashboard", "/dashboard/promises", "/dashboard/agents",
                             "/dashboard/backlog"):
                    async with http.get(desk.web.url_for(path),
                                        params={"channel": name}) as page:
                        body = await page.text()
                    assert page.status == 200 and 'id="unknown-filters"' in body, path
                    assert "We don't know the channel “" + name[:20] in html.unescape(body)
                    for figure in ('id="ticket-count"', 'id="promises-table"',
                                   'id="agents-table"', 'id="backlog-table"',
                                   'id="download-tickets"'):
                        assert figure not in body, (path, figure)
                for csv_path in ("/dashboard/tickets.csv", "/dashboard/figures.csv"):
                    async with http.get(desk.web.url_for(csv_path),
                                        params={"channel": name}) as page:
                        body = await page.text()
                    assert page.status == 404 and page.content_type == "text/html"
                    assert "We don't know the channel “" + name[:20] in html.unescape(body)


async def test_signing_out_needs_the_csrf_token(sqlite_url):
    async with DashboardDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        link = await desk.link_for("lee")
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            async with http.get(desk.web.url_for("/dashboard")) as page:
                csrf = dict(FORM_FIELD.findall(await page.text()))["csrf"]
            async with http.post(desk.web.url_for("/dashboard/logout"),
                                 data={"csrf": "wrong"}) as refused:
                assert refused.status == 403
            async with http.get(desk.web.url_for("/dashboard"), allow_redirects=False) as page:
                assert page.status == 200  # still signed in
            async with http.post(desk.web.url_for("/dashboard/logout"),
                                 data={"csrf": csrf}) as done:
                assert done.status == 200
            async with http.get(desk.web.url_for("/dashboard"), allow_redirects=False) as page:
                assert page.status == 303


async def test_a_sign_in_form_posted_from_elsewhere_is_refused(sqlite_url):
    """Login CSRF: a page elsewhere posting a token (its own) cannot sign a person in,
    and the token is not spent by the attempt."""
    async with DashboardDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        link = await desk.link_for("lee")
        token = parse_qs(urlsplit(link).query)["token"][0]
        async with client() as http:
            async with http.post(link.split("?")[0], data={"token": token,
                                                           "login_csrf": "x"}) as page:
                assert page.status == 403
            assert (await sign_in(http, link)).status == 303


async def test_the_session_cookie_is_secure_behind_https(sqlite_url):
    async with DashboardDesk(sqlite_url, public_url="https://desk.example.com") as desk:
        await desk.staffed(leads=("lee",))
        link = await desk.link_for("lee")
        assert link.startswith("https://desk.example.com/dashboard/login?token=")
        local = desk.web.local_url + link[len("https://desk.example.com"):]
        async with client() as http:
            async with http.get(local) as page:
                fields = dict(FORM_FIELD.findall(await page.text()))
                assert "Secure" in page.headers["Set-Cookie"]
            http.cookie_jar.update_cookies({"helpdesk_login": fields["login_csrf"]})
            response = await http.post(local.split("?")[0], data=fields, allow_redirects=False)
            assert response.status == 303
            session = next(c for c in response.headers.getall("Set-Cookie")
                           if c.startswith("helpdesk_session="))
            assert "Secure" in session and "HttpOnly" in session


async def test_without_a_key_the_desk_says_how_to_switch_the_dashboard_on(sqlite_url):
    async with DashboardDesk(sqlite_url) as desk:
        desk.desk.web_url = None
        await desk.staffed(leads=("lee",))
        await desk.command("lee", "helpdesk dashboard")
        assert "HELPDESK_SECRET_KEY" in desk.last().text and "token" not in desk.last().text


async def test_the_sign_in_pages_say_what_is_true(sqlite_url):
    """Finding 9: no token, a tampered token, an expired one and a failed CSRF check each
    get their own true page; a GET says so at once and spends nothing."""
    async with DashboardDesk(sqlite_url) as desk:
        await desk.staffed(leads=("lee",))
        link = await desk.link_for("lee")
        token = parse_qs(urlsplit(link).query)["token"][0]
        base = link.split("?")[0]
        async with client() as http:
            async with http.get(base) as page:
                text = html.unescape(await page.text())
                assert page.status == 400 and "needs a sign-in link" in text
                assert "used" not in text and "expired" not in text
            async with http.get(base + "?token=" + token[:-3] + "KQx") as page:
                text = html.unescape(await page.text())
                assert page.status == 404 and "We don't recognise this sign-in link" in text
                assert 'id="sign-in"' not in text
            async with http.post(base, data={"token": token, "login_csrf": "x"}) as page:
                text = html.unescape(await page.text())
                assert page.status == 403 and "We didn't sign you in" in text
                assert "Your link still works" in text and "doesn't work" not in text
            assert (await sign_in(http, link)).status == 303  # it did still work
        late = await desk.link_for("lee")
        desk.clock.advance(timedelta(minutes=11))
        async with client() as http:
            async with http.get(late) as page:
                text = html.unescape(await page.text())
                assert page.status == 410 and "This sign-in link has expired" in text
                assert 'id="sign-in"' not in text


async def test_the_console_is_named_where_the_desk_runs_in_it(sqlite_url):
    async with DashboardDesk(sqlite_url) as desk:
        desk.dashboard.places = ("console",)
        async with client() as http:
            async with http.get(desk.web.url_for("/dashboard/signed-out")) as page:
                text = html.unescape(await page.text())
        assert "to the help desk bot in the console it runs in" in text
        assert "Slack" not in text


async def test_someone_removed_from_the_leads_loses_the_dashboard_at_once(sqlite_url):
    """Finding 6: the role is checked at sign-in and on every page and download."""
    async with DashboardDesk(sqlite_url) as desk:
        await staffed_with_a_ticket(desk)
        await desk.staffed(agents=(), leads=("kim",), triage=None)
        early = await desk.link_for("kim")
        link = await desk.link_for("lee")
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            async with http.get(desk.web.url_for("/dashboard")) as page:
                assert page.status == 200
            session = next(c.value for c in http.cookie_jar if c.key == "helpdesk_session")
            async with http.get(early) as page:  # Kim opens the page, then is removed
                fields = dict(FORM_FIELD.findall(await page.text()))
            await desk.command("boss", "helpdesk leads remove <@lee|Lee> <@kim|Kim>")
            assert "Done" in desk.last().text, desk.last().text
            for path in ("/dashboard/tickets.csv", "/dashboard/figures.csv", "/dashboard"):
                http.cookie_jar.update_cookies({"helpdesk_session": session})
                async with http.get(desk.web.url_for(path), allow_redirects=False) as page:
                    text = html.unescape(await page.text())
                    assert page.status == 403, path
                    assert "Your dashboard session has ended" in text and "VPN" not in text
                    assert any(c.startswith('helpdesk_session="";') and "Max-Age=0" in c
                               for c in page.headers.getall("Set-Cookie")), path
        async with client() as http:
            http.cookie_jar.update_cookies({"helpdesk_login": fields["login_csrf"]})
            refused = await http.post(early.split("?")[0], data=fields, allow_redirects=False)
            text = html.unescape(await refused.text())
            assert refused.status == 403 and "aren't one of them any more" in text
            assert not any(c.startswith("helpdesk_session=")
                           for c in refused.headers.getall("Set-Cookie", []))


async def test_an_agents_promises_add_up_on_the_agents_page(sqlite_url):
    """Finding 16: made = kept + covered + late + open, all four shown."""
    async with DashboardDesk(sqlite_url) as desk:
        await staffed_with_a_ticket(desk)
        link = await desk.link_for("lee")
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            async with http.get(desk.web.url_for("/dashboard/agents?period=7d")) as page:
                body = await page.text()
        table = body[body.index('id="agents-table"'):]
        heads = re.findall(r'<th scope="col">([^<]*)</th>', table[:table.index("</thead>")])
        row = table[table.index("<tbody>"):table.index("</tbody>")]
        cells = dict(zip(heads[1:], re.findall(r"<td>([^<]*)</td>", row)))
        made = int(cells["Promises made"])
        parts = [int(cells[k]) for k in ("Kept on time by a person",
                                         "Covered on time by the desk", "Late", "Not due yet")]
        assert made >= 1 and sum(parts) == made, cells


async def test_the_team_filter_lists_the_workspaces_teams_and_narrows_the_figures(db_url):
    async with DashboardDesk(db_url) as desk:
        await staffed_with_a_ticket(desk)
        await desk.command("boss", "helpdesk team add hr")
        # (a team takes transfers only once it has a triage channel and someone in it)
        await desk.command("boss", "helpdesk triage <#C-hr-triage|hr-triage> team hr")
        await desk.command("boss", "helpdesk agents add <@hana|Hana> team hr")
        await desk.dm("bob", "My payslip is wrong")
        await desk.command("sam", "ticket transfer 2 hr this is about payroll")
        link = await desk.link_for("lee")
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            counts = {}
            for query in ("", "?team=it", "?team=hr", "?team=HR"):
                async with http.get(desk.web.url_for("/dashboard" + query)) as page:
                    body = await page.text()
                    counts[query] = re.search(r'id="ticket-count">(\d+)<', body).group(1)
                    if query == "?team=hr":
                        picker = re.search(r'<select id="f-team".*?</select>', body, re.S)
                        options = re.findall(r'<option value="([^"]+)"( selected)?>',
                                             picker.group(0))
                        assert options == [("all", ""), ("hr", " selected"), ("it", "")]
                        # Links between pages and downloads keep the team.
                        assert "tickets.csv?period=30d&amp;team=hr" in body
            # The default team (it) has the ticket from before any transfer.
            assert counts == {"": "2", "?team=it": "1", "?team=hr": "1", "?team=HR": "1"}
            # A team the workspace does not have is named, with no figures (not all
            # teams' under a picker saying "All").
            async with http.get(desk.web.url_for("/dashboard?team=finance")) as page:
                body = await page.text()
            assert page.status == 200 and 'id="ticket-count"' not in body
            assert "We don't know a team called “finance” in this workspace" in \
                html.unescape(body)
            async with http.get(desk.web.url_for("/dashboard/tickets.csv?team=hr")) as page:
                rows = list(csv.DictReader(io.StringIO(await page.text())))
            assert [row["number"] for row in rows] == ["2"]


async def test_the_backlog_page_lists_open_incidents(db_url):
    async with DashboardDesk(db_url) as desk:
        await staffed_with_a_ticket(desk)
        link = await desk.link_for("lee")
        async with client() as http:
            assert (await sign_in(http, link)).status == 303
            async with http.get(desk.web.url_for("/dashboard/backlog")) as page:
                assert "No open incidents." in await page.text()
            await desk.command("sam", "incident declare VPN & Wi-Fi slow from 1")
            async with http.get(desk.web.url_for("/dashboard/backlog")) as page:
                body = await page.text()
            row = re.search(r'<table id="incidents-table">.*?</table>', body, re.S).group(0)
            assert "INC-1" in row and "VPN &amp; Wi-Fi slow" in row
            assert re.search(r"<td>1</td></tr>", row), row
            async with http.get(desk.web.url_for("/dashboard")) as page:
                assert re.search(r'id="incident-count">1 \(1 linked ticket\)<',
                                 await page.text())
