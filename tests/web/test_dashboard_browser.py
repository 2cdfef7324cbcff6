"""The dashboard in a real headless browser: Debian's chromium driven by selenium through
/usr/bin/chromedriver (Selenium Manager never runs: it would try to download a driver).

Sign in through a link from ``/helpdesk dashboard``, see the charts drawn (a canvas with
data points), filter, download a CSV; a second use of the link, an expired link, another
workspace's data and a request without a session are all refused. Skips, saying why,
only when chromium or its driver is not installed.

With HELPDESK_DASHBOARD_SCREENSHOTS=<folder> the pages are also saved there as PNG (how
the screenshots in docs/ were made).
"""

from __future__ import annotations

import asyncio
import os
from datetime import timedelta
from pathlib import Path

import pytest

from tests.web.dashboard_desk import DashboardDesk

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# How long the browser may take to show something before the test fails (a wait, not
# a timed assertion: it returns as soon as the thing is there).
PATIENCE = 20

pytestmark = pytest.mark.skipif(
    not (os.access(CHROMIUM, os.X_OK) and os.access(CHROMEDRIVER, os.X_OK)),
    reason=f"chromium or chromedriver is not installed ({CHROMIUM}, {CHROMEDRIVER}): "
           "apt-get install chromium chromium-driver")


class Browser:
    """A headless chromium session (synchronous: call its methods in a thread)."""

    def __init__(self, downloads: Path) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                         "--disable-gpu", "--window-size=1280,1400", "--no-first-run",
                         "--disable-extensions", "--disable-background-networking"):
            options.add_argument(argument)
        options.add_experimental_option("prefs", {
            "download.default_directory": str(downloads),
            "download.prompt_for_download": False})
        self.downloads = downloads
        self.driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER),
                                       options=options)
        self.driver.execute_cdp_cmd("Page.setDownloadBehavior",
                                    {"behavior": "allow", "downloadPath": str(downloads)})

    def wait(self, condition, message: str):
        from selenium.common.exceptions import (
            NoSuchElementException, StaleElementReferenceException,
        )
        from selenium.webdriver.support.ui import WebDriverWait
        return WebDriverWait(self.driver, PATIENCE, ignored_exceptions=(
            NoSuchElementException, StaleElementReferenceException)).until(condition, message)

    def navigate(self, act) -> None:
        """Do ``act`` (a click that loads a page) and wait until the new page has
        replaced the old one and finished loading (a click returns before that)."""
        from selenium.webdriver.support import expected_conditions
        old = self.find("html")
        act()
        self.wait(expected_conditions.staleness_of(old), "the next page")
        self.wait(lambda d: d.execute_script("return document.readyState") == "complete",
                  "the page to load")

    def find(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css: str):
        from selenium.webdriver.common.by import By
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def sign_in(self, link: str) -> None:
        self.driver.get(link)
        self.navigate(self.find("#sign-in").click)

    def text(self) -> str:
        return self.find("body").text

    def quit(self) -> None:
        self.driver.quit()


@pytest.fixture
async def browser(tmp_path):
    browser = await asyncio.to_thread(Browser, tmp_path / "downloads")
    yield browser
    await asyncio.to_thread(browser.quit)


async def history(desk: DashboardDesk) -> None:
    """A small desk's week: five tickets over four days, replies, a resolved-and-rated
    one, a P1, and promises the desk had to cover itself."""
    await desk.staffed(agents=("sam", "kim"), leads=("lee",))
    for user, text, then in (("ann", "The VPN drops every few minutes", timedelta(hours=3)),
                             ("bob", "Teams has no sound", timedelta(days=1)),
                             ("cat", "Printer on 3 is jammed", timedelta(hours=20)),
                             ("dan", "Need access to the finance share", timedelta(days=1)),
                             ("eve", "Laptop won't boot after the update",
                              timedelta(minutes=20))):
        await desk.dm(user, text)
        if user == "ann":
            await desk.command("sam", "ticket claim 1")
            await desk.command("sam", "ticket reply 1 Which laptop is it?")
        await desk.advance(then)
    await desk.command("kim", "ticket claim 2")
    await desk.command("kim", "ticket reply 2 Could you try the desktop app?")
    await desk.command("kim", "ticket priority 5 P1")
    await desk.command("kim", "ticket claim 5")
    await desk.advance(timedelta(hours=2))
    await desk.command("kim", "ticket resolve 2 Reinstalled the audio driver")
    sent = next(s for s in reversed(desk.adapter.sent)
                if "solved" in s.text.lower() and desk.buttons(s))
    await desk.press_button("bob", sent, next(iter(desk.buttons(sent))))
    rating = next(s for s in reversed(desk.adapter.sent) if "5" in desk.buttons(s))
    await desk.press_button("bob", rating, "5")


