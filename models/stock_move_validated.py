from odoo import Command, api, models


class StockMove(models.Model):
    """Stock the add-on moves itself, done at once: a job's parts to the
    customer and its removed parts to the defective returns, a recall's units
    to quarantine, an imported installed base to the customers."""

    _inherit = "stock.move"

    # --- validated moves: built and done in one batch ---
    @api.model
    def _prepare_validated_move_vals(
        self, product, quantity, source, destination, lot=None, company=None, **vals
    ):
        """The values of a move of `quantity` of `product` (of the serial or
        lot `lot`, if any) from `source` to `destination`, picked with its one
        move line and ready to be validated; `vals` adds the move's own
        values (name, origin, partner...)."""
        company = company or self.env.company
        return {
            "product_id": product.id,
            "product_uom": product.uom_id.id,
            "product_uom_qty": quantity,
            "company_id": company.id,
            "state": "confirmed",
            "location_id": source.id,
            "location_dest_id": destination.id,
            "picked": True,
            **vals,
            "move_line_ids": [
                Command.create(
                    {
                        "product_id": product.id,
                        "product_uom_id": product.uom_id.id,
                        "quantity": quantity,
                        "location_id": source.id,
                        "location_dest_id": destination.id,
                        "lot_id": lot.id if lot else False,
                        "company_id": company.id,
                    }
                )
            ],
        }

    @api.model
    def _create_validated_serial_moves(self, vals_list):
        """Create the moves (values of `_prepare_validated_move_vals`) and
        validate them together: one create, one `_action_done`."""
        if not vals_list:
            return self.browse()
        moves = self.create(vals_list)
        moves._action_done()
        return moves
