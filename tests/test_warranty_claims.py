from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestWarrantyClaims(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.context_today(cls.env["stock.lot"])
        cls.product_part.write({"supplier_warranty_months": 6, "standard_price": 190})
        cls.part, cls.old_part = cls._make_lots(cls.product_part, ["CLM-1", "CLM-OLD"])
        cls._receive(cls.part)
        cls._receive(cls.old_part)
        cls.old_part.sudo().receipt_date = cls.today - timedelta(days=400)

    def test_supplier_warranty_end_from_receipt(self):
        self.assertEqual(self.part.supplier_id, self.vendor)
        self.assertEqual(
            self.part.supplier_warranty_end_date,
            self.today + timedelta(days=0) + self._months(6) - timedelta(days=1),
        )

    def _months(self, months):
        from dateutil.relativedelta import relativedelta

        return relativedelta(months=months)

    def test_claim_lifecycle_to_a_posted_vendor_refund(self):
        claim = self.env["serial.warranty.claim"].create({"lot_id": self.part.id})
        self.assertEqual(claim.vendor_id, self.vendor, "the vendor of the receipt")
        self.assertEqual(claim.amount, 190)
        self.assertTrue(claim.name.startswith("WCL/"))
        claim.action_submit()
        claim.action_accept()
        claim.action_create_refund()
        refund = claim.refund_move_id
        self.assertEqual(refund.move_type, "in_refund")
        self.assertEqual(refund.partner_id, self.vendor)
        self.assertEqual(refund.amount_total, 190)
        self.assertEqual(claim.state, "accepted")
        refund.action_post()
        self.assertEqual(claim.state, "credited")
        with self.assertRaises(UserError):
            claim.action_submit()

    def test_duplicate_live_claim_refused(self):
        job = self.env["maintenance.request"].create({"name": "Failed fuser"})
        first = self.env["serial.warranty.claim"].create(
            {"lot_id": self.part.id, "request_id": job.id}
        )
        with self.assertRaises(ValidationError) as error:
            self.env["serial.warranty.claim"].create(
                {"lot_id": self.part.id, "request_id": job.id}
            )
        self.assertIn("CLM-1", str(error.exception))
        first.action_submit()
        first.action_reject()
        # a rejected claim is not live: a new one may be raised
        self.env["serial.warranty.claim"].create(
            {"lot_id": self.part.id, "request_id": job.id}
        )

    def test_expired_supplier_warranty_refused_unless_forced(self):
        with self.assertRaises(ValidationError) as error:
            self.env["serial.warranty.claim"].create({"lot_id": self.old_part.id})
        self.assertIn("only a service manager can force", str(error.exception))
        Claim = self.env["serial.warranty.claim"].with_context(
            force_expired_supplier_warranty=True
        )
        with self.assertRaises(UserError):
            Claim.with_user(self.technician).create({"lot_id": self.old_part.id})
        claim = Claim.with_user(self.manager).create({"lot_id": self.old_part.id})
        self.assertTrue(claim.forced)
        self.assertIn("forced", claim.message_ids[0].body)

    def test_job_replacing_a_failed_part_drafts_the_claim(self):
        van = self.env["stock.location"].create(
            {
                "name": "Claim Van",
                "usage": "internal",
                "location_id": self.warehouse.view_location_id.id,
            }
        )
        unit = self._make_lots(self.product_unit, ["CLM-UNIT"])
        new_part = self._make_lots(self.product_part, ["CLM-NEW"])
        self._receive(unit)
        self._deliver(unit | self.part)
        self.part.parent_lot_id = unit
        self.env["stock.quant"]._update_available_quantity(
            self.product_part, van, 1, lot_id=new_part
        )
        job = self.env["maintenance.request"].create(
            {
                "name": "Fuser failed",
                "lot_id": unit.id,
                "service_line_ids": [
                    Command.create(
                        {
                            "product_id": self.product_part.id,
                            "lot_id": new_part.id,
                            "removed_lot_id": self.part.id,
                            "location_id": van.id,
                        }
                    )
                ],
            }
        )
        self.env["ir.attachment"].create(
            {
                "name": "photo.png",
                "res_model": "maintenance.request",
                "res_id": job.id,
                "raw": b"\x89PNG\r\n\x1a\n",
                "mimetype": "image/png",
            }
        )
        job.action_complete_job()
        claim = self.env["serial.warranty.claim"].search(
            [("lot_id", "=", self.part.id)]
        )
        self.assertEqual(len(claim), 1)
        self.assertEqual(
            (claim.request_id, claim.vendor_id, claim.state),
            (job, self.vendor, "draft"),
        )
        photos = self.env["ir.attachment"].search(
            [("res_model", "=", "serial.warranty.claim"), ("res_id", "=", claim.id)]
        )
        self.assertEqual(photos.mapped("name"), ["photo.png"])
