"""``/kb``: search, show and keep the knowledge base in chat, and send an article to a
requester with ``/ticket kb <n> KB-M``.

Everyone may search and show; a requester never sees an article tagged ``internal``,
through any command (it is "not found" to them, the same answer as a number that does
not exist, so its existence is not given away either). Agents add, edit, remove and
draft. The console and every platform take the text forms
``/kb add <title> :: <body> [#tag ...]`` and ``/kb edit KB-N <title> :: <body>``.
"""

from __future__ import annotations

import re

from bot.domain.knowledge import Article, parse_ref, ref_of
from bot.domain.errors import DomainError, Unreadable
from bot.domain.people import Role
from bot.desk.context import BadInput, Context
from bot.desk.features.lookup import load_ticket, split_number
from bot.desk.features.working import send_public_reply
from bot.desk.quoting import defang, excerpt

SEARCH_RESULTS = 5
SHOW_CHARS = 3000
_TAGS = re.compile(r"(?:^|\s)#([\w-]+)")


class UnknownArticle(DomainError):
    """No such article, or one this person may not see."""

    def __init__(self, number: int) -> None:
        super().__init__("kb.unknown_article", ref=ref_of(number))


def _is_staff(ctx: Context) -> bool:
    return ctx.role.at_least(Role.AGENT)


async def _article(ctx: Context, text: str, usage: str) -> Article:
    assert ctx.workspace is not None
    try:
        number = parse_ref(text)
    except Unreadable as error:
        raise BadInput.unreadable(error, usage) from None
    article = await ctx.uow.kb.get(ctx.workspace.id, number)
    if article is None or (article.internal and not _is_staff(ctx)):
        raise UnknownArticle(number)
    return article


def _split_form(text: str, usage: str) -> tuple[str, str, tuple[str, ...]]:
    """``<title> :: <body> [#tag ...]`` as (title, body, tags)."""
    title, sep, body = text.partition("::")
    if not sep or not title.strip() or not body.strip():
        raise BadInput("input.need_article_form", usage)
    tags = tuple(_TAGS.findall(body))
    body = _TAGS.sub(" ", body).strip() if tags else body.strip()
    return title.strip(), body, tags


async def search(ctx: Context) -> None:
    """``/kb search <words>``: the best articles, with their numbers."""
    assert ctx.workspace is not None
    words = ctx.args.strip()
    if not words:
        raise BadInput("input.need_search_words", "usage.kb_search")
    matches = await ctx.uow.kb.search(ctx.workspace.id, words, limit=SEARCH_RESULTS,
                                      include_internal=_is_staff(ctx))
    if not matches:
        await ctx.answer(ctx.t("kb.search_none", words=defang(excerpt(words, 60))))
    else:
        lines = [ctx.t("kb.search_found", words=defang(excerpt(words, 60)))]
        lines += [ctx.t("kb.search_line", ref=m.article.ref, title=defang(m.article.title))
                  for m in matches]
        await ctx.answer("\n".join(lines))
    ctx.handled = True


async def show(ctx: Context) -> None:
    """``/kb show KB-N``: the article's title and text; counts it opened."""
    article = await _article(ctx, ctx.args.strip(), "usage.kb_show")
    await ctx.uow.kb.count([article.id], "opened")
    await ctx.answer(ctx.t("kb.show", ref=article.ref, title=defang(article.title),
                           body=defang(excerpt(article.body, SHOW_CHARS)),
                           tags=", ".join(article.tags) or "-"))
    ctx.handled = True


async def add(ctx: Context) -> None:
    """``/kb add <title> :: <body> [#tag ...]``: a new article."""
    assert ctx.workspace is not None and ctx.person is not None
    title, body, tags = _split_form(ctx.args, "usage.kb_add")
    article, _ = await ctx.uow.kb.save(ctx.workspace.id, None, title=title, body=body,
                                       tags=tags, now=ctx.now, author_id=ctx.person.id)
    await ctx.answer(ctx.t("kb.added", ref=article.ref, title=defang(article.title)))
    ctx.handled = True


