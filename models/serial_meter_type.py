from odoo import fields, models


class SerialMeterType(models.Model):
    _name = "serial.meter.type"
    _description = "Meter Type"
    _order = "name, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(required=True, help="Short code used in imports and the API.")
    active = fields.Boolean(default=True)
    uom_id = fields.Many2one("uom.uom", string="Unit of Measure")
    rollover_value = fields.Float(
        help="Highest value the meter shows before it wraps to 0 (0 = never wraps)."
    )

    _sql_constraints = [
        ("code_uniq", "unique(code)", "The meter code must be unique."),
    ]
