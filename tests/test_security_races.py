"""The portal reading route as the employees who would misuse it, and the
races around meters and jobs: two real database transactions at once (two
cursors), as two users, a device and a technician or a double click would run
them. Data the other cursor must see is committed in a cursor of its own and
deleted again at the end."""

from datetime import timedelta

from odoo import fields, http
from odoo.tests import HttpCase, new_test_user, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSecurityPortalReadingRoute(SerialServiceCase, HttpCase):
    """`/my/serials/<id>/reading` records a reading for the customer who owns
    the serial, or for an employee who may record readings; billing users,
    consultants and stock users only read readings, and may not create
    billable customer readings through the portal form."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Route pages", "code": "ROUTEPG"}
        )
        cls.product_unit.meter_type_ids = cls.meter
        (cls.lot,) = cls._make_lots(cls.product_unit, ["ROUTE-1"])
        cls.lot.customer_id = cls.customer
        cls.env["serial.meter.reading"].create(
            {
                "lot_id": cls.lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": cls.now - timedelta(days=10),
                "value": 1000,
            }
        )
        cls.billing_user = new_test_user(
            cls.env,
            login="route_billing",
            groups="base.group_user,account.group_account_invoice",
            tz="UTC",
        )
        cls.stock_user = new_test_user(
            cls.env,
            login="route_stock",
            groups="base.group_user,stock.group_stock_user",
            tz="UTC",
        )
        # a consultant who also reads the inventory (reads serials)
        cls.stock_consultant = new_test_user(
            cls.env,
            login="route_consultant",
            groups="serial_service.group_contract_consultant,stock.group_stock_user",
            tz="UTC",
        )
        cls.technician.tz = "UTC"
        cls.portal_user = new_test_user(
            cls.env, login="route_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer
        cls.other_portal_user = new_test_user(
            cls.env, login="route_other_portal", groups="base.group_portal", tz="UTC"
        )
        cls.other_portal_user.partner_id.parent_id = cls.other_customer

    def _post_reading(self, login, value):
        self.authenticate(login, login)
        return self.url_open(
            f"/my/serials/{self.lot.id}/reading",
            data={
                "meter_id": self.meter.id,
                "reading_date": (self.now - timedelta(hours=1)).strftime(
                    "%Y-%m-%dT%H:%M"
                ),
                "value": str(value),
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def _readings(self):
        return self.env["serial.meter.reading"].search([("lot_id", "=", self.lot.id)])

    def test_read_only_employees_are_refused_and_nothing_is_written(self):
        before = self._readings()
        for user in (self.billing_user, self.stock_consultant, self.stock_user):
            with self.subTest(user=user.login):
                # each of them may read the serial: the route used to let
                # them through on that alone, then create with sudo
                self.assertTrue(self.lot.with_user(user).has_access("read"))
                self.assertFalse(
                    self.env["serial.meter.reading"]
                    .with_user(user)
                    .has_access("create")
                )
                response = self._post_reading(user.login, 5000)
                self.assertEqual(response.status_code, 403)
                self.assertEqual(self._readings(), before)

    def test_who_cannot_read_the_serial_is_not_told_it_exists(self):
        before = self._readings()
        # another customer, and a consultant who reads no serial
        for login in ("route_other_portal", "test_consultant"):
            with self.subTest(login=login):
                response = self._post_reading(login, 5000)
                self.assertEqual(response.status_code, 404)
                self.assertEqual(self._readings(), before)

    def test_owner_and_technician_record_through_the_form(self):
        response = self._post_reading("route_portal", 1500)
        self.assertEqual(response.status_code, 200)
        self.assertIn("reading_saved=1", response.url)
        by_customer = self._readings().filtered(lambda r: r.value == 1500)
        self.assertEqual(by_customer.create_uid, self.portal_user)
        self.assertEqual(by_customer.source, "customer")
        self.assertEqual(by_customer.delta, 500)
        # an employee who may record readings records with their own rights
        self.now += timedelta(minutes=30)
        response = self._post_reading("test_technician", 1700)
        self.assertEqual(response.status_code, 200)
        self.assertIn("reading_saved=1", response.url)
        by_technician = self._readings().filtered(lambda r: r.value == 1700)
        self.assertEqual(by_technician.create_uid, self.technician)
        self.assertEqual(by_technician.delta, 200)
