import logging
import math
from collections import defaultdict
from datetime import datetime, time, timedelta

from odoo import Command, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import float_compare, float_round

_logger = logging.getLogger(__name__)

# a device reporting a supply at or under this level (%) orders the next one
SUPPLY_LEVEL_THRESHOLD = 10.0
# supplies delivered over this window are compared with the usage over it
SUPPLY_EXCESS_DAYS = 180
# delivered over needed above this ratio flags the unit
SUPPLY_EXCESS_RATIO = 1.25
SUPPLY_BATCH_SIZE = 200


class StockLot(models.Model):
    _inherit = "stock.lot"

    # --- supplies under contract ---
    supply_line_ids = fields.One2many(
        "sale.order.line", "supply_lot_id", string="Supplies Lines"
    )
    supply_order_count = fields.Integer(
        compute="_compute_supply_order_count", string="Supplies Orders"
    )
    supply_excess = fields.Boolean(
        string="Supplies Excess",
        readonly=True,
        copy=False,
        index=True,
        tracking=True,
        help="Supplies delivered over the last 180 days exceed what the unit's "
        "usage needed by more than 25 %.",
    )
    supply_excess_note = fields.Char(
        string="Supplies Excess Detail", readonly=True, copy=False
    )

    def _compute_supply_order_count(self):
        groups = self.env["sale.order.line"]._read_group(
            [("supply_lot_id", "in", self.ids)],
            ["supply_lot_id"],
            ["order_id:count_distinct"],
        )
        counts = {lot.id: count for lot, count in groups}
        for lot in self:
            lot.supply_order_count = counts.get(lot.id, 0)

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_view_supply_orders(self):
        self.ensure_one()
        orders = self.supply_line_ids.order_id
        action = self.env["ir.actions.actions"]._for_xml_id(
            "sale.action_quotations_with_onboarding"
        )
        action.update(
            {
                "name": self.env._("Supplies of %(serial)s", serial=self.name),
                "domain": [("id", "in", orders.ids)],
                "context": {"create": False},
            }
        )
        return action

    def action_open_supply_order_wizard(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Order Supplies"),
            "res_model": "serial.supply.order",
            "view_mode": "form",
            "target": "new",
            "context": {"default_lot_id": self.id},
        }

    def action_order_supplies(self, product, qty=1):
        """A confirmed supplies order of `qty` `product` for this unit's
        customer, delivered to its site, priced by its coverage as a
        consumable line (covered supplies at 0, the reason in the line).
        Odoo's delivery follows from the confirmation. Returns the order."""
        self.ensure_one()
        if product._name == "product.template":
            product = product.product_variant_id
        return self._order_supplies(
            [{"lot": self, "product": product, "qty": qty}],
            trigger=self.env.context.get("serial_supply_trigger", "office"),
        )

    def _portal_order_supplies(self, product, qty):
        """The customer orders supplies for its own unit on the portal: only
        those meant for the unit's model, and no more than its usage
        justifies. Called on the sudo serial the portal checked is the
        user's own."""
        self.ensure_one()
        if product not in self.product_id.supply_product_ids:
            raise UserError(
                self.env._(
                    "%(product)s is not a supply of %(model)s.",
                    product=product.display_name,
                    model=self.product_id.display_name,
                )
            )
        allowance = self._get_supply_allowance(product)
        if allowance is not None and qty > allowance:
            if allowance:
                message = self.env._(
                    "You can order at most %(max)s more %(product)s for serial "
                    "%(serial)s now: the supplies shipped over the last 180 days "
                    "cover its printing. Please call us if you need more.",
                    max=int(allowance),
                    product=product.name,
                    serial=self.name,
                )
            else:
                message = self.env._(
                    "No more %(product)s can be ordered for serial %(serial)s now: "
                    "the supplies shipped over the last 180 days, or on their way, "
                    "cover its printing. Please call us if you need more.",
                    product=product.name,
                    serial=self.name,
                )
            raise UserError(message)
        user = self.env.user
        return self._order_supplies(
            [
                {
                    "lot": self,
                    "product": product,
                    "qty": qty,
                    "note": self.env._(
                        "Ordered on the portal by %(user)s.", user=user.name
                    ),
                }
            ],
            trigger="portal",
        )

    # ------------------------------------------------------------------
    # Supplies orders
    # ------------------------------------------------------------------
    @api.model
    def _order_supplies(self, items, trigger="office"):
        """One confirmed order per item ({'lot', 'product', 'qty', 'note'?}),
        created in one call, priced by one coverage batch."""
        if not items:
            return self.env["sale.order"]
        for item in items:
            self._check_supply_item(item["lot"], item["product"], item["qty"])
        # supplies are priced as consumable lines, whatever their product says
        coverages = self.env["stock.lot"]._get_service_coverage_batch(
            [
                {
                    "lot": item["lot"],
                    "product": item["product"].with_context(serial_supply_line=True),
                    "qty": item["qty"],
                }
                for item in items
            ]
        )
        vals_list = [
            item["lot"]._prepare_supply_order_vals(
                item["product"], item["qty"], coverage, trigger, item.get("note")
            )
            for item, coverage in zip(items, coverages, strict=True)
        ]
        orders = self.env["sale.order"].create(vals_list)
        orders.action_confirm()
        return orders

    def _check_supply_item(self, lot, product, qty):
        if not lot.customer_id:
            raise UserError(
                self.env._(
                    "Serial %(serial)s has no customer: supplies cannot be "
                    "ordered for it.",
                    serial=lot.name,
                )
            )
        if not product or product.type != "consu":
            raise UserError(
                self.env._(
                    "Only goods can be ordered as supplies (%(product)s is not).",
                    product=product.display_name or "-",
                )
            )
        if float_compare(qty, 0.0, precision_digits=2) <= 0:
            raise UserError(
                self.env._("Order at least one %(product)s.", product=product.name)
            )

    def _prepare_supply_order_vals(self, product, qty, coverage, trigger, note=None):
        """Values of the supplies order of this unit (never writes)."""
        self.ensure_one()
        customer = self.customer_id
        pricelist = customer.property_product_pricelist
        price = (
            pricelist._get_product_price(product, qty)
            if pricelist
            else product.lst_price
        )
        percent = coverage["percent"] or 0.0
        price = float_round(price * (100.0 - percent) / 100.0, precision_digits=6)
        reason = coverage["reason"] or ""
        description = self.env._(
            "%(product)s for serial %(serial)s",
            product=product.display_name,
            serial=self.name,
        )
        if reason:
            description = f"{description}\n{reason}"
        return {
            "partner_id": customer.id,
            "partner_shipping_id": (self.site_id or customer).id,
            "company_id": (self.company_id or self.env.company).id,
            "pricelist_id": pricelist.id or False,
            "origin": self.name,
            "supply_trigger": trigger,
            "note": note or False,
            "order_line": [
                Command.create(
                    {
                        "product_id": product.id,
                        "product_uom_qty": qty,
                        "name": description,
                        "price_unit": price,
                        "supply_lot_id": self.id,
                        "supply_coverage_source": coverage["source"],
                        "supply_coverage_percent": percent,
                        "supply_coverage_reason": reason,
                        "supply_subscription_id": coverage["subscription_id"]
                        if coverage["source"] == "contract"
                        else False,
                    }
                )
            ],
        }

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
        failed = self.browse()
        for start in range(0, len(lots), batch_size):
            batch = lots[start : start + batch_size]
            try:
                with self.env.cr.savepoint():
                    batch._order_supplies_by_yield()
                    batch._refresh_supply_excess()
            except Exception as error:  # the savepoint undid the whole batch
                _logger.info("Supplies batch failed (%s): one unit at a time", error)
                failed |= batch._cron_supplies_one_by_one()
        return failed

    def _cron_supplies_one_by_one(self):
        failed = self.browse()
        for lot in self:
            try:
                with self.env.cr.savepoint():
                    lot._order_supplies_by_yield()
                    lot._refresh_supply_excess()
            except Exception as error:  # the savepoint undid its writes
                _logger.warning("Supplies of %s failed: %s", lot.name, error)
                failed |= lot
                lot.activity_schedule(
                    "mail.mail_activity_data_warning",
                    summary=self.env._("Automatic supplies order failed"),
                    note=str(error),
                    user_id=self.env.uid,
                )
        return failed
