"""A month of a copier dealer, end to end, as each of its people does it: the
device posts its counters, the scheduler bills, the customer reads the usage
on the portal invoice and asks for service, the dispatcher assigns the job to
the technician the suggestions rank first, the technician completes it on a
phone, the customer gets the service report, and the KPIs move."""

import json
from datetime import timedelta

from odoo import fields, http
from odoo.tests import HttpCase, new_test_user, tagged

from .visit_common import VisitCase

DEVICE_URL = "/serial_service/api/v1/readings"


@tagged("post_install", "-at_install")
class TestEndToEndMonth(VisitCase, HttpCase):
    browser_size = "375x667"
    touch_enabled = True

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.product_unit.meter_type_ids = cls.meter
        cls.month_unit = cls._make_lots(cls.product_unit, ["MONTH-UNIT"])
        cls._receive(cls.month_unit)
        cls._deliver(cls.month_unit, partner=cls.customer_site)
        cls.month_unit.write(
            {"customer_id": cls.customer.id, "site_id": cls.customer_site.id}
        )
        month_fuser = cls._make_lots(cls.product_part, ["MONTH-FUSER"])
        cls.env["stock.quant"]._update_available_quantity(
            cls.product_part, cls.van, 1, lot_id=month_fuser
        )
        # the technician qualified for copiers, anywhere
        cls.technician.service_skill_categ_ids = cls.product_unit.categ_id
        cls.pages = cls.env["product.product"].create(
            {"name": "Month pages", "type": "service", "list_price": 0}
        )
        template = cls.env["sale.subscription.template"].create(
            {"name": "Month clicks", "invoicing_mode": "invoice"}
        )
        cls.click_contract = cls._create_contract(
            cls.customer,
            cls.month_unit,
            template,
            lines=[{"product_id": cls.pages.id, "price_unit": 40}],
            tariffs=[
                {
                    "meter_type_id": cls.meter.id,
                    "product_id": cls.pages.id,
                    "included_qty": 1000,
                    "price_unit": 0.0085,
                }
            ],
            rules=[{"line_type": "labour", "coverage_percent": 100}],
            date_start=cls.today - timedelta(days=40),
            recurring_next_date=cls.today,
            response_hours=8,
            resolution_hours=24,
        )
        cls.device_user = new_test_user(
            cls.env,
            login="month_gateway",
            groups="serial_service.group_service_technician",
        )
        cls.device_key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.device_user)
            .sudo()
            ._generate(None, "Month gateway", None)
        )
        cls.portal_user = new_test_user(
            cls.env, login="month_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    def _post_readings(self, items):
        response = self.url_open(
            DEVICE_URL,
            data=json.dumps({"readings": items}),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.device_key}",
            },
        )
        self.env.invalidate_all()
        return response

    def _reading(self, days_ago, value):
        moment = self.now - timedelta(days=days_ago)
        return {
            "serial": "MONTH-UNIT",
            "meter": self.meter.code,
            "date": moment.isoformat() + "Z",
            "value": value,
        }

    def _kpis(self):
        jobs = self.env["serial.job.report"]._read_group(
            [("lot_id", "=", self.month_unit.id)], [], ["corrective_count:sum"]
        )[0][0]
        failures = self.env["serial.failure.report"]._read_group(
            [("lot_id", "=", self.month_unit.id)], [], ["failure_count:sum"]
        )[0][0]
        return jobs, failures

    def test_a_month_of_service(self):
        kpis_before = self._kpis()
        # 1. the device posts its counters: a baseline a month ago, today's
        response = self._post_readings(
            [self._reading(30, 20000), self._reading(0, 24457)]
        )
        self.assertEqual(response.status_code, 201, response.text)
        readings = self.env["serial.meter.reading"].search(
            [("lot_id", "=", self.month_unit.id)]
        )
        self.assertEqual(readings.mapped("source"), ["device", "device"])
        self.assertEqual(sum(readings.mapped("delta")), 4457)

        # 2. the scheduler bills the due contract, once
        Contract = self.env["sale.subscription"]
        Contract.cron_subscription_management()
        Contract.cron_subscription_management()
        invoice = self.click_contract.invoice_ids
        self.assertEqual(len(invoice), 1)
        self.assertEqual(invoice.state, "posted")
        usage = invoice.invoice_line_ids.filtered(lambda line: line.sequence >= 10000)
        lines = [
            (line.name, line.quantity, line.price_unit, line.price_subtotal)
            for line in invoice.invoice_line_ids
        ]
        # 4,457 pages, 1,000 included: 3,457 at 0.0085 = 29.38 (sub-cent price)
        self.assertAlmostEqual(sum(usage.mapped("price_subtotal")), 29.38, msg=lines)
        self.assertIn("MONTH-UNIT", usage.name)
        self.assertAlmostEqual(invoice.amount_untaxed, 69.38)

        # 3. the customer reads the usage on the portal invoice
        self.authenticate("month_portal", "month_portal")
        page = self.url_open(f"/my/invoices/{invoice.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("MONTH-UNIT", page.text)
        self.assertIn("24457", page.text.replace(",", ""))

        # 4. and asks for service on the unit's page
        response = self.url_open(
            f"/my/serials/{self.month_unit.id}/request",
            data={
                "csrf_token": http.Request.csrf_token(self),
                "description": "Paper jams in tray 2\nIt jams every 20 pages.",
            },
            allow_redirects=False,
        )
        self.assertIn(response.status_code, (302, 303))
        job = self.env["maintenance.request"].search(
            [("lot_id", "=", self.month_unit.id)]
        )
        self.assertEqual(len(job), 1)
        self.assertEqual(job.subscription_id, self.click_contract)
        self.assertTrue(job.response_deadline)
        self.assertFalse(job.user_id)

        # 5. the dispatcher assigns the technician the suggestions rank first
        suggestions = job._get_technician_suggestions()
        self.assertEqual(suggestions[0]["user_id"], self.technician.id)
        self.assertTrue(suggestions[0]["reasons"])
        job.with_user(self.manager).action_assign_suggested_technician()
        self.assertEqual(job.user_id, self.technician)
        self.assertTrue(job.schedule_date)

        # 6. the technician completes it on a phone
        action = self.env.ref("serial_service.maintenance_request_action_my_jobs")
        self.start_tour(
            f"/odoo/action-{action.id}",
            "serial_service_month_tour",
            login=self.technician.login,
        )
        self.assertTrue(job.completed_on)
        self.assertEqual(job.signed_by, "Dana Customer")
        part = job.service_line_ids.filtered(lambda line: line.lot_id)
        self.assertEqual(part.lot_id.name, "MONTH-FUSER")
        self.assertEqual(part.lot_id.parent_lot_id, self.month_unit)
        self.assertEqual(len(job.invoice_ids), 1)

        # 7. the customer gets the service report
        mails = self.env["mail.mail"].search(
            [("model", "=", "maintenance.request"), ("res_id", "=", job.id)]
        )
        mail = mails.filtered(lambda m: self.customer in m.recipient_ids)
        self.assertEqual(len(mail), 1, mails.mapped("subject"))
        self.assertIn("service report", mail.subject)
        self.assertEqual(mail.state, "outgoing")
        # (the PDF itself needs wkhtmltopdf outside Odoo's test mode:
        # TestServiceReportPdf renders and attaches it)

        # 8. the KPIs move: one more corrective job, one more failure
        jobs_before, failures_before = kpis_before
        self.env.flush_all()
        jobs_after, failures_after = self._kpis()
        self.assertEqual(jobs_after, jobs_before + 1)
        self.assertEqual(failures_after, failures_before + 1)
        # and the contract's profitability counts the month's invoice
        revenue = self.env["serial.contract.profit.report"]._read_group(
            [("subscription_id", "=", self.click_contract.id)], [], ["revenue:sum"]
        )[0][0]
        self.assertAlmostEqual(revenue, invoice.amount_untaxed)
