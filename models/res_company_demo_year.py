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

import random
from datetime import datetime, time

from odoo import Command, api, fields, models
from odoo.tools import SQL

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
