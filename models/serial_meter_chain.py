from odoo import api, fields, models
from odoo.tools import SQL


class SerialMeterChain(models.Model):
    """The chain of readings of one serial and meter, as a row to lock: each
    transaction that re-chains the pair's deltas updates the row first
    (serial_meter_reading_delta.py), so that two readings of the same serial
    and meter recorded at once (a device and a technician) cannot both chain
    from the same previous reading.

    Odoo's cursors are REPEATABLE READ: a transaction waiting for a lock still
    reads its old snapshot once the lock is released. Updating the row, and not
    only locking it, makes PostgreSQL refuse the second transaction with a
    serialization failure as soon as the first commits; Odoo then runs the
    request again (HTTP, JSON-RPC, the device API, the portal), on a snapshot
    that sees the first reading."""

    _name = "serial.meter.chain"
    _description = "Meter Reading Chain Lock"
    _log_access = False

    lot_id = fields.Many2one(
        "stock.lot", string="Serial Number", required=True, ondelete="cascade"
    )
    meter_type_id = fields.Many2one(
        "serial.meter.type", string="Meter", required=True, ondelete="cascade"
    )
    version = fields.Integer(
        readonly=True, help="How many transactions re-chained this serial and meter."
    )

    _sql_constraints = [
        (
            "pair_unique",
            "unique(lot_id, meter_type_id)",
            "One chain per serial and meter.",
        ),
    ]

    # --- one transaction at a time re-chains a serial and meter ---
    @api.model
    def _lock_pairs(self, pairs):
        """Lock the chains of these (lot id, meter id) pairs until the end of
        the transaction, creating the missing ones: waits while another
        transaction holds one; raises SerializationFailure (retried by Odoo)
        when one was re-chained by a transaction committed since this one's
        snapshot. In a fixed order, so two batches do not deadlock."""
        keys = sorted(set(pairs))
        if not keys:
            return
        # log_exceptions: a serialization failure is an expected answer here,
        # the request is run again
        self.env.cr.execute(
            SQL(
                """
                INSERT INTO serial_meter_chain (lot_id, meter_type_id, version)
                VALUES %s
                ON CONFLICT (lot_id, meter_type_id)
                DO UPDATE SET version = serial_meter_chain.version + 1
                """,
                SQL(", ").join(SQL("(%s, %s, 1)", lot, meter) for lot, meter in keys),
            ),
            log_exceptions=False,
        )
