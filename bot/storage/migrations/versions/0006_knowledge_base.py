"""knowledge base: articles KB-N per workspace and their full-text index

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""
from alembic import op
import sqlalchemy as sa


# A migration is a snapshot: its types and index statements are written out here, not
# imported from the models, which move on.
BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
UtcDateTime = sa.DateTime(timezone=True)
_SQLITE = (
    "CREATE VIRTUAL TABLE kb_fts USING fts5(title, tags, body, scope, "
    "content='kb_articles', content_rowid='id', tokenize='porter unicode61')",
    "CREATE TRIGGER kb_fts_insert AFTER INSERT ON kb_articles BEGIN "
    "INSERT INTO kb_fts(rowid, title, tags, body, scope) VALUES (new.id, new.title_terms, "
    "new.tags_terms, new.body_terms, 'w' || new.workspace_id); END",
    "CREATE TRIGGER kb_fts_delete AFTER DELETE ON kb_articles BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title, tags, body, scope) VALUES ('delete', old.id, "
    "old.title_terms, old.tags_terms, old.body_terms, 'w' || old.workspace_id); END",
    "CREATE TRIGGER kb_fts_update AFTER UPDATE OF title_terms, tags_terms, body_terms "
    "ON kb_articles BEGIN "
    "INSERT INTO kb_fts(kb_fts, rowid, title, tags, body, scope) VALUES ('delete', old.id, "
    "old.title_terms, old.tags_terms, old.body_terms, 'w' || old.workspace_id); "
    "INSERT INTO kb_fts(rowid, title, tags, body, scope) VALUES (new.id, new.title_terms, "
    "new.tags_terms, new.body_terms, 'w' || new.workspace_id); END",
)
_POSTGRES = (
    "ALTER TABLE kb_articles ADD COLUMN kb_fts_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english', title_terms), 'A') || "
    "setweight(to_tsvector('english', tags_terms), 'B') || "
    "setweight(to_tsvector('english', body_terms), 'C')) STORED",
    "CREATE INDEX ix_kb_articles_search ON kb_articles USING gin (kb_fts_vector)",
)


def kb_index_ddl(dialect: str) -> tuple[str, ...]:
    return _SQLITE if dialect == 'sqlite' else _POSTGRES


def kb_index_drop(dialect: str) -> tuple[str, ...]:
    return (("DROP TABLE IF EXISTS kb_fts",) if dialect == 'sqlite'
            else ("DROP INDEX IF EXISTS ix_kb_articles_search",))


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this revision: the articles, their counters, the workspace's knowledge-base
    revision (stale-cache check) and the full-text index of the database in use."""
    with op.batch_alter_table('workspaces') as batch:
        batch.add_column(sa.Column('kb_revision', sa.Integer(), nullable=False,
                                   server_default='0'))
    op.create_table(
        'kb_articles',
        sa.Column('id', BigId, nullable=False),
        sa.Column('workspace_id', BigId, nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=300), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('tags', sa.String(length=500), nullable=False),
        sa.Column('author_id', BigId, nullable=True),
        sa.Column('title_terms', sa.Text(), nullable=False),
        sa.Column('tags_terms', sa.Text(), nullable=False),
        sa.Column('body_terms', sa.Text(), nullable=False),
        sa.Column('suggested_count', sa.Integer(), nullable=False),
        sa.Column('opened_count', sa.Integer(), nullable=False),
        sa.Column('helpful_count', sa.Integer(), nullable=False),
        sa.Column('created_at', UtcDateTime, nullable=False),
        sa.Column('updated_at', UtcDateTime, nullable=False),
        sa.ForeignKeyConstraint(['workspace_id'], ['workspaces.id'],
                                name=op.f('fk_kb_articles_workspace_id_workspaces'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['author_id'], ['people.id'],
                                name=op.f('fk_kb_articles_author_id_people'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_kb_articles')),
        sa.UniqueConstraint('workspace_id', 'number',
                            name=op.f('uq_kb_articles_workspace_id')),
    )
    for statement in kb_index_ddl(op.get_bind().dialect.name):
        op.execute(statement)


def downgrade() -> None:
    """Revert this revision: the articles and their index are dropped."""
    for statement in kb_index_drop(op.get_bind().dialect.name):
        op.execute(statement)
    op.drop_table('kb_articles')
    with op.batch_alter_table('workspaces') as batch:
        batch.drop_column('kb_revision')
