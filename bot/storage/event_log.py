"""The log of inbound events already handled, so a platform's re-delivery is dropped."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot.storage.workspace_repository import insert_for
from bot.storage.tables import ProcessedEventRow


class InboundEventLog:
    """Inbound event ids already handled, so a platform's re-delivery is dropped."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def first_time(self, platform: str, event_id: str, now: datetime) -> bool:
        """Record the event; False if it was recorded before (a duplicate delivery)."""
        result = await self.session.execute(
            insert_for(self.session, ProcessedEventRow).values(
                platform=platform, event_id=event_id, received_at=now
            ).on_conflict_do_nothing(index_elements=["platform", "event_id"])
            .returning(ProcessedEventRow.id)
        )
        return result.scalar_one_or_none() is not None
