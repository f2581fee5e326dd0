"""The labour timer: time on site rounded up to the company's minutes on one
labour line per technician and job, stopped at completion, one running timer
per technician and job; and the phone tour starting and stopping it and
showing the report."""

from datetime import datetime

from freezegun import freeze_time

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .test_job_tour import JobTourCase
from .visit_common import VisitCase


@tagged("post_install", "-at_install")
class TestJobTimer(VisitCase):
    def _run(self, job, start, stop, user=None):
        job = job.with_user(user or self.technician)
        with freeze_time(start):
            job.action_timer_start()
        with freeze_time(stop):
            job.action_timer_stop()

    def test_stop_adds_rounded_time_to_one_labour_line(self):
        job = self._job()
        self._run(job, "2026-03-02 09:00:00", "2026-03-02 09:31:10")
        timer = job.timer_ids
        self.assertEqual(timer.minutes, 45, "31 minutes, rounded up to 15")
        line = timer.service_line_id
        self.assertEqual(line.request_id, job)
        self.assertEqual(line.product_id, self.labour)
        self.assertAlmostEqual(line.quantity, 0.75)
        self.assertIn(self.technician.name, line.name)
        self.assertEqual(line.coverage_source, "contract", "labour is covered")
        # the next visit on the same job adds to the same line
        self._run(job, "2026-03-02 13:00:00", "2026-03-02 13:15:00")
        self.assertEqual(job.timer_ids.sorted("date_start").mapped("minutes"), [45, 15])
        self.assertEqual(job.service_line_ids, line)
        self.assertAlmostEqual(line.quantity, 1.0)
        self.assertEqual(job.service_arrival_on, datetime(2026, 3, 2, 9, 0))
        self.assertEqual(job.service_departure_on, datetime(2026, 3, 2, 13, 15))

    def test_rounding_to_the_minute_and_in_units(self):
        self.company.service_timer_rounding = 0
        self.labour.write(
            {
                "uom_id": self.env.ref("uom.product_uom_unit").id,
                "uom_po_id": self.env.ref("uom.product_uom_unit").id,
            }
        )
        job = self._job()
        self._run(job, "2026-03-02 09:00:00", "2026-03-02 10:29:30")
        self.assertEqual(job.timer_ids.minutes, 90)
        self.assertAlmostEqual(
            job.service_line_ids.quantity, 1.5, msg="one unit, an hour"
        )

    def test_one_timer_per_technician_and_job(self):
        job = self._job()
        job.with_user(self.technician).action_timer_start()
        self.assertTrue(job.with_user(self.technician).is_timer_running)
        with self.assertRaises(UserError):
            job.with_user(self.technician).action_timer_start()
        # a colleague on the same job has a timer of their own
        self.assertFalse(job.with_user(self.manager).is_timer_running)
        job.with_user(self.manager).action_timer_start()
        self.assertEqual(len(job.timer_ids), 2)
        with self.assertRaises(UserError):
            self._job().with_user(self.technician).action_timer_stop()
        # stopped at once: a period started is a period charged
        quick = self._job()
        self._run(quick, "2026-03-02 09:00:00", "2026-03-02 09:00:00")
        self.assertEqual(quick.timer_ids.minutes, 15)

    def test_running_timers_stop_at_completion_and_are_billed(self):
        self.contract.coverage_rule_ids.unlink()
        job = self._job()
        with freeze_time("2026-03-02 09:00:00"):
            job.with_user(self.technician).action_timer_start()
            job.with_user(self.manager).action_timer_start()
        with freeze_time("2026-03-02 09:20:00"):
            job.with_user(self.technician).action_complete_job()
        self.assertTrue(job.completed_on)
        self.assertTrue(all(job.timer_ids.mapped("date_stop")))
        self.assertEqual(job.timer_ids.mapped("minutes"), [30, 30])
        self.assertEqual(len(job.service_line_ids), 2, "one line per technician")
        self.assertEqual(sum(job.service_line_ids.mapped("quantity")), 1.0)
        invoice = job.invoice_ids
        self.assertAlmostEqual(invoice.amount_untaxed, 60, msg="an hour at 60")
        with self.assertRaises(UserError):
            job.with_user(self.technician).action_timer_start()

    def test_a_labour_product_is_needed(self):
        self.company.service_labour_product_id = False
        with self.assertRaises(UserError) as error:
            self._job().with_user(self.technician).action_timer_start()
        self.assertIn("labour product", str(error.exception))

    def test_access_per_role(self):
        job = self._job()
        job.with_user(self.technician).action_timer_start()
        timer = job.timer_ids
        colleague = new_test_user(
            self.env,
            login="visit_colleague",
            groups="serial_service.group_service_technician",
        )
        with self.assertRaises(AccessError):
            timer.with_user(colleague).read(["minutes"])
        with self.assertRaises(AccessError):
            timer.with_user(self.consultant).read(["minutes"])
        # the manager sees and changes every timer
        timer.with_user(self.manager).date_start = timer.date_start
        other_job = self._job(user=colleague)
        other_job.with_user(colleague).action_timer_start()
        # the job's technician reads a colleague's timer, and cannot change it
        other_job.user_id = self.technician
        colleague_timer = other_job.timer_ids
        self.assertEqual(colleague_timer.with_user(self.technician).user_id, colleague)
        with self.assertRaises(AccessError):
            colleague_timer.with_user(self.technician).write(
                {"date_start": colleague_timer.date_start}
            )


@tagged("post_install", "-at_install")
class TestJobVisitTour(JobTourCase):
    browser_size = "375x667"
    touch_enabled = True

    def test_timer_and_report_on_a_phone(self):
        self.company.write(
            {"service_labour_product_id": self.labour.id, "service_timer_rounding": 15}
        )
        self.job.lot_id = self.unit
        action = self.env.ref("serial_service.maintenance_request_action_my_jobs")
        self.start_tour(
            f"/odoo/action-{action.id}",
            "serial_service_visit_tour",
            login=self.technician.login,
        )
        timer = self.job.timer_ids
        self.assertEqual(len(timer), 1)
        self.assertTrue(timer.date_stop)
        self.assertEqual(timer.minutes, 15)
        self.assertEqual(timer.service_line_id.product_id, self.labour)
        self.assertAlmostEqual(timer.service_line_id.quantity, 0.25)
        self.assertTrue(self.job.completed_on)
