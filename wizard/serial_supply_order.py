from odoo import api, fields, models


class SerialSupplyOrder(models.TransientModel):
    """Order supplies for one unit from its serial form."""

    _name = "serial.supply.order"
    _description = "Order Supplies"

    lot_id = fields.Many2one("stock.lot", string="Serial Number", required=True)
    customer_id = fields.Many2one(related="lot_id.customer_id")
    allowed_product_ids = fields.Many2many(
        related="lot_id.product_id.supply_product_ids"
    )
    product_id = fields.Many2one(
        "product.product",
        string="Supply",
        required=True,
        domain="[('type', '=', 'consu')]",
    )
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure")
    coverage_reason = fields.Char(compute="_compute_coverage_reason")

    @api.depends("lot_id", "product_id", "quantity")
    def _compute_coverage_reason(self):
        for wizard in self:
            if wizard.lot_id and wizard.product_id:
                coverage = wizard.lot_id.get_service_coverage(
                    wizard.product_id.with_context(serial_supply_line=True),
                    qty=wizard.quantity or 1.0,
                )
                wizard.coverage_reason = coverage["reason"]
            else:
                wizard.coverage_reason = False

    def action_order(self):
        self.ensure_one()
        order = self.lot_id.action_order_supplies(self.product_id, self.quantity)
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "view_mode": "form",
            "res_id": order.id,
        }
