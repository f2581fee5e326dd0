from odoo import models
from odoo.tools import float_compare


class StockWarehouseOrderpoint(models.Model):
    _inherit = "stock.warehouse.orderpoint"

    def _procure_below_minimum(self):
        """Confirm the reordering rules whose forecast is below their minimum,
        one company at a time, with Odoo's own procurement."""
        below = self.filtered(
            lambda op: (
                float_compare(
                    op.qty_forecast,
                    op.product_min_qty,
                    precision_rounding=op.product_uom.rounding,
                )
                < 0
            )
        )
        for company in below.company_id:
            below.filtered(lambda op, c=company: op.company_id == c).with_company(
                company
            )._procure_orderpoint_confirm(company_id=company, raise_user_error=False)
        return below
