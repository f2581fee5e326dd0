from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.tests import Form, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestContractSla(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["stock.lot"])
        cls.template = cls.env["sale.subscription.template"].create(
            {
                "name": "SLA Care",
                "response_hours": 4,
                "resolution_hours": 24,
                "coverage_rule_ids": [
                    Command.create({"line_type": "part", "coverage_percent": 80}),
                    Command.create(
                        {"categ_id": cls.categ_consumables.id, "effect": "exclude"}
                    ),
                ],
            }
        )
        cls.lot = cls._make_lots(cls.product_unit, ["SLA-1"])
        cls.lot.customer_id = cls.customer
        cls.contract = cls._create_contract(
            cls.customer,
            cls.lot,
            cls.template,
            date_start=cls.today - timedelta(days=3),
        )
        cls.toner = cls._make_product(
            "SLA Toner",
            categ=cls.categ_consumables,
            tracking="none",
            service_line_type="consumable",
        )

    def test_contract_takes_the_template_sla(self):
        self.assertEqual(
            (self.contract.response_hours, self.contract.resolution_hours), (4, 24)
        )

    def test_job_deadlines_and_late_flag(self):
        with freeze_time("2026-03-02 08:00:00"):
            job = self.env["maintenance.request"].create(
                {"name": "Down", "lot_id": self.lot.id}
            )
            job.request_date = self.today
            self.assertEqual(job.subscription_id, self.contract)
            self.assertEqual(
                job.response_deadline,
                fields.Datetime.to_datetime("2026-03-02 12:00:00"),
            )
            self.assertEqual(
                job.resolution_deadline,
                fields.Datetime.to_datetime("2026-03-03 08:00:00"),
            )
            self.assertFalse(job.is_sla_late)
        with freeze_time("2026-03-02 13:00:00"):
            job.invalidate_recordset(["is_sla_late"])
            self.assertTrue(job.is_sla_late, "no visit planned within 4 hours")
            self.assertIn(
                job,
                self.env["maintenance.request"].search([("is_sla_late", "=", True)]),
            )
            job.schedule_date = "2026-03-02 15:00:00"
            self.assertFalse(job.is_sla_late)
            self.assertNotIn(
                job,
                self.env["maintenance.request"].search([("is_sla_late", "=", True)]),
            )
        with freeze_time("2026-03-03 09:00:00"):
            job.invalidate_recordset(["is_sla_late"])
            self.assertTrue(job.is_sla_late, "not resolved within 24 hours")

    def test_simulator_on_template_and_contract(self):
        form = Form(
            self.env["serial.coverage.simulator"].with_context(
                default_template_id=self.template.id
            )
        )
        form.lot_id = self.lot
        form.product_id = self.product_part
        self.assertEqual((form.source, form.percent), ("contract", 80))
        form.product_id = self.toner
        self.assertEqual(form.source, "none")
        self.assertIn("Excluded", form.reason)
        wizard = self.env["serial.coverage.simulator"].create(
            {
                "subscription_id": self.contract.id,
                "lot_id": self.lot.id,
                "product_id": self.product_part.id,
            }
        )
        self.assertEqual((wizard.source, wizard.percent), ("contract", 80))
        other = self._make_lots(self.product_unit, ["SLA-OTHER"])
        wizard.lot_id = other
        self.assertEqual(wizard.source, "none")
        self.assertIn("not covered by contract", wizard.reason)
