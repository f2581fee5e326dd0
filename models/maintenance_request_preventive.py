from odoo import Command, api, fields, models


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    # --- preventive jobs opened by a meter reaching its service threshold ---
    preventive_meter_type_id = fields.Many2one(
        "serial.meter.type", string="Preventive Meter", readonly=True, copy=False
    )
    preventive_threshold = fields.Float(
        readonly=True,
        copy=False,
        help="The usage on the meter, since the serial's first reading, at "
        "which this preventive service fell due: one job per threshold.",
    )
    preventive_reading_id = fields.Many2one(
        "serial.meter.reading",
        string="Triggering Reading",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
    )

    def init(self):
        # one preventive job per serial, meter and threshold, also when two
        # transactions record readings of the same serial at once
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS maintenance_request_preventive_unique
                ON maintenance_request (lot_id, preventive_meter_type_id,
                                        preventive_threshold)
             WHERE preventive_threshold > 0
            """
        )

    @api.model
    def _prepare_preventive_job_vals(self, lot, name, description, **vals):
        """A preventive job on the serial with its product's parts kit as
        lines: the job a meter's threshold opens and the contract's planned
        visit; `vals` adds what each sets of its own."""
        kit = lot.product_id.product_tmpl_id.preventive_kit_line_ids
        return {
            "name": name,
            "maintenance_type": "preventive",
            "lot_id": lot.id,
            "description": description,
            **vals,
            "service_line_ids": [
                Command.create(
                    {"product_id": line.product_id.id, "quantity": line.quantity}
                )
                for line in kit
            ],
        }
