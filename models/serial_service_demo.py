"""A believable year of a copier and boiler service dealer, for the demo.

Demo data only: called once from ``demo/serial_service_demo_year.xml``. Every
step goes through the add-on's own methods (receipts and deliveries, the
device API and the portal, the billing run, job completion, supplier claims,
the recall, supplies orders); where the story needs a past date, the record is
made and then dated as a real past would have it (the day a picking was
validated, a job completed). Deterministic (``random.Random(42)``) and dated
relative to today. The demo is kept quiet: contracts are billed up to date,
meters are read, supplies are above their reorder point, no contract is up for
renewal, and the demo technicians cover the demo's own categories and zones.
"""

import base64
import random
from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, api, fields, models
from odoo.tools import SQL

# a 1 x 1 transparent PNG: the customers' signatures of the demo jobs
SIGNATURE = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000100e221bc330000000049454e44ae426082"
    )
)

CUSTOMERS = [
    # name, street, city, zip, contract plan
    ("Avon Legal LLP", "12 Corn Street", "Bristol", "BS1 1HT", "click"),
    ("Clifton Print Studio", "8 Princess Victoria St", "Bristol", "BS8 4BX", "click"),
    ("Bath Spa Hotel Group", "1 Sydney Road", "Bath", "BA2 6JF", "pooled"),
    ("Royal Crescent Lettings", "21 Brock Street", "Bath", "BA1 2LW", "care"),
    ("Minster Accountants", "5 Minster Yard", "York", "YO1 7HH", "click"),
    ("Ouse Valley School", "Boroughbridge Road", "York", "YO26 6AP", "pooled"),
    ("Leeds Civic Library", "Calverley Street", "Leeds", "LS1 3AB", "pooled"),
    ("Headingley Medical Centre", "4 Otley Road", "Leeds", "LS6 2AL", "click"),
    ("Harrogate Conference Hall", "King's Road", "Harrogate", "HG1 5LA", "care"),
    ("Kirkstall Engineering", "Abbey Road", "Leeds", "LS5 3HS", False),
]
# new units per customer: (MX-6000 copiers, MX-4000 copiers, boilers)
FLEETS = [
    (3, 0, 0),
    (2, 1, 0),
    (4, 0, 1),
    (1, 1, 1),
    (3, 1, 0),
    (4, 0, 0),
    (5, 0, 0),
    (2, 1, 0),
    (1, 0, 2),
    (2, 0, 0),
]


