"""Alembic environment: async engines, batch mode so ALTER works on SQLite.

`bot.storage.migrate` passes an open connection in ``config.attributes``; running the
`alembic` command directly (with ``-x url=...``) builds an engine here instead.
"""

import asyncio

from alembic import context

from bot.storage.engine import create_engine
from bot.storage.migrate import objects_for
from bot.storage.tables import Base

config = context.config
target_metadata = Base.metadata


def run_with_connection(connection) -> None:
    """Run the migrations on an open synchronous connection."""
    context.configure(
        connection=connection, target_metadata=target_metadata,
        render_as_batch=True, compare_type=True,
        include_object=objects_for(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_new_engine(url: str) -> None:
    """Open an engine for ``url`` and run the migrations through it."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_with_connection)
            await connection.commit()
    finally:
        await engine.dispose()


def main() -> None:
    """Entry point Alembic calls when it loads this file."""
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option("sqlalchemy.url")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=target_metadata, render_as_batch=True,
                          literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with_connection(connection)
    else:
        asyncio.run(run_with_new_engine(url))


main()
