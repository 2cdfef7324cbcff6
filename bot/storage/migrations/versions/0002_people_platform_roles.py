"""people: roles given by a platform role (Discord agent and lead roles)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: two nullable columns, so existing roles stay desk-granted."""
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.add_column(sa.Column('platform_role', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('granted_role', sa.String(length=16), nullable=True))


def downgrade() -> None:
    """Revert this revision; roles raised by a platform role stay as they are."""
    with op.batch_alter_table('people', schema=None) as batch_op:
        batch_op.drop_column('granted_role')
        batch_op.drop_column('platform_role')
