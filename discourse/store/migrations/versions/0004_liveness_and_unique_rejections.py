"""Runs and jobs know which process runs them and when it was last alive (owner, heartbeat_at), so a run or job
whose process died can be told from one that is still working; rejected records are unique per (input,
position, reason), so a rerun over the same input adds no second row.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Sequence, Union

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: Union[str, Sequence[str], None] = '0003'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None

_KEY = ['source_path', 'line_or_row', 'reason_code']


def upgrade() -> None:
    for table in ('runs', 'jobs'):
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column('owner', sa.String(length=200), nullable=True))
            batch.add_column(sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=True))
    # Rows written before the key existed: no file is "", no position 0 (NULLs would never collide), and of the
    # copies earlier reruns added only the first stays.
    op.execute("UPDATE rejected_records SET source_path = '' WHERE source_path IS NULL")
    op.execute("UPDATE rejected_records SET line_or_row = 0 WHERE line_or_row IS NULL")
    op.execute("DELETE FROM rejected_records WHERE id NOT IN (SELECT first_id FROM (SELECT MIN(id) AS first_id "
               "FROM rejected_records GROUP BY source_path, line_or_row, reason_code) AS firsts)")
    with op.batch_alter_table('rejected_records') as batch:
        batch.alter_column('source_path', existing_type=sa.Text(), nullable=False)
        batch.alter_column('line_or_row', existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(op.f('uq_rejected_records_source_path_line_or_row_reason_code'), _KEY)


def downgrade() -> None:
    with op.batch_alter_table('rejected_records') as batch:
        batch.drop_constraint(op.f('uq_rejected_records_source_path_line_or_row_reason_code'), type_='unique')
        batch.alter_column('line_or_row', existing_type=sa.Integer(), nullable=True)
        batch.alter_column('source_path', existing_type=sa.Text(), nullable=True)
    for table in ('jobs', 'runs'):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('heartbeat_at')
            batch.drop_column('owner')
