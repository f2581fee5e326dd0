"""The demo year's units: received from the vendors, delivered to the
customers over 18 months, components installed in them (demo data only)."""

from datetime import timedelta

from odoo import models


class ResCompany(models.Model):
    _inherit = "res.company"

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
