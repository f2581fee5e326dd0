from odoo import Command, fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import Form, tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestSerialRegistry(SerialServiceCase):
    def test_receipt_sets_supplier_and_receipt_date(self):
        lots = self._make_lots(self.product_unit, ["REG-R1", "REG-R2"])
        picking = self._receive(lots)
        self.assertEqual(picking.state, "done")
        today = fields.Date.context_today(lots)
        for lot in lots:
            self.assertEqual(lot.supplier_id, self.vendor)
            self.assertEqual(lot.receipt_date, today)
            self.assertFalse(lot.customer_id)
            self.assertFalse(lot.equipment_id, "no equipment before delivery")
        self.assertEqual(lots[0].receipt_picking_ids, picking)
        self.assertEqual(lots[0].receipt_count, 1)

    def test_delivery_sets_customer_date_and_creates_equipment(self):
        lots = self._make_lots(self.product_unit, ["REG-D1", "REG-D2"])
        part = self._make_lots(self.product_part, ["REG-DP1"])
        self._receive(lots | part)
        picking = self._deliver(lots | part, partner=self.customer_site)
        today = fields.Date.context_today(lots)
        for lot in lots | part:
            self.assertEqual(lot.customer_id, self.customer, "owner is the company")
            self.assertEqual(lot.site_id, self.customer_site, "site is the address")
            self.assertEqual(lot.delivery_date, today)
            self.assertEqual(lot.location_id, self.customer_location)
        self.assertEqual(lots[0].delivery_picking_ids, picking)
        equipment = lots.equipment_id
        self.assertEqual(len(equipment), 2, "one equipment per service-managed serial")
        self.assertEqual(equipment.lot_id, lots)
        self.assertEqual(equipment.mapped("customer_id"), self.customer)
        self.assertEqual(lots[0].equipment_id.serial_no, lots[0].name)
        self.assertFalse(part.equipment_id, "a part is not service-managed")

    def test_return_clears_owner_and_redelivery_changes_it(self):
        lot = self._make_lots(self.product_unit, ["REG-RET1"])
        self._receive(lot)
        delivery = self._deliver(lot)
        equipment = lot.equipment_id
        self.assertEqual(lot.customer_id, self.customer)

        wizard = Form(
            self.env["stock.return.picking"].with_context(
                active_id=delivery.id, active_model="stock.picking"
            )
        ).save()
        wizard.product_return_moves.quantity = 1
        action = wizard.action_create_returns()
        return_picking = self.env["stock.picking"].browse(action["res_id"])
        return_picking.move_ids.lot_ids = lot
        return_picking.button_validate()
        self.assertEqual(return_picking.state, "done")
        self.assertFalse(lot.customer_id, "a customer return clears the owner")
        self.assertFalse(equipment.customer_id)

        self._deliver(lot, partner=self.other_customer)
        self.assertEqual(lot.customer_id, self.other_customer)
        self.assertEqual(lot.equipment_id, equipment, "never a second equipment")
        self.assertEqual(equipment.customer_id, self.other_customer)

    def test_ownership_changes_are_tracked(self):
        tracked_env = self.env(context=dict(self.env.context, tracking_disable=False))
        lot = tracked_env["stock.lot"].create(
            {"name": "REG-TRK1", "product_id": self.product_unit.id}
        )
        # mail tracks nothing of a record in the transaction that created it:
        # close that "transaction" as a commit would
        self.env.cr.precommit.run()
        for source, dest, partner in (
            (self.supplier_location, self.stock_location, self.vendor),
            (self.stock_location, self.customer_location, self.customer),
        ):
            self._transfer(
                self.warehouse.in_type_id,
                partner,
                source,
                dest,
                {self.product_unit: lot},
                env=tracked_env,
            )
        # tracking values are written when the transaction commits
        self.env.cr.precommit.run()
        tracked = (
            self.env["mail.tracking.value"]
            .search(
                [
                    ("mail_message_id.model", "=", "stock.lot"),
                    ("mail_message_id.res_id", "=", lot.id),
                ]
            )
            .field_id.mapped("name")
        )
        self.assertIn("customer_id", tracked)
        self.assertIn("supplier_id", tracked)

    def test_delivering_serial_already_at_customer_is_refused(self):
        lot = self._make_lots(self.product_unit, ["REG-TWICE"])
        self._receive(lot)
        self._deliver(lot)
        quants_before = self.env["stock.quant"].search_read(
            [("lot_id", "=", lot.id)], ["location_id", "quantity"]
        )
        with self.assertRaises(UserError) as error:
            self._deliver(lot, partner=self.other_customer)
        self.assertRegex(str(error.exception), "REG-TWICE.*Test Customer")
        self.assertEqual(lot.customer_id, self.customer, "owner unchanged")
        self.assertEqual(
            self.env["stock.quant"].search_read(
                [("lot_id", "=", lot.id)], ["location_id", "quantity"]
            ),
            quants_before,
            "stock unchanged",
        )

    def test_second_equipment_for_serial_is_refused(self):
        lot = self._make_lots(self.product_unit, ["REG-EQ1"])
        self._receive(lot)
        self._deliver(lot)
        count = self.env["maintenance.equipment"].search_count([])
        with self.assertRaises(ValidationError) as error:
            self.env["maintenance.equipment"].create(
                {"name": "Duplicate", "lot_id": lot.id}
            )
        self.assertRegex(str(error.exception), "only one equipment.*REG-EQ1")
        self.assertEqual(self.env["maintenance.equipment"].search_count([]), count)

    def test_components_and_jobs_hang_off_the_serial(self):
        unit, part = (
            self._make_lots(self.product_unit, ["REG-U1"]),
            self._make_lots(self.product_part, ["REG-P1"]),
        )
        part.parent_lot_id = unit
        self.assertEqual(unit.child_lot_ids, part)
        request = self.env["maintenance.request"].create(
            {"name": "Paper jam", "lot_id": unit.id}
        )
        self.assertEqual(unit.request_ids, request)
        self.assertEqual(unit.request_count, 1)
        action = unit.action_view_requests()
        self.assertEqual(action["domain"], [("lot_id", "=", unit.id)])

    def test_search_by_order_and_customer(self):
        lot = self._make_lots(self.product_unit, ["REG-SO1"])
        self._receive(lot)
        order = self.env["sale.order"].create(
            {
                "partner_id": self.customer.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product_unit.id, "product_uom_qty": 1}
                    )
                ],
            }
        )
        order.action_confirm()
        picking = order.picking_ids
        picking.move_ids.lot_ids = lot
        picking.button_validate()
        self.assertEqual(lot.last_sale_id, order)
        Lot = self.env["stock.lot"]
        self.assertEqual(Lot.search([("last_sale_id", "ilike", order.name)]), lot)
        self.assertEqual(Lot.search([("last_sale_id", "=", order.id)]), lot)
        self.assertEqual(
            Lot.search(
                [("customer_id", "=", self.customer.id), ("name", "=", "REG-SO1")]
            ),
            lot,
        )
