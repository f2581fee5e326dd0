from odoo import fields, models


class SerialVanLoadListLine(models.TransientModel):
    _name = "serial.van.load.list.line"
    _description = "Van Load List Line"

    load_list_id = fields.Many2one(
        "serial.van.load.list", required=True, ondelete="cascade", index=True
    )
    product_id = fields.Many2one("product.product", string="Part", required=True)
    product_uom_id = fields.Many2one(related="product_id.uom_id", string="Unit")
    needed_qty = fields.Float(
        string="Needed", digits="Product Unit of Measure", readonly=True
    )
    van_qty = fields.Float(
        string="In the Van", digits="Product Unit of Measure", readonly=True
    )
    incoming_qty = fields.Float(
        string="On the Way",
        digits="Product Unit of Measure",
        readonly=True,
        help="Already in an open transfer to the van.",
    )
    to_load_qty = fields.Float(
        string="To Load", digits="Product Unit of Measure", readonly=True
    )
    request_ids = fields.Many2many("maintenance.request", string="Jobs", readonly=True)
