"""Clusters of alike tickets: two tickets opened at once may both start the same one."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.storage.uow import Database
from tests.support.harness import reset_schema


async def test_a_second_start_of_the_same_cluster_joins_it(db_url):
    db = Database.from_url(db_url)
    try:
        await reset_schema(db)
        now = datetime.now(UTC)
        async with db.unit_of_work() as uow:
            ws = await uow.workspaces.ensure("test", "W", "W", now)
            ann = await uow.people.ensure(ws.id, "ann", "Ann", now)
            ids = [(await uow.tickets.add(
                workspace_id=ws.id, number=n, requester_id=ann.id, status="open",
                priority="P3", subject="VPN", first_message="VPN", created_at=now,
                updated_at=now)).id for n in range(1, 8)]
        async with db.unit_of_work() as uow:
            first = await uow.clusters.start(ws.id, ids[0], ids[:5], now)
        async with db.unit_of_work() as uow:
            # Read before the first wrote: the same anchor, and some of the same tickets.
            second = await uow.clusters.start(ws.id, ids[0], [*ids[:4], ids[5]], now)
            await uow.clusters.add(first, [ids[6], ids[6]])
        assert second == first
        async with db.reading() as uow:
            cluster = await uow.clusters.get(first)
        assert [t.number for t in cluster.tickets] == [1, 2, 3, 4, 5, 6, 7]
    finally:
        await db.dispose()
