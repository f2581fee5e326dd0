"""Quote before chargeable work: above the company's threshold a job is
completed only once its quotation is accepted; it is then invoiced once,
through that order; a changed line asks for a new quotation; a refused one
closes the job with what the contract covers."""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .visit_common import VisitCase


@tagged("post_install", "-at_install")
class TestJobQuotation(VisitCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company.service_quote_threshold = 250.0

    def _quote(self, job):
        job.with_user(self.technician).action_create_quotation()
        return job.quotation_id

    def test_refused_above_the_threshold(self):
        job = self._visit_job()
        self.assertEqual(job.charge_total, 300)
        self.assertTrue(job.is_quote_required)
        self.assertEqual(job.quote_state, "to_quote")
        with self.assertRaises(UserError) as error:
            job.with_user(self.technician).action_complete_job()
        self.assertIn("quotation", str(error.exception))
        self.assertIn("300", str(error.exception))
        self.assertFalse(job.completed_on)
        self.assertEqual(self._on_hand(self.product_part, self.van, self.fuser), 1)
        # a quotation waiting for the customer is not enough
        self._quote(job)
        self.assertEqual(job.quote_state, "waiting")
        with self.assertRaises(UserError):
            job.with_user(self.technician).action_complete_job()

    def test_allowed_below_the_threshold_or_without_one(self):
        self.company.service_quote_threshold = 300.0
        job = self._visit_job()
        self.assertFalse(job.is_quote_required, "300 is not above 300")
        job.with_user(self.technician).action_complete_job()
        self.assertTrue(job.completed_on)
        self.assertEqual(len(job.invoice_ids), 1)
        self.company.service_quote_threshold = 0.0
        toner_job = self._job([{"product_id": self.toner.id, "quantity": 5}])
        self.assertFalse(toner_job.is_quote_required, "0: never")
        toner_job.action_complete_job()
        self.assertTrue(toner_job.completed_on)

    def test_quotation_lines_and_invoiced_once_through_the_order(self):
        job = self._visit_job()
        order = self._quote(job)
        part, labour = job.service_line_ids
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.service_request_id, job)
        self.assertEqual(order.state, "draft")
        self.assertEqual(
            [
                (line.product_id, line.product_uom_qty, line.price_unit, line.discount)
                for line in order.order_line
            ],
            [(self.product_part, 1, 300, 0), (self.labour, 1, 60, 100)],
        )
        self.assertIn("VISIT-FUSER-NEW", order.order_line[0].name)
        self.assertIn(labour.coverage_reason, order.order_line[1].name)
        self.assertEqual(part.sale_line_id | labour.sale_line_id, order.order_line)
        self.assertAlmostEqual(order.amount_untaxed, 300)
        # the office confirms it (the customer may also sign it on the portal)
        order.action_confirm()
        self.assertEqual(job.quote_state, "confirmed")
        self.assertFalse(order.picking_ids, "the order ships nothing from the depot")
        job.with_user(self.technician).action_complete_job()
        self.assertTrue(job.completed_on)
        # the part left the van by the job's move
        self.assertEqual(part.move_id.state, "done")
        self.assertEqual(part.move_id.location_id, self.van)
        self.assertEqual(self._on_hand(self.product_part, self.van, self.fuser), 0)
        # one invoice, the order's
        invoice = job.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice, order.invoice_ids)
        self.assertEqual(invoice.state, "draft")
        self.assertAlmostEqual(invoice.amount_untaxed, 300)
        self.assertEqual(part.invoice_line_id.move_id, invoice)
        self.assertEqual(part.invoice_line_id.sale_line_ids, part.sale_line_id)
        self.assertEqual(order.invoice_status, "invoiced")
        self.assertEqual(
            self.env["account.move"].search_count(
                [
                    ("partner_id", "=", self.customer.id),
                    ("move_type", "=", "out_invoice"),
                ]
            ),
            1,
            "never a second invoice by the job",
        )
        with self.assertRaises(UserError):
            order._create_invoices()

    def test_jobs_completed_together_keep_one_invoice_each(self):
        first = self._visit_job()
        second = self._job([{"product_id": self.toner.id, "quantity": 4}])
        self._quote(first).action_confirm()
        self._quote(second).action_confirm()
        (first | second).with_user(self.technician).action_complete_job()
        self.assertEqual(first.invoice_ids, first.quotation_id.invoice_ids)
        self.assertEqual(second.invoice_ids, second.quotation_id.invoice_ids)
        self.assertEqual(len(first.invoice_ids | second.invoice_ids), 2)
        self.assertAlmostEqual(second.invoice_ids.amount_untaxed, 320)

    def test_changed_line_asks_for_a_new_quotation(self):
        job = self._visit_job()
        first = self._quote(job)
        first.action_confirm()
        job.service_line_ids = [(0, 0, {"product_id": self.toner.id, "quantity": 1})]
        self.assertEqual(job.quote_state, "outdated")
        with self.assertRaises(UserError) as error:
            job.with_user(self.technician).action_complete_job()
        self.assertIn("changed", str(error.exception))
        # a removed quoted line changes the quotation too
        job.service_line_ids.filtered(
            lambda line: line.product_id == self.toner
        ).unlink()
        self.assertEqual(job.quote_state, "confirmed")
        job.service_line_ids[0].price_unit = 280
        self.assertEqual(job.quote_state, "outdated")
        second = self._quote(job)
        self.assertNotEqual(first, second)
        self.assertEqual(first.state, "cancel", "the old quotation is replaced")
        self.assertEqual(second.order_line[0].price_unit, 280)
        second.action_confirm()
        job.action_complete_job()
        self.assertEqual(job.invoice_ids, second.invoice_ids)
        self.assertAlmostEqual(job.invoice_ids.amount_untaxed, 280)

    def test_refused_quotation_closes_with_what_the_contract_covers(self):
        job = self._visit_job()
        order = self._quote(job)
        order._action_cancel()
        self.assertEqual(job.quote_state, "refused")
        job.with_user(self.technician).action_complete_job()
        self.assertTrue(job.completed_on)
        self.assertEqual(job.service_line_ids.product_id, self.labour)
        self.assertFalse(job.invoice_ids)
        self.assertEqual(self._on_hand(self.product_part, self.van, self.fuser), 1)
        self.assertIn(
            "refused",
            " ".join(job.message_ids.mapped("body")),
        )

    def test_waiting_quotation_cancelled_when_no_longer_needed(self):
        job = self._visit_job()
        order = self._quote(job)
        self.company.service_quote_threshold = 1000.0
        job.action_complete_job()
        self.assertEqual(order.state, "cancel")
        self.assertEqual(len(job.invoice_ids), 1)
        self.assertFalse(order.invoice_ids)

    def test_access_per_role(self):
        job = self._visit_job()
        # a technician quotes on site without sales rights: the customer opens
        # the quotation's portal page
        action = job.with_user(self.technician).action_create_quotation()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(f"/my/orders/{job.quotation_id.id}", action["url"])
        self.assertIn("access_token=", action["url"])
        # the quotation is made by the system: a technician creates no order
        with self.assertRaises(AccessError):
            self.env["sale.order"].with_user(self.technician).create(
                {"partner_id": self.customer.id}
            )
        self.assertEqual(job.with_user(self.technician).quote_state, "waiting")
        # a service manager (a salesman too) opens it in the sales app
        action = job.with_user(self.manager).action_view_quotation()
        self.assertEqual(action["res_model"], "sale.order")
        self.assertEqual(action["res_id"], job.quotation_id.id)
        with self.assertRaises(UserError):
            self._job([{"product_id": self.labour.id}]).action_create_quotation()
