from odoo import models
from odoo.tools import float_is_zero

from .sale_subscription_usage import USAGE_SEQUENCE


class SaleOrder(models.Model):
    _inherit = "sale.order"

    def _get_invoiceable_lines(self, final=False):
        """A contract's usage line with nothing billable (usage within the
        included quantity) reaches the invoice too, at 0: the readings it bills
        are linked to that invoice line, so they are never billed again."""
        lines = super()._get_invoiceable_lines(final=final)
        precision = self.env["decimal.precision"].precision_get(
            "Product Unit of Measure"
        )
        usage = self.order_line.filtered(
            lambda line: (
                line.order_id.order_subscription_id
                and line.sequence >= USAGE_SEQUENCE
                and not line.display_type
                and not line.invoice_lines
                and float_is_zero(line.qty_to_invoice, precision_digits=precision)
            )
        )
        return lines | usage
