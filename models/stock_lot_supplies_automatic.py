from collections import defaultdict
from datetime import datetime, time

from odoo import api, models
from odoo.tools import float_compare, float_round

# a device reporting a supply at or under this level (%) orders the next one
SUPPLY_LEVEL_THRESHOLD = 10.0
SUPPLY_BATCH_SIZE = 200


class StockLot(models.Model):
    """Automatic supplies orders: when a unit's usage since the last delivered
    item reaches the supply's yield (less the company's margin), or a device
    reports its level at or under 10 %; the daily cron, in batches."""

    _name = "stock.lot"
    _inherit = ["stock.lot", "serial.batch.mixin"]

    # ------------------------------------------------------------------
    # Automatic orders: usage reached the yield, or a device's low level
    # ------------------------------------------------------------------
    def _get_supply_pairs(self):
        """[(lot, supply product)] of these units' supplies with a yield."""
        return [
            (lot, product)
            for lot in self
            for product in lot.product_id.supply_product_ids
            if product.supply_yield > 0
        ]

    def _get_open_supply_keys(self, products=None):
        """{(lot id, product id)} with a supplies order still open."""
        lines = self.env["sale.order.line"]._get_open_supply_lines(self, products)
        return {(line.supply_lot_id.id, line.product_id.id) for line in lines}

    def _get_last_supply_deliveries(self):
        """{(lot id, product id): (datetime, qty)} of the last delivered
        supplies move of each unit and product."""
        moves = self.env["stock.move"].search_fetch(
            [
                ("sale_line_id.supply_lot_id", "in", self.ids),
                ("state", "=", "done"),
                ("location_dest_id.usage", "=", "customer"),
            ],
            ["sale_line_id", "product_id", "date", "quantity"],
            order="date, id",
        )
        last = {}
        for move in moves:
            key = (move.sale_line_id.supply_lot_id.id, move.product_id.id)
            last[key] = (move.date, move.quantity)
        return last

    def _get_usage_by_meter(self, meters, since_by_lot):
        """{(lot id, meter id): [(reading datetime, delta)]} of the real
        readings (no estimates) of these units after the earliest date asked."""
        if not self or not meters or not since_by_lot:
            return {}
        readings = self.env["serial.meter.reading"].search_fetch(
            [
                ("lot_id", "in", self.ids),
                ("meter_type_id", "in", meters.ids),
                ("reading_date", ">", min(since_by_lot.values())),
                ("source", "!=", "estimate"),
            ],
            ["lot_id", "meter_type_id", "reading_date", "delta"],
            order="reading_date, id",
        )
        usage = defaultdict(list)
        for reading in readings:
            usage[(reading.lot_id.id, reading.meter_type_id.id)].append(
                (reading.reading_date, reading.delta)
            )
        return usage

    def _get_supply_reorder_items(self):
        """The automatic orders due by yield: the units whose usage since the
        last delivered item of a supply (or since they were put in service)
        reached that item's yield less the company's reorder margin, with no
        order of it still open. A fixed number of queries for the batch."""
        pairs = self._get_supply_pairs()
        if not pairs:
            return []
        open_keys = self._get_open_supply_keys()
        last = self._get_last_supply_deliveries()
        starts = {}
        for lot, product in pairs:
            if (lot.id, product.id) in open_keys:
                continue
            if (lot.id, product.id) in last:
                starts[(lot.id, product.id)] = last[(lot.id, product.id)]
            else:
                start = lot.installation_date or lot.delivery_date
                if start:
                    starts[(lot.id, product.id)] = (
                        datetime.combine(start, time.min),
                        1.0,
                    )
        meters = self.env["serial.meter.type"].union(
            *(product._get_supply_meter(lot.product_id) for lot, product in pairs)
        )
        since_by_lot = {}
        for (lot_id, _product_id), (since, _qty) in starts.items():
            since_by_lot[lot_id] = min(since, since_by_lot.get(lot_id, since))
        usage = self._get_usage_by_meter(meters, since_by_lot)
        items = []
        for lot, product in pairs:
            start = starts.get((lot.id, product.id))
            meter = product._get_supply_meter(lot.product_id)
            if not start or not meter:
                continue
            since, qty = start
            used = sum(
                delta for day, delta in usage.get((lot.id, meter.id), []) if day > since
            )
            margin = (
                lot.company_id.supply_reorder_margin
                or self.env.company.supply_reorder_margin
            )
            threshold = (qty or 1.0) * product.supply_yield * (1 - margin / 100.0)
            if float_compare(used, threshold, precision_digits=2) >= 0:
                items.append(
                    {
                        "lot": lot,
                        "product": product,
                        "qty": 1,
                        "note": self.env._(
                            "Ordered automatically: %(used)s %(uom)s since the last "
                            "%(product)s, which lasts %(yield)s.",
                            used=float_round(used, 0),
                            uom=meter.name,
                            product=product.display_name,
                            **{"yield": product.supply_yield},
                        ),
                    }
                )
        return items

    def _order_supplies_by_yield(self):
        """Order what the usage made due; returns the orders."""
        lots = self.filtered("customer_id")
        return lots._order_supplies(lots._get_supply_reorder_items(), trigger="yield")

    def _order_supplies_by_level(self, levels):
        """levels: [(lot, product, level %)] a device reported. Orders one
        item of each supply at or under the threshold, unless one is open.
        Returns {(lot id, product id): order}."""
        low = [
            (lot, product, level)
            for lot, product, level in levels
            if float_compare(level, SUPPLY_LEVEL_THRESHOLD, precision_digits=2) <= 0
        ]
        if not low:
            return {}
        lots = self.env["stock.lot"].union(*(lot for lot, _p, _l in low))
        open_keys = lots._get_open_supply_keys()
        items, seen = [], set()
        for lot, product, level in low:
            key = (lot.id, product.id)
            if key in open_keys or key in seen:
                continue
            seen.add(key)
            items.append(
                {
                    "lot": lot,
                    "product": product,
                    "qty": 1,
                    "note": self.env._(
                        "Ordered automatically: the device reported %(product)s at "
                        "%(level)s %%.",
                        product=product.display_name,
                        level=level,
                    ),
                }
            )
        orders = self._order_supplies(items, trigger="device")
        return {
            (order.order_line.supply_lot_id.id, order.order_line.product_id.id): order
            for order in orders
        }

    # ------------------------------------------------------------------
    # Scheduler
    # ------------------------------------------------------------------
    @api.model
    def _cron_supplies(self, batch_size=SUPPLY_BATCH_SIZE):
        """Daily: order the supplies whose usage reached their yield and
        refresh the excess flags, a batch of units at a time, each batch in
        a savepoint; a unit whose batch fails is retried alone and, failing
        again, gets an activity while the others go on."""
        lots = self.search(
            [
                ("customer_id", "!=", False),
                ("product_id.supply_product_ids.supply_yield", ">", 0),
            ],
            order="id",
        )
        return lots._run_in_batches(
            lambda batch: batch._run_supplies_step(),
            batch_size,
            self.env._("Automatic supplies order failed"),
        )

    def _run_supplies_step(self):
        """The cron's work on these units: order what their usage made due,
        refresh their excess flags."""
        self._order_supplies_by_yield()
        self._refresh_supply_excess()