class ResCompany(models.Model):
    """The demo year is generated for the company (a method of res.company
    rather than a model of its own: a model would add its description to the
    translated terms of the add-on)."""

    _inherit = "res.company"

    @api.model
    def _generate_demo_year(self):
        """The demo year, one part of the story after the other."""
        demo = self.with_context(
            tracking_disable=True,
            mail_create_nolog=True,
            mail_notrack=True,
            mail_create_nosubscribe=True,
        )
        story = {"today": fields.Date.context_today(self)}
        for part in (
            demo._demo_catalogue,
            demo._demo_customers,
            demo._demo_units,
            demo._demo_contracts,
            demo._demo_months,
            demo._demo_jobs,
            demo._demo_claims,
            demo._demo_recall,
            demo._demo_supplies,
        ):
            # each part draws its own numbers: the same story whatever the
            # day (the months' readings depend on the calendar)
            story["rng"] = random.Random(f"{part.__name__}-42")
            part(story)
        self.env.flush_all()
        self.env.invalidate_all()
        return True

    # --- helpers --------------------------------------------------------------
    def _demo_ref(self, xmlid):
        return self.env.ref(f"serial_service.{xmlid}")

    def _demo_set_dates(self, table, ids, values):
        """Date records as the past had them (columns the ORM keeps for the
        system: the day a picking was done, a job completed)."""
        if not ids:
            return
        self.env.flush_all()
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET %s WHERE id IN %s",
                SQL.identifier(table),
                SQL(", ").join(
                    SQL("%s = %s", SQL.identifier(column), value)
                    for column, value in values.items()
                ),
                tuple(ids),
            )
        )
        self.env.invalidate_all()

    def _demo_transfer(self, picking_type, partner, source, dest, lots_by_product):
        """A validated picking of these serials, as a warehouse user does it."""
        picking = self.env["stock.picking"].create(
            {
                "picking_type_id": picking_type.id,
                "partner_id": partner.id,
                "location_id": source.id,
                "location_dest_id": dest.id,
                "move_ids": [
                    Command.create(
                        {
                            "name": product.name,
                            "product_id": product.id,
                            "product_uom_qty": qty,
                            "product_uom": product.uom_id.id,
                            "location_id": source.id,
                            "location_dest_id": dest.id,
                        }
                    )
                    for product, (qty, _lots) in lots_by_product.items()
                ],
            }
        )
        picking.action_confirm()
        for move in picking.move_ids:
            lots = lots_by_product[move.product_id][1]
            if lots:
                move.lot_ids = lots
            else:
                move.quantity = move.product_uom_qty
        # skip_sms: no text message to the customer for the demo's deliveries
        picking.with_context(skip_sms=True).button_validate()
        return picking

    def _demo_date_picking(self, picking, day):
        moment = datetime.combine(day, time(10, 0))
        self._demo_set_dates(
            "stock_picking",
            picking.ids,
            {"date_done": moment, "scheduled_date": moment, "date": moment},
        )
        self._demo_set_dates("stock_move", picking.move_ids.ids, {"date": moment})
        self._demo_set_dates(
            "stock_move_line", picking.move_line_ids.ids, {"date": moment}
        )

    # --- the catalogue: vendors, products, depot, technicians, vans ------------
    def _demo_catalogue(self, story):
        Product = self.env["product.product"]
        kyodo = self._demo_ref("demo_vendor_kyodo")
        story.update(
            kyodo=kyodo,
            thermatech=self._demo_ref("demo_vendor_thermatech"),
            mx4000=self._demo_ref("demo_product_copier"),
            boiler=self._demo_ref("demo_product_boiler"),
            fuser=self._demo_ref("demo_product_fuser"),
            toner=self._demo_ref("demo_product_toner"),
            labour=self._demo_ref("demo_product_labour"),
            travel=self._demo_ref("demo_product_travel"),
            black_pages=self._demo_ref("demo_product_black_pages"),
            warehouse=self.env.ref("stock.warehouse0"),
        )
        # what an hour of a technician and a call-out cost the company
        story["labour"].standard_price = 48.0
        story["travel"].standard_price = 30.0
        equipment = self._demo_ref("demo_categ_equipment")
        spares = self._demo_ref("demo_categ_spares")
        story["mx6000"] = Product.create(
            {
                "name": "Colour Copier MX-6000",
                "default_code": "MX-6000",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "categ_id": equipment.id,
                "serial_service_managed": True,
                "warranty_policy_id": self._demo_ref("demo_warranty_policy_copier").id,
                "meter_type_ids": [
                    Command.set(
                        [
                            self._demo_ref("meter_type_black").id,
                            self._demo_ref("meter_type_color").id,
                        ]
                    )
                ],
                "list_price": 6900.0,
                "standard_price": 4600.0,
            }
        )
        story["board"] = Product.create(
            {
                "name": "Controller Board CB-9",
                "default_code": "CB-9",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "categ_id": spares.id,
                "service_line_type": "part",
                "supplier_warranty_months": 24,
                "list_price": 260.0,
                "standard_price": 140.0,
            }
        )
        story["pump"] = Product.create(
            {
                "name": "Boiler Circulation Pump BP-7",
                "default_code": "BP-7",
                "type": "consu",
                "is_storable": True,
                "categ_id": spares.id,
                "service_line_type": "part",
                "list_price": 180.0,
                "standard_price": 95.0,
            }
        )
        story["colour_pages"] = Product.create(
            {
                "name": "Colour pages (per page)",
                "default_code": "CLICK-COL",
                "type": "service",
                "list_price": 0.06,
            }
        )
        story["plans"] = {
            code: Product.create(
                {"name": name, "default_code": code, "type": "service", "list_price": p}
            )
            for code, name, p in (
                ("PLAN-CLICK", "Click Plan (monthly)", 39.0),
                ("PLAN-POOL", "Pooled Fleet Plan (monthly)", 120.0),
                ("PLAN-CARE", "Parts and Labour Care (monthly)", 55.0),
            )
        }
        # the depot: the main warehouse; a third technician joins Tom and Alice
        priya = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "name": "Priya Shah",
                    "login": "priya.technician",
                    "password": "priya.technician",
                    "email": "priya.shah@example.com",
                    "groups_id": [
                        Command.link(self._demo_ref("group_service_technician").id)
                    ],
                    "service_skill_categ_ids": [Command.set([equipment.id, spares.id])],
                    "service_zip_prefixes": "LS, HG",
                }
            )
        )
        self.env["resource.resource"].create(
            {
                "name": priya.name,
                "user_id": priya.id,
                "calendar_id": self.env.ref("resource.resource_calendar_std").id,
                "tz": "Europe/London",
            }
        )
        setup = self.env["serial.van.setup"].create(
            {
                "warehouse_id": story["warehouse"].id,
                "user_ids": [Command.set(priya.ids)],
                "line_ids": [
                    Command.create(
                        {"product_id": story["toner"].id, "min_qty": 2, "max_qty": 6}
                    ),
                    Command.create(
                        {"product_id": story["fuser"].id, "min_qty": 1, "max_qty": 1}
                    ),
                ],
            }
        )
        setup._create_vans()
        tom = self._demo_ref("demo_user_technician_tom")
        alice = self._demo_ref("demo_user_technician_alice")
        story["technicians"] = {"BS": tom, "BA": tom, "YO": alice, "LS": priya}
        story["technicians"]["HG"] = priya
        # the vans' stock of consumables and pumps, counted in
        Quant = self.env["stock.quant"].with_context(inventory_mode=True)
        quants = Quant.create(
            [
                {
                    "product_id": product.id,
                    "location_id": user.van_location_id.id,
                    "inventory_quantity": qty,
                }
                for user in (tom, alice, priya)
                for product, qty in ((story["toner"], 24), (story["pump"], 4))
            ]
        )
        quants.action_apply_inventory()

    # --- customers -----------------------------------------------------------
    def _demo_customers(self, story):
        Partner = self.env["res.partner"]
        partners = Partner.create(
            [
                {
                    "name": name,
                    "is_company": True,
                    "street": street,
                    "city": city,
                    "zip": zip_code,
                    "email": "office@{}.example.com".format(
                        name.lower().replace(" ", "-").replace("'", "")
                    ),
                    "phone": f"+44 1{index:02d}0 555 0{index:02d}",
                }
                for index, (name, street, city, zip_code, _plan) in enumerate(
                    CUSTOMERS, start=10
                )
            ]
        )
        story["customers"] = [
            (partner, plan, fleet)
            for partner, (*_info, plan), fleet in zip(
                partners, CUSTOMERS, FLEETS, strict=True
            )
        ]
        # the Minster office reads its meters on the portal
        contact = Partner.create(
            {
                "name": "Daniel Brook",
                "parent_id": partners[4].id,
                "email": "daniel.brook@minster-accountants.example.com",
            }
        )
        story["minster_portal"] = (
            self.env["res.users"]
            .with_context(no_reset_password=True)
            .create(
                {
                    "partner_id": contact.id,
                    "login": "minster.portal",
                    "password": "minster.portal",
                    "groups_id": [Command.set([self.env.ref("base.group_portal").id])],
                }
            )
        )

    # --- units: received from the vendors, delivered over 18 months ----------
    def _demo_units(self, story):
        rng, today = story["rng"], story["today"]
        Lot = self.env["stock.lot"]
        company = self.env.ref("base.main_company")
        warehouse = story["warehouse"]
        stock = warehouse.lot_stock_id
        customer_location = self.env.ref("stock.stock_location_customers")
        counters = {"MX6": 6000, "MX4": 1100, "CB30": 2100, "FU40": 3100, "CB9": 9100}

        def new_lots(product, prefix, count):
            names = []
            for _i in range(count):
                counters[prefix] += 1
                names.append(f"{prefix}-{counters[prefix]}")
            return Lot.create(
                [
                    {"name": name, "product_id": product.id, "company_id": company.id}
                    for name in names
                ]
            )

        self._demo_redate_first_units(story)
        waves = []  # (day, customer, units)
        units = []  # (unit, customer, plan) of the new units
        for customer, plan, (mx6, mx4, boilers) in story["customers"]:
            lots = (
                new_lots(story["mx6000"], "MX6", mx6)
                | new_lots(story["mx4000"], "MX4", mx4)
                | new_lots(story["boiler"], "CB30", boilers)
            )
            first = today - timedelta(days=rng.randint(150, 540))
            # a fleet arrives in one or two deliveries
            split = rng.randint(1, len(lots)) if len(lots) > 2 else len(lots)
            later = first + timedelta(days=rng.randint(30, 110))
            waves.append((first, customer, lots[:split]))
            if lots[split:]:
                waves.append((later, customer, lots[split:]))
            units += [(lot, customer, plan) for lot in lots]
        harbour_units = new_lots(story["mx6000"], "MX6", 2)
        harbour = self._demo_ref("demo_customer_harbour")
        waves.append((today - timedelta(days=250), harbour, harbour_units))
        units += [(lot, harbour, "click") for lot in harbour_units]
        story["units"] = units
        # serialised fusers and controller boards go in with the copiers
        copiers = [
            unit
            for _day, _partner, lots in waves
            for unit in lots
            if unit.product_id in (story["mx6000"] | story["mx4000"])
        ]
        story["delivered"] = [
            (unit, day) for day, _partner, lots in waves for unit in lots
        ] + story["first_units"]
        fitted_fusers = new_lots(story["fuser"], "FU40", 6)
        fitted_boards = new_lots(story["board"], "CB9", 6)
        spare_fusers = new_lots(story["fuser"], "FU40", 4)
        spare_boards = new_lots(story["board"], "CB9", 3)
        fitted = {}
        fused = rng.sample(copiers, 6)
        boarded = rng.sample(copiers, 6)
        for unit, fuser in zip(fused, fitted_fusers, strict=True):
            fitted.setdefault(unit, self.env["stock.lot"])
            fitted[unit] |= fuser
        for unit, board in zip(boarded, fitted_boards, strict=True):
            fitted.setdefault(unit, self.env["stock.lot"])
            fitted[unit] |= board
        story.update(
            spare_fusers=spare_fusers,
            spare_boards=spare_boards,
            fitted_boards=fitted_boards,
        )
        # receipts: each wave's units (and their parts) a fortnight before it
        waves.sort(key=lambda wave: wave[0])
        received = Lot.browse()
        for day, partner, lots in waves:
            components = Lot.union(*(fitted.get(unit, Lot) for unit in lots))
            todo = (lots | components) - received
            if todo.filtered(lambda lot: lot.product_id == story["boiler"]):
                self._demo_receive(
                    story,
                    story["thermatech"],
                    todo.filtered(lambda lot: lot.product_id == story["boiler"]),
                    day - timedelta(days=14),
                )
            if todo.filtered(lambda lot: lot.product_id != story["boiler"]):
                self._demo_receive(
                    story,
                    story["kyodo"],
                    todo.filtered(lambda lot: lot.product_id != story["boiler"]),
                    day - timedelta(days=14),
                )
            received |= todo
            delivery = self._demo_transfer(
                warehouse.out_type_id,
                partner,
                stock,
                customer_location,
                self._demo_by_product(lots | components),
            )
            self._demo_date_picking(delivery, day)
            (lots | components).write({"delivery_date": day})
            boilers = lots.filtered(lambda lot: lot.product_id == story["boiler"])
            boilers.write({"installation_date": day + timedelta(days=3)})
            lots.equipment_id.write({"effective_date": day})
            for unit in lots:
                if fitted.get(unit):
                    fitted[unit].write({"parent_lot_id": unit.id})
        # the spares, received into the depot before the first delivery
        self._demo_receive(
            story,
            story["kyodo"],
            spare_fusers | spare_boards,
            waves[0][0] - timedelta(days=20),
        )
        # stock the depot with consumables and pumps
        Quant = self.env["stock.quant"].with_context(inventory_mode=True)
        Quant.create(
            [
                {
                    "product_id": product.id,
                    "location_id": stock.id,
                    "inventory_quantity": qty,
                }
                for product, qty in ((story["toner"], 60), (story["pump"], 12))
            ]
        ).action_apply_inventory()

    def _demo_redate_first_units(self, story):
        """The units of the demo XML came in and went out the day the demo
        was installed: they were received and delivered a year or more ago."""
        today = story["today"]
        for xmlid, days in (
            ("demo_receipt_kyodo", 460),
            ("demo_receipt_thermatech", 320),
            ("demo_delivery_harbour", 430),
            ("demo_delivery_northfield", 300),
        ):
            picking = self._demo_ref(xmlid)
            day = today - timedelta(days=days)
            self._demo_date_picking(picking, day)
            lots = picking.move_line_ids.lot_id
            if picking.picking_type_id.code == "incoming":
                lots.write({"receipt_date": day})
            else:
                lots.write({"delivery_date": day})
                lots.filtered(
                    lambda lot: lot.product_id == story["boiler"]
                ).installation_date = day + timedelta(days=3)
                lots.equipment_id.write({"effective_date": day})
        copier_2 = self._demo_ref("demo_lot_copier_2")
        story["first_units"] = [
            (self._demo_ref("demo_lot_copier_1"), today - timedelta(days=430)),
            (copier_2, today - timedelta(days=300)),
            (self._demo_ref("demo_lot_boiler_1"), today - timedelta(days=300)),
        ]

    def _demo_by_product(self, lots):
        by_product = {}
        for lot in lots:
            qty, grouped = by_product.get(lot.product_id, (0, self.env["stock.lot"]))
            by_product[lot.product_id] = (qty + 1, grouped | lot)
        return by_product

    def _demo_receive(self, story, vendor, lots, day):
        warehouse = story["warehouse"]
        receipt = self._demo_transfer(
            warehouse.in_type_id,
            vendor,
            self.env.ref("stock.stock_location_suppliers"),
            warehouse.lot_stock_id,
            self._demo_by_product(lots),
        )
        self._demo_date_picking(receipt, day)
        lots.write({"receipt_date": day})
        return receipt

    # --- contracts: three templates, a contract per customer ------------------
    def _demo_templates(self, story):
        Template = self.env["sale.subscription.template"]
        black, colour = (
            self._demo_ref("meter_type_black"),
            self._demo_ref("meter_type_color"),
        )
        consumables = self._demo_ref("demo_categ_consumables")
        # invoices made as drafts, posted by the billing clerk (each posted
        # invoice of a sending mode would be rendered as a PDF at once)
        common = {
            "recurring_rule_type": "months",
            "recurring_interval": 1,
            "invoicing_mode": "draft",
        }
        click = Template.create(
            dict(
                common,
                name="Click Contract",
                code="CLICK",
                response_hours=8,
                resolution_hours=24,
                coverage_rule_ids=[
                    Command.create(
                        {
                            "sequence": 5,
                            "name": "Consumables are billed",
                            "categ_id": consumables.id,
                            "effect": "exclude",
                        }
                    ),
                    Command.create({"name": "Parts included", "line_type": "part"}),
                    Command.create({"name": "Labour included", "line_type": "labour"}),
                    Command.create(
                        {
                            "name": "Two call-outs a month",
                            "line_type": "travel",
                            "max_qty_per_period": 2,
                        }
                    ),
                ],
                usage_tariff_ids=[
                    Command.create(
                        {
                            "meter_type_id": black.id,
                            "product_id": story["black_pages"].id,
                            "included_qty": 1000,
                            "price_unit": 0.012,
                            "tier_ids": [
                                Command.create({"from_qty": 0, "price_unit": 0.012}),
                                Command.create({"from_qty": 3000, "price_unit": 0.009}),
                            ],
                        }
                    ),
                    Command.create(
                        {
                            "meter_type_id": colour.id,
                            "product_id": story["colour_pages"].id,
                            "included_qty": 100,
                            "price_unit": 0.06,
                        }
                    ),
                ],
            )
        )
        pooled = Template.create(
            dict(
                common,
                name="Pooled Fleet",
                code="POOL",
                response_hours=8,
                resolution_hours=48,
                coverage_rule_ids=[
                    Command.create(
                        {
                            "sequence": 5,
                            "name": "Consumables are billed",
                            "categ_id": consumables.id,
                            "effect": "exclude",
                        }
                    ),
                    Command.create({"name": "Parts included", "line_type": "part"}),
                    Command.create(
                        {
                            "name": "Labour at half price",
                            "line_type": "labour",
                            "coverage_percent": 50,
                        }
                    ),
                ],
                usage_tariff_ids=[
                    Command.create(
                        {
                            "meter_type_id": black.id,
                            "product_id": story["black_pages"].id,
                            "included_qty": 12000,
                            "price_unit": 0.011,
                            "pooled": True,
                            "minimum_amount": 150,
                        }
                    ),
                    Command.create(
                        {
                            "meter_type_id": colour.id,
                            "product_id": story["colour_pages"].id,
                            "included_qty": 1500,
                            "price_unit": 0.055,
                            "pooled": True,
                        }
                    ),
                ],
            )
        )
        care = Template.create(
            dict(
                common,
                name="Parts and Labour Care",
                code="CARE",
                response_hours=24,
                resolution_hours=72,
                coverage_rule_ids=[
                    Command.create(
                        {
                            "sequence": 5,
                            "name": "Consumables are billed",
                            "categ_id": consumables.id,
                            "effect": "exclude",
                        }
                    ),
                    Command.create(
                        {
                            "name": "Parts up to 400 a month",
                            "line_type": "part",
                            "max_amount_per_period": 400,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Four hours of labour a month",
                            "line_type": "labour",
                            "max_qty_per_period": 4,
                        }
                    ),
                    Command.create(
                        {
                            "name": "Travel is billed",
                            "line_type": "travel",
                            "effect": "exclude",
                        }
                    ),
                ],
            )
        )
        return {"click": click, "pooled": pooled, "care": care}

    def _demo_contracts(self, story):
        templates = self._demo_templates(story)
        story["templates"] = templates
        delivered = dict(story["delivered"])
        boiler = story["boiler"]
        groups = {}  # (customer, plan) -> units
        for unit, customer, plan in story["units"]:
            if not plan:
                continue
            if unit.product_id == boiler:
                plan = "care"
            groups.setdefault((customer, plan), self.env["stock.lot"])
            groups[(customer, plan)] |= unit
        northfield = self._demo_ref("demo_customer_northfield")
        groups[(northfield, "care")] = self._demo_ref(
            "demo_lot_copier_2"
        ) | self._demo_ref("demo_lot_boiler_1")
        prices = {"click": 25.0, "pooled": 45.0, "care": 35.0}
        plans = {
            "click": story["plans"]["PLAN-CLICK"],
            "pooled": story["plans"]["PLAN-POOL"],
            "care": story["plans"]["PLAN-CARE"],
        }
        vals_list, covered = [], []
        for (customer, plan), lots in groups.items():
            first = min(delivered[lot] for lot in lots)
            start = first.replace(day=1) + relativedelta(months=1)
            vals_list.append(
                {
                    "partner_id": customer.id,
                    "template_id": templates[plan].id,
                    "pricelist_id": self._demo_ref("demo_pricelist_service").id,
                    "date_start": start,
                    "sale_subscription_line_ids": [
                        Command.create(
                            {
                                "product_id": plans[plan].id,
                                "price_unit": prices[plan] * len(lots),
                            }
                        )
                    ],
                }
            )
            covered.append(lots)
        contracts = self.env["sale.subscription"].create(vals_list)
        in_progress = self.env.ref("subscription_oca.subscription_stage_in_progress")
        for contract, lots in zip(contracts, covered, strict=True):
            contract.stage_id = in_progress
            contract.covered_lot_ids = lots
            # the first invoice on the first day of the contract
            contract.recurring_next_date = contract.date_start
        harbour = self._demo_ref("demo_contract_harbour")
        harbour.recurring_next_date = harbour.date_start
        story["contracts"] = contracts | harbour

    # --- twelve months and more: readings, then the month's billing run ------
    def _demo_months(self, story):
        rng, today = story["rng"], story["today"]
        black, colour = (
            self._demo_ref("meter_type_black"),
            self._demo_ref("meter_type_color"),
        )
        Reading = self.env["serial.meter.reading"]
        delivered = dict(story["delivered"])
        # the units read month after month: the new ones, and the XML's
        # boiler (its copiers have the readings of the XML)
        units = [unit for unit, _customer, _plan in story["units"]]
        units.append(self._demo_ref("demo_lot_boiler_1"))
        portal_of = {}
        harbour = self._demo_ref("demo_customer_harbour")
        for unit, customer, _plan in story["units"]:
            if customer == harbour:
                portal_of[unit] = self._demo_ref("demo_user_portal_harbour")
            elif customer == story["customers"][4][0]:
                portal_of[unit] = story["minster_portal"]
        volumes, values = {}, {}
        for unit in units:
            for meter in unit.product_id.meter_type_ids:
                if meter == black:
                    low, high = (
                        (2600, 3400)
                        if unit.product_id == story["mx4000"]
                        else (1800, 5200)
                    )
                elif meter == colour:
                    low, high = (200, 1200)
                else:
                    low, high = (150, 420)
                volumes[unit, meter] = rng.randint(low, high)
                values[unit, meter] = rng.randint(0, 400)
        # the story's two special readings: a spike held for review (last
        # month) and a month without reading, billed on an estimate
        clickers = [
            unit
            for unit, _customer, plan in story["units"]
            if plan == "click"
            and unit.product_id == story["mx6000"]
            and unit not in portal_of
        ]
        # the longest in the field: months of history before the missed one
        clickers.sort(key=lambda unit: (delivered[unit], unit.id))
        missed_unit, spike_unit = clickers[0], clickers[1]
        last_bill = today.replace(day=1)
        missed_bill = last_bill - relativedelta(months=3)
        # baselines the day after each delivery
        self._demo_post_readings(
            [
                (unit, meter, delivered[unit] + timedelta(days=1), values[unit, meter])
                for unit in units
                for meter in unit.product_id.meter_type_ids
            ],
            portal_of,
        )
        bill_day = min(delivered.values()).replace(day=1) + relativedelta(months=1)
        contracts = story["contracts"]
        last_read = {unit: delivered[unit] + timedelta(days=1) for unit in units}
        while bill_day <= today:
            read_day = bill_day - timedelta(days=rng.randint(2, 5))
            batch = []
            for unit in units:
                if delivered[unit] + timedelta(days=3) > read_day:
                    continue
                if unit == missed_unit and bill_day == missed_bill:
                    continue
                # a month's usage, pro rata of the days since the last read
                share = min((read_day - last_read[unit]).days / 30.4, 2.0)
                last_read[unit] = read_day
                for meter in unit.product_id.meter_type_ids:
                    month = volumes[unit, meter] * share * rng.uniform(0.75, 1.25)
                    if unit == spike_unit and bill_day == last_bill and meter == black:
                        month *= 9
                    values[unit, meter] += int(month)
                    batch.append((unit, meter, read_day, values[unit, meter]))
            self._demo_post_readings(batch, portal_of, rng)
            self._demo_bill(contracts, bill_day)
            bill_day += relativedelta(months=1)
        # what is still due today (a contract started mid-month)
        self._demo_bill(contracts, today)
        story.update(spike_unit=spike_unit, missed_unit=missed_unit)
        Reading.flush_model()

    def _demo_post_readings(self, batch, portal_of, rng=None):
        """The month's readings as they come in: devices through the device
        API, customers on the portal, boilers' hours by the technicians."""
        device, portal, technician = [], [], []
        for unit, meter, day, value in batch:
            moment = datetime.combine(day, time(7, 0)) + timedelta(
                minutes=rng.randint(0, 600) if rng else 0
            )
            if unit in portal_of:
                portal.append((unit, meter, moment, value))
            elif meter.code == "HOURS":
                technician.append((unit, meter, moment, value))
            else:
                device.append(
                    {
                        "serial": unit.name,
                        "meter": meter.code,
                        "date": moment.isoformat() + "Z",
                        "value": value,
                    }
                )
        Reading = self.env["serial.meter.reading"]
        if device:
            result = Reading._api_record_readings({"readings": device})
            if result.get("errors"):
                raise ValueError(f"demo device readings refused: {result['errors']}")
        for unit, meter, moment, value in portal:
            Reading.with_user(portal_of[unit])._portal_record_reading(
                unit, meter, moment, value
            )
        if technician:
            Reading.create(
                [
                    {
                        "lot_id": unit.id,
                        "meter_type_id": meter.id,
                        "reading_date": moment,
                        "value": value,
                        "source": "technician",
                    }
                    for unit, meter, moment, value in technician
                ]
            )

    def _demo_bill(self, contracts, day):
        """The scheduler's billing run on that day: every contract due."""
        contracts.invalidate_recordset()
        while True:
            due = contracts.filtered(
                lambda c: (
                    c.in_progress
                    and c.recurring_next_date
                    and c.recurring_next_date <= day
                )
            )
            if not due:
                return
            before = {c.id: c.recurring_next_date for c in due}
            due._run_usage_billing()
            due.invalidate_recordset()
            # the billing clerk checks the month's drafts and posts them
            due.invoice_ids.filtered(lambda move: move.state == "draft").action_post()
            if any(c.recurring_next_date == before[c.id] for c in due):
                raise ValueError(f"demo billing failed on {day}: {due.mapped('name')}")
            # subscription_oca dates the next invoice of a contract's first one
            # from the day it runs (today): a month after, as it was then
            for contract in due:
                contract.write(
                    {
                        "billing_run_date": day,
                        "recurring_next_date": before[contract.id]
                        + relativedelta(months=1),
                    }
                )

    # --- jobs: corrective and preventive, with parts and signatures ----------
    def _demo_technician(self, story, unit):
        zip_code = (unit.site_id or unit.customer_id).zip or ""
        return story["technicians"].get(
            zip_code[:2].strip(), self._demo_ref("demo_user_technician_alice")
        )

    def _demo_job_lines(self, story, job, unit, kind):
        """What the technician used: labour, travel, and a part now and then."""
        rng = story["rng"]
        lines = [
            {"product_id": story["labour"].id, "quantity": rng.choice([1, 1.5, 2])},
            {"product_id": story["travel"].id, "quantity": 1},
        ]
        depot = story["warehouse"].lot_stock_id
        fuser = unit.child_lot_ids.filtered(
            lambda lot: lot.product_id == story["fuser"]
        )
        replaced = story.setdefault("replaced", set())
        if (
            kind == "corrective"
            and fuser
            and unit.id not in replaced
            and story["spares"]
            and rng.random() < 0.7
        ):
            # one fuser change per unit: the jobs are completed later
            replaced.add(unit.id)
            spare = story["spares"].pop(0)
            lines.append(
                {
                    "product_id": story["fuser"].id,
                    "lot_id": spare.id,
                    "removed_lot_id": fuser[:1].id,
                    "location_id": depot.id,
                }
            )
        elif unit.product_id == story["boiler"] and rng.random() < 0.5:
            lines.append({"product_id": story["pump"].id, "quantity": 1})
        elif unit.product_id != story["boiler"] and rng.random() < 0.3:
            lines.append({"product_id": story["toner"].id, "quantity": 1})
        return [dict(line, request_id=job.id) for line in lines]

    def _demo_complete(self, story, jobs_days):
        """Complete the jobs (each dated its day), signed by the customer; the
        service report goes to the customer; older invoices are posted."""
        today = story["today"]
        for job, day in jobs_days:
            job.write(
                {
                    "signature": SIGNATURE,
                    "signed_by": "Reception desk",
                    "service_notes": "<p>Checked, cleaned and tested: working.</p>",
                }
            )
            job.action_complete_job()
            done = datetime.combine(day, time(11, 30))
            self._demo_set_dates(
                "maintenance_request",
                job.ids,
                {
                    "completed_on": done,
                    "signed_on": done,
                    "close_date": day,
                    "schedule_date": datetime.combine(day, time(9, 30)),
                },
            )
            moves = job.service_line_ids.move_id
            self._demo_set_dates("stock_move", moves.ids, {"date": done})
            self._demo_set_dates(
                "stock_move_line", moves.move_line_ids.ids, {"date": done}
            )
            invoices = job.invoice_ids.filtered(lambda move: move.state == "draft")
            if invoices:
                invoices.write({"invoice_date": day})
                if day < today - timedelta(days=14):
                    invoices.action_post()

    def _demo_jobs(self, story):
        """Failures at about one a unit-year, a few coming back within the
        month, each boiler's yearly service and the copiers' services by page
        count, made and completed day after day as they happened."""
        rng, today = story["rng"], story["today"]
        story["spares"] = list(story["spare_fusers"]) + list(
            self._demo_ref("demo_lot_fuser_1") | self._demo_ref("demo_lot_fuser_2")
        )
        faults = {
            "copier": [
                "Paper jams in the duplex unit",
                "Streaks on every page",
                "Error E-204 at start-up",
                "Noisy when printing",
            ],
            "boiler": ["No hot water", "Pressure keeps dropping"],
        }
        specs = []  # (day, kind, unit, name or meter job)
        for unit, delivered in story["delivered"]:
            family = "boiler" if unit.product_id == story["boiler"] else "copier"
            rate = 0.8 if family == "boiler" else 1.1
            day = delivered + timedelta(days=20)
            while day < today - timedelta(days=2):
                if rng.random() < rate * 60 / 365.25:
                    failure = day + timedelta(days=rng.randint(0, 59))
                    if failure < today - timedelta(days=1):
                        specs.append(
                            (failure, "corrective", unit, rng.choice(faults[family]))
                        )
                        again = failure + timedelta(days=rng.randint(5, 20))
                        if rng.random() < 0.15 and again < today - timedelta(days=3):
                            specs.append(
                                (again, "corrective", unit, "The same fault again")
                            )
                day += timedelta(days=60)
            if family == "boiler":
                day = delivered + timedelta(days=330)
                if day < today - timedelta(days=5):
                    specs.append(
                        (day, "preventive", unit, f"Yearly service of {unit.name}")
                    )
        # the preventive services the copiers' page counts opened
        meter_jobs = self.env["maintenance.request"].search(
            [
                ("preventive_reading_id", "!=", False),
                ("lot_id", "in", [unit.id for unit, _c, _p in story["units"]]),
                ("stage_id.done", "=", False),
            ]
        )
        for job in meter_jobs:
            day = job.preventive_reading_id.reading_date.date() + timedelta(days=6)
            specs.append((day, "meter", job.lot_id, job))
        specs.sort(key=lambda spec: (spec[0], spec[2].id, spec[1]))
        for day, kind, unit, what in specs:
            job = self._demo_job(story, day, kind, unit, what)
            done = day + timedelta(days=1)
            # the last days' jobs are still planned
            if done < today - timedelta(days=1):
                self._demo_complete(story, [(job, done)])

    def _demo_job(self, story, day, kind, unit, what):
        technician = self._demo_technician(story, unit)
        if kind == "meter":
            job = what
            job.user_id = technician
            job.service_line_ids.filtered(
                lambda line: line.line_type in ("part", "consumable")
            ).location_id = technician.van_location_id
            self._demo_set_dates("maintenance_request", job.ids, {"request_date": day})
            return job
        job = self.env["maintenance.request"].create(
            {
                "name": what,
                "maintenance_type": kind,
                "lot_id": unit.id,
                "customer_id": unit.customer_id.id,
                "user_id": technician.id,
                "request_date": day,
                "schedule_date": datetime.combine(day + timedelta(days=1), time(9, 30)),
            }
        )
        self.env["serial.service.line"].create(
            self._demo_job_lines(story, job, unit, kind)
        )
        return job

    # --- a supplier claim credited, a recall under way, supplies orders -------
    def _demo_claims(self, story):
        claims = self.env["serial.warranty.claim"].search(
            [("request_id.lot_id", "!=", False)], order="failure_date, id"
        )
        if not claims:
            return
        credited, others = claims[0], claims[1:]
        credited.action_submit()
        credited.action_accept()
        credited.action_create_refund()
        day = min(credited.failure_date + timedelta(days=21), story["today"])
        credited.refund_move_id.write({"invoice_date": day})
        credited.refund_move_id.action_post()
        if others:
            others[0].action_submit()

    def _demo_recall(self, story):
        """Kyodo recalls a batch of controller boards: the units that carry one
        get a job; the first are done, the others planned."""
        today = story["today"]
        recall = self.env["serial.recall"].create(
            {
                "title": "Controller board CB-9 may overheat",
                "description": "<p>Replace the controller board, free of charge.</p>",
                "product_ids": [Command.set(story["mx6000"].ids + story["mx4000"].ids)],
                "scope_type": "component",
                "scope_lot_ids": [Command.set(story["fitted_boards"][:4].ids)],
            }
        )
        recall.action_start()
        depot = story["warehouse"].lot_stock_id
        spares = list(story["spare_boards"])
        to_complete = []
        for index, job in enumerate(recall.request_ids.sorted("id")):
            unit = job.lot_id
            technician = self._demo_technician(story, unit)
            board = unit.child_lot_ids.filtered(
                lambda lot: lot.product_id == story["board"]
            )
            day = today - timedelta(days=12 - 3 * index)
            job.write(
                {
                    "user_id": technician.id,
                    "schedule_date": datetime.combine(day, time(14, 0)),
                }
            )
            if day < today - timedelta(days=2) and spares and board:
                self.env["serial.service.line"].create(
                    [
                        {
                            "request_id": job.id,
                            "product_id": story["board"].id,
                            "lot_id": spares.pop(0).id,
                            "removed_lot_id": board[:1].id,
                            "location_id": depot.id,
                        },
                        {
                            "request_id": job.id,
                            "product_id": story["labour"].id,
                            "quantity": 0.5,
                        },
                    ]
                )
                to_complete.append((job, day))
        recall_start = datetime.combine(today - timedelta(days=20), time(9, 0))
        self._demo_set_dates(
            "maintenance_request",
            recall.request_ids.ids,
            {"request_date": recall_start.date()},
        )
        self._demo_complete(story, to_complete)
        self._demo_set_dates("serial_recall", recall.ids, {"create_date": recall_start})

    def _demo_supplies(self, story):
        """The MX-4000's toner: each copier had one delivered in the last
        weeks, the busiest first (none is due again)."""
        today = story["today"]
        copiers = self._demo_ref("demo_lot_copier_2") | self.env["stock.lot"].union(
            *(
                unit
                for unit, _day in story["delivered"]
                if unit.product_id == story["mx4000"]
            )
        )
        for index, unit in enumerate(copiers):
            order = unit.action_order_supplies(story["toner"], 1)
            picking = order.picking_ids
            for move in picking.move_ids:
                move.quantity = move.product_uom_qty
            picking.with_context(skip_sms=True).button_validate()
            day = today - timedelta(days=2 + 5 * index)
            self._demo_set_dates(
                "sale_order",
                order.ids,
                {"date_order": datetime.combine(day - timedelta(days=2), time(9, 0))},
            )
            self._demo_date_picking(picking, day)
