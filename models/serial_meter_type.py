from odoo import fields, models
from odoo.tools import float_round


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

    def _round_usage(self, quantity):
        """A computed usage (an estimate) rounded like the meter counts: whole
        units for a meter counted in units (pages, clicks), else to its unit of
        measure's rounding (hours), else to 2 decimals."""
        self.ensure_one()
        uom = self.uom_id
        if not uom:
            return float_round(quantity, precision_digits=2)
        units = self.env.ref("uom.product_uom_categ_unit", raise_if_not_found=False)
        rounding = 1.0 if uom.category_id == units else uom.rounding
        return float_round(quantity, precision_rounding=rounding)
