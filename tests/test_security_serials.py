"""The serial side of ownership and coverage, as the technician who would try
to go around the contract or the manager: contract links, owner and warranty
set at creation, installation date, redelivery, genealogy cycles."""

from datetime import timedelta

from odoo import Command, fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import Form, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSecuritySerialContracts(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy = cls.env["serial.warranty.policy"].create(
            {
                "name": "Security 12 months from installation",
                "duration_months": 12,
                "start_trigger": "installation",
            }
        )
        cls.lot, cls.other_lot = cls._make_lots(
            cls.product_unit, ["SEC-LOT-1", "SEC-LOT-2"]
        )
        cls.lot.write(
            {
                "customer_id": cls.customer.id,
                "warranty_policy_id": cls.policy.id,
                "installation_date": "2026-01-15",
            }
        )
        cls.template = cls.env["sale.subscription.template"].create(
            {
                "name": "Security full cover",
                "coverage_rule_ids": [Command.create({"coverage_percent": 100})],
            }
        )
        cls.contract = cls._create_contract(
            cls.customer,
            cls.lot,
            cls.template,
            date_start=fields.Date.today() - timedelta(days=5),
        )

    def test_technician_cannot_link_or_unlink_a_contract_from_the_serial(self):
        tech = self.technician
        with self.assertRaises(AccessError) as refused:
            self.other_lot.with_user(tech).write(
                {"subscription_ids": [Command.link(self.contract.id)]}
            )
        self.assertIn("chosen on the contract", str(refused.exception))
        with self.assertRaises(AccessError):
            self.lot.with_user(tech).write(
                {"subscription_ids": [Command.unlink(self.contract.id)]}
            )
        with self.assertRaises(AccessError):
            self.lot.with_user(tech).write({"subscription_ids": [Command.clear()]})
        self.assertEqual(self.contract.covered_lot_ids, self.lot)
        self.assertEqual(self.lot.subscription_ids, self.contract)
        self.assertFalse(self.other_lot.subscription_ids)

    def test_manager_links_contracts_on_the_contract_only(self):
        """Even a manager goes through the contract, where the one running
        contract per serial is checked and the change tracked."""
        with self.assertRaises(AccessError):
            self.other_lot.with_user(self.manager).write(
                {"subscription_ids": [Command.link(self.contract.id)]}
            )
        self.assertFalse(self.other_lot.subscription_ids)

    def test_technician_cannot_create_a_serial_with_owner_or_warranty(self):
        Lot = self.env["stock.lot"].with_user(self.technician)
        refused_vals = [
            {"customer_id": self.customer.id},
            {"warranty_policy_id": self.policy.id},
            {"warranty_end_date": "2040-01-01"},
            {"delivery_date": "2026-01-01"},
            {"installation_date": "2026-01-01"},
            {"subscription_ids": [Command.link(self.contract.id)]},
        ]
        for vals in refused_vals:
            with self.subTest(vals=vals), self.assertRaises(AccessError):
                Lot.create(
                    {
                        "name": "SEC-NEW",
                        "product_id": self.product_unit.id,
                        "company_id": self.company.id,
                        **vals,
                    }
                )
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "SEC-NEW")]))
        # a bare serial (what a receipt creates) is fine
        lot = Lot.create(
            {
                "name": "SEC-NEW",
                "product_id": self.product_unit.id,
                "company_id": self.company.id,
            }
        )
        self.assertFalse(lot.customer_id)

    def test_installation_date_is_manager_only(self):
        end = self.lot.warranty_end_date
        self.assertEqual(end, fields.Date.to_date("2027-01-14"))
        for value in ("2026-06-01", False):
            with self.subTest(value=value), self.assertRaises(AccessError):
                self.lot.with_user(self.technician).write({"installation_date": value})
        self.assertEqual(self.lot.installation_date, fields.Date.to_date("2026-01-15"))
        self.assertEqual(self.lot.warranty_end_date, end)
        self.lot.with_user(self.manager).installation_date = "2026-02-01"
        self.assertEqual(self.lot.warranty_end_date, fields.Date.to_date("2027-01-31"))

    def test_redelivery_keeps_the_warranty_a_manager_set(self):
        lot = self._make_lots(self.product_unit, ["SEC-REDELIVER"])
        self._receive(lot)
        delivery = self._deliver(lot)
        lot.with_user(self.manager).write(
            {"delivery_date": "2026-01-15", "warranty_end_date": "2027-06-30"}
        )
        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=delivery.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = 1
        return_picking = self.env["stock.picking"].browse(
            wizard.action_create_returns()["res_id"]
        )
        return_picking.move_ids.lot_ids = lot
        return_picking.button_validate()
        self._deliver(lot)
        self.assertEqual(lot.customer_id, self.customer)
        self.assertEqual(lot.delivery_date, fields.Date.to_date("2026-01-15"))
        self.assertEqual(lot.warranty_end_date, fields.Date.to_date("2027-06-30"))


@tagged("post_install", "-at_install")
class TestSecurityGenealogy(SerialServiceCase):
    def test_a_unit_cannot_be_installed_in_its_own_components(self):
        unit, board, chip = self._make_lots(
            self.product_unit, ["SEC-UNIT", "SEC-BOARD", "SEC-CHIP"]
        )
        board.parent_lot_id = unit
        chip.parent_lot_id = board
        for lot, parent in ((unit, chip), (unit, board), (board, board)):
            with self.subTest(lot=lot.name, parent=parent.name):
                with self.assertRaises(ValidationError) as refused:
                    lot.with_user(self.manager).parent_lot_id = parent
                self.assertIn(lot.name, str(refused.exception))
        self.env.invalidate_all()
        self.assertFalse(unit.parent_lot_id)
        self.assertEqual(board.parent_lot_id, unit)
        upstream, downstream = unit._get_genealogy()
        self.assertEqual(upstream, [])
        self.assertEqual(downstream, [(1, board), (2, chip)])