async def edit(ctx: Context) -> None:
    """``/kb edit KB-N <title> :: <body> [#tag ...]``: replace an article's text (its tags
    stay unless new ones are given)."""
    assert ctx.workspace is not None
    first, _, rest = ctx.args.strip().partition(" ")
    article = await _article(ctx, first, "usage.kb_edit")
    title, body, tags = _split_form(rest, "usage.kb_edit")
    saved, _ = await ctx.uow.kb.save(ctx.workspace.id, article.number, title=title, body=body,
                                     tags=tags or article.tags, now=ctx.now)
    await ctx.answer(ctx.t("kb.edited", ref=saved.ref, title=defang(saved.title)))
    ctx.handled = True


async def remove(ctx: Context) -> None:
    """``/kb remove KB-N``."""
    assert ctx.workspace is not None
    article = await _article(ctx, ctx.args.strip(), "usage.kb_remove")
    await ctx.uow.kb.remove(ctx.workspace.id, article.number)
    await ctx.answer(ctx.t("kb.removed", ref=article.ref, title=defang(article.title)))
    ctx.handled = True


async def draft(ctx: Context) -> None:
    """``/kb draft <n>``: a new article from ticket #n's question and the agents' public
    replies, tagged ``draft`` and ``internal`` until an agent edits it into shape."""
    assert ctx.workspace is not None and ctx.person is not None
    number, _ = split_number(ctx.args, "usage.kb_draft")
    ticket = await load_ticket(ctx, number)
    timeline = await ctx.uow.tickets.timeline(ticket.id)
    replies = [entry.body for entry in timeline if entry.kind in ("reply", "resolution")
               and entry.body]
    body = ctx.t("kb.draft_body", question=ticket.first_message,
                 answer="\n\n".join(replies) or ctx.t("kb.draft_no_replies"))
    article, _ = await ctx.uow.kb.save(ctx.workspace.id, None, title=ticket.subject, body=body,
                                       tags=("draft", "internal"), now=ctx.now,
                                       author_id=ctx.person.id)
    await ctx.answer(ctx.t("kb.drafted", ref=article.ref, ticket=ticket.ref))
    ctx.handled = True


async def send_to_requester(ctx: Context) -> None:
    """``/ticket kb <n> KB-M``: the article's title and text to the requester, as the
    agent's public reply (on the timeline, keeping what a reply keeps). An internal
    article is refused: it is never for a requester."""
    assert ctx.workspace is not None
    number, rest = split_number(ctx.args, "usage.ticket_kb")
    ticket = await load_ticket(ctx, number)
    article = await _article(ctx, rest, "usage.ticket_kb")
    if article.internal:
        raise DomainError("kb.internal_not_sent", ref=article.ref)
    await ctx.uow.kb.count([article.id], "opened")
    text = ctx.t("kb.sent_article", title=article.title, body=excerpt(article.body, SHOW_CHARS),
                 ref=article.ref)
    await send_public_reply(ctx, ticket, text)
    ctx.handled = True


def register(router) -> None:
    """Wire ``/kb`` and ``/ticket kb`` into the router."""
    router.on_command("kb", "search", search, description="commands.kb_search")
    router.on_command("kb", "show", show, description="commands.kb_show")
    router.on_command("kb", "add", add, role=Role.AGENT, description="commands.kb_add")
    router.on_command("kb", "edit", edit, role=Role.AGENT, description="commands.kb_edit")
    router.on_command("kb", "remove", remove, role=Role.AGENT, description="commands.kb_remove")
    router.on_command("kb", "draft", draft, role=Role.AGENT, description="commands.kb_draft")
    router.on_command("ticket", "kb", send_to_requester, role=Role.AGENT,
                      description="commands.ticket_kb")
