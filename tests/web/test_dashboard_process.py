"""The dashboard as ``helpdesk-bot run`` serves it (the composition root's wiring): with
HELPDESK_SECRET_KEY set, the console's admin asks ``/helpdesk dashboard``, gets a link to
this process's web server, and signs in with it over real HTTP; without the key there
is no dashboard and the desk says how to switch it on."""

from __future__ import annotations

import re

import aiohttp

from tests.web.dashboard_desk import KEY
from tests.web.process import DeskProcess

LINK = re.compile(r"(http://127\.0\.0\.1:\d+/dashboard/login\?token=[A-Za-z0-9_%-]+)")
FIELD = re.compile(r'name="(\w+)" value="([^"]*)"')


async def test_run_serves_the_dashboard_and_the_admin_signs_in(tmp_path):
    async with DeskProcess(tmp_path, "--console", HELPDESK_SECRET_KEY=KEY,
                           HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}") as desk:
        await desk.say("My VPN keeps dropping")
        await desk.say("/as admin")
        await desk.say("/helpdesk dashboard")

        async def linked() -> bool:
            return bool(LINK.search(desk.output))
        await desk.until(linked, "the sign-in link")
        link = LINK.search(desk.output).group(1)
        assert link.startswith(desk.url)
        assert KEY not in desk.output
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
            async with http.get(link) as page:
                fields = dict(FIELD.findall(await page.text()))
            async with http.post(link.split("?")[0], data=fields) as page:
                body = await page.text()
                assert page.status == 200 and str(page.url) == desk.url + "/dashboard"
                assert re.search(r'id="ticket-count">1<', body)
            async with http.get(desk.url + "/dashboard/static/chart.umd.min.js") as script:
                assert script.status == 200 and "Chart.js v4" in (await script.text())[:200]


async def test_without_a_key_there_is_no_dashboard(tmp_path):
    async with DeskProcess(tmp_path, "--console",
                           HELPDESK_DATABASE_URL=f"sqlite:///{tmp_path / 'desk.sqlite3'}") as desk:
        await desk.say("/as admin")
        await desk.say("/helpdesk dashboard")

        async def answered() -> bool:
            return "HELPDESK_SECRET_KEY" in desk.output
        await desk.until(answered, "the answer")
        assert "token=" not in desk.output
        assert (await desk.get("/dashboard"))[0] == 404
