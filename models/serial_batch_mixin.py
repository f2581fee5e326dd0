import logging

from odoo import models

_logger = logging.getLogger(__name__)


class SerialBatchMixin(models.AbstractModel):
    """A batch job run as Odoo's `stock.warehouse.orderpoint` procurement
    runs one: fixed-size batches, each in a savepoint; a batch that fails is
    run again one record at a time, each in its own savepoint, and a record
    that fails alone gets a warning activity saying why while the others go
    on. Used by the billing run and the automatic supplies cron."""

    _name = "serial.batch.mixin"
    _description = "Batch Job in Savepoints"

    # --- batch job: batches, then one by one, failures as activities ---
    def _run_in_batches(self, run_batch, batch_size, failure_summary, run_one=None):
        """Call run_batch(batch) on these records, batch_size at a time; a
        failed batch is undone and its records run one by one through
        run_one(record) (default: run_batch). Returns the records that failed
        on their own, each with an activity titled failure_summary."""
        failed = self.browse()
        for start in range(0, len(self), batch_size):
            batch = self[start : start + batch_size]
            try:
                with self.env.cr.savepoint():
                    run_batch(batch)
            except Exception as error:  # the savepoint undid the whole batch
                _logger.info(
                    "%s: a batch of %s failed (%s), running them one by one",
                    failure_summary,
                    len(batch),
                    error,
                )
                failed |= batch._run_one_by_one(run_one or run_batch, failure_summary)
        return failed

    def _run_one_by_one(self, run_one, failure_summary):
        failed = self.browse()
        for record in self:
            try:
                with self.env.cr.savepoint():
                    run_one(record)
            except Exception as error:  # the savepoint undid its writes
                _logger.warning(
                    "%s: %s: %s", failure_summary, record.display_name, error
                )
                failed |= record
                record.activity_schedule(
                    "mail.mail_activity_data_warning",
                    summary=failure_summary,
                    note=str(error),
                    user_id=record._get_batch_failure_user_id(),
                )
        return failed

    def _get_batch_failure_user_id(self):
        """Who is told, by an activity, that this record failed."""
        self.ensure_one()
        return self.env.uid
