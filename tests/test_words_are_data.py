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
