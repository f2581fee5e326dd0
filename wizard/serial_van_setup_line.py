from odoo import api, fields, models
from odoo.exceptions import UserError


class SerialVanSetupLine(models.TransientModel):
    _name = "serial.van.setup.line"
    _description = "Part Carried in Vans"

    wizard_id = fields.Many2one("serial.van.setup", required=True, ondelete="cascade")
    product_id = fields.Many2one(
        "product.product", required=True, domain=[("is_storable", "=", True)]
    )
    min_qty = fields.Float(string="Min", default=1.0)
    max_qty = fields.Float(string="Max", default=2.0)

    @api.constrains("min_qty", "max_qty")
    def _check_quantities(self):
        for line in self:
            if line.min_qty < 0 or line.max_qty < line.min_qty:
                raise UserError(
                    self.env._(
                        "%(product)s: the maximum must be at least the minimum, and "
                        "neither negative.",
                        product=line.product_id.display_name,
                    )
                )
