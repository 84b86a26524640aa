"""compilations kept with the replies they covered

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 17:44:38.983554

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('compilations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('file_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_compilations_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_compilations_file_id_stored_files'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['round_id'], ['referral_rounds.id'], name=op.f('fk_compilations_round_id_referral_rounds'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_compilations'))
    )
    with op.batch_alter_table('compilations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_compilations_round_id'), ['round_id'], unique=False)

    op.create_table('compilation_versions',
    sa.Column('compilation_id', sa.Integer(), nullable=False),
    sa.Column('response_version_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['compilation_id'], ['compilations.id'], name=op.f('fk_compilation_versions_compilation_id_compilations'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['response_version_id'], ['response_versions.id'], name=op.f('fk_compilation_versions_response_version_id_response_versions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('compilation_id', 'response_version_id', name=op.f('pk_compilation_versions'))
    )


def downgrade():
    op.drop_table('compilation_versions')
    with op.batch_alter_table('compilations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_compilations_round_id'))

    op.drop_table('compilations')
