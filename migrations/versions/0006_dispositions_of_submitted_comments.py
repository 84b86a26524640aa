"""dispositions of submitted comments

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23 16:57:48.675008

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # A disposition named a comment of the working copy; nothing ever wrote one, and a working-copy comment
    # cannot be matched to what was submitted, so any row is dropped rather than guessed at.
    op.execute("DELETE FROM dispositions")
    with op.batch_alter_table('dispositions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('referral_id', sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column('section_key', sa.String(length=64), nullable=False))
        batch_op.drop_constraint(batch_op.f('uq_dispositions_comment_id'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_dispositions_referral_id_section_key'), ['referral_id', 'section_key'])
        batch_op.drop_constraint(batch_op.f('fk_dispositions_comment_id_section_comments'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_dispositions_referral_id_referrals'), 'referrals', ['referral_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_column('comment_id')



def downgrade():
    # A disposition of a submitted comment has no working-copy comment to go back to.
    op.execute("DELETE FROM dispositions")
    with op.batch_alter_table('dispositions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_id', sa.INTEGER(), nullable=False))
        batch_op.drop_constraint(batch_op.f('fk_dispositions_referral_id_referrals'), type_='foreignkey')
        batch_op.create_foreign_key(batch_op.f('fk_dispositions_comment_id_section_comments'), 'section_comments', ['comment_id'], ['id'], ondelete='CASCADE')
        batch_op.drop_constraint(batch_op.f('uq_dispositions_referral_id_section_key'), type_='unique')
        batch_op.create_unique_constraint(batch_op.f('uq_dispositions_comment_id'), ['comment_id'])
        batch_op.drop_column('section_key')
        batch_op.drop_column('referral_id')

