"""Supplier claims decided by a service manager only, through every path:
the buttons, their methods and a plain write or create."""

from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSecurityClaims(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        today = fields.Date.context_today(cls.env["stock.lot"])
        cls.product_part.write({"supplier_warranty_months": 6, "standard_price": 190})
        cls.part, cls.old_part = cls._make_lots(
            cls.product_part, ["SEC-CLM-1", "SEC-CLM-OLD"]
        )
        cls._receive(cls.part | cls.old_part)
        cls.old_part.sudo().receipt_date = today - timedelta(days=400)
        cls.claim = cls.env["serial.warranty.claim"].create({"lot_id": cls.part.id})
        cls.claim.action_submit()

    def test_technician_cannot_accept_or_reject(self):
        claim = self.claim.with_user(self.technician)
        self.assertEqual(claim.state, "submitted", "the technician reads it")
        for attempt in (
            claim.action_accept,
            claim.action_reject,
            lambda: claim.write({"state": "accepted"}),
            lambda: claim.write({"state": "credited"}),
            lambda: claim.write({"state": "draft"}),
            lambda: claim.write({"amount": 10_000}),
        ):
            with self.subTest(attempt=attempt), self.assertRaises(AccessError):
                attempt()
        self.env.invalidate_all()
        self.assertEqual(self.claim.state, "submitted")
        self.assertEqual(self.claim.amount, 190)
        self.claim.with_user(self.manager).action_accept()
        self.assertEqual(self.claim.state, "accepted")

    def test_technician_drafts_and_submits(self):
        job = self.env["maintenance.request"].create({"name": "Security fuser"})
        claim = (
            self.env["serial.warranty.claim"]
            .with_user(self.technician)
            .create({"lot_id": self.part.id, "request_id": job.id, "amount": 150})
        )
        claim.description = "<p>Fuser burnt</p>"
        claim.action_submit()
        self.assertEqual(claim.state, "submitted")

    def test_forced_out_of_warranty_only_by_a_manager_and_always_noted(self):
        Claim = self.env["serial.warranty.claim"]
        for vals in (
            {"lot_id": self.old_part.id, "forced": True},
            {"lot_id": self.old_part.id, "forced": True, "state": "accepted"},
        ):
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                Claim.with_user(self.technician).create(vals)
        with self.assertRaises(AccessError):
            self.claim.with_user(self.technician).write({"forced": True})
        self.assertFalse(Claim.search([("lot_id", "=", self.old_part.id)]))
        self.assertFalse(self.claim.forced)
        # the manager's forced create, without the context key, carries the note
        claim = Claim.with_user(self.manager).create(
            {"lot_id": self.old_part.id, "forced": True}
        )
        self.assertTrue(claim.forced)
        self.assertIn(
            "Claim forced by", "".join(claim.message_ids.mapped("body") or [""])
        )

    def test_an_accountant_posting_the_credit_note_credits_the_claim(self):
        accountant = self.env["res.users"].create(
            {
                "name": "Security accountant",
                "login": "sec_accountant",
                "groups_id": [
                    (6, 0, [self.env.ref("account.group_account_invoice").id])
                ],
            }
        )
        self.claim.action_accept()
        self.claim.action_create_refund()
        refund = self.claim.refund_move_id
        refund.with_user(accountant).action_post()
        self.assertEqual(refund.state, "posted")
        self.assertEqual(self.claim.state, "credited")
