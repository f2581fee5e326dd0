import json
from datetime import timedelta

from odoo import fields
from odoo.tests import HttpCase, new_test_user, tagged

URL = "/serial_service/api/v1/readings"


@tagged("post_install", "-at_install")
class TestDeviceApi(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.device_user = new_test_user(
            cls.env,
            login="meter_gateway",
            groups="serial_service.group_service_technician",
        )
        cls.key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.device_user)
            .sudo()
            ._generate(None, "Meter gateway", None)
        )
        cls.clerk = new_test_user(cls.env, login="api_clerk", groups="base.group_user")
        cls.clerk_key = (
            cls.env["res.users.apikeys"]
            .with_user(cls.clerk)
            .sudo()
            ._generate(None, "Clerk", None)
        )
        product = cls.env["product.product"].create(
            {
                "name": "API copier",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "default_code": "API-COPIER",
            }
        )
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "API black", "code": "APIBLACK"}
        )
        cls.lot = cls.env["stock.lot"].create(
            {
                "name": "API-1",
                "product_id": product.id,
                "company_id": cls.env.company.id,
            }
        )
        cls.other_company = cls.env["res.company"].create({"name": "API Other Co"})
        cls.foreign_lot = cls.env["stock.lot"].create(
            {
                "name": "API-FOREIGN",
                "product_id": product.id,
                "company_id": cls.other_company.id,
            }
        )
        cls.baseline = cls.env["serial.meter.reading"].create(
            {
                "lot_id": cls.lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": cls.now - timedelta(days=30),
                "value": 1000,
            }
        )

    def _post(self, body, key=None, raw=None):
        headers = {"Content-Type": "application/json"}
        if key:
            headers["Authorization"] = f"Bearer {key}"
        response = self.url_open(
            URL, data=raw if raw is not None else json.dumps(body), headers=headers
        )
        self.env.invalidate_all()
        return response

    def _item(self, days_ago, value, serial="API-1", **extra):
        moment = self.now - timedelta(days=days_ago)
        return {
            "serial": serial,
            "meter": "APIBLACK",
            "date": moment.isoformat() + "Z",
            "value": value,
            **extra,
        }

    def _count(self):
        return self.env["serial.meter.reading"].search_count(
            [("meter_type_id", "=", self.meter.id)]
        )

    def test_missing_or_wrong_key_is_401(self):
        body = {"readings": [self._item(1, 1100)]}
        # a real key with its last character changed (never the same key)
        wrong_key = self.key[:-1] + ("1" if self.key.endswith("0") else "0")
        for key in (None, "not-a-key", wrong_key):
            with self.subTest(key=key):
                response = self._post(body, key=key)
                self.assertEqual(response.status_code, 401)
                self.assertIn("API key", response.json()["error"])
        self.assertEqual(self._count(), 1)

    def test_user_without_the_group_is_403(self):
        response = self._post({"readings": [self._item(1, 1100)]}, key=self.clerk_key)
        self.assertEqual(response.status_code, 403)
        self.assertEqual(self._count(), 1)

    def test_malformed_payload_gives_each_reason_and_writes_nothing(self):
        response = self._post(None, key=self.key, raw="{not json")
        self.assertEqual(response.status_code, 400)
        self.assertEqual(
            response.json()["errors"][0]["message"], "The body is not valid JSON."
        )
        response = self._post({"values": []}, key=self.key)
        self.assertEqual(response.status_code, 400)
        body = {
            "readings": [
                self._item(5, 1200),  # good
                {"serial": "API-1", "meter": "APIBLACK", "value": 3},  # no date
                self._item(4, 1300, serial="NOPE"),
                self._item(4, 1300, meter="NOMETER"),
                self._item(4, "a lot"),
                {**self._item(4, 1300), "date": "yesterday"},
                self._item(3, 1250, serial="API-FOREIGN"),
                "not an object",
            ]
        }
        response = self._post(body, key=self.key)
        self.assertEqual(response.status_code, 400)
        errors = response.json()["errors"]
        by_index = {error["index"]: error["message"] for error in errors}
        self.assertEqual(sorted(by_index), [1, 2, 3, 4, 5, 6, 7])
        self.assertEqual(by_index[1], "Missing field(s): date.")
        self.assertEqual(by_index[2], "Unknown serial number NOPE.")
        self.assertEqual(by_index[3], "Unknown meter NOMETER.")
        self.assertEqual(by_index[4], "Value a lot is not a number.")
        self.assertIn("not an ISO 8601", by_index[5])
        self.assertEqual(by_index[6], "Unknown serial number API-FOREIGN.")
        self.assertEqual(by_index[7], "A reading must be an object.")
        self.assertEqual(self._count(), 1)
        self.assertFalse(self.foreign_lot.sudo().meter_reading_ids)

    def test_validation_errors_are_reported_per_item_and_nothing_is_written(self):
        body = {
            "readings": [
                self._item(10, 1100),  # good
                self._item(8, 900),  # lower than 1100: refused
                self._item(6, 1200),  # good
                self._item(-2, 1300),  # in the future: refused
            ]
        }
        response = self._post(body, key=self.key)
        self.assertEqual(response.status_code, 400, response.text)
        errors = response.json()["errors"]
        self.assertEqual([error["index"] for error in errors], [1, 3])
        self.assertIn("lower than the previous one", errors[0]["message"])
        self.assertIn("in the future", errors[1]["message"])
        self.assertEqual(self._count(), 1)

    def test_good_payload_is_recorded_in_one_batch(self):
        body = {
            "readings": [
                self._item(10, 1150),
                self._item(20, 1100),  # out of order: the batch sorts by date
                self._item(5, 20, reset=True),
                self._item(2, 70),
            ]
        }
        response = self._post(body, key=self.key)
        self.assertEqual(response.status_code, 201, response.text)
        recorded = response.json()["recorded"]
        self.assertEqual([r["index"] for r in recorded], [0, 1, 2, 3])
        self.assertEqual([r["delta"] for r in recorded], [50.0, 100.0, 0.0, 50.0])
        readings = self.env["serial.meter.reading"].browse([r["id"] for r in recorded])
        self.assertEqual(set(readings.mapped("source")), {"device"})
        self.assertEqual(readings.create_uid, self.device_user)
        self.assertEqual(readings.lot_id, self.lot)
        self.assertTrue(readings[2].is_reset)
        self.assertEqual(self._count(), 5)
        self.assertEqual(
            sum(self.lot.meter_reading_ids.mapped("delta")), 200.0, "1000->1150, 20->70"
        )

    def test_foreign_company_key_cannot_reach_this_company(self):
        outsider = new_test_user(
            self.env,
            login="foreign_gateway",
            groups="serial_service.group_service_technician",
            company_id=self.other_company.id,
            company_ids=[self.other_company.id],
        )
        key = (
            self.env["res.users.apikeys"]
            .with_user(outsider)
            .sudo()
            ._generate(None, "Foreign", None)
        )
        response = self._post({"readings": [self._item(1, 1500)]}, key=key)
        self.assertEqual(response.status_code, 400)
        self.assertEqual(
            response.json()["errors"][0]["message"], "Unknown serial number API-1."
        )
        response = self._post(
            {"readings": [self._item(1, 5, serial="API-FOREIGN")]}, key=key
        )
        self.assertEqual(response.status_code, 201, response.text)
        self.assertEqual(self.foreign_lot.sudo().meter_reading_ids.value, 5)
        self.assertEqual(self._count(), 2)
