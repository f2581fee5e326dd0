from odoo import models
from odoo.exceptions import UserError


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_done(self, cancel_backorder=False):
        self._check_serials_not_at_customer()
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        lines = moves.move_line_ids.filtered(
            lambda ml: (
                ml.state == "done" and ml.lot_id and ml.product_id.tracking == "serial"
            )
        )
        if lines:
            # Ownership follows validated stock moves: the warehouse user who
            # validates the picking need not be a service manager.
            self.env["stock.lot"].sudo()._update_registry_from_move_lines(lines.sudo())
        return moves

    def _check_serials_not_at_customer(self):
        """Refuse to deliver a serial that is already at a customer."""
        lines = self.move_line_ids.filtered(
            lambda ml: (
                ml.lot_id
                and ml.product_id.tracking == "serial"
                and ml.location_dest_id.usage == "customer"
                and ml.location_id.usage != "customer"
            )
        )
        if not lines:
            return
        at_customer = (
            self.env["stock.quant"]
            .sudo()
            ._read_group(
                [
                    ("lot_id", "in", lines.lot_id.ids),
                    ("location_id.usage", "=", "customer"),
                    ("quantity", ">", 0),
                ],
                ["lot_id"],
            )
        )
        lots = self.env["stock.lot"].union(*(lot for (lot,) in at_customer))
        if lots:
            raise UserError(
                self.env._(
                    "These serial numbers are already at a customer and cannot be "
                    "delivered again before they are returned: %(serials)s",
                    serials=", ".join(
                        f"{lot.name} ({lot.customer_id.display_name or '?'})"
                        for lot in lots
                    ),
                )
            )
