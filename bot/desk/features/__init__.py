"""Platform-neutral use cases. Each feature module has ``register(router)``; this is the
one place that calls them all. Order matters for messages: a reply in a ticket's
thread is attached before anything else, then the "same issue or new?" question,
then a new ticket."""

from bot.desk.features import (
    admin, card_buttons, conversation, dashboard, detection, digest, home, incidents, intake,
    kb_commands, knowledge, oncall, policy_admin, report_commands, resolution, special_care,
    teams, transcripts, triage, views, working,
)

FEATURES = (conversation, intake, working, triage, resolution, views, admin, policy_admin,
            card_buttons, home, knowledge, kb_commands, incidents, detection, teams, oncall,
            special_care, report_commands, dashboard, transcripts, digest)


def register_all(router) -> None:
    """Register every feature's handlers on ``router``."""
    for feature in FEATURES:
        feature.register(router)
