from collections import defaultdict
from datetime import timedelta

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models

# consumption is measured, and end of life foreseen, over this many days
FORECAST_DAYS = 90


class SerialPartForecast(models.TransientModel):
    _name = "serial.part.forecast"
    _description = "Parts Forecast"
    _order = "product_id, location_kind, location_id"

    company_id = fields.Many2one("res.company", required=True, readonly=True)
    product_id = fields.Many2one("product.product", string="Part", readonly=True)
    location_id = fields.Many2one("stock.location", string="Location", readonly=True)
    warehouse_id = fields.Many2one("stock.warehouse", readonly=True)
    location_kind = fields.Selection(
        selection=[("depot", "Depot"), ("van", "Van")], readonly=True
    )
    on_hand_qty = fields.Float(
        string="On Hand", digits="Product Unit of Measure", readonly=True
    )
    consumed_qty = fields.Float(
        string="Consumed (90 days)",
        digits="Product Unit of Measure",
        readonly=True,
        help="Done moves out of this location to customers over the last 90 days.",
    )
    daily_consumption = fields.Float(
        string="Per Day", digits="Product Unit of Measure", readonly=True
    )
    days_of_cover = fields.Float(
        string="Days of Cover",
        digits=(16, 1),
        readonly=True,
        help="On hand divided by the daily consumption; empty when nothing was "
        "consumed.",
    )
    eol_unit_count = fields.Integer(
        string="Units Nearing End of Life",
        readonly=True,
        help="Serials of this part at customers expected to reach their end of "
        "life (by age or by meter) within 90 days. Counted on the depot row.",
    )
    suggested_qty = fields.Float(
        string="Suggested to Stock",
        digits="Product Unit of Measure",
        readonly=True,
        help="Units nearing end of life less what the company's depots and vans hold.",
    )
    is_suggested = fields.Boolean(string="Stocking Suggested", readonly=True)

    @api.model
    def action_open_forecast(self):
        rows = self._generate_forecast()
        action = self.env["ir.actions.actions"]._for_xml_id(
            "serial_service.serial_part_forecast_action"
        )
        action["domain"] = [("id", "in", rows.ids)]
        return action

    @api.model
    def _generate_forecast(self, today=None):
        """Rebuild the current user's forecast rows: one per part and depot or
        van where it is held or was consumed, plus the depot rows that carry an
        end-of-life suggestion."""
        self.search([("create_uid", "=", self.env.uid)]).unlink()
        today = today or fields.Date.context_today(self)
        warehouses = self.env["stock.warehouse"].search(
            [("company_id", "in", self.env.companies.ids)]
        )
        depots = warehouses.lot_stock_id
        vans = self.env["stock.location"].search(
            [
                ("location_id", "in", warehouses.van_parent_location_id.ids),
                ("usage", "=", "internal"),
            ]
        )
        roots = depots | vans
        products = self.env["product.product"].search(
            [
                ("service_line_type", "in", ("part", "consumable")),
                ("is_storable", "=", True),
            ]
        )
        if not roots or not products:
            return self

        def root_of(location):
            return roots.filtered(
                lambda r: location.parent_path.startswith(r.parent_path)
            )[:1]

        on_hand = defaultdict(float)
        for location, product, qty in self.env["stock.quant"]._read_group(
            [
                ("location_id", "child_of", roots.ids),
                ("product_id", "in", products.ids),
            ],
            ["location_id", "product_id"],
            ["quantity:sum"],
        ):
            on_hand[root_of(location), product] += qty
        since = fields.Datetime.to_datetime(today - timedelta(days=FORECAST_DAYS))
        consumed = defaultdict(float)
        for location, product, qty in self.env["stock.move"]._read_group(
            [
                ("state", "=", "done"),
                ("date", ">=", since),
                ("location_id", "child_of", roots.ids),
                ("location_dest_id.usage", "=", "customer"),
                ("product_id", "in", products.ids),
            ],
            ["location_id", "product_id"],
            ["product_qty:sum"],
        ):
            consumed[root_of(location), product] += qty

        eol = self._count_units_nearing_end_of_life(products, today)
        main_depot = {}
        for warehouse in warehouses.sorted("sequence"):
            main_depot.setdefault(warehouse.company_id, warehouse.lot_stock_id)
        held = defaultdict(float)
        for (root, product), qty in on_hand.items():
            held[root.company_id, product] += qty
        keys = set(on_hand) | set(consumed)
        for company, product in eol:
            if company in main_depot:
                keys.add((main_depot[company], product))

        vals_list = []
        for root, product in sorted(keys, key=lambda k: (k[1].id, k[0].id)):
            qty, used = on_hand[root, product], consumed[root, product]
            daily = used / FORECAST_DAYS
            count = (
                eol.get((root.company_id, product), 0)
                if main_depot.get(root.company_id) == root
                else 0
            )
            suggested = max(count - held[root.company_id, product], 0.0)
            vals_list.append(
                {
                    "company_id": root.company_id.id,
                    "product_id": product.id,
                    "location_id": root.id,
                    "warehouse_id": root.warehouse_id.id,
                    "location_kind": "depot" if root in depots else "van",
                    "on_hand_qty": qty,
                    "consumed_qty": used,
                    "daily_consumption": daily,
                    "days_of_cover": qty / daily if daily else False,
                    "eol_unit_count": count,
                    "suggested_qty": suggested,
                    "is_suggested": suggested > 0,
                }
            )
        return self.create(vals_list)

    @api.model
    def _count_units_nearing_end_of_life(self, products, today):
        """Serials of the parts at customers that reach their expected life
        within the forecast window: by age from their installation (or
        delivery) date, or by the usage of the unit they sit in (or their own
        meter), projected at its average daily rate since that date.
        Returns {(company, product): count}."""
        products = products.filtered(
            lambda p: (
                p.tracking == "serial"
                and (p.expected_life_months or p.expected_life_usage)
            )
        )
        if not products:
            return {}
        lots = self.env["stock.lot"].union(
            *(
                lot
                for (lot,) in self.env["stock.quant"]._read_group(
                    [
                        ("product_id", "in", products.ids),
                        ("location_id.usage", "=", "customer"),
                        ("quantity", ">", 0),
                        ("lot_id", "!=", False),
                    ],
                    ["lot_id"],
                )
            )
        )
        horizon = today + timedelta(days=FORECAST_DAYS)
        meter_products = products.filtered(
            lambda p: p.expected_life_usage and p.expected_life_meter_type_id
        )
        readings = self.env["serial.meter.reading"]
        if meter_products:
            readings = readings.search_fetch(
                [
                    ("lot_id", "in", (lots | lots.parent_lot_id).ids),
                    (
                        "meter_type_id",
                        "in",
                        meter_products.expected_life_meter_type_id.ids,
                    ),
                ],
                ["lot_id", "meter_type_id", "reading_date", "delta"],
            )
        readings_by_key = defaultdict(list)
        for reading in readings:
            readings_by_key[reading.lot_id, reading.meter_type_id].append(reading)
        counts = defaultdict(int)
        for lot in lots:
            product = lot.product_id
            start = lot.installation_date or lot.delivery_date
            if not start or start > today:
                continue
            near = bool(
                product.expected_life_months
                and start + relativedelta(months=product.expected_life_months)
                <= horizon
            )
            if not near and product in meter_products:
                unit = lot.parent_lot_id or lot
                usage = sum(
                    reading.delta
                    for reading in readings_by_key[
                        unit, product.expected_life_meter_type_id
                    ]
                    if reading.reading_date.date() >= start
                )
                days = max((today - start).days, 1)
                near = usage + usage / days * FORECAST_DAYS >= (
                    product.expected_life_usage
                )
            if near:
                counts[lot.company_id, product] += 1
        return counts
