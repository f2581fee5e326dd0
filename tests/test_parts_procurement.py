from datetime import datetime

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestPartsProcurement(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.buy_route = cls.env.ref("purchase_stock.route_warehouse0_buy")
        cls.toner = cls._make_product(
            "Plan Toner",
            tracking="none",
            service_line_type="consumable",
            seller_ids=[
                Command.create({"partner_id": cls.vendor.id, "price": 10, "delay": 5})
            ],
        )
        cls.belt = cls._make_product(
            "Plan Belt",
            tracking="none",
            service_line_type="part",
            seller_ids=[
                Command.create({"partner_id": cls.vendor.id, "price": 4, "delay": 2})
            ],
        )
        cls.env["serial.van.setup"].create(
            {
                "warehouse_id": cls.warehouse.id,
                "user_ids": [Command.set(cls.technician.ids)],
            }
        )._create_vans()
        cls.van = cls.technician.van_location_id
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(cls.toner, cls.van, 1)
        Quant._update_available_quantity(cls.belt, cls.stock_location, 5)

    def _make_job(self, lines, schedule=None, user=None):
        return self.env["maintenance.request"].create(
            {
                "name": "Plan job",
                "user_id": (user or self.technician).id,
                "customer_id": self.customer.id,
                "schedule_date": schedule or datetime(2026, 3, 10, 9, 0),
                "service_line_ids": [
                    Command.create({"product_id": product.id, "quantity": qty})
                    for product, qty in lines.items()
                ],
            }
        )

    def _rfq_lines(self, product):
        return self.env["purchase.order.line"].search(
            [("product_id", "=", product.id), ("state", "!=", "cancel")]
        )

    @freeze_time("2026-03-02 08:00:00")
    def test_missing_part_is_bought_for_the_job(self):
        job = self._make_job({self.toner: 3, self.belt: 2})
        self.assertEqual(job.parts_state, "available")
        job.action_plan_parts()

        group = job.procurement_group_id
        self.assertTrue(group)
        # toner: 3 needed, 1 in the van, none in the depot: 2 bought
        line = self._rfq_lines(self.toner)
        self.assertEqual(len(line), 1)
        self.assertEqual(line.product_qty, 2.0)
        self.assertEqual(line.order_id.partner_id, self.vendor)
        self.assertEqual(line.order_id.state, "draft")
        self.assertEqual(line.move_dest_ids.group_id, group, "linked to the job")
        # belt: 5 in the depot, nothing bought
        self.assertFalse(self._rfq_lines(self.belt))
        # the van gets both by one transfer of the job's group
        to_van = group.stock_move_ids
        self.assertEqual(
            {m.product_id: m.product_uom_qty for m in to_van},
            {self.toner: 2.0, self.belt: 2.0},
        )
        self.assertEqual(to_van.location_dest_id, self.van)
        self.assertEqual(to_van.location_id, self.stock_location)
        self.assertEqual(len(to_van.picking_id), 1)
        self.assertEqual(
            to_van.picking_id.picking_type_id, self.warehouse.van_resupply_type_id
        )
        self.assertEqual(job.parts_state, "waiting")
        self.assertEqual(job.parts_expected_date, datetime(2026, 3, 7, 8, 0))
        self.assertEqual(job.parts_purchase_count, 1)

        # the vendor confirms, the parts arrive: the technician is told
        order = line.order_id
        order.button_confirm()
        self.assertEqual(job.parts_state, "waiting")
        receipt = order.picking_ids
        receipt.move_ids.quantity = 2
        receipt.move_ids.picked = True
        receipt.button_validate()
        self.assertEqual(receipt.state, "done")
        self.assertEqual(job.parts_state, "ready")
        self.assertFalse(job.parts_expected_date)
        activity = job.activity_ids.filtered(
            lambda a: a.user_id == self.technician and a.summary == "Parts arrived"
        )
        self.assertEqual(len(activity), 1)
        self.assertIn("Plan Toner (2)", str(activity.note))
        self.assertIn("All parts bought", str(activity.note))
        # the received parts are reserved for the job's van transfer
        toner_move = to_van.filtered(lambda m: m.product_id == self.toner)
        self.assertEqual(toner_move.state, "assigned")

    @freeze_time("2026-03-02 08:00:00")
    def test_planning_twice_creates_nothing_twice(self):
        job = self._make_job({self.toner: 3, self.belt: 2})
        job.action_plan_parts()
        moves = job.procurement_group_id.stock_move_ids
        orders = self.env["purchase.order"].search(
            [("partner_id", "=", self.vendor.id)]
        )
        job.action_plan_parts()
        self.assertEqual(job.procurement_group_id.stock_move_ids, moves)
        self.assertEqual(
            self.env["purchase.order"].search([("partner_id", "=", self.vendor.id)]),
            orders,
        )
        self.assertEqual(self._rfq_lines(self.toner).product_qty, 2.0)

        # one more toner on the job: only that one is added
        job.service_line_ids.filtered(
            lambda line: line.product_id == self.toner
        ).quantity = 4
        job.action_plan_parts()
        self.assertEqual(self._rfq_lines(self.toner).product_qty, 3.0)
        self.assertEqual(
            sum(
                job.procurement_group_id.stock_move_ids.filtered(
                    lambda m: m.product_id == self.toner
                ).mapped("product_uom_qty")
            ),
            3.0,
        )

    def test_van_stock_is_shared_by_schedule(self):
        # the van's toner goes to the earlier job of the same technician
        early = self._make_job({self.toner: 1}, schedule=datetime(2026, 3, 9, 8, 0))
        late = self._make_job({self.toner: 1}, schedule=datetime(2026, 3, 11, 8, 0))
        late.action_plan_parts()
        self.assertEqual(self._rfq_lines(self.toner).product_qty, 1.0)
        self.assertEqual(late.parts_state, "waiting")
        early.action_plan_parts()
        self.assertFalse(early.procurement_group_id.stock_move_ids)
        self.assertEqual(early.parts_state, "available")

    def test_job_without_van_or_done_is_refused(self):
        job = self._make_job({self.toner: 3}, user=self.consultant)
        with self.assertRaises(UserError) as cm:
            job.action_plan_parts()
        self.assertIn("Assign a technician with a van", str(cm.exception))
        self.assertFalse(job.procurement_group_id)
        job.stage_id = self.env["maintenance.stage"].search(
            [("done", "=", True)], limit=1
        )
        with self.assertRaises(UserError) as cm:
            job.action_plan_parts()
        self.assertIn("not yet done", str(cm.exception))
