"""Knowledge at hand: self-help suggestions at intake and the "This solved it" button.

A new ticket's words are searched in the workspace's knowledge base; the articles above
the one confidence threshold (:data:`bot.domain.knowledge.SUGGEST_THRESHOLD`), never an
``internal`` one, are offered in the acknowledgement, which still carries the ticket's
number and honest wait: the ticket is opened either way. Pressing "This solved it"
closes the ticket as self-solved, releases its promises and counts the article helpful.
"""

from __future__ import annotations

from bot.core import Button
from bot.domain.knowledge import MAX_SUGGESTIONS, SUGGEST_THRESHOLD, TIP_TAG
from bot.domain.tickets import IllegalTransition, Ticket, TicketAction
from bot.desk.cards import queue_card
from bot.desk.context import Context
from bot.desk.features.lookup import change_status, ticket_of_button
from bot.desk.notify import to_person, to_requester
from bot.desk.quoting import defang
from bot.core.text import excerpt
from bot.storage.kb_search import Match

EXCERPT_CHARS = 140


async def suggest(uow, workspace_id: int, text: str) -> list[Match]:
    """The articles to offer a requester for ``text``: at most three, above the
    threshold, none internal, no tips; empty when nothing is good enough. (bench/kb.py measures
    exactly this.)"""
    # Tips are for the end of a ticket, not answers to it.
    matches = await uow.kb.search(workspace_id, text, limit=MAX_SUGGESTIONS,
                                  include_internal=False, without=(TIP_TAG,))
    # The best match decides whether to suggest at all; the next ones come along when
    # they are at least half as convincing, since any one of them may be the answer.
    if not matches or matches[0].confidence < SUGGEST_THRESHOLD:
        return []
    return [m for m in matches if m.confidence >= SUGGEST_THRESHOLD / 2]


async def suggestions(ctx: Context, text: str) -> list[Match]:
    """:func:`suggest` for the event's workspace."""
    assert ctx.workspace is not None
    if not ctx.workspace.kb_revision:
        # Its knowledge base has never held an article (most desks): nothing to read.
        return []
    return await suggest(ctx.uow, ctx.workspace.id, text)


def suggestion_text(ctx: Context, ticket: Ticket, matches: list[Match]) -> str:
    """The lines added to the acknowledgement: titles with short excerpts."""
    lines = [ctx.t("kb.suggestions")]
    lines += [ctx.t("kb.suggestion", ref=m.article.ref, title=defang(m.article.title),
                    excerpt=defang(excerpt(m.article.summary, EXCERPT_CHARS)))
              for m in matches]
    lines.append(ctx.t("kb.suggestion_hint", ref=ticket.ref))
    return "\n".join(lines)


def solved_buttons(ctx: Context, ticket: Ticket, matches: list[Match]) -> tuple[Button, ...]:
    """One "This solved it" button, or one per article when there are several, so the
    article that helped is the one counted."""
    if len(matches) == 1:
        return (Button(ctx.t("buttons.kb_solved"), "kb.solved",
                       f"{ticket.id}:{matches[0].article.id}", style="primary"),)
    return tuple(Button(ctx.t("buttons.kb_solved_ref", ref=m.article.ref), "kb.solved",
                        f"{ticket.id}:{m.article.id}") for m in matches)


async def self_solved(ctx: Context) -> None:
    """The requester pressed "This solved it": close as self-solved, thank them,
    release every promise of the ticket, count the article helpful, tell the owner."""
    ctx.handled = True
    ticket = await ticket_of_button(ctx, ctx.args)
    if ticket is None or ctx.person is None or ticket.requester_id != ctx.person.id:
        await ctx.answer(ctx.t("resolution.not_yours", ref=ticket.ref if ticket else "this ticket"))
        return
    try:
        closed = await change_status(ctx, ticket, TicketAction.SELF_SOLVE, closed_at=ctx.now,
                                     resolved_at=ctx.now)
    except IllegalTransition:
        await ctx.answer(ctx.t("kb.already_closed", ref=ticket.ref, status=ticket.status.label))
        return
    await ctx.uow.promises.cancel(ticket.id, ctx.now)
    article_id = ctx.args.partition(":")[2]
    articles = await ctx.uow.kb.many([int(article_id)]) if article_id.isdigit() else {}
    article = next((a for a in articles.values() if a.workspace_id == ticket.workspace_id
                    and not a.internal), None)
    if article is not None:
        await ctx.uow.kb.count([article.id], "helpful")
    await ctx.uow.tickets.add_event(ticket.id, "self_solved", ctx.now, author_id=ctx.person.id,
                                    body=article.ref if article else "")
    await ctx.post(to_requester(closed, ctx.t("kb.self_solved", requester=ctx.person.name,
                                              ref=ticket.ref)), ticket_id=ticket.id)
    if closed.owner_id:
        owner = await ctx.uow.people.get(closed.owner_id)
        await ctx.post(to_person(owner, ctx.t("kb.self_solved_owner", requester=ctx.person.name,
                                              ref=ticket.ref,
                                              article=article.ref if article else "an article"),
                                 closed), ticket_id=ticket.id)
    await queue_card(ctx, closed)


def register(router) -> None:
    """Wire the knowledge base's buttons into the router."""
    router.on_button("kb.solved", self_solved)
