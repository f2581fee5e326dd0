"""The demo year as installed: what someone evaluating the add-on sees after
`bash tools/setup.sh` must look like a year of a real dealer, with believable
numbers in every report and on the dashboard (models/res_company_demo_*.py).
Skipped when the database has no demo data."""

from odoo import fields
from odoo.tests import TransactionCase, tagged
from odoo.tools import SQL

from .test_service_dashboard import dashboard_charts


@tagged("post_install", "-at_install")
class TestDemoData(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env.user)
        cls.mx6000 = cls.env["product.product"].search(
            [("default_code", "=", "MX-6000")]
        )

    def setUp(self):
        super().setUp()
        if not self.env.ref("base.module_serial_service").demo or not self.mx6000:
            self.skipTest("the demo data is not installed")

    def _total(self, model, aggregates, domain=()):
        return self.env[model]._read_group(list(domain), [], aggregates)[0]

    def test_a_dealer_of_a_dozen_customers(self):
        Lot = self.env["stock.lot"]
        units = Lot.search(
            [
                ("product_id.serial_service_managed", "=", True),
                ("delivery_date", "!=", False),
            ]
        )
        self.assertTrue(40 <= len(units) <= 70, len(units))
        components = Lot.search([("parent_lot_id", "in", units.ids)])
        self.assertGreaterEqual(len(components), 8)
        self.assertTrue(10 <= len(units.customer_id) <= 14, units.customer_id)
        self.assertTrue(
            3 <= len(units.filtered(lambda u: u.product_id.name.startswith("Cond")))
        )
        # delivered over the last 18 months, never in the future
        days = [(self.today - unit.delivery_date).days for unit in units]
        self.assertTrue(0 <= min(days) and 400 <= max(days) <= 560, days)
        # warranties: some active, some expired, a few about to end
        states = units.mapped("warranty_state")
        for state in ("active", "expired", "expiring"):
            self.assertIn(state, states)
        technicians = self.env.ref(
            "serial_service.group_service_technician"
        ).users.filtered("van_location_id")
        self.assertGreaterEqual(len(technicians), 3)

    def test_contracts_cover_most_units_and_are_billed_up_to_date(self):
        contracts = self.env["sale.subscription"].search([("in_progress", "=", True)])
        templates = contracts.template_id
        self.assertTrue(templates.usage_tariff_ids.tier_ids, "a click contract")
        self.assertTrue(
            templates.usage_tariff_ids.filtered(
                lambda t: t.pooled and t.minimum_amount
            ),
            "a pooled contract with a minimum",
        )
        self.assertTrue(
            templates.coverage_rule_ids.filtered(
                lambda r: r.max_amount_per_period or r.max_qty_per_period
            ),
            "a parts-and-labour contract with caps",
        )
        units = self.env["stock.lot"].search(
            [
                ("product_id.serial_service_managed", "=", True),
                ("customer_id", "!=", False),
            ]
        )
        covered = units & contracts.covered_lot_ids
        self.assertGreater(len(covered), 0.7 * len(units))
        # quiet: nothing is due, the next invoices are in the future
        for contract in contracts:
            self.assertGreater(contract.recurring_next_date, self.today, contract.name)
        # a year of monthly invoices posted by the billing run, with usage lines
        invoices = contracts.invoice_ids.filtered(lambda m: m.state == "posted")
        self.assertGreaterEqual(len(invoices), 100)
        billed = self.env["serial.meter.reading"].search(
            [("invoice_line_id.move_id", "in", invoices.ids)]
        )
        usage_invoices = billed.invoice_line_id.move_id
        self.assertGreaterEqual(len(usage_invoices), 50)
        months = {invoice.invoice_date.replace(day=1) for invoice in invoices}
        self.assertGreaterEqual(len(months), 12)

    def test_readings_of_a_year(self):
        Reading = self.env["serial.meter.reading"]
        readings = Reading.search([])
        self.assertGreaterEqual(len(readings), 500)
        sources = set(readings.mapped("source"))
        self.assertTrue({"device", "customer", "technician", "estimate"} <= sources)
        # one spike held for review
        self.assertEqual(Reading.search_count([("review_state", "=", "to_review")]), 1)
        # one month billed on an estimate, trued up by the next real reading
        estimates = Reading.search([("source", "=", "estimate")])
        self.assertTrue(estimates)
        trued_up = Reading.search([("estimate_ids", "!=", False)]).estimate_ids
        self.assertEqual(trued_up, estimates)
        self.assertTrue(estimates.invoice_line_id)
        # no reading before its unit's delivery
        self.env.flush_all()
        early = self.env.execute_query(
            SQL(
                """SELECT r.id FROM serial_meter_reading r
                     JOIN stock_lot l ON l.id = r.lot_id
                    WHERE r.reading_date::date < l.delivery_date"""
            )
        )
        self.assertFalse(early)

    def test_jobs_claims_recall_supplies(self):
        Job = self.env["maintenance.request"]
        done = Job.search([("lot_id", "!=", False), ("completed_on", "!=", False)])
        corrective = done.filtered(lambda j: j.maintenance_type == "corrective")
        self.assertGreaterEqual(len(corrective), 20)
        self.assertTrue(done.filtered(lambda j: j.maintenance_type == "preventive"))
        self.assertTrue(all(done.mapped("signed_by")))
        self.assertTrue(done.service_line_ids.filtered("lot_id"), "serialised parts")
        self.assertTrue(done.invoice_ids)
        # completed in the past, after the unit came
        for job in done:
            self.assertLessEqual(job.completed_on.date(), self.today)
            self.assertGreaterEqual(job.request_date, job.lot_id.delivery_date)
        claims = self.env["serial.warranty.claim"].search([])
        credited = claims.filtered(lambda c: c.state == "credited")
        self.assertTrue(credited)
        self.assertEqual(credited.refund_move_id.state, "posted")
        recall = self.env["serial.recall"].search([("state", "=", "running")])
        self.assertTrue(recall)
        self.assertTrue(0 < recall[0].done_job_count < recall[0].job_count)
        orders = self.env["sale.order"].search(
            [("order_line.supply_lot_id", "!=", False)]
        )
        self.assertTrue(orders.picking_ids.filtered(lambda p: p.state == "done"))

    def test_failure_rates_are_believable(self):
        groups = self.env["serial.failure.report"]._read_group(
            [],
            ["product_tmpl_id"],
            ["unit_count:sum", "failure_count:sum", "failure_rate:avg"],
        )
        self.assertGreaterEqual(len(groups), 3)
        for product, units, failures, rate in groups:
            self.assertTrue(units and failures, product.name)
            self.assertTrue(0.1 <= rate <= 5, f"{product.name}: {rate}")
        mtbf = self._total("serial.failure.report", ["mtbf_days:avg"])[0]
        self.assertTrue(60 <= mtbf <= 3650, mtbf)

    def test_kpis_are_believable(self):
        ftf, repeat = self._total(
            "serial.job.report", ["first_time_fix_rate:avg", "repeat_rate:avg"]
        )
        self.assertTrue(50 <= ftf <= 100, ftf)
        self.assertTrue(0 <= repeat <= 40, repeat)
        revenue, cost, margin_rate = self._total(
            "serial.contract.profit.report",
            ["revenue:sum", "cost:sum", "margin_rate:avg"],
        )
        self.assertGreater(revenue, 10000)
        self.assertTrue(0 < cost < revenue, (cost, revenue))
        self.assertTrue(0 < margin_rate < 99, margin_rate)
        claimed, credited = self._total(
            "serial.claim.report", ["claimed_amount:sum", "credited_amount:sum"]
        )
        self.assertTrue(0 < credited <= claimed, (credited, claimed))
        self.assertGreater(
            self._total("serial.warranty.cost.report", ["cost:sum"])[0], 0
        )
        volume = self._total("serial.meter.volume.report", ["volume:sum"])[0]
        self.assertGreater(volume, 100000)
        # every chart of the service dashboard shows numbers
        dashboard = self.env.ref("serial_service.spreadsheet_dashboard_service")
        _data, charts = dashboard_charts(dashboard)
        for chart in charts:
            meta = chart["data"]["metaData"]
            report = self.env[meta["resModel"]]
            field = report._fields[meta["measure"]]
            groups = report.web_read_group(
                [], [f"{field.name}:{field.aggregator}"], meta["groupBy"], lazy=False
            )["groups"]
            values = [group[field.name] for group in groups if group[field.name]]
            self.assertTrue(values, meta)
