"""A portal customer reads over JSON-RPC only what the portal shows of their
own serials and jobs: the note, the supplier, stock values, the job's lines
and prices are refused when asked for and left out otherwise; the portal
pages still work, and internal users still read every field."""

from datetime import timedelta

from odoo import Command, fields
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

    def _assert_not_searchable(self, model, domains=(), groupbys=(), orders=()):
        """Each domain, grouping and order on a field the portal user may not
        read is refused (AccessError), whichever method runs it."""
        for domain in domains:
            for method, args, kwargs in (
                ("search_count", [domain], {}),
                ("search_read", [domain, ["id"]], {}),
                ("search", [domain], {}),
                ("read_group", [domain, ["__count"], []], {"lazy": False}),
            ):
                with self.subTest(model=model, method=method, domain=domain):
                    self._assert_refused(model, method, *args, **kwargs)
        for groupby in groupbys:
            with self.subTest(model=model, groupby=groupby):
                self._assert_refused(
                    model, "read_group", [], ["__count"], [groupby], lazy=False
                )
        for order in orders:
            with self.subTest(model=model, order=order):
                self._assert_refused(model, "search_read", [], ["id"], order=order)

    def test_portal_user_cannot_search_the_serial_s_hidden_fields(self):
        """A domain, a grouping or an order on a field the portal user may not
        read would tell its value record by record (which serial a contract
        covers, which has components): refused like a read of it."""
        component = self._make_lots(self.product_part, ["SECPRT-PART"])
        component.parent_lot_id = self.lot
        contract = self._create_contract(
            self.customer, self.lot, date_start=fields.Date.today() - timedelta(days=3)
        )
        self.assertEqual(self.lot.subscription_ids, contract)
        self.authenticate("secprt_portal", "secprt_portal")
        # the user sees their serial
        self.assertEqual(
            self._call("stock.lot", "search_count", [("id", "=", self.lot.id)]), 1
        )
        self._assert_not_searchable(
            "stock.lot",
            domains=[
                [("subscription_ids", "!=", False)],
                [("subscription_ids", "in", contract.ids)],
                [("child_lot_ids", "!=", False)],
                [("parent_lot_id", "=", False)],
                [("customer_id", "!=", False), ("note", "ilike", "discount")],
                ["|", ("name", "=", "x"), ("quant_ids", "!=", False)],
                [("request_ids", "any", [("invoice_ids", "!=", False)])],
            ],
            groupbys=["subscription_ids", "child_lot_ids", "supplier_id"],
            orders=["supplier_id desc", "name, note"],
        )
        # what the portal shows is still searched, grouped and sorted
        self.assertEqual(
            self._call(
                "stock.lot",
                "search_read",
                [("customer_id", "=", self.customer.id), ("name", "=", "SECPRT-1")],
                ["name", "warranty_end_date"],
                order="warranty_end_date, name",
            )[0]["name"],
            "SECPRT-1",
        )
        groups = self._call(
            "stock.lot",
            "read_group",
            [("name", "=", "SECPRT-1")],
            ["__count"],
            ["product_id"],
            lazy=False,
        )
        self.assertEqual(groups[0]["__count"], 1)

    def test_portal_user_cannot_search_the_job_s_hidden_fields(self):
        invoice = self.env["account.move"].create(
            {
                "move_type": "out_invoice",
                "partner_id": self.customer.id,
                "invoice_line_ids": [
                    Command.create({"name": "Repair", "quantity": 1, "price_unit": 9})
                ],
            }
        )
        self.job.invoice_ids = [Command.link(invoice.id)]
        self.authenticate("secprt_portal", "secprt_portal")
        self.assertEqual(
            self._call(
                "maintenance.request", "search_count", [("id", "=", self.job.id)]
            ),
            1,
        )
        self._assert_not_searchable(
            "maintenance.request",
            domains=[
                [("invoice_ids", "!=", False)],
                [("invoice_ids", "in", invoice.ids)],
                [("is_sla_late", "=", True)],
                [("schedule_status", "=", "late")],
                [("meter_reading_ids", "!=", False)],
                [("lot_id", "any", [("supplier_id", "!=", False)])],
                [("lot_id.child_lot_ids", "!=", False)],
                [("signed_by", "ilike", "a")],
            ],
            groupbys=["invoice_ids", "equipment_id", "signed_by"],
            orders=["signed_by", "stage_id, signed_by desc"],
        )
        # what the portal lists is still searched, grouped and sorted
        found = self._call(
            "maintenance.request",
            "search_read",
            [
                ("lot_id", "=", self.lot.id),
                ("customer_id", "child_of", self.customer.id),
            ],
            ["name", "stage_id"],
            order="request_date desc, id desc",
        )
        self.assertEqual([job["name"] for job in found], ["Secret job"])
        groups = self._call(
            "maintenance.request",
            "read_group",
            [("id", "=", self.job.id)],
            ["__count"],
            ["stage_id"],
            lazy=False,
        )
        self.assertEqual(groups[0]["__count"], 1)

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
