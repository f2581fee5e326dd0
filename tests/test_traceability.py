from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestTraceability(SerialServiceCase):
    def test_history_lists_events_in_date_order(self):
        unit = self._make_lots(self.product_unit, ["TR-U1"])
        part = self._make_lots(self.product_part, ["TR-P1"])
        self._receive(unit | part)
        self._deliver(unit)
        job = self.env["maintenance.request"].create(
            {"name": "Noisy fuser", "lot_id": unit.id}
        )
        events = unit._get_history_events()
        kinds = [event["kind"] for event in events]
        received, delivered = kinds.index("Received"), kinds.index("Delivered")
        self.assertLess(received, delivered)
        self.assertIn("Test Vendor", events[received]["description"])
        self.assertIn("Test Customer", events[delivered]["description"])
        self.assertEqual(events[kinds.index("Job")]["record"], job)
        dates = [event["date"] for event in events]
        self.assertEqual(dates, sorted(dates))
        self.assertIn("Noisy fuser", unit.history_html)

    def _make_history(self, names):
        """Serials received, delivered, with a job and a tracked change each."""
        lots = self._make_lots(self.product_unit, names)
        # the serials' creation discards their tracking until the next commit
        self.env.flush_all()
        self.env.cr.precommit.run()
        self._receive(lots)
        self._deliver(lots)
        self.env["maintenance.request"].create(
            [{"name": f"Check {lot.name}", "lot_id": lot.id} for lot in lots]
        )
        lots.with_context(tracking_disable=False).write(
            {"installation_date": "2026-01-15"}
        )
        self.env.flush_all()
        self.env.cr.precommit.run()
        self.env.invalidate_all()
        return lots

    def test_history_is_read_in_batch(self):
        """One read of the done move lines and one of the tracked changes for
        all the serials shown: the same queries for two serials as for six."""
        # the first history computed in the test warms up the caches it uses
        self._make_history(["TRQ-WARM"]).mapped("history_html")
        for size in (2, 6):
            lots = self._make_history([f"TRQ-{size}-{i}" for i in range(size)])
            with self.assertQueryCount(__system__=17):
                histories = lots.mapped("history_html")
            for history in histories:
                self.assertIn("Delivered", history)
                self.assertIn("Check TRQ-", history)
                self.assertIn("Installation Date", history)

    def test_genealogy_up_and_down(self):
        unit, module, part = self._make_lots(
            self.product_unit, ["TR-UNIT", "TR-MODULE", "TR-PART"]
        )
        module.parent_lot_id = unit
        part.parent_lot_id = module
        self.assertEqual(part._get_genealogy()[0], [module, unit])
        self.assertEqual(unit._get_genealogy()[1], [(1, module), (2, part)])
        self.assertEqual(part._get_host_lots(), module | unit)

    def test_history_report_renders(self):
        unit = self._make_lots(self.product_unit, ["TR-REP"])
        self._receive(unit)
        report = self.env.ref("serial_service.stock_lot_history_report")
        html, _type = report._render_qweb_html(report.report_name, unit.ids)
        self.assertIn(b"TR-REP", html)
        self.assertIn(b"o_serial_history", html)
        self.assertIn(b"Received", html)
