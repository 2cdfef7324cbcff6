"""``/helpdesk dashboard``: a lead or admin asks for the web dashboard and gets a
sign-in link, privately.

The link carries a single-use token that expires after ten minutes and is bound to this
person in this workspace (bot/storage/dashboard_links.py keeps only its hash). Opening
the link shows a page with a Sign in button; only that POST spends the token, so a link
preview fetching the URL cannot use it up (bot/web/dashboard/).
"""

from __future__ import annotations

from urllib.parse import quote

from bot.desk.context import Context
from bot.domain.people import Role
from bot.storage.dashboard_links import LINK_LIFETIME

LOGIN_PATH = "/dashboard/login"


async def dashboard(ctx: Context) -> None:
    """Answer with a fresh sign-in link, or say plainly why the dashboard is not served."""
    assert ctx.workspace is not None and ctx.person is not None
    ctx.handled = True
    if not ctx.desk.settings.secret_key or ctx.desk.web_url is None:
        await ctx.answer(ctx.t("dashboard.off"))
        return
    token = await ctx.uow.dashboard_links.give(ctx.workspace.id, ctx.person.id,
                                               ctx.role.value, ctx.now)
    url = ctx.desk.web_url(LOGIN_PATH) + "?token=" + quote(token, safe="")
    await ctx.answer(ctx.t("dashboard.link", url=url,
                           minutes=int(LINK_LIFETIME.total_seconds() // 60)))


def register(router) -> None:
    """Wire ``/helpdesk dashboard`` (leads and admins) into the router."""
    router.on_command("helpdesk", "dashboard", dashboard, role=Role.LEAD,
                      description="commands.helpdesk_dashboard")
