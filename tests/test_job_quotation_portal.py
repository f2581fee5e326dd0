"""The customer accepts a job's quotation by signing it on Odoo's own
quotation portal: the order is confirmed and the job can be completed,
invoiced once through the order's lines."""

from odoo.tests import HttpCase, new_test_user, tagged

from .visit_common import PNG_1PX, VisitCase


@tagged("post_install", "-at_install")
class TestJobQuotationPortal(VisitCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.service_quote_threshold = 250.0
        # a company whose quotations ask for a prepayment by default
        cls.company.portal_confirmation_pay = True
        cls.portal_user = new_test_user(
            cls.env, login="quote_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    def _sign(self, order, token):
        return self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {"access_token": token, "name": "Dana Customer", "signature": PNG_1PX},
        )

    def test_customer_signs_the_quotation_on_the_portal(self):
        job = self._visit_job()
        action = job.with_user(self.technician).action_create_quotation()
        order = job.quotation_id
        self.assertTrue(order.require_signature)
        self.assertFalse(order.require_payment, "signing is the acceptance")
        order.action_quotation_sent()
        self.authenticate("quote_portal", "quote_portal")
        page = self.url_open(action["url"])
        self.assertEqual(page.status_code, 200)
        self.assertIn("Accept & Sign", page.text)
        result = self._sign(order, order.access_token)
        self.assertNotIn("error", result)
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.signed_by, "Dana Customer")
        self.assertEqual(job.quote_state, "confirmed")
        job.with_user(self.technician).action_complete_job()
        self.assertTrue(job.completed_on)
        self.assertEqual(len(job.invoice_ids), 1)

    def test_wrong_token_signs_nothing(self):
        job = self._visit_job()
        job.with_user(self.technician).action_create_quotation()
        order = job.quotation_id
        order.action_quotation_sent()
        self.authenticate(None, None)
        result = self._sign(order, "not-the-token")
        self.assertIn("error", result)
        self.assertEqual(order.state, "sent")
        self.assertFalse(order.signature)
        self.assertEqual(job.quote_state, "waiting")
