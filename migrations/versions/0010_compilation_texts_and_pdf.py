"""a compilation keeps the officer's background and assessment, and its PDF

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-05 19:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('compilations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('background', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('assessment', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('pdf_file_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('pdf_requested_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('pdf_error', sa.Text(), server_default='', nullable=False))
        batch_op.create_foreign_key(batch_op.f('fk_compilations_pdf_file_id_stored_files'), 'stored_files',
                                    ['pdf_file_id'], ['id'], ondelete='RESTRICT')


def downgrade():
    with op.batch_alter_table('compilations', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_compilations_pdf_file_id_stored_files'), type_='foreignkey')
        batch_op.drop_column('pdf_error')
        batch_op.drop_column('pdf_requested_at')
        batch_op.drop_column('pdf_file_id')
        batch_op.drop_column('assessment')
        batch_op.drop_column('background')
