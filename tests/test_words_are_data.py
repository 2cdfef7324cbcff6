"""Words the user reads are data: no refusal in bot/ carries an English sentence.

Every :class:`DomainError` (BadInput, PermissionDenied, IllegalTransition, Unreadable
and the rest) is built from a template key and fields; the sentence lives in
``config/messages.toml`` (shipped in ``bot/config/``), where a workspace can reword it.
The scan below reads every module of the bot and fails on a refusal built from a
sentence, from ``str(error)``, or from a key that no template has. Keys built at run
time (a command's description, a transition's wording) are checked against what the
desk actually registers.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

from bot.desk.features import register_all
from bot.desk.router import Router
from bot.domain.tickets import TicketAction
from bot.templates import load_templates

BOT = Path(__file__).resolve().parent.parent / "bot"
KEY = re.compile(r"[a-z_]+(\.[a-z0-9_]+)+")
# An f-string that builds a key: lower-case words, dots and underscores between fields.
KEY_PART = re.compile(r"[a-z0-9_.]*")
TEMPLATES = load_templates()


def _modules() -> dict[str, ast.Module]:
    return {str(path.relative_to(BOT.parent)): ast.parse(path.read_text())
            for path in sorted(BOT.rglob("*.py")) if "migrations" not in path.parts}


def _name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def error_classes(modules: dict[str, ast.Module]) -> dict[str, bool]:
    """DomainError and every class in bot/ that derives from it, however indirectly, each
    with whether its first argument is the template (its own ``__init__``, if any, takes
    ``template`` or ``problem`` first; otherwise its first argument is a field)."""
    classes = {node.name: node for tree in modules.values() for node in ast.walk(tree)
               if isinstance(node, ast.ClassDef)}
    known = {"DomainError": True}
    grew = True
    while grew:
        grew = False
        for name, node in classes.items():
            if name not in known and any(_name(base) in known for base in node.bases):
                init = next((item for item in node.body if isinstance(item, ast.FunctionDef)
                             and item.name == "__init__"), None)
                first = init.args.args[1].arg if init is not None and len(init.args.args) > 1 \
                    else None
                known[name] = init is None or first in ("template", "problem")
                grew = True
    return known


def _strings(node: ast.AST):
    """Each string in an argument: ("f", literal text) for an f-string, ("s", text)."""
    if isinstance(node, ast.JoinedStr):
        yield "f", "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield "s", node.value
    else:
        for child in ast.iter_child_nodes(node):
            yield from _strings(child)


def problems(modules: dict[str, ast.Module], keys: set[str]) -> list[str]:
    """Where a refusal (or a Phrase inside one) is built from anything but keys and fields."""
    classes = {**error_classes(modules), "Phrase": True}
    found = []
    for where, tree in modules.items():
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            called = _name(node.func)
            if called == "__init__" and isinstance(node.func, ast.Attribute) \
                    and isinstance(node.func.value, ast.Call) \
                    and _name(node.func.value.func) == "super":
                owner = parents.get(node)
                while owner is not None and not isinstance(owner, ast.ClassDef):
                    owner = parents.get(owner)
                if owner is None or owner.name not in classes:
                    continue
                template_first = True  # every __init__ chain ends in DomainError's
            elif called in classes:
                template_first = classes[called]
            else:
                continue
            line = f"{where}:{node.lineno}"
            if template_first and node.args and isinstance(node.args[0], ast.Call):
                found.append(f"{line}: the template is worked out by a call; name a key")
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                for kind, text in _strings(argument):
                    if kind == "f" and re.search("[A-Za-z]", text) \
                            and not KEY_PART.fullmatch(text):
                        found.append(f"{line}: words in an f-string: {text!r}")
                    elif kind == "s" and not KEY.fullmatch(text):
                        found.append(f"{line}: a sentence, not a template key: {text!r}")
                    elif kind == "s" and text not in keys:
                        found.append(f"{line}: no template named {text!r}")
    return sorted(set(found))


def test_no_refusal_in_the_bot_carries_a_sentence():
    assert problems(_modules(), set(TEMPLATES.keys())) == []


def test_the_scan_finds_what_it_is_for():
    sources = {"bot/example.py": ast.parse('''
class DomainError(Exception): ...
class BadInput(DomainError): ...
class UnknownCommand(DomainError):
    def __init__(self, command):
        super().__init__("errors.unknown_command", command=command)
class NotYours(BadInput):
    def __init__(self, number):
        super().__init__(f"Ticket #{number} isn't yours.")
raise BadInput("I need a ticket number.", "usage.ticket_show")
raise BadInput(sentence(str(error)))
raise BadInput("input.need_ticket_number", "usage.ticket_show", number=n)
raise BadInput("input.no_such_words")
raise DomainError("errors.illegal_transition", action=Phrase(f"transitions.{action}"))
raise UnknownCommand(f"/{name} {word}".strip())
raise UnknownCommand("that")
''')}
    assert {p.split(": ", 1)[1] for p in problems(sources, set(TEMPLATES.keys()))} == {
        "words in an f-string: \"Ticket # isn't yours.\"",
        "a sentence, not a template key: 'I need a ticket number.'",
        "the template is worked out by a call; name a key",
        "no template named 'input.no_such_words'",
        "a sentence, not a template key: 'that'",
    }


def test_every_command_is_described_by_a_template():
    router = Router(db=None, desk=None)  # type: ignore[arg-type]  # only registered
    register_all(router)
    for route in router.commands.values():
        assert route.description and TEMPLATES.render(route.description), route


def test_every_ticket_action_has_words_for_a_refusal():
    for action in TicketAction:
        assert TEMPLATES.render(f"transitions.{action.value}")


# A command as the desk's words mention it: `/ticket mine`, `{prefix} claim <n>`,
# `/helpdesk holiday add|remove <date>`.
MENTIONED = re.compile(r"(?:/(ticket|helpdesk|incident)|\{prefix\}) ([a-z][a-z-]*)")
DOCS = [BOT.parent / "README.md", *sorted((BOT.parent / "docs").glob("*.md"))]


def mentioned_commands(text: str) -> set[tuple[str, str]]:
    """Every ``(command, sub-command)`` a text names; ``{prefix}`` is /ticket."""
    return {(name or "ticket", word) for name, word in MENTIONED.findall(text)}


def _registered() -> dict:
    router = Router(db=None, desk=None)  # type: ignore[arg-type]  # only registered
    register_all(router)
    return router.commands


def test_every_command_the_desk_mentions_is_one_it_has():
    said = {key: str(TEMPLATES.raw(key)) for key in TEMPLATES.keys()}
    named = {(command, where) for where, text in said.items()
             for command in mentioned_commands(text)}
    assert {"ticket mine", "helpdesk leads"} <= {" ".join(c) for c, _ in named}  # the scan reads
    assert sorted((c, where) for c, where in named if c not in _registered()) == []


def test_every_command_the_docs_and_the_console_mention_is_one_the_desk_has():
    from bot.platforms.console.render import HELP
    texts = {str(path.name): path.read_text() for path in DOCS} | {"console help": HELP}
    named = {(command, where) for where, text in texts.items()
             for command in mentioned_commands(text)}
    assert sorted((c, where) for c, where in named if c not in _registered()) == []


def test_every_command_has_typed_options_on_discord():
    from bot.platforms.discord.commands import SPECS
    assert set(_registered()) - {(name, "") for name in ("ticket", "helpdesk", "incident")} \
        == set(SPECS)


def test_the_mention_scan_finds_what_it_is_for():
    assert mentioned_commands("Try `{prefix} mine` or `/helpdesk holiday add|remove <d>`; "
                              "/ticket, /helpdesk") == {("ticket", "mine"),
                                                        ("helpdesk", "holiday")}


def test_every_word_slacks_usage_hints_offer_is_a_command():
    # The manifest is read as lines: PyYAML is not a dependency of the desk.
    offered, command = set(), ""
    for line in (BOT / "config" / "slack-manifest.yaml").read_text().splitlines():
        if line.strip().startswith("- command:"):
            command = line.split(":", 1)[1].strip().lstrip("/")
        elif line.strip().startswith("usage_hint:"):
            hints = line.split(":", 1)[1].split("#")[0].strip().strip('"')
            offered |= {(command, hint.split()[0]) for hint in hints.split("|")}
    assert ("ticket", "mine") in offered
    assert sorted(offered - set(_registered())) == []


# Words between words: "in progress", "of business time"; in an f-string any word counts.
PHRASE = re.compile(r"[A-Za-z]{2,} [a-z]{2,}")
# Stored, not said: a ticket opened from nothing has this subject in the database.
STORED_WORDS = {"(no text)"}
# Matched, not said: the knowledge base's search vocabulary (bot/domain/knowledge.py)
# is compared with what people typed and never shown to anyone.
SEARCH_VOCABULARY = {"STOPWORDS", "SYNONYM_GROUPS"}
# Formats, not sentences: an article's reference ("KB-7", as "#7" is a ticket's) and the
# Markdown file `kb export` writes, which `kb import` reads back.
FORMATS = {"ref_of", "render_markdown", "file_name"}


def english_in_the_domain(modules: dict[str, ast.Module]) -> list[str]:
    """Where bot/domain builds words for people: a string or f-string with words in it,
    outside docstrings, ``raise`` (a programmer's error, never shown to a person:
    people's refusals are template keys, checked above) and ``__repr__``/``__str__``
    (for logs)."""
    found = []
    for where, tree in modules.items():
        if not where.startswith("bot/domain/"):
            continue
        skip: set[int] = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                 ast.AsyncFunctionDef)) and ast.get_docstring(node):
                skip.add(id(node.body[0].value))
            if isinstance(node, ast.Raise) or (isinstance(node, ast.FunctionDef)
                                               and node.name in ("__repr__", "__str__",
                                                                 *FORMATS)):
                skip.update(id(child) for child in ast.walk(node))
            if isinstance(node, ast.Assign) and any(
                    isinstance(target, ast.Name) and target.id in SEARCH_VOCABULARY
                    for target in node.targets):
                skip.update(id(child) for child in ast.walk(node))
        for node in ast.walk(tree):
            if id(node) in skip:
                continue
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                skip.update(id(v) for v in node.values)
                # f"{day} at {clock}": words around values (a template key is no words).
                if re.search("[A-Za-z]{2,}", text) and not KEY_PART.fullmatch(text):
                    found.append(f"{where}:{node.lineno}: {text!r}")
                    continue
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                text = node.value
            else:
                continue
            if PHRASE.search(text) and text not in STORED_WORDS:
                found.append(f"{where}:{node.lineno}: {text!r}")
    return found


def test_the_domain_gives_values_and_the_templates_give_the_words():
    assert english_in_the_domain(_modules()) == []


def test_the_domain_scan_finds_what_it_is_for():
    sources = {"bot/domain/example.py": ast.parse('''
"""A module about times."""
def when(days):
    """Words in a docstring are fine."""
    if days < 0:
        raise ValueError(f"days must not be negative, got {days}")
    if days == 0:
        return "today at noon"
    if days == 1:
        return f"{days} at {noon}"
    return f"{days} days from now"
KEYS = {"status": "status.open", "unit": "hour"}
''')}
    assert sorted(p.split(": ", 1)[1] for p in english_in_the_domain(sources)) == [
        "' at '", "' days from now'", "'today at noon'"]
