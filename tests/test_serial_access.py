from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSerialAccess(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.lot = cls._make_lots(cls.product_unit, ["ACC-1"])
        cls._receive(cls.lot)
        cls._deliver(cls.lot)

    def test_technician_reads_serial_but_cannot_change_owner(self):
        lot = self.lot.with_user(self.technician)
        self.assertEqual(lot.customer_id.name, "Test Customer")
        self.assertEqual(lot.equipment_id.lot_id, self.lot)
        self.assertFalse(lot.can_edit_ownership)
        with self.assertRaises(AccessError):
            lot.write({"customer_id": self.other_customer.id})
        self.assertEqual(self.lot.customer_id, self.customer)
        # other fields of the serial stay editable by stock users (the
        # installation date no longer: it moves installation-started warranties)
        lot.write({"ref": "Rack 4"})
        self.assertEqual(self.lot.ref, "Rack 4")
        with self.assertRaises(AccessError):
            lot.write({"installation_date": "2026-02-01"})

    def test_manager_can_change_owner(self):
        lot = self.lot.with_user(self.manager)
        self.assertTrue(lot.can_edit_ownership)
        lot.write({"customer_id": self.other_customer.id})
        self.assertEqual(self.lot.customer_id, self.other_customer)

    def test_other_company_sees_no_serial(self):
        other_company = self.env["res.company"].create({"name": "Other Service Co"})
        outsider = new_test_user(
            self.env,
            login="other_company_manager",
            groups="serial_service.group_service_manager",
            company_id=other_company.id,
            company_ids=[other_company.id],
        )
        Lot = self.env["stock.lot"].with_user(outsider)
        self.assertFalse(Lot.search([("name", "=", "ACC-1")]))
        self.assertFalse(
            self.env["maintenance.equipment"]
            .with_user(outsider)
            .search([("lot_id", "=", self.lot.id)])
        )
        with self.assertRaises(AccessError):
            self.lot.with_user(outsider).read(["customer_id"])
