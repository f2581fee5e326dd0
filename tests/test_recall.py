from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestRecall(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other_vendor = cls.env["res.partner"].create({"name": "Other Vendor"})
        cls.units = cls._make_lots(
            cls.product_unit, ["RC-U1", "RC-U2", "RC-U3", "RC-U4", "RC-U5"]
        )
        cls.parts = cls._make_lots(cls.product_part, ["RC-P1", "RC-P2"])
        cls._receive(cls.units)
        cls._receive(cls.parts, vendor=cls.other_vendor)
        u1, u2, u3 = cls.units[:3]
        cls._deliver(u1 | u2, partner=cls.customer)
        cls._deliver(u3, partner=cls.other_customer)
        cls._deliver(cls.parts)
        # RC-P1 sits in RC-U1; RC-P2 was never installed
        cls.parts[0].sudo().parent_lot_id = u1
        cls.done_stage = cls.env["maintenance.stage"].search(
            [("done", "=", True)], limit=1
        )

    def _recall(self, **vals):
        return self.env["serial.recall"].create({"title": "Overheating", **vals})

    def test_component_scope_finds_the_host_units(self):
        recall = self._recall(scope_type="component", scope_lot_ids=self.parts[0].ids)
        recall.action_compute_affected()
        self.assertEqual(recall.affected_lot_ids, self.units[0])

    def test_vendor_scope_adds_units_holding_an_affected_part(self):
        recall = self._recall(scope_type="supplier", supplier_id=self.other_vendor.id)
        recall.action_compute_affected()
        self.assertEqual(recall.affected_lot_ids, self.parts | self.units[0])
        # RC-P1 is reached through RC-U1; RC-P2 was sold on its own
        self.assertEqual(recall.at_customer_count, 2)

    def test_range_scope_uses_the_serial_numbers(self):
        lots = self._make_lots(
            self.product_unit, ["RG-0998", "RG-0999", "RG-1000", "RG-1003"]
        )
        recall = self._recall(
            scope_type="range", serial_from="RG-0999", serial_to="RG-1002"
        )
        recall.action_compute_affected()
        self.assertEqual(recall.affected_lot_ids, lots[1:3])

    def test_start_quarantines_stock_and_opens_one_job_per_unit(self):
        recall = self._recall(
            scope_type="explicit",
            scope_lot_ids=self.units.ids,
            product_ids=self.product_unit.ids,
        )
        recall.action_start()
        u1, u2, u3, u4, u5 = self.units
        quarantine = self.env.ref("serial_service.stock_location_quarantine")
        self.assertEqual((u4 | u5).location_id, quarantine, "in stock: quarantined")
        quarantined = self.env["stock.quant"].search(
            [("location_id", "=", quarantine.id), ("quantity", ">", 0)]
        )
        self.assertEqual(quarantined.lot_id, u4 | u5)
        customer_location = self.env.ref("stock.stock_location_customers")
        self.assertEqual((u1 | u2 | u3).location_id, customer_location)
        self.assertEqual(recall.request_ids.lot_id, u1 | u2 | u3)
        self.assertEqual(
            set(recall.request_ids.mapped("maintenance_type")), {"preventive"}
        )
        self.assertEqual(recall.customer_ids, self.customer | self.other_customer)
        messages = recall.message_ids.filtered(lambda m: m.partner_ids)
        self.assertEqual(len(messages), 2, "one message per customer")
        to_customer = messages.filtered(lambda m: self.customer in m.partner_ids)
        self.assertIn("RC-U1", to_customer.body)
        self.assertIn("RC-U2", to_customer.body)
        self.assertNotIn("RC-U3", to_customer.body)

        # again: nothing twice
        recall.action_create_jobs()
        recall.action_notify_customers()
        recall.action_quarantine()
        self.assertEqual(len(recall.request_ids), 3)
        self.assertEqual(len(recall.message_ids.filtered(lambda m: m.partner_ids)), 2)

    def test_progress_and_closing(self):
        recall = self._recall(scope_type="explicit", scope_lot_ids=self.units[:3].ids)
        recall.action_start()
        self.assertEqual((recall.done_job_count, recall.job_count), (0, 3))
        job_u1 = recall.request_ids.filtered(lambda r: r.lot_id == self.units[0])
        job_u1.stage_id = self.done_stage
        recall.invalidate_recordset()
        self.assertEqual((recall.done_job_count, recall.job_count), (1, 3))
        self.assertAlmostEqual(recall.progress, 100.0 / 3)
        self.assertIn("Test Customer: 1 / 2", recall.customer_progress)
        self.assertIn("Other Customer: 0 / 1", recall.customer_progress)

        action = recall.action_close()
        self.assertEqual(recall.state, "running", "open units keep it running")
        self.assertEqual(
            action["domain"], [("id", "in", (self.units[1] | self.units[2]).ids)]
        )
        (recall.request_ids - job_u1).write({"stage_id": self.done_stage.id})
        recall.action_close()
        self.assertEqual(recall.state, "closed")
