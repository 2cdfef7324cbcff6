"""Platform-neutral use cases. Each feature module has ``register(router)``; this is the
one place that calls them all."""

from bot.handlers import admin, intake, working


def register_all(router) -> None:
    """Register every feature's handlers on ``router``."""
    for feature in (admin, intake, working):
        feature.register(router)
