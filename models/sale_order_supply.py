from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # --- supplies under contract ---
    is_supply_order = fields.Boolean(
        string="Supplies Order",
        compute="_compute_is_supply_order",
        store=True,
        index=True,
        help="An order of supplies for a customer's units.",
    )
    supply_trigger = fields.Selection(
        selection=[
            ("office", "Office"),
            ("portal", "Customer Portal"),
            ("device", "Device Level"),
            ("yield", "Usage Reached Yield"),
        ],
        string="Supplies Ordered By",
        copy=False,
        readonly=True,
    )

    @api.depends("order_line.supply_lot_id")
    def _compute_is_supply_order(self):
        for order in self:
            order.is_supply_order = bool(order.order_line.supply_lot_id)
