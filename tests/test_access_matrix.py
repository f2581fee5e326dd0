"""The README's access matrix, cell by cell, through the ORM as each user."""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestAccessMatrix(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.technician2 = new_test_user(
            cls.env,
            login="matrix_technician2",
            groups="serial_service.group_service_technician",
        )
        cls.billing = new_test_user(
            cls.env, login="matrix_billing", groups="account.group_account_invoice"
        )
        cls.portal = new_test_user(
            cls.env, login="matrix_portal", groups="base.group_portal"
        )
        cls.portal.partner_id.parent_id = cls.customer
        cls.portal_other = new_test_user(
            cls.env, login="matrix_portal_other", groups="base.group_portal"
        )
        cls.portal_other.partner_id.parent_id = cls.other_customer
        cls.company_b = cls.env["res.company"].create({"name": "Matrix Other Co"})
        cls.outsider = new_test_user(
            cls.env,
            login="matrix_outsider",
            groups="serial_service.group_service_manager",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Matrix pages", "code": "MXPAGES"}
        )
        cls.lot, cls.other_lot = cls._make_lots(cls.product_unit, ["MX-1", "MX-2"])
        cls.lot.write(
            {"customer_id": cls.customer.id, "warranty_end_date": "2030-01-01"}
        )
        cls.other_lot.customer_id = cls.other_customer
        cls.lot_b = cls.env["stock.lot"].create(
            {
                "name": "MX-B",
                "product_id": cls.product_unit.id,
                "company_id": cls.company_b.id,
            }
        )
        cls.labour = cls.env["product.product"].create(
            {"name": "Matrix labour", "type": "service", "service_line_type": "labour"}
        )
        Job = cls.env["maintenance.request"]
        cls.job = Job.create(
            {
                "name": "Own job",
                "lot_id": cls.lot.id,
                "user_id": cls.technician.id,
                "service_line_ids": [Command.create({"product_id": cls.labour.id})],
            }
        )
        cls.job_other = Job.create(
            {
                "name": "Colleague's job",
                "lot_id": cls.other_lot.id,
                "user_id": cls.technician2.id,
                "service_line_ids": [Command.create({"product_id": cls.labour.id})],
            }
        )
        team_b = cls.env["maintenance.team"].create(
            {"name": "Team B", "company_id": cls.company_b.id}
        )
        cls.job_b = Job.create(
            {
                "name": "Company B job",
                "company_id": cls.company_b.id,
                "maintenance_team_id": team_b.id,
            }
        )
        Reading = cls.env["serial.meter.reading"]
        cls.reading_own = Reading.create(
            {
                "lot_id": cls.lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": cls.now - timedelta(days=10),
                "value": 100,
                "request_id": cls.job.id,
            }
        )
        cls.reading_other = Reading.create(
            {
                "lot_id": cls.other_lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": cls.now - timedelta(days=10),
                "value": 50,
            }
        )
        cls.reading_b = Reading.create(
            {
                "lot_id": cls.lot_b.id,
                "meter_type_id": cls.meter.id,
                "reading_date": cls.now - timedelta(days=10),
                "value": 7,
            }
        )
        cls.policy = cls.env["serial.warranty.policy"].create(
            {"name": "Matrix 12 months", "duration_months": 12}
        )
        cls.template = cls.env["sale.subscription.template"].create(
            {
                "name": "Matrix care",
                "coverage_rule_ids": [Command.create({"line_type": "labour"})],
            }
        )
        # a contract left in its first stage: not running
        cls.contract = cls._create_contract(
            cls.customer,
            cls.lot,
            cls.template,
            lines=[{"product_id": cls.labour.id, "price_unit": 90}],
            tariffs=[{"meter_type_id": cls.meter.id, "product_id": cls.labour.id}],
            running=False,
            date_start=fields.Date.today() - timedelta(days=5),
        )
        cls.recall = cls.env["serial.recall"].create({"title": "Matrix recall"})
        cls.recall_b = cls.env["serial.recall"].create(
            {"title": "Company B recall", "company_id": cls.company_b.id}
        )

    def assertRefused(self, func, *args, exception=AccessError):
        with self.assertRaises(exception) as cm:
            func(*args)
        self.assertTrue(str(cm.exception))
        return cm

    def _read_meter(self, user, lot, value, days=1, **vals):
        return (
            self.env["serial.meter.reading"]
            .with_user(user)
            .create(
                {
                    "lot_id": lot.id,
                    "meter_type_id": self.meter.id,
                    "reading_date": self.now - timedelta(days=days),
                    "value": value,
                    **vals,
                }
            )
        )

    # ------------------------------------------------------------------
    # Service Technician
    # ------------------------------------------------------------------
    def test_technician_reads_serials_warranties_and_contracts(self):
        tech = self.technician
        self.assertEqual(self.lot.with_user(tech).warranty_end_date.year, 2030)
        self.assertEqual(self.policy.with_user(tech).duration_months, 12)
        contract = self.contract.with_user(tech)
        self.assertEqual(contract.covered_lot_ids, self.lot)
        self.assertEqual(contract.sale_subscription_line_ids.price_unit, 90)
        self.assertEqual(len(contract.coverage_rule_ids), 1)
        self.assertEqual(len(contract.usage_tariff_ids), 1)

    def test_technician_never_changes_prices_warranty_or_rules(self):
        tech = self.technician
        line = self.contract.sale_subscription_line_ids.with_user(tech)
        self.assertRefused(line.write, {"price_unit": 1})
        self.assertRefused(self.contract.with_user(tech).write, {"description": "x"})
        cm = self.assertRefused(
            self.lot.with_user(tech).write, {"warranty_end_date": "2040-01-01"}
        )
        self.assertIn("Only a service manager", str(cm.exception))
        self.assertRefused(
            self.contract.coverage_rule_ids.with_user(tech).write,
            {"coverage_percent": 10},
        )
        self.assertRefused(
            self.contract.usage_tariff_ids.with_user(tech).write, {"price_unit": 0}
        )
        self.assertRefused(self.policy.with_user(tech).write, {"duration_months": 99})
        self.assertRefused(
            self.env["sale.subscription.template"].with_user(tech).create,
            {"name": "Mine"},
        )
        self.assertEqual(self.contract.sale_subscription_line_ids.price_unit, 90)
        self.assertEqual(str(self.lot.warranty_end_date), "2030-01-01")

    def test_technician_edits_only_their_own_jobs_and_lines(self):
        Job = self.env["maintenance.request"].with_user(self.technician)
        self.assertEqual(Job.search([("lot_id", "!=", False)]), self.job)
        self.job.with_user(self.technician).write({"description": "Done"})
        self.assertRefused(
            self.job_other.with_user(self.technician).write, {"description": "x"}
        )
        Line = self.env["serial.service.line"].with_user(self.technician)
        self.assertEqual(
            Line.search([("request_id", "in", (self.job | self.job_other).ids)]),
            self.job.service_line_ids,
        )
        self.job.service_line_ids.with_user(self.technician).quantity = 2
        self.assertRefused(
            self.job_other.service_line_ids.with_user(self.technician).write,
            {"quantity": 3},
        )
        self.assertRefused(
            Line.create, {"request_id": self.job_other.id, "product_id": self.labour.id}
        )
        Line.create({"request_id": self.job.id, "product_id": self.labour.id})
        self.assertEqual(len(self.job.service_line_ids), 2)

    def test_technician_edits_only_their_own_readings(self):
        tech = self.technician
        Reading = self.env["serial.meter.reading"].with_user(tech)
        self.assertEqual(
            Reading.search([("meter_type_id", "=", self.meter.id)]),
            self.reading_own | self.reading_other,
        )
        self.reading_own.with_user(tech).note = "checked"
        self.assertRefused(self.reading_other.with_user(tech).write, {"value": 60})
        self.assertRefused(self.reading_own.with_user(tech).unlink)
        mine = self._read_meter(tech, self.other_lot, 80)
        self.assertEqual(mine.delta, 30)
        # a backdated reading of their own re-chains a colleague's readings
        self._read_meter(tech, self.other_lot, 60, days=5)
        self.assertEqual(mine.delta, 20)
        self.assertEqual(self.reading_other.value, 50)

    def test_technician_cannot_run_manager_tools(self):
        tech = self.technician
        self.assertRefused(self.recall.with_user(tech).write, {"title": "x"})
        self.assertRefused(
            self.env["serial.installed.base.import"].with_user(tech).create, {}
        )
        self.assertRefused(self.env["serial.van.setup"].with_user(tech).create, {})

    # ------------------------------------------------------------------
    # Service Manager
    # ------------------------------------------------------------------
    def test_manager_changes_everything_of_the_company(self):
        mgr = self.manager
        self.lot.with_user(mgr).write({"warranty_end_date": "2031-01-01"})
        self.job_other.with_user(mgr).description = "Checked"
        self.job_other.service_line_ids.with_user(mgr).quantity = 4
        self.reading_other.with_user(mgr).note = "checked"
        self.contract.coverage_rule_ids.with_user(mgr).coverage_percent = 50
        self.contract.sale_subscription_line_ids.with_user(mgr).price_unit = 95
        self.recall.with_user(mgr).title = "Renamed"
        self.reading_other.with_user(mgr).unlink()
        self.assertEqual(str(self.lot.warranty_end_date), "2031-01-01")
        self.assertEqual(self.job_other.service_line_ids.quantity, 4)
        self.assertEqual(self.contract.coverage_rule_ids.coverage_percent, 50)
        self.assertFalse(self.reading_other.exists())

    # ------------------------------------------------------------------
    # Contract Consultant
    # ------------------------------------------------------------------
    def test_consultant_configures_contracts_not_jobs(self):
        cons = self.consultant
        template = (
            self.env["sale.subscription.template"]
            .with_user(cons)
            .create(
                {
                    "name": "Consultant care",
                    "coverage_rule_ids": [Command.create({"line_type": "part"})],
                    "usage_tariff_ids": [
                        Command.create(
                            {
                                "meter_type_id": self.meter.id,
                                "product_id": self.labour.id,
                                "price_unit": 0.02,
                            }
                        )
                    ],
                }
            )
        )
        self.assertEqual(template.coverage_rule_ids.line_type, "part")
        self.contract.coverage_rule_ids.with_user(cons).coverage_percent = 80
        self.policy.with_user(cons).duration_months = 24
        self.assertEqual(self.policy.duration_months, 24)
        Job = self.env["maintenance.request"].with_user(cons)
        self.assertFalse(Job.search([]))
        self.assertRefused(Job.create, {"name": "Consultant job"})
        self.assertRefused(self.job.with_user(cons).read, ["name"])
        self.assertRefused(self.job.service_line_ids.with_user(cons).read, ["name"])
        self.assertRefused(self.reading_own.with_user(cons).write, {"note": "x"})
        self.assertEqual(
            self.reading_own.with_user(cons).value, 100, "consultants read readings"
        )

    # ------------------------------------------------------------------
    # Billing (Invoicing user)
    # ------------------------------------------------------------------
    def test_billing_reads_what_is_billed_and_changes_none_of_it(self):
        bill = self.billing
        self.assertEqual(self.contract.with_user(bill).covered_lot_ids.name, "MX-1")
        self.assertEqual(self.reading_own.with_user(bill).value, 100)
        self.assertEqual(self.job.service_line_ids.with_user(bill).quantity, 1)
        self.assertEqual(
            self.contract.usage_tariff_ids.with_user(bill).meter_type_id, self.meter
        )
        self.assertRefused(self.reading_own.with_user(bill).write, {"value": 1})
        self.assertRefused(self._read_meter, bill, self.lot, 200)
        self.assertRefused(
            self.contract.coverage_rule_ids.with_user(bill).write,
            {"coverage_percent": 0},
        )
        self.assertRefused(self.lot.with_user(bill).write, {"note": "x"})
        self.assertRefused(
            self.job.service_line_ids.with_user(bill).write, {"quantity": 9}
        )

    # ------------------------------------------------------------------
    # Portal customer
    # ------------------------------------------------------------------
    def test_portal_sees_only_their_own_serials_readings_and_jobs(self):
        portal = self.portal
        self.assertEqual(
            self.env["stock.lot"].with_user(portal).search([]).mapped("name"),
            ["MX-1"],
        )
        self.assertEqual(
            self.env["serial.meter.reading"].with_user(portal).search([]),
            self.reading_own,
        )
        self.assertEqual(
            self.env["maintenance.request"].with_user(portal).search([]), self.job
        )
        self.assertRefused(self.other_lot.with_user(portal).read, ["name"])
        self.assertRefused(self.reading_other.with_user(portal).read, ["value"])
        self.assertRefused(self.job_other.with_user(portal).read, ["name"])
        self.assertRefused(self.reading_own.with_user(portal).write, {"value": 1})
        self.assertRefused(self._read_meter, portal, self.lot, 300)
        self.assertRefused(self.lot.with_user(portal).write, {"note": "x"})
        self.assertRefused(self.contract.with_user(portal).read, ["name"])
        self.assertRefused(self.job.service_line_ids.with_user(portal).read, ["name"])
        other = self.portal_other
        self.assertEqual(
            self.env["stock.lot"].with_user(other).search([]), self.other_lot
        )
        self.assertEqual(
            self.env["maintenance.request"].with_user(other).search([]),
            self.job_other,
        )

    # ------------------------------------------------------------------
    # Another company's user (two companies)
    # ------------------------------------------------------------------
    def test_other_company_sees_nothing_of_this_company(self):
        out = self.outsider
        checks = [
            (self.lot, "name"),
            (self.job, "name"),
            (self.job.service_line_ids, "name"),
            (self.reading_own, "value"),
            (self.contract, "name"),
            (self.contract.coverage_rule_ids, "coverage_percent"),
            (self.contract.usage_tariff_ids, "price_unit"),
            (self.recall, "title"),
        ]
        for record, fname in checks:
            with self.subTest(model=record._name):
                self.assertFalse(
                    record.with_user(out).search([("id", "=", record.id)]),
                    record._name,
                )
                self.assertRefused(record.with_user(out).read, [fname])
        self.assertRefused(self._read_meter, out, self.lot, 500)
        # and their own company's records stay theirs
        self.assertEqual(
            self.env["stock.lot"].with_user(out).search([("name", "like", "MX-")]),
            self.lot_b,
        )
        self.assertEqual(
            self.env["serial.meter.reading"]
            .with_user(out)
            .search([("meter_type_id", "=", self.meter.id)]),
            self.reading_b,
        )
        self.assertEqual(
            self.env["serial.recall"].with_user(out).search([]), self.recall_b
        )
        # this company's manager does not see company B either
        self.assertFalse(
            self.env["maintenance.request"]
            .with_user(self.manager)
            .search([("id", "=", self.job_b.id)])
        )
        self.assertRefused(self.reading_b.with_user(self.manager).read, ["value"])

    def test_template_rules_are_shared_contract_rules_are_not(self):
        out = self.outsider
        self.assertEqual(
            self.template.coverage_rule_ids.with_user(out).line_type, "labour"
        )
        self.assertRefused(
            self.contract.coverage_rule_ids.with_user(out).read, ["line_type"]
        )

    def test_billed_reading_is_frozen_even_for_a_manager(self):
        self.reading_own.invoice_line_id = self._fake_invoice_line()
        cm = self.assertRefused(
            self.reading_own.with_user(self.manager).write,
            {"value": 1},
            exception=UserError,
        )
        self.assertIn("was billed", str(cm.exception))
        self.assertRefused(
            self.reading_own.with_user(self.manager).unlink, exception=UserError
        )

    def _fake_invoice_line(self):
        move = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [
                    Command.create({"name": "usage", "quantity": 1, "price_unit": 1})
                ],
            }
        )
        return move.invoice_line_ids
