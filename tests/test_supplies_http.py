"""Supplies ordered over HTTP: by the customer on its serial's portal page,
and by a device reporting a low level through the API; always for the unit's
own customer, another customer's serial refused and nothing created."""

import json

from odoo import http
from odoo.tests import HttpCase, new_test_user, tagged

from .test_supplies import SuppliesCase

API_URL = "/serial_service/api/v1/readings"


@tagged("post_install", "-at_install")
class TestSuppliesPortal(SuppliesCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.portal_user = new_test_user(
            cls.env, login="supplies_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer

    def _order(self, lot, product, qty=1):
        return self.url_open(
            f"/my/serials/{lot.id}/supplies",
            data={
                "product_id": product.id,
                "quantity": str(qty),
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def test_serial_page_offers_the_model_s_supplies(self):
        self.authenticate("supplies_portal", "supplies_portal")
        page = self.url_open(f"/my/serials/{self.covered.id}")
        self.assertEqual(page.status_code, 200)
        self.assertIn("Order supplies", page.text)
        self.assertIn("Test Toner", page.text)
        self.assertNotIn("Toner for another model", page.text)

    def test_portal_order_for_own_serial(self):
        self.authenticate("supplies_portal", "supplies_portal")
        response = self._order(self.covered, self.toner)
        self.assertEqual(response.status_code, 200)
        order = self._supply_orders(self.covered)
        self.assertEqual(len(order), 1)
        self.assertIn(order.name, response.text)
        self.assertEqual(order.partner_id, self.customer)
        self.assertEqual(order.partner_shipping_id, self.customer_site)
        self.assertEqual(order.supply_trigger, "portal")
        self.assertEqual(order.state, "sale")
        self.assertEqual(order.order_line.price_unit, 0.0)

    def test_another_customer_s_serial_is_refused(self):
        self.authenticate("supplies_portal", "supplies_portal")
        response = self._order(self.foreign, self.toner)
        self.assertEqual(response.status_code, 404)
        self.assertFalse(self._supply_orders(self.foreign))
        self.assertFalse(
            self.env["sale.order"].search([("partner_id", "=", self.other_customer.id)])
        )

    def test_product_not_meant_for_the_model_is_refused(self):
        self.authenticate("supplies_portal", "supplies_portal")
        response = self._order(self.covered, self.foreign_toner)
        self.assertIn("Your order was not placed", response.text)
        self.assertFalse(self._supply_orders(self.covered))

    def test_order_beyond_the_limit_is_refused(self):
        self._read(self.covered, 100, 0)
        self._read(self.covered, 1, 500)
        self.authenticate("supplies_portal", "supplies_portal")
        # 500 pages printed: one more toner (the next one) is justified
        response = self._order(self.covered, self.toner, qty=3)
        self.assertIn("You can order at most 2 more", response.text)
        self.assertFalse(self._supply_orders(self.covered))
        response = self._order(self.covered, self.toner, qty=2)
        self.assertEqual(len(self._supply_orders(self.covered)), 1)
        response = self._order(self.covered, self.toner, qty=1)
        self.assertIn("No more Test Toner can be ordered", response.text)
        self.assertEqual(len(self._supply_orders(self.covered)), 1)


@tagged("post_install", "-at_install")
class TestSuppliesDeviceApi(SuppliesCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.device_user = new_test_user(
            cls.env,
            login="supplies_gateway",
            groups="serial_service.group_service_technician",
        )
        cls.key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.device_user)
            .sudo()
            ._generate(None, "Supplies gateway", None)
        )
        cls.other_company = cls.env["res.company"].create({"name": "Supplies Other Co"})
        cls.alien = cls.env["stock.lot"].create(
            {
                "name": "SUP-ALIEN",
                "product_id": cls.product_unit.id,
                "company_id": cls.other_company.id,
                "customer_id": cls.other_customer.id,
            }
        )

    def _post(self, body):
        response = self.url_open(
            API_URL,
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {self.key}",
            },
        )
        self.env.invalidate_all()
        return response

    def _all_supply_orders(self):
        # every supplies order of this test's serials (not the demo data's)
        lots = self.covered | self.uncovered | self.foreign | self.alien
        return self.env["sale.order"].search(
            [
                ("is_supply_order", "=", True),
                ("order_line.supply_lot_id", "in", lots.ids),
            ]
        )

    def test_low_level_orders_for_the_unit_s_customer_once(self):
        body = {
            "supplies": [
                {"serial": "SUP-COV", "product": "TT-1", "level": 8},
                {"serial": "SUP-UNC", "product": "TT-1", "level": 60},
                {"serial": "SUP-OTHER", "product": "TD-1", "level": 3},
            ]
        }
        response = self._post(body)
        self.assertEqual(response.status_code, 201, response.text)
        data = response.json()
        orders = self._all_supply_orders()
        self.assertEqual(len(orders), 2)
        covered = self._supply_orders(self.covered)
        other = self._supply_orders(self.foreign)
        self.assertEqual(covered.partner_id, self.customer)
        self.assertEqual(other.partner_id, self.other_customer)
        self.assertEqual(covered.order_line.price_unit, 0.0)
        self.assertEqual(other.order_line.price_unit, 200.0)
        self.assertEqual(
            [item["order"] for item in data["supplies"]],
            [covered.name, None, other.name],
        )
        # reported again while open: nothing new
        response = self._post(body)
        self.assertEqual(response.status_code, 201)
        self.assertEqual(self._all_supply_orders(), orders)

    def test_bad_item_writes_nothing(self):
        readings = self.env["serial.meter.reading"].search_count([])
        body = {
            "readings": [
                {
                    "serial": "SUP-COV",
                    "meter": "SUPPAGES",
                    "date": "2026-01-01T10:00:00Z",
                    "value": 1000,
                }
            ],
            "supplies": [
                {"serial": "SUP-COV", "product": "TT-1", "level": 5},
                {"serial": "SUP-ALIEN", "product": "TT-1", "level": 5},
                {"serial": "SUP-UNC", "product": "TX-9", "level": 5},
                {"serial": "SUP-UNC", "product": "TT-1", "level": 150},
                {"serial": "SUP-UNC", "level": 5},
            ],
        }
        response = self._post(body)
        self.assertEqual(response.status_code, 400)
        errors = {e["index"]: e["message"] for e in response.json()["errors"]}
        self.assertEqual(set(errors), {1, 2, 3, 4})
        # another company's serial: the same answer as an unknown one
        self.assertIn("Unknown serial number SUP-ALIEN", errors[1])
        self.assertIn("is not a supply of serial SUP-UNC", errors[2])
        self.assertIn("not a percentage", errors[3])
        self.assertIn("Missing field(s): product", errors[4])
        self.assertFalse(self._all_supply_orders())
        self.assertEqual(self.env["serial.meter.reading"].search_count([]), readings)

    def test_readings_and_supplies_in_one_request(self):
        body = {
            "readings": [
                {
                    "serial": "SUP-COV",
                    "meter": "SUPPAGES",
                    "date": "2026-01-01T10:00:00Z",
                    "value": 1000,
                }
            ],
            "supplies": [{"serial": "SUP-COV", "product": "TT-1", "level": 10}],
        }
        response = self._post(body)
        self.assertEqual(response.status_code, 201, response.text)
        data = response.json()
        self.assertEqual(len(data["recorded"]), 1)
        self.assertTrue(data["supplies"][0]["order"])
        # a bad reading refuses the whole request: no order either
        body["readings"][0]["value"] = "lots"
        body["supplies"][0]["serial"] = "SUP-UNC"
        response = self._post(body)
        self.assertEqual(response.status_code, 400)
        self.assertFalse(self._supply_orders(self.uncovered))
