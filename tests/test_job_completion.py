from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import Form, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestJobCompletion(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["stock.lot"])
        cls.tax = cls.env["account.tax"].create(
            {"name": "Job VAT 10%", "amount": 10, "type_tax_use": "sale"}
        )
        cls.product_part.write(
            {"list_price": 300, "taxes_id": [Command.set(cls.tax.ids)]}
        )
        cls.toner = cls._make_product(
            "Job Toner",
            categ=cls.categ_consumables,
            tracking="none",
            service_line_type="consumable",
            list_price=80,
            taxes_id=[Command.set(cls.tax.ids)],
        )
        cls.labour = cls.env["product.product"].create(
            {
                "name": "Job Labour",
                "type": "service",
                "service_line_type": "labour",
                "list_price": 60,
                "taxes_id": [Command.set(cls.tax.ids)],
            }
        )
        cls.travel = cls.env["product.product"].create(
            {
                "name": "Job Travel",
                "type": "service",
                "service_line_type": "travel",
                "list_price": 45,
                "taxes_id": [Command.set(cls.tax.ids)],
            }
        )
        cls.policy = cls.env["serial.warranty.policy"].create(
            {
                "name": "Parts 12 months",
                "duration_months": 12,
                "covers_labour": False,
                "excluded_categ_ids": [Command.set(cls.categ_consumables.ids)],
            }
        )
        cls.product_unit.warranty_policy_id = cls.policy
        cls.van = cls.env["stock.location"].create(
            {
                "name": "Test Van",
                "usage": "internal",
                "location_id": cls.warehouse.view_location_id.id,
            }
        )
        cls.technician.van_location_id = cls.van
        cls.unit = cls._make_lots(cls.product_unit, ["JOB-UNIT"])
        cls.old_fuser, cls.new_fuser = cls._make_lots(
            cls.product_part, ["JOB-FU-OLD", "JOB-FU-NEW"]
        )
        cls._receive(cls.unit | cls.old_fuser)
        cls._deliver(cls.unit | cls.old_fuser)
        cls.old_fuser.parent_lot_id = cls.unit
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(
            cls.product_part, cls.van, 1, lot_id=cls.new_fuser
        )
        Quant._update_available_quantity(cls.toner, cls.van, 5)
        pricelist = cls.env["product.pricelist"].create({"name": "Jobs"})
        template = cls.env["sale.subscription.template"].create({"name": "Job Care"})
        cls.contract = cls._create_contract(
            cls.customer,
            cls.unit,
            template,
            pricelist=pricelist,
            rules=[
                {"line_type": "labour", "coverage_percent": 100},
                {
                    "line_type": "travel",
                    "coverage_percent": 100,
                    "max_qty_per_period": 1,
                },
                {"categ_id": cls.categ_consumables.id, "effect": "exclude"},
            ],
            date_start=cls.today - timedelta(days=5),
        )

    def _job(self, lines, lot=None, user=None):
        job = self.env["maintenance.request"].create(
            {
                "name": "Fuser noise",
                "lot_id": (lot or self.unit).id,
                "user_id": (user or self.technician).id,
                "service_line_ids": [Command.create(vals) for vals in lines],
            }
        )
        return job

    def _standard_job(self):
        return self._job(
            [
                {
                    "product_id": self.product_part.id,
                    "lot_id": self.new_fuser.id,
                    "removed_lot_id": self.old_fuser.id,
                },
                {"product_id": self.toner.id, "quantity": 2},
                {"product_id": self.labour.id, "quantity": 2},
                {"product_id": self.travel.id, "quantity": 2},
            ]
        )

    def _on_hand(self, product, location, lot=None):
        return self.env["stock.quant"]._get_available_quantity(
            product, location, lot_id=lot, strict=True
        )

    def test_complete_job_moves_installs_and_invoices(self):
        job = self._standard_job()
        self.assertEqual(job.customer_id, self.customer)
        self.assertEqual(job.subscription_id, self.contract)
        self.assertEqual(job.equipment_id, self.unit.equipment_id)
        self.assertTrue(job.equipment_id)
        part = job.service_line_ids[0]
        self.assertEqual(part.location_id, self.van, "default: the technician's van")
        self.assertEqual(
            [
                (line.coverage_source, line.coverage_percent)
                for line in job.service_line_ids
            ],
            [("warranty", 100), ("none", 0), ("contract", 100), ("contract", 50)],
        )
        job.with_user(self.technician).action_complete_job()

        self.assertTrue(job.completed_on)
        self.assertTrue(job.stage_id.done)
        # stock
        self.assertEqual(self._on_hand(self.product_part, self.van, self.new_fuser), 0)
        self.assertEqual(self._on_hand(self.toner, self.van), 3)
        self.assertEqual(self.new_fuser.location_id, self.customer_location)
        self.assertEqual(self.new_fuser.parent_lot_id, self.unit)
        defective = self.env.ref("serial_service.stock_location_defective")
        self.assertEqual(self.old_fuser.location_id, defective)
        self.assertFalse(self.old_fuser.parent_lot_id)
        self.assertEqual(self.unit.child_lot_ids, self.new_fuser)
        self.assertEqual(part.move_id.state, "done")
        # the replacement keeps the unit's remaining warranty
        self.assertEqual(self.new_fuser.warranty_end_date, self.unit.warranty_end_date)
        # invoice: 2 toner at 80 and half of 2 travel at 45 are charged, + 10 %
        invoice = job.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "draft")
        self.assertEqual(invoice.partner_id, self.customer)
        self.assertEqual(invoice.invoice_line_ids.mapped("discount"), [100, 0, 100, 50])
        self.assertAlmostEqual(invoice.amount_untaxed, 160 + 45)
        self.assertAlmostEqual(invoice.amount_tax, 20.5)
        self.assertAlmostEqual(invoice.amount_total, 225.5)
        self.assertIn("warranty", invoice.invoice_line_ids[0].name)
        self.assertEqual(part.invoice_line_id, invoice.invoice_line_ids[0])
        self.assertTrue(all(job.service_line_ids.mapped("coverage_locked")))

        # completing again does nothing more
        moves = self.env["stock.move"].search_count([])
        job.action_complete_job()
        self.assertEqual(self.env["stock.move"].search_count([]), moves)
        self.assertEqual(job.invoice_ids, invoice)

    def test_missing_part_moves_and_invoices_nothing(self):
        job = self._job(
            [
                {"product_id": self.toner.id, "quantity": 2},
                {"product_id": self.toner.id, "quantity": 4},
                {"product_id": self.labour.id, "quantity": 1},
            ]
        )
        moves = self.env["stock.move"].search_count([])
        with self.assertRaises(UserError) as error:
            job.action_complete_job()
        self.assertIn("Job Toner", str(error.exception))
        self.assertIn("Test Van", str(error.exception))
        self.assertEqual(self.env["stock.move"].search_count([]), moves)
        self.assertEqual(self._on_hand(self.toner, self.van), 5)
        self.assertFalse(job.invoice_ids)
        self.assertFalse(job.completed_on)

    def test_fully_covered_job_gets_no_invoice(self):
        job = self._job([{"product_id": self.labour.id, "quantity": 1}])
        job.action_complete_job()
        self.assertTrue(job.completed_on)
        self.assertFalse(job.invoice_ids)

    def test_signature_sets_the_date(self):
        job = self._job([])
        # a 1x1 PNG, as the signature widget sends
        png = (
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
            "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
        job.write({"signature": png, "signed_by": "Dr Jones"})
        self.assertTrue(job.signed_on)

    def test_repeat_visit(self):
        first = self._job([])
        first.action_complete_job()
        second = self._job([])
        self.assertTrue(second.is_repeat_visit)
        self.env.company.serial_repeat_visit_days = 0
        third = self._job([], lot=self._make_lots(self.product_unit, ["JOB-OTHER"]))
        self.assertFalse(third.is_repeat_visit)

    def test_technicians_see_their_own_jobs_managers_all(self):
        own = self._job([])
        other = self._job([], user=self.manager)
        Request = self.env["maintenance.request"]
        visible = Request.with_user(self.technician).search(
            [("id", "in", (own | other).ids)]
        )
        self.assertEqual(visible, own)
        own.with_user(self.technician).write({"signed_by": "Customer"})
        with self.assertRaises(AccessError):
            other.with_user(self.technician).write({"signed_by": "Customer"})
        self.assertEqual(
            Request.with_user(self.manager).search([("id", "in", (own | other).ids)]),
            own | other,
        )

    def test_scanning_fills_the_unit_and_adds_parts(self):
        self.toner.barcode = "5400000000017"
        job = self.env["maintenance.request"].create(
            {"name": "Scan", "user_id": self.technician.id}
        )
        form = Form(job)
        form._barcode_scanned = "JOB-UNIT"
        self.assertEqual(form.lot_id, self.unit)
        self.assertEqual(form.customer_id, self.customer)
        form._barcode_scanned = "JOB-FU-NEW"
        form._barcode_scanned = "5400000000017"
        form._barcode_scanned = "5400000000017"
        form.save()
        self.assertEqual(job.lot_id, self.unit)
        part, toner = job.service_line_ids.sorted("id")
        self.assertEqual(
            (part.product_id, part.lot_id), (self.product_part, self.new_fuser)
        )
        self.assertEqual((toner.product_id, toner.quantity), (self.toner, 2))