async def test_a_lead_signs_in_sees_charts_filters_and_downloads(sqlite_url, browser):
    async with DashboardDesk(sqlite_url) as desk:
        await history(desk)
        link = await desk.link_for("lee")
        shots = os.environ.get("HELPDESK_DASHBOARD_SCREENSHOTS")

        def run() -> dict:
            seen = {}
            browser.sign_in(link)
            seen["count"] = browser.find("#ticket-count").text
            browser.wait(lambda d: browser.find("#chart-volume").get_attribute("data-rendered"),
                         "the volume chart to be drawn")
            seen["points"] = int(browser.find("#chart-volume").get_attribute("data-points"))
            # A drawn canvas has pixels: its image is not the blank one.
            seen["drawn"] = browser.driver.execute_script(
                "var c = document.getElementById('chart-volume');"
                "var blank = document.createElement('canvas');"
                "blank.width = c.width; blank.height = c.height;"
                "return c.toDataURL() !== blank.toDataURL();")
            if shots:
                browser.driver.save_screenshot(str(Path(shots) / "dashboard-overview.png"))
            # Filter: only P1 tickets.
            from selenium.webdriver.support.select import Select
            Select(browser.find("#f-priority")).select_by_value("P1")
            browser.navigate(browser.find("#apply").click)
            assert "priority=P1" in browser.driver.current_url
            seen["p1"] = browser.find("#ticket-count").text
            # The promises page draws its chart too.
            browser.driver.get(desk.web.url_for("/dashboard/promises"))
            browser.wait(lambda d: browser.find("#chart-promises").get_attribute(
                "data-rendered"), "the promises chart")
            seen["promise_points"] = int(
                browser.find("#chart-promises").get_attribute("data-points"))
            if shots:
                browser.driver.save_screenshot(str(Path(shots) / "dashboard-promises.png"))
            browser.driver.get(desk.web.url_for("/dashboard/agents"))
            seen["agents"] = [row.text for row in browser.finds("#agents-table tbody th")]
            if shots:
                browser.driver.save_screenshot(str(Path(shots) / "dashboard-agents.png"))
            # Download the tickets as CSV.
            browser.driver.get(desk.web.url_for("/dashboard"))
            browser.find("#download-tickets").click()
            browser.wait(lambda d: [p for p in browser.downloads.glob("*.csv")],
                         "the CSV download")
            csv_file = next(browser.downloads.glob("*.csv"))
            browser.wait(lambda d: csv_file.stat().st_size > 0, "the CSV to be written")
            seen["csv"] = csv_file.read_text()
            # Keyboard: the skip link is the first thing Tab reaches.
            from selenium.webdriver.common.action_chains import ActionChains
            from selenium.webdriver.common.keys import Keys
            browser.driver.get(desk.web.url_for("/dashboard/backlog"))
            ActionChains(browser.driver).send_keys(Keys.TAB).perform()
            seen["first_tab"] = browser.driver.switch_to.active_element.get_attribute("class")
            return seen

        seen = await asyncio.to_thread(run)
        assert seen["count"] == "5"
        assert seen["points"] >= 1 and seen["drawn"] is True
        assert seen["p1"] == "1"
        assert seen["promise_points"] >= 1
        assert seen["agents"] == ["Kim", "Sam"]
        lines = seen["csv"].splitlines()
        assert lines[0].startswith("number,status,priority,subject") and len(lines) == 6
        assert "Teams has no sound" in seen["csv"]
        assert seen["first_tab"] == "skip"


async def test_a_spent_link_an_expired_link_and_no_session_are_refused(sqlite_url, browser):
    async with DashboardDesk(sqlite_url) as desk:
        await history(desk)
        spent = await desk.link_for("lee")
        late = await desk.link_for("lee")

        def first_use() -> str:
            browser.sign_in(spent)
            return browser.find("#ticket-count").text
        assert await asyncio.to_thread(first_use) == "5"

        def refused() -> dict:
            seen = {}
            browser.driver.delete_all_cookies()
            browser.driver.get(desk.web.url_for("/dashboard"))
            seen["no_session"] = (browser.driver.current_url, browser.text())
            browser.driver.get(desk.web.url_for("/dashboard/tickets.csv"))
            seen["no_session_csv"] = browser.driver.current_url
            browser.driver.get(spent)  # the page says so at once: no Sign in button
            seen["second_use"] = browser.text()
            seen["buttons"] = len(browser.driver.find_elements("css selector", "#sign-in"))
            return seen
        seen = await asyncio.to_thread(refused)
        assert seen["no_session"][0].endswith("/dashboard/signed-out")
        assert "/helpdesk dashboard" in seen["no_session"][1]
        assert "VPN" not in seen["no_session"][1]
        assert seen["no_session_csv"].endswith("/dashboard/signed-out")
        assert "This sign-in link has been used" in seen["second_use"]
        assert seen["buttons"] == 0 and "`" not in seen["second_use"]

        desk.clock.advance(timedelta(minutes=11))

        def expired() -> tuple[str, str]:
            browser.driver.get(late)
            text = browser.text()
            browser.driver.get(desk.web.url_for("/dashboard"))
            return text, browser.driver.current_url
        text, where = await asyncio.to_thread(expired)
        assert "This sign-in link has expired" in text
        assert where.endswith("/dashboard/signed-out")


async def test_another_workspaces_data_is_never_shown(sqlite_url, browser):
    async with DashboardDesk(sqlite_url, admins=("boss",)) as desk:
        await history(desk)  # all in workspace T-test
        other = await desk.link_for("boss", workspace="T-other")

        def look() -> dict:
            browser.sign_in(other)
            seen = {"count": browser.find("#ticket-count").text}
            for path in ("/dashboard/agents", "/dashboard/backlog",
                         "/dashboard/tickets.csv?period=month"):
                browser.driver.get(desk.web.url_for(path))
                seen[path] = browser.driver.page_source
            return seen
        seen = await asyncio.to_thread(look)
        assert seen["count"] == "0"
        for path in ("/dashboard/agents", "/dashboard/backlog", "/dashboard/tickets.csv?period=month"):
            for word in ("Kim", "VPN", "Teams", "Printer"):
                assert word not in seen[path], (path, word)

