from odoo import api, fields, models
from odoo.tools import float_compare


class SerialServiceLine(models.Model):
    _inherit = "serial.service.line"

    # --- quote before chargeable work ---
    sale_line_id = fields.Many2one(
        "sale.order.line",
        string="Quotation Line",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        help="The line of the job's quotation that quotes this line.",
    )

    @api.model
    def _bookkeeping_fields(self):
        # set by the job's quotation only (as the system)
        return [*super()._bookkeeping_fields(), "sale_line_id"]

    def _prepare_sale_line_vals(self):
        """The quotation line of a job line: at its price, its coverage as a
        discount with the reason, as on the job's own invoice."""
        self.ensure_one()
        invoice_vals = self._prepare_invoice_line_vals()
        return {
            "product_id": self.product_id.id,
            "name": invoice_vals["name"],
            "product_uom_qty": self.quantity,
            "product_uom": self.product_id.uom_id.id,
            "price_unit": self.price_unit,
            "discount": self.coverage_percent,
            "sequence": self.sequence,
        }

    def _is_quoted_as_is(self, order):
        """The line is on `order` with its product, quantity, price and
        coverage unchanged."""
        self.ensure_one()
        # sudo: the job's technician compares the job with its quotation
        # without sales rights
        sale_line = self.sale_line_id.sudo()
        if not sale_line or sale_line.order_id != order:
            return False
        return (
            sale_line.product_id == self.product_id
            and not float_compare(
                sale_line.product_uom_qty,
                self.quantity,
                precision_rounding=self.product_id.uom_id.rounding,
            )
            and not float_compare(
                sale_line.price_unit, self.price_unit, precision_digits=6
            )
            and not float_compare(
                sale_line.discount, self.coverage_percent, precision_digits=4
            )
        )
