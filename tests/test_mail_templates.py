"""Every message a customer receives is a mail template, editable in Odoo's
e-mail templates: each one renders for its record with what the customer
needs to read, and the flows that send them use them."""

from datetime import date, timedelta

from freezegun import freeze_time

from odoo import Command
from odoo.tests import tagged

from .visit_common import VisitCase

CUSTOMER_TEMPLATES = (
    "mail_template_service_report",
    "mail_template_planned_visit",
    "mail_template_supplies_shipped",
    "mail_template_renewal_proposal",
    "mail_template_recall_notice",
    "mail_template_warranty_expiring",
    "mail_template_job_quotation",
)


@tagged("post_install", "-at_install")
class TestMailTemplates(VisitCase):
    def _render(self, xmlid, record, field="body_html", **context):
        template = self.env.ref(f"serial_service.{xmlid}").with_context(**context)
        return template._render_field(field, record.ids)[record.id]

    def test_every_customer_message_is_an_editable_template(self):
        for xmlid in CUSTOMER_TEMPLATES:
            template = self.env.ref(f"serial_service.{xmlid}")
            self.assertEqual(template._name, "mail.template", xmlid)
            self.assertTrue(template.subject and template.body_html, xmlid)
            self.assertTrue(template.description, xmlid)

    def test_service_report_and_planned_visit_render_for_a_job(self):
        job = self._visit_job()
        body = self._render("mail_template_service_report", job)
        self.assertIn(job.name, body)
        self.assertIn("VISIT-UNIT", body)
        job.schedule_date = "2026-12-10 09:00:00"
        body = self._render("mail_template_planned_visit", job)
        self.assertIn("VISIT-UNIT", body)

    def test_supplies_shipped_renders_for_a_delivery(self):
        picking = self.env["stock.picking"].create(
            {
                "partner_id": self.customer.id,
                "picking_type_id": self.warehouse.out_type_id.id,
                "location_id": self.warehouse.lot_stock_id.id,
                "location_dest_id": self.env.ref("stock.stock_location_customers").id,
                "move_ids": [
                    Command.create(
                        {
                            "name": self.toner.name,
                            "product_id": self.toner.id,
                            "product_uom_qty": 2,
                            "quantity": 2,
                            "location_id": self.warehouse.lot_stock_id.id,
                            "location_dest_id": self.env.ref(
                                "stock.stock_location_customers"
                            ).id,
                        }
                    )
                ],
            }
        )
        body = self._render("mail_template_supplies_shipped", picking)
        self.assertIn("Visit Toner", body)
        self.assertIn(self.customer.name, body)

    def test_renewal_proposal_renders_the_next_term(self):
        self.contract.date = self.today + timedelta(days=20)
        self.contract.action_renew(percent=5.0)
        order = self.contract.renewal_id.renewal_order_id
        body = self._render("mail_template_renewal_proposal", order)
        self.assertIn(self.contract.name, body)
        self.assertIn(order.get_portal_url(), body)
        subject = self._render("mail_template_renewal_proposal", order, "subject")
        self.assertIn(self.contract.name, subject)

    def test_recall_notice_lists_each_customers_own_units(self):
        other_unit = self._make_lots(self.product_unit, ["VISIT-OTHER-UNIT"])
        self._receive(other_unit)
        self._deliver(other_unit, partner=self.other_customer)
        recall = self.env["serial.recall"].create(
            {
                "title": "Fuser overheating",
                "scope_type": "explicit",
                "scope_lot_ids": [Command.set((self.unit | other_unit).ids)],
            }
        )
        recall.action_compute_affected()
        recall.action_notify_customers()
        notices = recall.message_ids.filtered(lambda m: m.partner_ids)
        self.assertEqual(len(notices), 2)
        to_customer = notices.filtered(lambda m: m.partner_ids == self.customer)
        self.assertIn("VISIT-UNIT", to_customer.body)
        self.assertNotIn("VISIT-OTHER-UNIT", to_customer.body)
        self.assertIn("Fuser overheating", to_customer.subject)
        self.assertIn(self.customer.name, to_customer.body)
        # a customer already told is not told again
        recall.action_notify_customers()
        self.assertEqual(len(recall.message_ids.filtered(lambda m: m.partner_ids)), 2)

    def test_warranty_expiring_mailed_to_the_customer_once(self):
        policy = self.env["serial.warranty.policy"].create(
            {"name": "Mail year", "duration_months": 12, "expiry_notice_days": 30}
        )
        lots = self._make_lots(self.product_unit, ["MAIL-W1", "MAIL-W2"])
        lots.write(
            {"warranty_policy_id": policy.id, "delivery_date": date(2026, 1, 15)}
        )
        lots[0].sudo().customer_id = self.customer
        lots[1].sudo().customer_id = self.other_customer
        self.other_customer.email = False
        Mail = self.env["mail.mail"]
        domain = [("model", "=", "stock.lot"), ("res_id", "in", lots.ids)]
        with freeze_time("2026-12-20"):
            self.env["stock.lot"]._cron_refresh_warranty_state()
            self.env["stock.lot"]._cron_refresh_warranty_state()
        mails = Mail.search(domain)
        self.assertEqual(len(mails), 1, "once, and not to a customer without e-mail")
        self.assertEqual(mails.res_id, lots[0].id)
        self.assertIn("MAIL-W1", mails.subject)
        self.assertIn("01/14/2027", mails.subject)
        self.assertEqual(mails.recipient_ids, self.customer)

    def test_job_quotation_is_sent_with_the_jobs_template(self):
        job = self._visit_job()
        job.with_user(self.technician).action_create_quotation()
        order = job.quotation_id
        self.assertEqual(
            order._find_mail_template(),
            self.env.ref("serial_service.mail_template_job_quotation"),
        )
        body = self._render("mail_template_job_quotation", order)
        self.assertIn(job.name, body)
        self.assertIn("VISIT-UNIT", body)
        self.assertIn(order.get_portal_url(), body)
        # an order that is not a job's keeps Odoo's own template
        plain = self.env["sale.order"].create({"partner_id": self.customer.id})
        self.assertEqual(
            plain._find_mail_template(), self.env.ref("sale.email_template_edi_sale")
        )
