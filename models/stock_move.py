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
        moves._resupply_vans_below_minimum()
        moves._notify_jobs_parts_arrived()
        return moves

    def _notify_jobs_parts_arrived(self):
        """Receipts of parts bought for a job (their next move belongs to the
        job's procurement group): the job's technician is told."""
        receipts = self.filtered(
            lambda m: (
                m.state == "done" and m.purchase_line_id and m.move_dest_ids.group_id
            )
        )
        if not receipts:
            return
        # sudo: the storekeeper validating the receipt may not read the jobs
        jobs = (
            self.env["maintenance.request"]
            .sudo()
            .search(
                [("procurement_group_id", "in", receipts.move_dest_ids.group_id.ids)]
            )
        )
        jobs._notify_parts_arrived(receipts)

    def _resupply_vans_below_minimum(self):
        """Parts that left a van: run that van's reordering rules now rather
        than at the nightly scheduler, then the depot's rules for the same
        parts, so a depot below its minimum orders from its vendor at once."""
        van_moves = self.filtered(
            lambda m: (
                m.state == "done"
                and m.location_id.warehouse_id.van_parent_location_id
                and m.location_id.location_id
                == m.location_id.warehouse_id.van_parent_location_id
            )
        )
        if not van_moves:
            return
        Orderpoint = self.env["stock.warehouse.orderpoint"].sudo()
        # sudo: the technician completing a job may not manage replenishment
        van_orderpoints = Orderpoint.search(
            [
                ("location_id", "in", van_moves.location_id.ids),
                ("product_id", "in", van_moves.product_id.ids),
                ("trigger", "=", "auto"),
            ]
        )
        van_orderpoints._procure_below_minimum()
        depot_orderpoints = Orderpoint.search(
            [
                (
                    "location_id",
                    "in",
                    van_moves.location_id.warehouse_id.lot_stock_id.ids,
                ),
                ("product_id", "in", van_moves.product_id.ids),
                ("trigger", "=", "auto"),
            ]
        )
        depot_orderpoints._procure_below_minimum()

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
        # sudo: stock users do not read the customers' quants, yet a serial
        # already at a customer must be refused whoever delivers it
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
