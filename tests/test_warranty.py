from datetime import date

from freezegun import freeze_time

from odoo import Command
from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestWarranty(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.policy = cls.env["serial.warranty.policy"].create(
            {
                "name": "One year",
                "duration_months": 12,
                "expiry_notice_days": 30,
                "excluded_categ_ids": [Command.set(cls.categ_consumables.ids)],
            }
        )
        cls.install_policy = cls.env["serial.warranty.policy"].create(
            {
                "name": "From installation",
                "duration_months": 24,
                "start_trigger": "installation",
            }
        )
        cls.product_unit.warranty_policy_id = cls.policy
        cls.toner = cls._make_product(
            "Warranty Toner", categ=cls.categ_consumables, tracking="none",
            service_line_type="consumable",
        )  # fmt: skip

    def test_end_date_arithmetic(self):
        Lot = self.env["stock.lot"]
        self.assertEqual(
            Lot._get_warranty_end_date(date(2026, 1, 15), 12), date(2027, 1, 14)
        )
        self.assertEqual(
            Lot._get_warranty_end_date(date(2026, 1, 31), 1), date(2026, 2, 27)
        )
        self.assertFalse(Lot._get_warranty_end_date(False, 12))

    def test_delivery_starts_the_warranty(self):
        lot = self._make_lots(self.product_unit, ["WAR-1"])
        self._receive(lot)
        self.assertFalse(lot.warranty_policy_id, "no warranty before delivery")
        self.assertEqual(lot.warranty_state, "none")
        self._deliver(lot)
        self.assertEqual(lot.warranty_policy_id, self.policy)
        self.assertEqual(lot.warranty_start_date, lot.delivery_date)
        self.assertEqual(
            lot.warranty_end_date,
            self.env["stock.lot"]._get_warranty_end_date(lot.delivery_date, 12),
        )
        self.assertEqual(lot.warranty_state, "active")

    def test_installation_policy_waits_for_installation(self):
        lot = self._make_lots(self.product_unit, ["WAR-INS"])
        lot.write(
            {
                "warranty_policy_id": self.install_policy.id,
                "delivery_date": date(2026, 1, 10),
            }
        )
        self.assertFalse(lot.warranty_start_date)
        self.assertEqual(lot.warranty_state, "none")
        lot.installation_date = date(2026, 2, 1)
        self.assertEqual(lot.warranty_start_date, date(2026, 2, 1))
        self.assertEqual(lot.warranty_end_date, date(2028, 1, 31))

    def test_states_move_with_the_calendar_and_cron(self):
        lot = self._make_lots(self.product_unit, ["WAR-CAL"])
        with freeze_time("2026-01-15"):
            lot.write(
                {
                    "warranty_policy_id": self.policy.id,
                    "delivery_date": date(2026, 1, 15),
                }
            )
            self.assertEqual(lot.warranty_state, "active")
        for day, state in (
            ("2026-12-15", "active"),
            ("2026-12-16", "expiring"),
            ("2027-01-14", "expiring"),
            ("2027-01-15", "expired"),
        ):
            with freeze_time(day):
                self.env["stock.lot"]._cron_refresh_warranty_state()
                self.assertEqual(lot.warranty_state, state, day)
        self.assertEqual(lot._get_warranty_state(date(2026, 1, 14)), "none")

    def test_cron_schedules_one_activity_per_window(self):
        lots = self._make_lots(self.product_unit, ["WAR-A1", "WAR-A2"])
        lots.write(
            {"warranty_policy_id": self.policy.id, "delivery_date": date(2026, 1, 15)}
        )
        self.customer.user_id = self.manager
        lots[0].sudo().customer_id = self.customer
        Activity = self.env["mail.activity"]
        domain = [("res_model", "=", "stock.lot"), ("res_id", "in", lots.ids)]
        with freeze_time("2026-12-20"):
            self.env["stock.lot"]._cron_refresh_warranty_state()
            self.env["stock.lot"]._cron_refresh_warranty_state()
        activities = Activity.search(domain)
        self.assertEqual(len(activities), 2, "one per serial, even run twice")
        self.assertEqual(
            activities.filtered(lambda a: a.res_id == lots[0].id).user_id, self.manager
        )
        with freeze_time("2026-12-28"):  # late or again: still the same window
            self.env["stock.lot"]._cron_refresh_warranty_state()
        self.assertEqual(Activity.search_count(domain), 2)
        # a renewed warranty is a new window
        lots[0].sudo().warranty_end_date = date(2027, 12, 31)
        with freeze_time("2027-12-10"):
            self.env["stock.lot"]._cron_refresh_warranty_state()
        self.assertEqual(Activity.search_count(domain), 3)

    def test_cron_commits_batches_reports_progress_and_resumes(self):
        names = [f"WAR-B{i}" for i in range(5)]
        lots = self._make_lots(self.product_unit, names)
        with freeze_time("2026-01-15"):
            lots.write(
                {"warranty_policy_id": self.policy.id, "delivery_date": "2026-01-15"}
            )
        self.assertEqual(set(lots.mapped("warranty_state")), {"active"})
        cron = self.env.ref("serial_service.ir_cron_warranty_state")
        Lot = self.env["stock.lot"]
        Param = self.env["ir.config_parameter"]
        domain = [("res_model", "=", "stock.lot"), ("res_id", "in", lots.ids)]
        with freeze_time("2026-12-20"):
            # a bookmark of another day is not followed
            Param.set_param(
                "serial_service.warranty_cron_resume", f"2026-12-19,{lots[-1].id}"
            )
            to_do = Lot.search_count(
                [
                    ("warranty_end_date", "!=", False),
                    "|",
                    ("warranty_state", "!=", "expired"),
                    ("warranty_end_date", ">=", "2026-12-20"),
                ]
            )
            progresses, calls = [], 0
            while calls < 50:
                calls += 1
                progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
                Lot.with_context(
                    ir_cron_progress_id=progress.id
                )._cron_refresh_warranty_state(batch_size=2, time_budget=0)
                progresses.append((progress.done, progress.remaining))
                if not progress.remaining:
                    break
            # one batch per call, no time left after it: Odoo calls again
            self.assertEqual(progresses[0][0], 2)
            self.assertEqual(progresses[0][1], to_do - 2)
            self.assertEqual(sum(done for done, _remaining in progresses), to_do)
            self.assertEqual(progresses[-1][1], 0)
            self.assertGreaterEqual(calls, 3)
            self.assertFalse(Param.get_param("serial_service.warranty_cron_resume"))
            # the same result as one call doing it all
            self.assertEqual(set(lots.mapped("warranty_state")), {"expiring"})
            activities = self.env["mail.activity"].search(domain)
            self.assertEqual(sorted(activities.mapped("res_id")), sorted(lots.ids))
            # a run later that day starts over, and changes nothing
            progress = self.env["ir.cron.progress"].create({"cron_id": cron.id})
            Lot.with_context(
                ir_cron_progress_id=progress.id
            )._cron_refresh_warranty_state()
            # every serial still to refresh that day: all but those whose
            # warranty the first run ended (the demo data has some)
            to_do = Lot.search_count(
                [
                    ("warranty_end_date", "!=", False),
                    "|",
                    ("warranty_state", "!=", "expired"),
                    ("warranty_end_date", ">=", "2026-12-20"),
                ]
            )
            self.assertEqual((progress.done, progress.remaining), (to_do, 0))
            self.assertEqual(self.env["mail.activity"].search(domain), activities)

    def test_manager_override_tracked_technician_refused(self):
        tracked_env = self.env(context=dict(self.env.context, tracking_disable=False))
        lot = tracked_env["stock.lot"].create(
            {"name": "WAR-OVR", "product_id": self.product_unit.id}
        )
        self.env.cr.precommit.run()
        with self.assertRaises(AccessError):
            lot.with_user(self.technician).write(
                {"warranty_end_date": date(2030, 1, 1)}
            )
        lot.with_user(self.manager).write({"warranty_end_date": date(2030, 1, 1)})
        self.env.cr.precommit.run()
        tracking = self.env["mail.tracking.value"].search(
            [
                ("mail_message_id.model", "=", "stock.lot"),
                ("mail_message_id.res_id", "=", lot.id),
                ("field_id.name", "=", "warranty_end_date"),
            ]
        )
        self.assertEqual(len(tracking), 1)
        self.assertEqual(tracking.mail_message_id.author_id, self.manager.partner_id)

    def test_excluded_category_not_covered(self):
        lot = self._make_lots(self.product_unit, ["WAR-EXC"])
        lot.write(
            {"warranty_policy_id": self.policy.id, "delivery_date": date(2026, 1, 15)}
        )
        day = date(2026, 3, 1)
        self.assertEqual(
            lot.get_service_coverage(self.product_part, date=day)["source"], "warranty"
        )
        self.assertEqual(
            lot.get_service_coverage(self.toner, date=day)["source"], "none"
        )

    # at noon: the delivery date (the move's UTC day) and the state (the
    # user's day) are the same day whatever the time zones
    @freeze_time("2026-06-15 12:00:00")
    def test_warranty_check_and_certificate(self):
        lot = self._make_lots(self.product_unit, ["WAR-CHK"])
        self._receive(lot)
        self._deliver(lot)
        self.env["maintenance.request"].create(
            {"name": "Earlier job", "lot_id": lot.id}
        )
        wizard = self.env["serial.warranty.check"].with_user(self.technician).create({})
        wizard.on_barcode_scanned("WAR-CHK")
        self.assertEqual(wizard.lot_id, lot)
        self.assertEqual(wizard.customer_id, self.customer)
        self.assertEqual(wizard.warranty_state, "active")
        self.assertEqual(wizard.covers, "parts, labour")
        self.assertEqual(wizard.request_ids.name, "Earlier job")
        wizard.serial = "NOPE"
        self.assertIn("No serial number NOPE", wizard.message)
        report = self.env.ref("serial_service.stock_lot_warranty_certificate")
        html, _type = report._render_qweb_html(report.report_name, lot.ids)
        self.assertIn(b"Warranty Certificate", html)
        self.assertIn(str(lot.warranty_end_date).encode(), html)
