from odoo import api, models
from odoo.exceptions import ValidationError
from odoo.tools import SQL


class SerialMeterReading(models.Model):
    """Readings asked for by a meter read request: what the request shows
    (the last real reading of each meter due), and the readings a customer
    enters on the request's page (controllers/portal_meter_request.py), all
    or nothing."""

    _inherit = "serial.meter.reading"

    @api.model
    def _get_last_real_readings(self, lots, meters):
        """{(lot id, meter id): its last reading that is not an estimate}."""
        if not lots or not meters:
            return {}
        self.flush_model()
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (lot_id, meter_type_id) id
                  FROM serial_meter_reading
                 WHERE lot_id = ANY(%s) AND meter_type_id = ANY(%s)
                   AND source != 'estimate' AND superseded_by_id IS NULL
              ORDER BY lot_id, meter_type_id, reading_date DESC, id DESC
                """,
                lots.ids,
                meters.ids,
            )
        )
        return {
            (reading.lot_id.id, reading.meter_type_id.id): reading
            for reading in self.browse(row[0] for row in rows)
        }

    @api.model
    def _request_record_readings(self, contract, entries):
        """Record the readings entered on a contract's meter request page:
        entries [(serial, meter, UTC datetime, value)]; each serial must be
        covered by the contract and the meter one of its tariffs', then the
        portal's own checks (`_portal_record_reading`). The caller holds the
        contract's access token; it runs the whole form in one savepoint."""
        contract.ensure_one()
        # sudo: the visitor is identified by the contract's token, not a user
        pairs = contract.sudo()._get_requestable_pairs()[contract.sudo()]
        readings = self.browse()
        for lot, meter, moment, value in entries:
            if (lot, meter) not in pairs:
                raise ValidationError(
                    self.env._(
                        "Meter %(meter)s of serial %(serial)s is not read for this "
                        "contract.",
                        meter=meter.sudo().name,
                        serial=lot.sudo().name,
                    )
                )
            # sudo: as above, for this contract's own serial and meter (checked
            # just before); the portal method forces the source to customer
            readings |= self.sudo()._portal_record_reading(
                lot.sudo(), meter, moment, value
            )
        return readings
