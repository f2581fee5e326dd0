import math
from collections import defaultdict
from datetime import timedelta

from odoo import fields, models
from odoo.tools import float_compare

# supplies delivered over this window are compared with the usage over it
SUPPLY_EXCESS_DAYS = 180
# delivered over needed above this ratio flags the unit
SUPPLY_EXCESS_RATIO = 1.25


class StockLot(models.Model):
    """The supplies excess flag: supplies delivered over the last 180 days
    against what the unit's usage needed, and the allowance that caps a
    portal order."""

    _inherit = "stock.lot"

    # ------------------------------------------------------------------
    # Supplies excess
    # ------------------------------------------------------------------
    def _get_supply_window_figures(self, extra_open=False):
        """{(lot id, product id): {'delivered', 'open', 'usage', 'yield'}} over
        the last 180 days, for these units' supplies with a yield."""
        pairs = self._get_supply_pairs()
        if not pairs:
            return {}
        now = fields.Datetime.now()
        since = now - timedelta(days=SUPPLY_EXCESS_DAYS)
        moves = self.env["stock.move"].search_fetch(
            [
                ("sale_line_id.supply_lot_id", "in", self.ids),
                ("state", "=", "done"),
                ("location_dest_id.usage", "=", "customer"),
                ("date", ">=", since),
            ],
            ["sale_line_id", "product_id", "quantity"],
        )
        delivered = defaultdict(float)
        for move in moves:
            delivered[(move.sale_line_id.supply_lot_id.id, move.product_id.id)] += (
                move.quantity
            )
        open_qty = defaultdict(float)
        if extra_open:
            for line in self.env["sale.order.line"]._get_open_supply_lines(self):
                open_qty[(line.supply_lot_id.id, line.product_id.id)] += (
                    line.product_uom_qty - line.qty_delivered
                )
        meters = self.env["serial.meter.type"].union(
            *(product._get_supply_meter(lot.product_id) for lot, product in pairs)
        )
        usage = self._get_usage_by_meter(meters, {lot.id: since for lot in self})
        figures = {}
        for lot, product in pairs:
            meter = product._get_supply_meter(lot.product_id)
            figures[(lot.id, product.id)] = {
                "delivered": delivered[(lot.id, product.id)],
                "open": open_qty[(lot.id, product.id)],
                "usage": sum(delta for _d, delta in usage.get((lot.id, meter.id), [])),
                "yield": product.supply_yield,
                "product": product,
            }
        return figures

    def _refresh_supply_excess(self):
        """Flag the units whose supplies delivered over the last 180 days
        exceed what their usage needed by more than 25 %."""
        figures = self._get_supply_window_figures()
        excess = defaultdict(list)
        for (lot_id, _product_id), fig in figures.items():
            capacity = fig["delivered"] * fig["yield"]
            if (
                fig["delivered"]
                and float_compare(
                    capacity, SUPPLY_EXCESS_RATIO * fig["usage"], precision_digits=2
                )
                > 0
            ):
                excess[lot_id].append(
                    self.env._(
                        "%(qty)s x %(product)s delivered (%(capacity)s) for a usage "
                        "of %(usage)s",
                        qty=fig["delivered"],
                        product=fig["product"].display_name,
                        capacity=capacity,
                        usage=fig["usage"],
                    )
                )
        for lot in self:
            flagged = bool(excess.get(lot.id))
            note = "; ".join(excess.get(lot.id, [])) or False
            if lot.supply_excess != flagged or lot.supply_excess_note != note:
                lot.write({"supply_excess": flagged, "supply_excess_note": note})

    def _get_supply_allowance(self, product):
        """How many more of `product` the customer may order for this unit
        now: what its usage over the last 180 days justifies, plus 25 %, plus
        the next item, less what was delivered over that window or is on
        its way."""
        self.ensure_one()
        fig = self._get_supply_window_figures(extra_open=True).get(
            (self.id, product.id)
        )
        if not fig:
            return None
        justified = math.ceil(SUPPLY_EXCESS_RATIO * fig["usage"] / fig["yield"]) + 1
        return max(justified - fig["delivered"] - fig["open"], 0)
