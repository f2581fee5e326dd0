from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.osv import expression


class SerialJobReading(models.TransientModel):
    """The job form's "Add reading" button: a meter reading of the job's unit,
    with the last reading shown to catch a typing error before it is saved."""

    _name = "serial.job.reading"
    _description = "Meter Reading on a Job"

    request_id = fields.Many2one(
        "maintenance.request",
        string="Job",
        required=True,
        readonly=True,
        ondelete="cascade",
    )
    lot_id = fields.Many2one(related="request_id.lot_id", string="Unit")
    allowed_meter_type_ids = fields.Many2many(
        "serial.meter.type", compute="_compute_allowed_meter_type_ids"
    )
    meter_type_id = fields.Many2one(
        "serial.meter.type",
        string="Meter",
        compute="_compute_meter_type_id",
        store=True,
        readonly=False,
        domain="allowed_meter_type_ids and [('id', 'in', allowed_meter_type_ids)] "
        "or []",
    )
    value = fields.Float(digits=(16, 2))
    reading_date = fields.Datetime(required=True, default=fields.Datetime.now)
    is_reset = fields.Boolean(
        string="Meter Reset",
        help="A new meter (or a meter set back to zero): this reading is the new "
        "baseline.",
    )
    note = fields.Char()
    last_value = fields.Float(
        string="Last Reading", compute="_compute_last_reading", digits=(16, 2)
    )
    last_date = fields.Datetime(string="Read On", compute="_compute_last_reading")

    @api.depends("lot_id")
    def _compute_allowed_meter_type_ids(self):
        # empty: the product names no meter, any meter may be read
        for wizard in self:
            wizard.allowed_meter_type_ids = (
                wizard.lot_id.product_id.product_tmpl_id.meter_type_ids
            )

    @api.depends("allowed_meter_type_ids")
    def _compute_meter_type_id(self):
        for wizard in self:
            allowed = wizard.allowed_meter_type_ids
            if allowed and wizard.meter_type_id not in allowed:
                wizard.meter_type_id = False
            if not wizard.meter_type_id and len(wizard.allowed_meter_type_ids) == 1:
                wizard.meter_type_id = wizard.allowed_meter_type_ids

    @api.depends("lot_id", "meter_type_id")
    def _compute_last_reading(self):
        wizards = self.filtered(lambda w: w.lot_id and w.meter_type_id)
        (self - wizards).update({"last_value": 0.0, "last_date": False})
        if not wizards:
            return
        Reading = self.env["serial.meter.reading"]
        latest = Reading._read_group(
            [
                ("lot_id", "in", wizards.lot_id._origin.ids),
                ("meter_type_id", "in", wizards.meter_type_id._origin.ids),
            ],
            ["lot_id", "meter_type_id"],
            ["reading_date:max"],
        )
        readings = (
            Reading.search_fetch(
                expression.OR(
                    [
                        [
                            ("lot_id", "=", lot.id),
                            ("meter_type_id", "=", meter.id),
                            ("reading_date", "=", date),
                        ]
                        for lot, meter, date in latest
                    ]
                ),
                ["lot_id", "meter_type_id", "value", "reading_date"],
            )
            if latest
            else Reading
        )
        last = {(r.lot_id.id, r.meter_type_id.id): r for r in readings}
        for wizard in wizards:
            # ids: in a form the wizard's values are new records
            key = (wizard.lot_id._origin.id, wizard.meter_type_id._origin.id)
            reading = last.get(key)
            wizard.last_value = reading.value if reading else 0.0
            wizard.last_date = reading.reading_date if reading else False

    def action_apply(self):
        self.ensure_one()
        job = self.request_id
        job._check_job_editable()
        if not self.lot_id:
            raise UserError(
                self.env._(
                    "Scan the unit's serial number first: a reading belongs to it."
                )
            )
        if not self.meter_type_id:
            raise UserError(self.env._("Choose the meter you read."))
        allowed = self.allowed_meter_type_ids
        if allowed and self.meter_type_id not in allowed:
            raise UserError(
                self.env._(
                    "A %(product)s has no %(meter)s meter: it has %(meters)s.",
                    product=self.lot_id.product_id.display_name,
                    meter=self.meter_type_id.name,
                    meters=", ".join(allowed.mapped("name")),
                )
            )
        self.env["serial.meter.reading"].create(self._prepare_reading_vals())
        return {"type": "ir.actions.act_window_close"}

    def _prepare_reading_vals(self):
        self.ensure_one()
        return {
            "lot_id": self.lot_id.id,
            "meter_type_id": self.meter_type_id.id,
            "value": self.value,
            "reading_date": self.reading_date,
            "is_reset": self.is_reset,
            "note": self.note,
            "source": "technician",
            "request_id": self.request_id.id,
        }
