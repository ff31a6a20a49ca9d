"""Interviews and topics: speakers with their attributes, the speaker of each segment, topic assignments.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: Union[str, Sequence[str], None] = '0002'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    # batch mode: SQLite cannot ALTER TABLE ... ADD COLUMN inside Alembic's constraint handling otherwise.
    with op.batch_alter_table('segment_scores') as batch:
        batch.add_column(sa.Column('speaker', sa.String(length=64), nullable=True))
        batch.add_column(sa.Column('speaker_role', sa.String(length=16), nullable=True))
    op.create_table(
        'speakers',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('document_id', sa.String(length=255), nullable=False),
        sa.Column('label', sa.String(length=64), nullable=False),
        sa.Column('role', sa.String(length=16), nullable=False),
        sa.Column('attributes', sa.JSON(), nullable=True),
        sa.CheckConstraint("role IN ('interviewer', 'respondent', 'other')", name=op.f('ck_speakers_role')),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'], name=op.f('fk_speakers_document_id_documents'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_speakers')),
        sa.UniqueConstraint('document_id', 'label', name=op.f('uq_speakers_document_id_label')),
    )
    op.create_table(
        'topic_assignments',
        sa.Column('topic_model', sa.String(length=200), nullable=False),
        sa.Column('document_id', sa.String(length=255), nullable=False),
        sa.Column('position', sa.Integer(), nullable=False),
        sa.Column('topic', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['document_id'], ['documents.id'],
                                name=op.f('fk_topic_assignments_document_id_documents'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('topic_model', 'document_id', 'position', name=op.f('pk_topic_assignments')),
    )
    op.create_index('ix_topic_assignments_topic_model_topic', 'topic_assignments', ['topic_model', 'topic'])


def downgrade() -> None:
    op.drop_index('ix_topic_assignments_topic_model_topic', table_name='topic_assignments')
    op.drop_table('topic_assignments')
    op.drop_table('speakers')
    with op.batch_alter_table('segment_scores') as batch:
        batch.drop_column('speaker_role')
        batch.drop_column('speaker')
