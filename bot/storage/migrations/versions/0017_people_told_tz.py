"""people: the time zone the desk tells a person times in when their platform gives none

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


revision = '0017'
down_revision = '0016'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: one nullable column, so everyone reads times as before until
    the desk next tells them one (an intake or a transfer records it)."""
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('told_tz', sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision: people without a zone of their own read times in their
    ticket's team's zone again."""
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('told_tz')
