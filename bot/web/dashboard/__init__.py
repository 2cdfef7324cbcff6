"""The web dashboard: sign-in by single-use link, signed sessions, server-rendered
pages with charts (Chart.js, vendored in static/), CSV downloads. It reads the desk's
database; it changes nothing but sign-in links."""

from bot.web.dashboard.pages import Dashboard, mount_dashboard

__all__ = ["Dashboard", "mount_dashboard"]
