from freezegun import freeze_time

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .kpi_common import KpiCase


@tagged("post_install", "-at_install")
@freeze_time(KpiCase.TODAY)
class TestKpiReports(KpiCase):
    """Each KPI read through its reporting model (as the pivot and graph views
    read it) on the data set of kpi_common, against numbers computed by hand."""

    def _groups(self, model, domain, groupby, aggregates, user=None):
        report = self.env[model]
        if user:
            report = report.with_user(user)
        return {
            group[0] if len(groupby) == 1 else group[: len(groupby)]: group[
                len(groupby) :
            ]
            for group in report._read_group(domain, groupby, aggregates)
        }

    def test_failure_rate_per_unit_year_and_mtbf(self):
        groups = self._groups(
            "serial.failure.report",
            [
                (
                    "product_tmpl_id",
                    "in",
                    (self.copier | self.chiller).product_tmpl_id.ids,
                )
            ],
            ["product_tmpl_id"],
            [
                "unit_count:sum",
                "field_days:sum",
                "unit_years:sum",
                "failure_count:sum",
                "failure_rate:avg",
                "mtbf_days:avg",
            ],
        )
        units, days, years, failures, rate, mtbf = groups[self.copier.product_tmpl_id]
        # today counts in full: C1, C2 from 2024-01-01 to 2026-01-01 included
        # = 366 + 365 + 1 = 732 days each; C3 from 2024-07-01 to its return on
        # 2025-01-01 (not in the field that day) = 184 days; 732 + 732 + 184
        self.assertEqual(units, 3)
        self.assertEqual(days, 1648)
        self.assertAlmostEqual(years, 1648 / 365.25, places=6)  # 4.5120
        # in the field: C1 J1 J2 J3, C2 J4 (JX archived), C3 J5 (J6 after return)
        self.assertEqual(failures, 5)
        self.assertAlmostEqual(rate, 5 / (1648 / 365.25), places=6)  # 1.1082
        self.assertAlmostEqual(mtbf, 1648 / 5, places=6)  # 329.6 days
        units, days, years, failures, rate, mtbf = groups[self.chiller.product_tmpl_id]
        # H1: 2025-01-01 to 2026-01-01 included = 366 days; J7 and J8 (open)
        self.assertEqual((units, days, failures), (1, 366, 2))
        self.assertAlmostEqual(rate, 2 / (366 / 365.25), places=6)  # 1.9959
        self.assertAlmostEqual(mtbf, 366 / 2, places=6)

    def test_mtbf_per_serial(self):
        units = self.c1 | self.c2 | self.c3 | self.h1
        groups = self._groups(
            "serial.failure.report",
            [("lot_id", "in", units.ids)],
            ["lot_id"],
            ["failure_count:sum", "mtbf_days:avg"],
        )
        self.assertEqual(groups[self.c1][0], 3)
        # days in the field (see above) / corrective jobs
        self.assertEqual(tuple(groups[self.c1]), (3, 732 / 3))  # 244
        self.assertEqual(tuple(groups[self.c2]), (1, 732.0))
        self.assertEqual(tuple(groups[self.c3]), (1, 184.0))
        self.assertEqual(tuple(groups[self.h1]), (2, 183.0))

    def test_failure_rate_over_a_period(self):
        """2025 only: exposure clipped to the year, failures dated in it."""
        report = self.env["serial.failure.report"].with_context(
            serial_kpi_date_from="2025-01-01", serial_kpi_date_to="2025-12-31"
        )
        groups = {
            tmpl: rest
            for tmpl, *rest in report._read_group(
                [
                    (
                        "product_tmpl_id",
                        "in",
                        (self.copier | self.chiller).product_tmpl_id.ids,
                    )
                ],
                ["product_tmpl_id"],
                [
                    "unit_count:sum",
                    "field_days:sum",
                    "failure_count:sum",
                    "failure_rate:avg",
                ],
            )
        }
        units, days, failures, rate = groups[self.copier.product_tmpl_id]
        # C1, C2: all of 2025 = 365 days each; C3 returned on 2025-01-01: not a
        # day in the field, not a unit; failures in 2025: J3 (C1), J4 (C2)
        self.assertEqual((units, days, failures), (2, 730, 2))
        self.assertAlmostEqual(rate, 2 / (730 / 365.25), places=6)  # 1.0007
        units, days, failures, rate = groups[self.chiller.product_tmpl_id]
        self.assertEqual((units, days, failures), (1, 365, 2))

    def test_failure_rate_per_usage(self):
        groups = self._groups(
            "serial.usage.failure.report",
            [("meter_type_id", "in", (self.pages | self.hours).ids)],
            ["product_tmpl_id", "meter_type_id"],
            ["usage:sum", "failure_count:sum", "failure_rate:avg"],
        )
        self.assertEqual(len(groups), 2, "C3 has no reading: no row")
        usage, failures, rate = groups[self.copier.product_tmpl_id, self.pages]
        # C1 600,000 + 900,000 and C2 500,000 pages = 2,000,000 = 2 million;
        # corrective jobs: C1 J1 J2 J3, C2 J4 (JX archived) = 4
        self.assertEqual((usage, failures), (2000000, 4))
        self.assertAlmostEqual(rate, 4 / 2.0, places=6)  # 2 per million pages
        usage, failures, rate = groups[self.chiller.product_tmpl_id, self.hours]
        # H1 4,000 hours = 4 thousand hours; J7, J8 -> 0.5 per thousand hours
        self.assertEqual((usage, failures), (4000, 2))
        self.assertAlmostEqual(rate, 2 / 4.0, places=6)
        # over 2025 only: pages 900,000 + 500,000 = 1.4 million, J3 and J4
        usage, failures, rate = self._groups(
            "serial.usage.failure.report",
            [
                ("meter_type_id", "=", self.pages.id),
                ("date", ">=", "2025-01-01"),
                ("date", "<=", "2025-12-31"),
            ],
            ["meter_type_id"],
            ["usage:sum", "failure_count:sum", "failure_rate:avg"],
        )[self.pages]
        self.assertEqual((usage, failures), (1400000, 2))
        self.assertAlmostEqual(rate, 2 / 1.4, places=6)  # 1.4286

    def test_repeat_repairs_per_serial(self):
        self.assertTrue(self.j2.is_repeat_visit, "J2 came 17 days after J1 closed")
        units = self.c1 | self.c2 | self.c3 | self.h1
        groups = self._groups(
            "serial.job.report",
            [("lot_id", "in", units.ids), ("maintenance_type", "=", "corrective")],
            ["lot_id"],
            ["corrective_count:sum", "repeat_count:sum", "repeat_rate:avg"],
        )
        # C1: J1, J2 (repeat), J3 -> 1 of 3 = 33.3 %
        self.assertEqual(groups[self.c1][:2], (3, 1))
        self.assertAlmostEqual(groups[self.c1][2], 100 / 3, places=6)
        # C2: J4 (JX archived); C3: J5, J6 (J5 closed 8 months before); H1: J7, J8
        self.assertEqual(tuple(groups[self.c2]), (1, 0, 0.0))
        self.assertEqual(tuple(groups[self.c3]), (2, 0, 0.0))
        self.assertEqual(tuple(groups[self.h1]), (2, 0, 0.0))

    def test_first_time_fix_rate_per_technician(self):
        groups = self._groups(
            "serial.job.report",
            [("user_id", "in", (self.technician | self.technician_b).ids)],
            ["user_id"],
            ["fixed_count:sum", "first_time_fix_count:sum", "first_time_fix_rate:avg"],
        )
        # A closed J1 (J2 followed within 30 days: not a first-time fix), J3, J5,
        # J6 -> 3 of 4 = 75 %; P2 is preventive, J8 open, JX archived
        self.assertEqual(tuple(groups[self.technician]), (4, 3, 75.0))
        # B closed J2, J4 (P2 preventive and JX archived do not count as
        # repeats), J7 (J8 came 6 months later) -> 3 of 3
        self.assertEqual(tuple(groups[self.technician_b]), (3, 3, 100.0))
        report = self.env["serial.job.report"].search([("request_id", "=", self.j1.id)])
        self.assertFalse(report.is_first_time_fix)
        self.assertTrue(
            self.env["serial.job.report"]
            .search([("request_id", "=", self.j4.id)])
            .is_first_time_fix
        )

    def test_warranty_cost_per_product_and_vendor(self):
        units = self.c1 | self.c2 | self.c3 | self.h1
        domain = [("lot_id", "in", units.ids)]
        aggregates = ["parts_cost:sum", "labour_cost:sum", "cost:sum"]
        per_product = self._groups(
            "serial.warranty.cost.report", domain, ["product_tmpl_id"], aggregates
        )
        # copiers, parts only: J1 1 + J3 1 + J4 2 + J5 1 fusers = 5 x 120 = 600
        self.assertEqual(tuple(per_product[self.copier.product_tmpl_id]), (600, 0, 600))
        # H1: J7 compressor 500 + labour 3 x 40 = 120 (J8 is not done)
        self.assertEqual(
            tuple(per_product[self.chiller.product_tmpl_id]), (500, 120, 620)
        )
        per_vendor = self._groups(
            "serial.warranty.cost.report", domain, ["vendor_id"], aggregates
        )
        self.assertEqual(per_vendor[self.copier_vendor][2], 600)
        self.assertEqual(per_vendor[self.chiller_vendor][2], 620)

    def test_supplier_claim_recovery_rate(self):
        groups = self._groups(
            "serial.claim.report",
            [("vendor_id", "in", (self.copier_vendor | self.chiller_vendor).ids)],
            ["vendor_id"],
            [
                "claim_count:sum",
                "claimed_amount:sum",
                "credited_amount:sum",
                "recovery_rate:avg",
            ],
        )
        # copier vendor: 120 + 120 + 80 claimed (the draft of 50 is not), 100
        # credited (the accepted 80 has no posted credit note) = 31.25 %
        self.assertEqual(tuple(groups[self.copier_vendor]), (3, 320, 100, 31.25))
        self.assertEqual(tuple(groups[self.chiller_vendor]), (1, 200, 200, 100.0))

    def test_contract_profitability_per_contract_and_template(self):
        contracts = self.k1 | self.k2 | self.k3
        aggregates = ["revenue:sum", "cost:sum", "margin:sum", "margin_rate:avg"]
        per_contract = self._groups(
            "serial.contract.profit.report",
            [("subscription_id", "in", contracts.ids)],
            ["subscription_id"],
            aggregates,
        )
        # K1: 1,000 untaxed - 100 credit note (the draft 500 is not invoiced);
        # cost J1 labour 2 x 40 + J2 1 x 40 + P1 1 x 40 + J3 1 x 40 + travel
        # 30 x 50 % = 80 + 40 + 40 + 40 + 15 = 215; margin 685 = 76.11 %
        revenue, cost, margin, rate = per_contract[self.k1]
        self.assertEqual((revenue, cost, margin), (900, 215, 685))
        self.assertAlmostEqual(rate, 100 * 685 / 900, places=6)
        # K2: 300 invoiced; J4 labour 1.5 x 40 = 60 (P2 is not done)
        self.assertEqual(tuple(per_contract[self.k2]), (300, 60, 240, 80.0))
        # K3: 250 through its sale order; J9 labour 2 x 40 = 80 (J7 was warranty)
        self.assertEqual(tuple(per_contract[self.k3]), (250, 80, 170, 68.0))
        per_template = self._groups(
            "serial.contract.profit.report",
            [("subscription_id", "in", contracts.ids)],
            ["template_id"],
            ["subscription_id:count_distinct", *aggregates],
        )
        count, revenue, cost, margin, rate = per_template[self.gold]
        # Gold = K1 + K2: 1,200 - 275 = 925 = 77.08 %
        self.assertEqual((count, revenue, cost, margin), (2, 1200, 275, 925))
        self.assertAlmostEqual(rate, 100 * 925 / 1200, places=6)
        self.assertEqual(tuple(per_template[self.silver]), (1, 250, 80, 170, 68.0))

    def test_meter_volumes_per_month(self):
        groups = self._groups(
            "serial.meter.volume.report",
            [("meter_type_id", "in", (self.pages | self.hours).ids)],
            ["reading_date:month", "meter_type_id"],
            ["volume:sum", "reading_count:sum"],
        )
        volumes = {
            (month.strftime("%Y-%m"), meter): tuple(values)
            for (month, meter), values in groups.items()
        }
        self.assertEqual(
            volumes,
            {
                ("2024-01", self.pages): (0, 2),  # the baselines of C1 and C2
                ("2024-12", self.pages): (600000, 1),
                ("2025-01", self.hours): (0, 1),
                ("2025-12", self.pages): (900000 + 500000, 2),
                ("2025-12", self.hours): (4000, 1),
            },
        )

    def test_access(self):
        """Managers read every KPI; consultants those about products and
        contracts, not technicians' performance nor supplier claims;
        technicians none."""
        contracts = [("subscription_id", "=", self.k2.id)]
        consultant = self._groups(
            "serial.contract.profit.report",
            contracts,
            ["subscription_id"],
            ["margin:sum"],
            user=self.consultant,
        )
        self.assertEqual(consultant[self.k2], (240,))
        for model in (
            "serial.failure.report",
            "serial.usage.failure.report",
            "serial.warranty.cost.report",
            "serial.meter.volume.report",
        ):
            self.assertTrue(self.env[model].with_user(self.consultant).search([]))
        for model in ("serial.job.report", "serial.claim.report"):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.consultant).search([])
        for model in (
            "serial.failure.report",
            "serial.job.report",
            "serial.contract.profit.report",
            "serial.claim.report",
        ):
            with self.assertRaises(AccessError):
                self.env[model].with_user(self.technician).search([])
        manager = self._groups(
            "serial.job.report",
            [("user_id", "=", self.technician_b.id)],
            ["user_id"],
            ["first_time_fix_rate:avg"],
            user=self.manager,
        )
        self.assertEqual(manager[self.technician_b], (100.0,))

    def test_multi_company(self):
        """Every KPI report has a company rule; a claim of another company is
        not in this company's report."""
        for model in (
            "serial.failure.report",
            "serial.usage.failure.report",
            "serial.job.report",
            "serial.warranty.cost.report",
            "serial.claim.report",
            "serial.contract.profit.report",
            "serial.meter.volume.report",
        ):
            rules = self.env["ir.rule"].search([("model_id.model", "=", model)])
            self.assertEqual(len(rules), 1, model)
            self.assertIn("company_ids", rules.domain_force, model)
            self.assertFalse(rules.groups, "a global rule")
        other = self.env["res.company"].create({"name": "KPI Other Company"})
        lot = self.env["stock.lot"].create(
            {"name": "KPI-OTHER", "product_id": self.valve.id, "company_id": other.id}
        )
        self.env["serial.warranty.claim"].create(
            {
                "lot_id": lot.id,
                "vendor_id": self.copier_vendor.id,
                "company_id": other.id,
                "amount": 999,
            }
        ).action_submit()
        self.manager.write({"company_ids": [(4, other.id)]})
        domain = [("vendor_id", "=", self.copier_vendor.id)]
        report = self.env["serial.claim.report"].with_user(self.manager)
        # the manager works in the first company only
        self.assertEqual(
            report.with_context(allowed_company_ids=self.company.ids)._read_group(
                domain, [], ["claimed_amount:sum"]
            ),
            [(320,)],
        )
        # ... and sees both once the other company is selected too
        self.assertEqual(
            report.with_context(
                allowed_company_ids=(self.company | other).ids
            )._read_group(domain, [], ["claimed_amount:sum"]),
            [(320 + 999,)],
        )
