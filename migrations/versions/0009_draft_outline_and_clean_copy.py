"""a draft keeps the officer's outline corrections and the clean copy that goes out

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05 19:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('clean_file_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cleaned', sa.String(length=300), server_default='', nullable=False))
        batch_op.add_column(sa.Column('outline_corrections', sa.JSON(), server_default='{}', nullable=False))
        batch_op.add_column(sa.Column('outline_confirmed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('outline_confirmed_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_drafts_clean_file_id_stored_files'), 'stored_files',
                                    ['clean_file_id'], ['id'], ondelete='RESTRICT')
        batch_op.create_foreign_key(batch_op.f('fk_drafts_outline_confirmed_by_id_users'), 'users',
                                    ['outline_confirmed_by_id'], ['id'], ondelete='SET NULL')
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.add_column(sa.Column('found_by', sa.String(length=10), server_default='', nullable=False))
        batch_op.add_column(sa.Column('paragraph', sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table('sections', schema=None) as batch_op:
        batch_op.drop_column('paragraph')
        batch_op.drop_column('found_by')
    with op.batch_alter_table('drafts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_drafts_outline_confirmed_by_id_users'), type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('fk_drafts_clean_file_id_stored_files'), type_='foreignkey')
        batch_op.drop_column('outline_confirmed_by_id')
        batch_op.drop_column('outline_confirmed_at')
        batch_op.drop_column('outline_corrections')
        batch_op.drop_column('cleaned')
        batch_op.drop_column('clean_file_id')
