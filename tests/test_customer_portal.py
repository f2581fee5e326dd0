"""Customer portal over HTTP, as a logged-in portal customer: their own
serials only, the serial page with its meter history, submitting a reading
(refused ones explained, nothing written), and the readings behind the usage
lines of an invoice."""

from datetime import timedelta
from unittest.mock import patch

from odoo import fields, http
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.serial_service.controllers.portal import SerialServicePortal

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestCustomerPortal(SerialServiceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Portal pages", "code": "PORTALPG"}
        )
        cls.product_unit.meter_type_ids = cls.meter
        cls.own, cls.own_2, cls.other = cls._make_lots(
            cls.product_unit, ["PRT-OWN-1", "PRT-OWN-2", "PRT-OTHER"]
        )
        cls.own.write(
            {
                "customer_id": cls.customer.id,
                "site_id": cls.customer_site.id,
                "warranty_start_date": fields.Date.today() - timedelta(days=30),
                "warranty_end_date": fields.Date.today() + timedelta(days=300),
            }
        )
        cls.own_2.customer_id = cls.customer
        cls.other.customer_id = cls.other_customer
        cls.portal_user = new_test_user(
            cls.env, login="portal_customer", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer
        Reading = cls.env["serial.meter.reading"]
        cls.baseline = Reading.create(cls._vals(cls.own, 20, 1000))
        cls.estimate = Reading.create(cls._vals(cls.own, 10, 1500, source="estimate"))
        Reading.create(cls._vals(cls.other, 10, 777777))
        template = cls.env["sale.subscription.template"].create(
            {"name": "Portal care", "invoicing_mode": "draft"}
        )
        cls.pages = cls.env["product.product"].create(
            {"name": "Portal pages billed", "type": "service"}
        )
        cls.contract = cls._create_contract(
            cls.customer,
            cls.own,
            template,
            lines=[{"product_id": cls.pages.id, "price_unit": 50}],
            tariffs=[
                {
                    "meter_type_id": cls.meter.id,
                    "product_id": cls.pages.id,
                    "price_unit": 0.1,
                }
            ],
            date_start=fields.Date.today() - timedelta(days=60),
        )

    @classmethod
    def _vals(cls, lot, days_ago, value, **vals):
        return {
            "lot_id": lot.id,
            "meter_type_id": cls.meter.id,
            "reading_date": cls.now - timedelta(days=days_ago),
            "value": value,
            **vals,
        }

    def _login(self):
        self.authenticate("portal_customer", "portal_customer")

    def _post_reading(self, lot, value, when=None, meter=None):
        moment = when or (self.now - timedelta(hours=1))
        return self.url_open(
            f"/my/serials/{lot.id}/reading",
            data={
                "meter_id": (meter or self.meter).id,
                "reading_date": moment.strftime("%Y-%m-%dT%H:%M"),
                "value": str(value),
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def _count(self, lot):
        return self.env["serial.meter.reading"].search_count([("lot_id", "=", lot.id)])

    def test_home_counter_and_list_of_own_serials(self):
        self._login()
        counters = self.make_jsonrpc_request(
            "/my/counters", {"counters": ["serial_count"]}
        )
        self.assertEqual(counters["serial_count"], 2)
        home = self.url_open("/my")
        self.assertIn('href="/my/serials" title="Equipment"', home.text)
        page = self.url_open("/my/serials")
        self.assertEqual(page.status_code, 200)
        self.assertIn("PRT-OWN-1", page.text)
        self.assertIn("PRT-OWN-2", page.text)
        self.assertNotIn("PRT-OTHER", page.text)
        self.assertIn(self.contract.name, page.text)
        for sortby in ("product", "warranty"):
            self.assertEqual(
                self.url_open(f"/my/serials?sortby={sortby}").status_code, 200
            )
        # one serial a page: the pager leads to the second
        with patch.object(SerialServicePortal, "_items_per_page", 1):
            first = self.url_open("/my/serials")
            second = self.url_open("/my/serials/page/2")
        self.assertIn("PRT-OWN-1", first.text)
        self.assertNotIn("PRT-OWN-2", first.text)
        self.assertIn("/my/serials/page/2", first.text)
        self.assertIn("PRT-OWN-2", second.text)
        self.assertNotIn("PRT-OWN-1", second.text)

    def test_serial_page_and_another_customers_serial(self):
        self._login()
        page = self.url_open(f"/my/serials/{self.own.id}")
        self.assertEqual(page.status_code, 200)
        for text in (
            "PRT-OWN-1",
            self.product_unit.name,
            self.customer_site.name,
            ">Active<",
            self.contract.name,
        ):
            self.assertIn(text, page.text)
        # the estimate is marked as one, the technician's reading is not
        self.assertEqual(page.text.count("o_portal_reading_estimate"), 1)
        self.assertIn(">Estimate<", page.text)
        self.assertNotIn("777777", page.text)
        for lot_id in (self.other.id, 999999999):
            response = self.url_open(f"/my/serials/{lot_id}")
            self.assertEqual(response.status_code, 404)
            self.assertNotIn("PRT-OTHER", response.text)

    def test_submit_a_reading(self):
        self._login()
        response = self._post_reading(self.own, 1600)
        self.assertEqual(response.status_code, 200)
        self.assertIn("reading_saved=1", response.url)
        self.assertIn("your reading was recorded", response.text)
        reading = self.env["serial.meter.reading"].search(
            [("lot_id", "=", self.own.id), ("value", "=", 1600)]
        )
        self.assertEqual(len(reading), 1)
        self.assertEqual(reading.source, "customer")
        self.assertEqual(reading.create_uid, self.portal_user)
        self.assertEqual(reading.delta, 100, "1600 after the estimate of 1500")
        self.assertEqual(reading.estimate_ids, self.estimate)
        self.assertEqual(
            reading.reading_date,
            (self.now - timedelta(hours=1)).replace(second=0),
        )

    def test_refused_readings_are_explained_and_nothing_is_written(self):
        self._login()
        before = self._count(self.own)
        cases = [
            # below the last real reading (1000), not only below the estimate
            (900, None, "lower than the previous one (1000"),
            (2000, self.now + timedelta(days=2), "cannot be in the future"),
            ("12,500", None, "must be a number"),
            (-5, None, "cannot be negative"),
        ]
        for value, when, message in cases:
            with self.subTest(message):
                page = self._post_reading(self.own, value, when=when)
                self.assertEqual(page.status_code, 200)
                self.assertIn("o_portal_reading_error", page.text)
                self.assertIn(message, page.text)
                self.assertEqual(self._count(self.own), before)
        # a meter the unit does not carry
        colour = self.env["serial.meter.type"].create(
            {"name": "Portal colour", "code": "PORTALCL"}
        )
        page = self._post_reading(self.own, 2000, meter=colour)
        self.assertIn("has no meter Portal colour", page.text)
        self.assertEqual(self._count(self.own), before)
        # another customer's serial: not found, nothing written
        other_before = self._count(self.other)
        self.assertEqual(self._post_reading(self.other, 999999).status_code, 404)
        self.assertEqual(self._count(self.other), other_before)

    def test_invoice_page_lists_the_readings_behind_the_usage(self):
        self.contract.generate_invoice()
        invoice = self.contract.invoice_ids
        invoice.action_post()
        invoice.message_subscribe(partner_ids=self.customer.ids)
        usage = invoice.invoice_line_ids.filtered(lambda line: line.sequence >= 10000)
        # 1500 - 1000 = 500 pages at 0.1
        self.assertEqual((usage.quantity, usage.price_subtotal), (500, 50))
        self.assertEqual((self.baseline | self.estimate).invoice_line_id, usage)
        self._login()
        page = self.url_open(f"/my/invoices/{invoice.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Meter readings behind this invoice", page.text)
        self.assertEqual(page.text.count("o_invoice_usage_reading"), 2)
        for text in ("PRT-OWN-1", "Portal pages", ">1000<", ">1500<", ">500<"):
            self.assertIn(text, page.text)
        self.assertIn("Estimate", page.text)
        # a visitor with the invoice's link (access token) sees them too
        self.logout()
        invoice._portal_ensure_token()
        shared = self.url_open(
            f"/my/invoices/{invoice.id}?access_token={invoice.access_token}"
        )
        self.assertEqual(shared.text.count("o_invoice_usage_reading"), 2)
