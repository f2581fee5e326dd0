import psycopg2.errors

from odoo import models
from odoo.exceptions import UserError
from odoo.tools import SQL


class Base(models.AbstractModel):
    """Actions that must not run twice at once on the same record (a double
    click, two users): the first run locks the record, the second is told.
    Used by Plan Parts on jobs and by the recall's job creation."""

    _inherit = "base"

    # --- one run at a time of an action on these records ---
    def _lock_for_action(self, message):
        """Lock the records until the end of the transaction, without waiting,
        and mark them changed. A second run of the action at the same time
        gets UserError(message) at once instead of doing the work twice: when
        the first run still holds the records (NOWAIT), and when it committed
        since this transaction's snapshot. Odoo's cursors are REPEATABLE READ,
        so that snapshot does not show what the first run did; the update
        below is what makes PostgreSQL refuse the second lock then (a lock
        alone would be granted)."""
        if not self:
            return
        table = SQL.identifier(self._table)
        ids = tuple(sorted(self.ids))
        try:
            with self.env.cr.savepoint(flush=False):
                # log_exceptions: a refused lock is an expected answer here
                self.env.cr.execute(
                    SQL(
                        "SELECT id FROM %s WHERE id IN %s FOR NO KEY UPDATE NOWAIT",
                        table,
                        ids,
                    ),
                    log_exceptions=False,
                )
                self.env.cr.execute(
                    SQL(
                        "UPDATE %s SET write_date = write_date WHERE id IN %s",
                        table,
                        ids,
                    )
                )
        except (
            psycopg2.errors.LockNotAvailable,
            psycopg2.errors.SerializationFailure,
        ) as error:
            raise UserError(message) from error
