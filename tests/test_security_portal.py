"""A portal customer reads over JSON-RPC only what the portal shows of their
own serials and jobs: the note, the supplier, stock values, the job's lines
and prices are refused when asked for and left out otherwise; the portal
pages still work, and internal users still read every field."""

from odoo import Command
from odoo.tests import HttpCase, new_test_user, tagged
from odoo.tests.common import JsonRpcException

from .common import SerialServiceCase

CALL_KW = "/web/dataset/call_kw"


@tagged("post_install", "-at_install")
class TestSecurityPortalFields(SerialServiceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lot = cls._make_lots(cls.product_unit, ["SECPRT-1"])
        cls.lot.write(
            {
                "customer_id": cls.customer.id,
                "supplier_id": cls.vendor.id,
                "note": "<p>Bought at a discount: resell above 4000</p>",
            }
        )
        cls.job = cls.env["maintenance.request"].create(
            {
                "name": "Secret job",
                "lot_id": cls.lot.id,
                "maintenance_type": "corrective",
                "service_line_ids": [
                    Command.create(
                        {
                            "line_type": "part",
                            "product_id": cls.product_part.id,
                            "quantity": 1,
                            "price_unit": 321.0,
                        }
                    )
                ],
            }
        )
        cls.portal_user = new_test_user(
            cls.env, login="secprt_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    def _call(self, model, method, *args, **kwargs):
        return self.make_jsonrpc_request(
            CALL_KW,
            {"model": model, "method": method, "args": list(args), "kwargs": kwargs},
        )

    def _assert_refused(self, model, method, *args, **kwargs):
        with self.assertRaises(JsonRpcException) as caught:
            self._call(model, method, *args, **kwargs)
        self.assertEqual(str(caught.exception), "odoo.exceptions.AccessError")

    def test_portal_user_cannot_read_the_serial_s_internal_fields(self):
        self.authenticate("secprt_portal", "secprt_portal")
        for fname in ("note", "supplier_id", "product_qty", "quant_ids", "ref"):
            with self.subTest(field=fname):
                self._assert_refused("stock.lot", "read", self.lot.ids, [fname])
        # nor find them out through a search on them
        self._assert_refused(
            "stock.lot", "search_count", [("note", "ilike", "discount")]
        )
        self._assert_refused(
            "stock.lot", "search_read", [], ["name"], order="supplier_id"
        )
        # a read without field names gives what the portal shows, nothing more
        [values] = self._call("stock.lot", "read", self.lot.ids)
        self.assertEqual(values["name"], "SECPRT-1")
        self.assertEqual(values["customer_id"][0], self.customer.id)
        for fname in ("note", "supplier_id", "product_qty", "subscription_ids"):
            self.assertNotIn(fname, values)
        described = self._call("stock.lot", "fields_get")
        self.assertNotIn("note", described)
        self.assertNotIn("supplier_id", described)
        self.assertIn("warranty_end_date", described)

    def test_portal_user_cannot_read_the_job_s_lines_and_prices(self):
        self.authenticate("secprt_portal", "secprt_portal")
        for fname in ("service_line_ids", "invoice_ids", "signature", "equipment_id"):
            with self.subTest(field=fname):
                self._assert_refused(
                    "maintenance.request", "read", self.job.ids, [fname]
                )
        [values] = self._call("maintenance.request", "read", self.job.ids)
        self.assertEqual(values["name"], "Secret job")
        self.assertEqual(values["lot_id"][0], self.lot.id)
        self.assertNotIn("service_line_ids", values)
        # the lines themselves stay out of reach (no access right)
        line = self.job.service_line_ids
        self._assert_refused("serial.service.line", "read", line.ids, ["price_unit"])

    def test_portal_pages_and_internal_users_unchanged(self):
        self.authenticate("secprt_portal", "secprt_portal")
        for url, text in (
            ("/my/serials", "SECPRT-1"),
            (f"/my/serials/{self.lot.id}", "SECPRT-1"),
            ("/my/jobs", "Secret job"),
            (f"/my/jobs/{self.job.id}", "Secret job"),
            (f"/my/serials/{self.lot.id}/request", "description"),
        ):
            with self.subTest(url=url):
                page = self.url_open(url)
                self.assertEqual(page.status_code, 200)
                self.assertIn(text, page.text)
                self.assertNotIn("resell above 4000", page.text)
        for user in (self.technician, self.manager):
            lot = self.lot.with_user(user)
            self.assertIn("resell above 4000", lot.note)
            self.assertEqual(lot.supplier_id, self.vendor)
        # a technician reads their own jobs only (record rule): the manager
        job = self.job.with_user(self.manager)
        self.assertEqual(job.service_line_ids.price_unit, 321.0)
