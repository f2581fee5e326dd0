"""Service requests from the portal, over HTTP as the customer: a corrective
job on their serial with its contract's SLA deadlines and the author
following it; bad input explained and nothing created; another customer's
serial refused; the customer's jobs with their state, next visit and service
report; the label's QR code of the serial's page."""

import base64
from datetime import timedelta
from unittest.mock import patch

from odoo import fields, http
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.serial_service.controllers import portal_service_request

from .visit_common import PNG_1PX, VisitCase


@tagged("post_install", "-at_install")
class TestPortalServiceRequest(VisitCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_unit = cls._make_lots(cls.product_unit, ["VISIT-OTHER"])
        cls.other_unit.customer_id = cls.other_customer
        cls.portal_user = new_test_user(
            cls.env, login="visit_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    def setUp(self):
        super().setUp()
        self.authenticate("visit_portal", "visit_portal")

    def _jobs(self):
        return self.env["maintenance.request"].search([])

    def _post_request(self, lot, description, photo=None):
        files = {"photo": photo} if photo else None
        return self.url_open(
            f"/my/serials/{lot.id}/request",
            data={
                "csrf_token": http.Request.csrf_token(self),
                "description": description,
            },
            files=files,
            allow_redirects=False,
        )

    def test_request_opens_a_job_with_the_contract_and_its_deadlines(self):
        page = self.url_open(f"/my/serials/{self.unit.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn(f"/my/serials/{self.unit.id}/request", page.text)
        form = self.url_open(f"/my/serials/{self.unit.id}/request")
        self.assertEqual(form.status_code, 200)
        self.assertIn('name="description"', form.text)
        before = self._jobs()
        before_request = fields.Datetime.now().replace(microsecond=0)
        response = self._post_request(
            self.unit,
            "Paper jams in tray 2\nSince this morning, every third page.",
            ("jam.png", base64.b64decode(PNG_1PX), "image/png"),
        )
        self.assertEqual(response.status_code, 303)
        job = self._jobs() - before
        self.assertEqual(len(job), 1)
        self.assertTrue(
            response.headers["Location"].endswith(f"/my/jobs/{job.id}?request_sent=1")
        )
        self.assertEqual(job.name, "Paper jams in tray 2")
        self.assertIn("every third page", job.description)
        self.assertEqual(job.maintenance_type, "corrective")
        self.assertEqual(job.lot_id, self.unit)
        self.assertEqual(job.customer_id, self.customer)
        self.assertEqual(job.subscription_id, self.contract)
        self.assertGreaterEqual(job.opened_on, before_request - timedelta(seconds=1))
        self.assertEqual(job.response_deadline, job.opened_on + timedelta(hours=4))
        self.assertEqual(job.resolution_deadline, job.opened_on + timedelta(hours=24))
        self.assertIn(self.portal_user.partner_id, job.message_partner_ids)
        photo = self.env["ir.attachment"].search(
            [("res_model", "=", "maintenance.request"), ("res_id", "=", job.id)]
        )
        self.assertEqual(photo.mimetype, "image/png")
        self.assertEqual(photo.name, "jam.png")
        # the customer sees the new job, its deadlines and no report yet
        page = self.url_open(f"/my/jobs/{job.id}?request_sent=1")
        self.assertEqual(page.status_code, 200)
        self.assertIn("your request was received", page.text)
        self.assertIn('id="service_job_response_deadline"', page.text)
        self.assertNotIn(f"/my/jobs/{job.id}/report", page.text)
        self.assertEqual(self.url_open(f"/my/jobs/{job.id}/report").status_code, 404)

    def test_bad_input_is_explained_and_creates_nothing(self):
        before = self._jobs()
        response = self._post_request(self.unit, "   ")
        self.assertEqual(response.status_code, 200)
        self.assertIn("Tell us what is wrong", response.text)
        response = self._post_request(
            self.unit, "Noise", ("notes.txt", b"not a photo at all", "text/plain")
        )
        self.assertIn("is not a photo", response.text)
        self.assertIn("Noise", response.text, "what the customer typed is kept")
        with patch.object(portal_service_request, "MAX_PHOTO_BYTES", 50):
            response = self._post_request(
                self.unit,
                "Noise",
                ("big.png", base64.b64decode(PNG_1PX) + b"\0" * 100, "image/png"),
            )
        self.assertIn("too large", response.text)
        self.assertEqual(self._jobs(), before)
        self.assertFalse(
            self.env["ir.attachment"].search_count(
                [
                    ("res_model", "=", "maintenance.request"),
                    ("name", "in", ("notes.txt", "big.png")),
                ]
            )
        )

    def test_another_customers_serial_is_refused(self):
        before = self._jobs()
        self.assertEqual(
            self.url_open(f"/my/serials/{self.other_unit.id}/request").status_code, 404
        )
        response = self._post_request(self.other_unit, "Let me in")
        self.assertEqual(response.status_code, 404)
        self.assertEqual(self._jobs(), before)

    def test_customer_lists_their_jobs_with_state_visit_and_report(self):
        done = self._visit_job()
        done.name = "Visit done"
        done.action_complete_job()
        planned = self._job(name="Visit planned", schedule_date="2030-05-06 09:00:00")
        other = self._job(name="Other customer's job", lot_id=self.other_unit.id)
        page = self.url_open("/my/jobs")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Visit done", page.text)
        self.assertIn("Visit planned", page.text)
        self.assertNotIn("Other customer", page.text)
        self.assertIn(f"/my/jobs/{done.id}/report", page.text)
        self.assertNotIn(f"/my/jobs/{planned.id}/report", page.text)
        self.assertIn("05/06/2030", page.text)
        self.assertIn("Done", page.text)
        report = self.url_open(f"/my/jobs/{done.id}/report")
        self.assertEqual(report.status_code, 200)
        self.assertIn("VISIT-FUSER-NEW", report.text)
        self.assertEqual(self.url_open(f"/my/jobs/{other.id}").status_code, 404)
        self.assertEqual(self.url_open(f"/my/jobs/{other.id}/report").status_code, 404)
        # the serial's page lists its jobs too
        page = self.url_open(f"/my/serials/{self.unit.id}")
        self.assertIn("Visit planned", page.text)
        home = self.url_open("/my/home")
        self.assertIn("/my/jobs", home.text)

    def test_label_has_a_qr_code_of_the_serials_page(self):
        url = self.unit._get_portal_page_url()
        self.assertTrue(url.endswith(f"/my/serials/{self.unit.id}"))
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("serial_service.stock_lot_label_report", self.unit.ids)[
                0
            ]
            .decode()
        )
        self.assertIn('class="o_serial_label_qr"', html)
        qr = self.unit._get_label_qr_data_uri()
        self.assertTrue(qr.startswith("data:image/svg+xml;base64,"))
        self.assertIn(qr, html)
        self.assertIn(b"<svg", base64.b64decode(qr.split(",", 1)[1]))

    def test_customer_signs_the_jobs_quotation_on_the_portal(self):
        # the customer signs; no online payment asked
        self.company.write(
            {
                "service_quote_threshold": 100.0,
                "portal_confirmation_sign": True,
                "portal_confirmation_pay": False,
            }
        )
        job = self._visit_job()
        job.with_user(self.technician).action_create_quotation()
        order = job.quotation_id
        self.assertEqual(
            self.url_open(f"/my/orders/{order.id}").status_code, 200, "their quote"
        )
        result = self.make_jsonrpc_request(
            f"/my/orders/{order.id}/accept",
            {"name": "Dana Customer", "signature": PNG_1PX},
        )
        self.assertTrue(result.get("force_refresh"), result)
        self.env.invalidate_all()
        self.assertEqual(order.state, "sale", result)
        self.assertEqual(order.signed_by, "Dana Customer")
        self.assertEqual(job.quote_state, "confirmed")
        self.assertIn("accepted", " ".join(job.message_ids.mapped("body")))
        job.with_user(self.technician).action_complete_job()
        self.assertEqual(job.invoice_ids, order.invoice_ids)
