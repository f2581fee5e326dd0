"""The device API reaches the key's own company's serials only: a serial
without a company, or of another company, gets the same "unknown serial"
answer as a serial that does not exist, and nothing is written."""

import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SerialServiceCase

URL = "/serial_service/api/v1/readings"


@tagged("post_install", "-at_install")
class TestSecurityDeviceApiCompany(SerialServiceCase, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Security API pages", "code": "SECAPI"}
        )
        cls.toner = cls._make_product(
            "Security toner", tracking="none", default_code="SEC-TONER"
        )
        cls.product_unit.write(
            {"meter_type_ids": cls.meter.ids, "supply_product_ids": cls.toner.ids}
        )
        cls.own = cls._make_lots(cls.product_unit, ["SECAPI-OWN"])
        # a serial shared by every company (no company): no company's own
        cls.shared = cls.env["stock.lot"].create(
            {
                "name": "SECAPI-SHARED",
                "product_id": cls.product_unit.id,
                "company_id": False,
            }
        )
        (cls.own | cls.shared).customer_id = cls.customer
        cls.company_b = cls.env["res.company"].create({"name": "Security API Co B"})
        cls.gateway = new_test_user(
            cls.env,
            login="secapi_gateway",
            groups="serial_service.group_service_technician",
        )
        cls.gateway_b = new_test_user(
            cls.env,
            login="secapi_gateway_b",
            groups="serial_service.group_service_technician",
            company_id=cls.company_b.id,
            company_ids=[cls.company_b.id],
        )
        Keys = cls.env["res.users.apikeys"]
        cls.key = Keys.with_user(cls.gateway).sudo()._generate(None, "A", None)
        cls.key_b = Keys.with_user(cls.gateway_b).sudo()._generate(None, "B", None)

    def _post(self, body, key):
        response = self.url_open(
            URL,
            data=json.dumps(body),
            headers={
                "Content-Type": "application/json",
                "Authorization": f"Bearer {key}",
            },
        )
        self.env.invalidate_all()
        return response

    def _reading(self, serial, value=100):
        return {
            "serial": serial,
            "meter": "SECAPI",
            "date": (self.now - timedelta(hours=1)).isoformat(),
            "value": value,
        }

    def _orders(self):
        return self.env["sale.order.line"].search_count(
            [("supply_lot_id", "in", (self.own | self.shared).ids)]
        )

    def test_a_serial_without_company_is_unknown_to_every_key(self):
        for key in (self.key, self.key_b):
            with self.subTest(key=key[:4]):
                response = self._post(
                    {"readings": [self._reading("SECAPI-SHARED")]}, key
                )
                self.assertEqual(response.status_code, 400, response.text)
                self.assertEqual(
                    response.json()["errors"],
                    [{"index": 0, "message": "Unknown serial number SECAPI-SHARED."}],
                )
                response = self._post(
                    {
                        "supplies": [
                            {
                                "serial": "SECAPI-SHARED",
                                "product": "SEC-TONER",
                                "level": 5,
                            }
                        ]
                    },
                    key,
                )
                self.assertEqual(response.status_code, 400, response.text)
                self.assertEqual(
                    response.json()["errors"][0]["message"],
                    "Unknown serial number SECAPI-SHARED.",
                )
        self.assertFalse(self.shared.meter_reading_ids)
        self.assertEqual(self._orders(), 0)

    def test_the_own_company_serial_is_still_reached(self):
        # the same answer for another company's serial as for no company's
        response = self._post({"readings": [self._reading("SECAPI-OWN")]}, self.key_b)
        self.assertEqual(
            response.json()["errors"][0]["message"],
            "Unknown serial number SECAPI-OWN.",
        )
        self.assertFalse(self.own.meter_reading_ids)
        response = self._post({"readings": [self._reading("SECAPI-OWN")]}, self.key)
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(self.own.meter_reading_ids.value, 100)
