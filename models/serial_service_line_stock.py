from odoo import models


class SerialServiceLine(models.Model):
    """What a job line takes from stock: the storable parts and consumables,
    which leave the van by a real stock move when the job is completed."""

    _inherit = "serial.service.line"

    # --- stock: the lines that take a storable part from stock ---
    def _is_stock_part(self):
        """A part or consumable whose product is kept in stock (not a
        labour, travel or service line, nor a product that is not stored)."""
        self.ensure_one()
        return self.line_type in ("part", "consumable") and self.product_id.is_storable

    def _filtered_stock_parts(self):
        """The lines of these that take a storable part from stock."""
        return self.filtered(lambda line: line._is_stock_part())

    def _prepare_move_vals(self, source, destination, lot, product=None, quantity=None):
        """The validated move of this line's part (or of `product`, the part
        it replaces) from `source` to `destination`, named after the job."""
        self.ensure_one()
        product = product or self.product_id
        quantity = self.quantity if quantity is None else quantity
        job = self.request_id
        return self.env["stock.move"]._prepare_validated_move_vals(
            product,
            quantity,
            source,
            destination,
            lot=lot,
            company=job.company_id,
            name=f"{job.name}: {product.display_name}",
            origin=job.name,
            partner_id=job.customer_id.id,
        )
