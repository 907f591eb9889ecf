"""Alembic's environment: run on the connection helpdesk.schema hands over."""

from alembic import context

from helpdesk.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata(),
                  render_as_batch=True,  # SQLite alters tables by copying them
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
