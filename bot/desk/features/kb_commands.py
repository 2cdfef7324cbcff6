"""``/kb``: search, show and keep the knowledge base in chat, and send an article to a
requester with ``/ticket kb <n> KB-M``.

Everyone may search and show; a requester never sees an article tagged ``internal``,
through any command (it is "not found" to them, the same answer as a number that does
not exist, so its existence is not given away either). Agents add, edit, remove and
draft. The console and every platform take the text forms
``/kb add <title> :: <body> [#tag ...]`` and ``/kb edit KB-N <title> :: <body>``; on Slack
and Discord, ``/kb add`` and ``/kb edit KB-N`` with nothing more open a form (a modal,
the edit filled in with the article) for an agent, whose submission is the button
``kb.save`` and saves through the same checks as the text forms.
"""

from __future__ import annotations

import re

from bot.core import Form, FormField
from bot.domain.knowledge import Article, parse_ref, ref_of
from bot.domain.errors import DomainError, Unreadable
from bot.domain.people import Role
from bot.desk.context import BadInput, Context
from bot.desk.forms import FormRequest, known_role
from bot.desk.features.lookup import load_ticket, split_number
from bot.desk.features.working import send_public_reply
from bot.desk.quoting import defang, excerpt

SEARCH_RESULTS = 5
SHOW_CHARS = 3000
_TAGS = re.compile(r"(?:^|\s)#([\w-]+)")
# What an article may hold, however it is written (the title column holds 300; a text
# past these is a paste gone wrong or someone testing the desk, not an article).
TITLE_MAX = 200
TEXT_MAX = 20_000
TAGS_MAX = 10
TAG_CHARS = 40
_TAG = re.compile(r"^[\w-]+$")
# The form's text box: Slack's multi-line input holds 3,000 characters (Discord's
# 4,000), so a longer article is edited with the text form or as a file.
FORM_TEXT_MAX = 3000
FORM_TAGS_MAX = TAGS_MAX * (TAG_CHARS + 2)
SAVE_ACTION = "kb.save"


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


def _checked(title: str, body: str, tags: tuple[str, ...]) -> None:
    """Refuse an article no one meant to write (too long, tags that are not words),
    before anything is saved."""
    if len(title) > TITLE_MAX:
        raise BadInput("input.article_title_too_long", limit=TITLE_MAX, length=len(title))
    if len(body) > TEXT_MAX:
        raise BadInput("input.article_text_too_long", limit=TEXT_MAX, length=len(body))
    for tag in tags:
        if not _TAG.match(tag) or len(tag) > TAG_CHARS:
            raise BadInput("input.bad_article_tags", limit=TAGS_MAX, chars=TAG_CHARS,
                           text=excerpt(tag, 40))
    if len(tags) > TAGS_MAX:
        raise BadInput("input.bad_article_tags", limit=TAGS_MAX, chars=TAG_CHARS,
                       text=excerpt(tags[TAGS_MAX], 40))


async def _save(ctx: Context, number: int | None, title: str, body: str,
                tags: tuple[str, ...]) -> None:
    """The one way an article is written from chat (text form or modal): checked, saved,
    and the agent told."""
    assert ctx.workspace is not None and ctx.person is not None
    _checked(title, body, tags)
    article, created = await ctx.uow.kb.save(ctx.workspace.id, number, title=title, body=body,
                                             tags=tags, now=ctx.now,
                                             author_id=ctx.person.id if number is None else None)
    await ctx.answer(ctx.t("kb.added" if created else "kb.edited", ref=article.ref,
                           title=defang(article.title)))
    ctx.handled = True


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
    title, body, tags = _split_form(ctx.args, "usage.kb_add")
    await _save(ctx, None, title, body, tags)


async def edit(ctx: Context) -> None:
    """``/kb edit KB-N <title> :: <body> [#tag ...]``: replace an article's text (its tags
    stay unless new ones are given)."""
    assert ctx.workspace is not None
    first, _, rest = ctx.args.strip().partition(" ")
    article = await _article(ctx, first, "usage.kb_edit")
    title, body, tags = _split_form(rest, "usage.kb_edit")
    await _save(ctx, article.number, title, body, tags or article.tags)


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


async def form_saved(ctx: Context) -> None:
    """The form ``/kb add`` or ``/kb edit KB-N`` opened, submitted (the button
    ``kb.save``: its value is the article's number, or empty for a new one)."""
    form = getattr(ctx.event, "form", None) or {}
    title = str(form.get("title") or "").strip()
    body = str(form.get("text") or "").strip()
    if not title or not body:
        raise BadInput("input.need_title_and_text")
    raw_tags = str(form.get("tags") or "")
    tags = tuple(dict.fromkeys(t.strip().lstrip("#").lower()
                               for t in re.split(r"[,\s]+", raw_tags) if t.strip().lstrip("#")))
    number = None
    if ctx.args.strip():
        # An edit: the article must still be there (removed since the form opened?).
        number = (await _article(ctx, ctx.args.strip(), "usage.kb_edit")).number
    await _save(ctx, number, title, body, tags)


def _fields(t, title: str = "", body: str = "", tags: str = "") -> tuple[FormField, ...]:
    return (FormField("title", t("kb.form_title"), initial=title, max_chars=TITLE_MAX),
            FormField("text", t("kb.form_text"), multiline=True, initial=body,
                      max_chars=FORM_TEXT_MAX),
            FormField("tags", t("kb.form_tags"), optional=True, initial=tags,
                      max_chars=FORM_TAGS_MAX))


async def add_form(request: FormRequest) -> Form | None:
    """``/kb add`` with nothing more, by an agent: the empty form. Anyone else, or
    ``/kb add`` with words (the text form), gets the command's own answer."""
    if request.args:
        return None
    async with request.db.reading() as uow:
        workspace, role = await known_role(uow, request)
    if workspace is None or not role.at_least(Role.AGENT):
        return None
    t = request.desk.policy(workspace).templates.render
    return Form(t("kb.form_add"), SAVE_ACTION, "", _fields(t))


async def edit_form(request: FormRequest) -> Form | None:
    """``/kb edit KB-N`` with nothing more, by an agent: the form filled in with the
    article. No form for an article that is not there or too long for the form's text
    box: the command answers that (the usage, with the text form)."""
    words = request.args.split()
    if len(words) != 1:
        return None
    try:
        number = parse_ref(words[0])
    except Unreadable:
        return None
    async with request.db.reading() as uow:
        workspace, role = await known_role(uow, request)
        if workspace is None or not role.at_least(Role.AGENT):
            return None
        article = await uow.kb.get(workspace.id, number)
    if article is None or len(article.body) > FORM_TEXT_MAX or len(article.title) > TITLE_MAX:
        return None
    t = request.desk.policy(workspace).templates.render
    return Form(t("kb.form_edit", ref=article.ref), SAVE_ACTION, str(article.number),
                _fields(t, article.title, article.body, ", ".join(article.tags)))


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
    router.on_button(SAVE_ACTION, form_saved, role=Role.AGENT)
    router.on_form("kb", "add", add_form)
    router.on_form("kb", "edit", edit_form)
