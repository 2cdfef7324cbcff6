"""dashboard sign-in links: single use, short-lived, stored as a hash

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-05
"""
import sqlalchemy as sa
from alembic import op


# A migration is a snapshot: its types are written out here, not imported from the models.
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: a new table only, so existing data is untouched. Sessions
    are signed cookies and need no table."""
    op.create_table(
        'dashboard_links',
        sa.Column('id', BigId, nullable=False),
        sa.Column('token_hash', sa.String(64), nullable=False),
        sa.Column('workspace_id', BigId,
                  sa.ForeignKey('workspaces.id', ondelete='CASCADE',
                                name='fk_dashboard_links_workspace_id_workspaces'),
                  nullable=False),
        sa.Column('person_id', BigId,
                  sa.ForeignKey('people.id', ondelete='CASCADE',
                                name='fk_dashboard_links_person_id_people'),
                  nullable=False),
        sa.Column('role', sa.String(16), nullable=False),
        sa.Column('created_at', UtcDateTime, nullable=False),
        sa.Column('expires_at', UtcDateTime, nullable=False),
        sa.Column('used_at', UtcDateTime, nullable=True),
        sa.PrimaryKeyConstraint('id', name='pk_dashboard_links'),
        sa.UniqueConstraint('token_hash', name='uq_dashboard_links_token_hash'),
    )
    op.create_index('ix_dashboard_links_expires', 'dashboard_links', ['expires_at'])


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_dashboard_links_expires', table_name='dashboard_links')
    op.drop_table('dashboard_links')
