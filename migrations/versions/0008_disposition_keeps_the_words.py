"""a disposition keeps the words it decided on

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23 18:37:40.562150

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('dispositions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('comment_text', sa.Text(), server_default='', nullable=False))



def downgrade():
    with op.batch_alter_table('dispositions', schema=None) as batch_op:
        batch_op.drop_column('comment_text')

