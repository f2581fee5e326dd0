from odoo import fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    # --- renewals ---
    renewal_subscription_id = fields.Many2one(
        "sale.subscription",
        string="Renewal Of Contract",
        copy=False,
        readonly=True,
        index="btree_not_null",
        help="The next contract term this quotation proposes: confirming it "
        "makes the contract ready to start on its start date; the contract "
        "bills itself, never this order.",
    )

    def group_subscription_lines(self):
        """A renewal quotation's contract exists already: confirming it makes
        no second one."""
        if self.renewal_subscription_id:
            return {}
        return super().group_subscription_lines()

    def action_confirm(self):
        res = super().action_confirm()
        renewals = self.renewal_subscription_id.filtered(
            lambda s: s.stage_id.type == "draft"
        )
        if renewals:
            ready = self.env["sale.subscription.stage"].search(
                [("type", "=", "pre")], order="sequence", limit=1
            )
            renewals.write({"stage_id": ready.id})
        return res


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _compute_qty_to_invoice(self):
        """A renewal quotation is never invoiced: its contract bills the
        term."""
        res = super()._compute_qty_to_invoice()
        for line in self:
            if line.order_id.renewal_subscription_id:
                line.qty_to_invoice = 0.0
        return res
