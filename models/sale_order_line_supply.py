from odoo import api, fields, models

# a supplies order line still open: ordered, not cancelled, not all delivered
OPEN_ORDER_STATES = ("draft", "sent", "sale")


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    # --- supplies under contract ---
    supply_lot_id = fields.Many2one(
        "stock.lot",
        string="Supplies For",
        index="btree_not_null",
        copy=False,
        help="The unit (serial) these supplies are for; its coverage priced them.",
    )
    supply_coverage_source = fields.Selection(
        selection=[
            ("warranty", "Warranty"),
            ("contract", "Contract"),
            ("none", "Not Covered"),
        ],
        string="Supplies Coverage",
        copy=False,
        readonly=True,
    )
    supply_coverage_percent = fields.Float(
        string="Supplies Coverage (%)", copy=False, readonly=True
    )
    supply_coverage_reason = fields.Char(
        string="Supplies Coverage Reason", copy=False, readonly=True
    )
    supply_subscription_id = fields.Many2one(
        "sale.subscription",
        string="Supplies Contract",
        index="btree_not_null",
        copy=False,
        readonly=True,
        help="The contract that covered these supplies: their cost counts in its "
        "profitability.",
    )

    @api.model
    def _get_open_supply_lines(self, lots, products=None):
        """The supplies lines of these units (and products) still open:
        ordered, not cancelled, not all delivered."""
        domain = [
            ("supply_lot_id", "in", lots.ids),
            ("order_id.state", "in", OPEN_ORDER_STATES),
        ]
        if products is not None:
            domain.append(("product_id", "in", products.ids))
        lines = self.search(domain)
        return lines.filtered(lambda line: line.qty_delivered < line.product_uom_qty)
