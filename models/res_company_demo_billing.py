"""The demo year's contracts and months: three templates, a contract per
customer, readings from the device API, the portal and the technicians, and
each month's billing run (demo data only)."""

from datetime import datetime, time, timedelta

from dateutil.relativedelta import relativedelta

from odoo import Command, models


class ResCompany(models.Model):
    _inherit = "res.company"

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
