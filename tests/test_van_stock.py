from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestVanStock(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.toner = cls._make_product(
            "Van Toner",
            tracking="none",
            seller_ids=[Command.create({"partner_id": cls.vendor.id, "price": 10})],
        )
        cls.belt = cls._make_product(
            "Van Belt",
            tracking="none",
            seller_ids=[Command.create({"partner_id": cls.vendor.id, "price": 4})],
        )
        cls.tech2 = cls.manager  # a second person with a van
        wizard = cls.env["serial.van.setup"].create(
            {
                "warehouse_id": cls.warehouse.id,
                "user_ids": [Command.set((cls.technician | cls.tech2).ids)],
                "line_ids": [
                    Command.create(
                        {"product_id": cls.toner.id, "min_qty": 2, "max_qty": 4}
                    ),
                    Command.create(
                        {"product_id": cls.belt.id, "min_qty": 2, "max_qty": 4}
                    ),
                ],
            }
        )
        cls.vans = wizard._create_vans()
        cls.van1 = cls.technician.van_location_id
        Quant = cls.env["stock.quant"]
        for product in (cls.toner, cls.belt):
            Quant._update_available_quantity(product, cls.van1, 3)
        Quant._update_available_quantity(cls.toner, cls.stock_location, 5)
        Quant._update_available_quantity(cls.belt, cls.stock_location, 50)
        cls.env["stock.warehouse.orderpoint"].create(
            {
                "warehouse_id": cls.warehouse.id,
                "location_id": cls.stock_location.id,
                "product_id": cls.toner.id,
                "product_min_qty": 4,
                "product_max_qty": 10,
                "route_id": cls.env.ref("purchase_stock.route_warehouse0_buy").id,
                "trigger": "auto",
            }
        )

    def _use_from_van(self, quantities):
        moves = self.env["stock.move"].create(
            [
                {
                    "name": "Used on a job",
                    "product_id": product.id,
                    "product_uom": product.uom_id.id,
                    "product_uom_qty": qty,
                    "location_id": self.van1.id,
                    "location_dest_id": self.customer_location.id,
                }
                for product, qty in quantities.items()
            ]
        )
        moves._action_confirm()
        moves._action_assign()
        moves.picked = True
        moves._action_done()
        return moves

    def _resupply_pickings(self, van):
        return self.env["stock.picking"].search(
            [("location_dest_id", "=", van.id), ("state", "not in", ("done", "cancel"))]
        )

    def test_vans_are_created_with_their_rules(self):
        self.assertEqual(len(self.vans), 2)
        self.assertEqual(self.vans.location_id, self.warehouse.van_parent_location_id)
        self.assertNotEqual(
            self.warehouse.van_parent_location_id.location_id, self.stock_location
        )
        rules = self.env["stock.warehouse.orderpoint"].search(
            [("location_id", "=", self.van1.id)]
        )
        self.assertEqual(rules.product_id, self.toner | self.belt)
        self.assertEqual(rules.route_id, self.warehouse.van_resupply_route_id)
        self.assertEqual(set(rules.mapped("product_min_qty")), {2.0})

    def test_van_below_minimum_gets_one_transfer_and_depot_one_rfq(self):
        self._use_from_van({self.toner: 2, self.belt: 2})
        pickings = self._resupply_pickings(self.van1)
        self.assertEqual(len(pickings), 1, "one resupply transfer per van")
        self.assertEqual(pickings.location_id, self.stock_location)
        quantities = {m.product_id: m.product_uom_qty for m in pickings.move_ids}
        self.assertEqual(quantities, {self.toner: 3.0, self.belt: 3.0}, "up to max 4")
        self.assertFalse(self._resupply_pickings(self.tech2.van_location_id))
        rfqs = self.env["purchase.order"].search(
            [("partner_id", "=", self.vendor.id), ("state", "=", "draft")]
        )
        self.assertEqual(len(rfqs), 1, "the depot went below its minimum")
        self.assertEqual(rfqs.order_line.product_id, self.toner)
        # depot forecast: 5 on hand - 3 to the van = 2, up to max 10
        self.assertEqual(rfqs.order_line.product_qty, 8.0)

        # running the procurement again creates nothing twice
        self.env["stock.warehouse.orderpoint"].search(
            [("product_id", "in", (self.toner | self.belt).ids)]
        )._procure_below_minimum()
        self.assertEqual(self._resupply_pickings(self.van1), pickings)
        self.assertEqual(len(pickings.move_ids), 2)
        self.assertEqual(
            self.env["purchase.order"].search(
                [("partner_id", "=", self.vendor.id), ("state", "=", "draft")]
            ),
            rfqs,
        )
        self.assertEqual(rfqs.order_line.product_qty, 8.0)

    def test_van_above_minimum_orders_nothing(self):
        self._use_from_van({self.toner: 1})
        self.assertFalse(self._resupply_pickings(self.van1))

    def test_audit_finds_missing_unexpected_and_miscounted(self):
        van = self.van1
        s1, s2, s3 = self._make_lots(self.product_part, ["VA-1", "VA-2", "VA-3"])
        Quant = self.env["stock.quant"]
        Quant._update_available_quantity(self.product_part, van, 1, lot_id=s1)
        Quant._update_available_quantity(self.product_part, van, 1, lot_id=s2)
        Quant._update_available_quantity(
            self.product_part, self.stock_location, 1, lot_id=s3
        )
        audit = (
            self.env["serial.van.audit"]
            .with_user(self.technician)
            .create({"location_id": van.id})
        )
        audit.action_load_expected()
        audit.line_ids.filtered(
            lambda line: line.product_id == self.toner
        ).counted_qty = 1
        audit.line_ids.filtered(
            lambda line: line.product_id == self.belt
        ).counted_qty = 3
        audit.scanned_serials = "VA-1\nVA-3\n"
        audit.action_compare()
        kinds = {(line.product_id, line.lot_id): line.kind for line in audit.line_ids}
        self.assertEqual(kinds[self.product_part, s1], "ok")
        self.assertEqual(kinds[self.product_part, s2], "missing")
        self.assertEqual(kinds[self.product_part, s3], "unexpected")
        self.assertEqual(kinds[self.toner, self.env["stock.lot"]], "difference")
        self.assertEqual(kinds[self.belt, self.env["stock.lot"]], "ok")
        self.assertEqual(audit.discrepancy_count, 3)
        with self.assertRaises(UserError):
            audit.action_apply()  # a technician cannot confirm
        audit.with_user(self.manager).action_apply()
        self.assertEqual(audit.state, "applied")

        def on_hand(product, location, lot=None):
            return Quant._get_available_quantity(
                product, location, lot_id=lot, strict=True
            )

        self.assertEqual(on_hand(self.product_part, van, s1), 1)
        self.assertEqual(on_hand(self.product_part, van, s2), 0)
        self.assertEqual(on_hand(self.product_part, van, s3), 1)
        self.assertEqual(on_hand(self.product_part, self.stock_location, s3), 0)
        self.assertEqual(on_hand(self.toner, van), 1)
        self.assertEqual(on_hand(self.belt, van), 3)

    def test_depots_below_minimum_fill_one_rfq_per_vendor(self):
        other_vendor = self.env["res.partner"].create(
            {"name": "Belt Vendor", "is_company": True}
        )
        self.belt.seller_ids = [
            Command.clear(),
            Command.create({"partner_id": other_vendor.id, "price": 4}),
        ]
        self.env["stock.warehouse.orderpoint"].create(
            {
                "warehouse_id": self.warehouse.id,
                "location_id": self.stock_location.id,
                "product_id": self.belt.id,
                "product_min_qty": 49,
                "product_max_qty": 60,
                "route_id": self.env.ref("purchase_stock.route_warehouse0_buy").id,
                "trigger": "auto",
            }
        )
        # the scheduler's RFQ to the toner's vendor is still a draft: filled
        existing = self.env["purchase.order"].create(
            {
                "partner_id": self.vendor.id,
                "user_id": False,
                "picking_type_id": self.warehouse.in_type_id.id,
                "order_line": [
                    Command.create(
                        {"product_id": self.product_part.id, "product_qty": 1}
                    )
                ],
            }
        )
        self._use_from_van({self.toner: 2, self.belt: 2})
        rfqs = self.env["purchase.order"].search(
            [
                ("state", "=", "draft"),
                ("partner_id", "in", (self.vendor | other_vendor).ids),
            ]
        )
        by_vendor = {order.partner_id: order for order in rfqs}
        self.assertEqual(len(rfqs), 2, "one RFQ per vendor")
        self.assertEqual(by_vendor[self.vendor], existing)
        self.assertEqual(existing.order_line.product_id, self.product_part | self.toner)
        # depot belt: 50 on hand - 3 to the van = 47, below 49: up to 60
        belt_line = by_vendor[other_vendor].order_line
        self.assertEqual(
            (belt_line.product_id, belt_line.product_qty), (self.belt, 13.0)
        )
