"""Annotations: the sentences people code (items: a character span of a document), who codes which in which queue
(assignments), their codes (one row per item and coder) and the adjudicated code beside them.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: Union[str, Sequence[str], None] = '0004'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def _item_key(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(['item_id'], ['coding_items.id'], name=op.f(f'fk_{table}_item_id_coding_items'),
                                   ondelete='CASCADE')


def _codes() -> list[sa.Column]:
    """The code columns an annotation and an adjudication share."""
    return [sa.Column('relevant', sa.Boolean(), nullable=True),
            sa.Column('stance', sa.String(length=32), nullable=True),
            sa.Column('frames', sa.JSON(), nullable=False)]


def upgrade() -> None:
    op.create_table(
        'coding_items',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('document_id', sa.String(length=255), nullable=False),
        sa.Column('start', sa.Integer(), nullable=False),
        sa.Column('end', sa.Integer(), nullable=False),
        sa.Column('text_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_coding_items_document_id_documents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_coding_items')),
        sa.UniqueConstraint('document_id', 'start', 'end', name=op.f('uq_coding_items_document_id_start_end')),
    )
    op.create_table(
        'coding_assignments',
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('coder', sa.String(length=100), nullable=False),
        sa.Column('queue', sa.String(length=100), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _item_key('coding_assignments'),
        sa.PrimaryKeyConstraint('item_id', 'coder', name=op.f('pk_coding_assignments')),
    )
    op.create_index(op.f('ix_coding_assignments_queue'), 'coding_assignments', ['queue'], unique=False)
    op.create_table(
        'annotations',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('coder', sa.String(length=100), nullable=False),
        *_codes(),
        sa.Column('codes', sa.JSON(), nullable=False),
        sa.Column('memo', sa.Text(), nullable=True),
        sa.Column('origin', sa.String(length=32), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
        _item_key('annotations'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_annotations')),
        sa.UniqueConstraint('item_id', 'coder', name=op.f('uq_annotations_item_id_coder')),
    )
    op.create_table(
        'adjudications',
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('adjudicator', sa.String(length=100), nullable=False),
        *_codes(),
        sa.Column('memo', sa.Text(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        _item_key('adjudications'),
        sa.PrimaryKeyConstraint('item_id', name=op.f('pk_adjudications')),
    )


def downgrade() -> None:
    op.drop_table('adjudications')
    op.drop_table('annotations')
    op.drop_index(op.f('ix_coding_assignments_queue'), table_name='coding_assignments')
    op.drop_table('coding_assignments')
    op.drop_table('coding_items')
