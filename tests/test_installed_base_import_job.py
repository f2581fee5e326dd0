import base64
from datetime import date
from unittest.mock import patch

import psycopg2.errors

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import SerialServiceCase, TwoCursorsMixin
from .test_installed_base_import import HEADER


@tagged("post_install", "-at_install")
class TestInstalledBaseImportJob(TwoCursorsMixin, SerialServiceCase):
    """Files above the background threshold: checked in the request, queued,
    applied by the scheduler in batches, all or nothing."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env["ir.config_parameter"].set_param(
            "serial_service.installed_base_background_rows", "3"
        )
        cls.policy = cls.env["serial.warranty.policy"].create(
            {"name": "Two years (jobs)", "duration_months": 24}
        )
        cls.product_unit.write(
            {"default_code": "IBJ-COPIER", "warranty_policy_id": cls.policy.id}
        )
        cls.customer.ref = "CUST-J"
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Black pages (import job test)", "code": "IBLACK"}
        )
        template = cls.env["sale.subscription.template"].create({"name": "Care J"})
        pricelist = cls.env["product.pricelist"].create({"name": "Import job test"})
        cls.contract = cls._create_contract(
            cls.customer, None, template, pricelist=pricelist, running=False
        )
        # the service manager who loads the base also creates the sites
        cls.office = new_test_user(
            cls.env,
            login="import_job_office",
            groups="serial_service.group_service_manager,base.group_partner_manager",
        )
        cls.cron = cls.env.ref("serial_service.ir_cron_installed_base_import")
        cls.Job = cls.env["serial.installed.base.import.job"]

    def _row(self, serial, **values):
        base = dict.fromkeys(HEADER, "")
        base.update(
            serial=serial,
            product="IBJ-COPIER",
            customer="CUST-J",
            site="9 Harbour Road",
            delivery_date="2025-03-01",
            contract=self.contract.code,
            meter_IBLACK=1000,
            meter_IBLACK_date="2025-10-31",
        )
        base.update(values)
        return [base[column] for column in HEADER]

    def _file(self, rows):
        lines = [",".join(HEADER)] + [",".join(str(v) for v in row) for row in rows]
        return base64.b64encode(("\n".join(lines) + "\n").encode())

    def _wizard(self, rows, user=None):
        env = self.env(user=user or self.office)
        return env["serial.installed.base.import"].create(
            {"file": self._file(rows), "filename": "big.csv"}
        )

    def _serials(self, count=6):
        return [f"IBJ-{number}" for number in range(1, count + 1)]

    def _snapshot(self):
        return {
            "lots": self.env["stock.lot"].search_count([]),
            "moves": self.env["stock.move"].search_count([]),
            "readings": self.env["serial.meter.reading"].search_count([]),
            "equipment": self.env["maintenance.equipment"].search_count([]),
            "covered": self.contract.covered_lot_ids.ids,
            "sites": self.env["res.partner"]
            .with_context(active_test=False)
            .search_count([("parent_id", "=", self.customer.id)]),
        }

    def _run_cron(self, batch_size=2, max_calls=20):
        """Call the scheduled job as Odoo does while it reports rows left:
        (done, remaining) of each call."""
        progresses = []
        for _call in range(max_calls):
            progress = self.env["ir.cron.progress"].create({"cron_id": self.cron.id})
            self.Job.with_context(
                ir_cron_progress_id=progress.id
            )._cron_run_import_jobs(batch_size=batch_size, time_budget=0)
            progresses.append((progress.done, progress.remaining))
            if not progress.remaining:
                break
        return progresses

    def _at_customer(self, lots):
        return self.env["stock.quant"].search(
            [
                ("lot_id", "in", lots.ids),
                ("location_id", "=", self.customer_location.id),
                ("quantity", ">", 0),
            ]
        )

    # --- queued, not applied ----------------------------------------------------
    def test_big_file_is_checked_and_queued_not_applied(self):
        before = self._snapshot()
        triggers = self.env["ir.cron.trigger"].search_count(
            [("cron_id", "=", self.cron.id)]
        )
        wizard = self._wizard([self._row(serial) for serial in self._serials()])
        wizard.action_apply()
        self.assertEqual(wizard.state, "queued")
        job = wizard.job_id
        self.assertEqual(
            (job.state, job.row_count, job.done_count, job.user_id, job.company_id),
            ("queued", 6, 0, self.office, self.company),
        )
        self.assertEqual(wizard.job_row_count, 6)
        self.assertEqual(job.line_ids.mapped("row"), [2, 3, 4, 5, 6, 7])
        self.assertEqual(set(job.line_ids.mapped("state")), {"staged"})
        self.assertEqual(self._snapshot(), before, "queued: nothing imported yet")
        self.assertEqual(
            self.env["ir.cron.trigger"].search_count([("cron_id", "=", self.cron.id)]),
            triggers + 1,
            "the scheduler is asked to start it at once",
        )
        action = wizard.action_open_job()
        self.assertEqual((action["res_model"], action["res_id"]), (job._name, job.id))

    def test_small_file_keeps_the_request_path(self):
        wizard = self._wizard([self._row(serial) for serial in self._serials(3)])
        wizard.action_apply()
        self.assertEqual(wizard.state, "done")
        self.assertFalse(wizard.job_id)
        lots = self.env["stock.lot"].search([("name", "in", self._serials(3))])
        self.assertEqual(len(self._at_customer(lots)), 3)

    def test_bad_row_found_at_staging_writes_nothing(self):
        before = self._snapshot()
        rows = [self._row(serial) for serial in self._serials()]
        rows[3] = self._row("IBJ-4", delivery_date="2999-01-01")
        wizard = self._wizard(rows)
        wizard.action_apply()
        self.assertEqual(wizard.state, "checked")
        self.assertIn(
            "Row 5: delivery_date 2999-01-01 is in the future", wizard.problems
        )
        self.assertFalse(wizard.job_id)
        self.assertFalse(self.Job.search([]), "no job is queued")
        self.assertEqual(self._snapshot(), before)

    # --- the scheduled job ----------------------------------------------------
    def test_cron_applies_in_batches_and_reports_progress(self):
        wizard = self._wizard([self._row(serial) for serial in self._serials()])
        wizard.action_apply()
        job = wizard.job_id
        progresses = self._run_cron(batch_size=2, max_calls=1)
        self.assertEqual(job.done_count, 2)
        self.assertFalse(
            self.contract.covered_lot_ids,
            "the contract covers (and bills) the serials only once all are in",
        )
        progresses += self._run_cron(batch_size=2)
        # one batch a call (no time left after it): Odoo calls again
        self.assertEqual(progresses, [(2, 4), (2, 2), (2, 0)])
        self.assertEqual((job.state, job.done_count, job.progress), ("done", 6, 100.0))
        self.assertEqual(set(job.line_ids.mapped("state")), {"applied"})
        lots = self.env["stock.lot"].search([("name", "in", self._serials())])
        self.assertEqual(len(lots), 6)
        self.assertEqual(len(self._at_customer(lots)), 6)
        self.assertEqual(lots.customer_id, self.customer)
        self.assertEqual(set(lots.mapped("delivery_date")), {date(2025, 3, 1)})
        self.assertEqual(set(lots.mapped("warranty_end_date")), {date(2027, 2, 28)})
        self.assertEqual(len(lots.equipment_id), 6)
        self.assertEqual(lots.site_id.street, "9 Harbour Road", "one site, shared")
        self.assertEqual(self.contract.covered_lot_ids, lots)
        self.assertEqual(len(lots.meter_reading_ids), 6)
        self.assertEqual(job.line_ids.lot_id, lots)
        # the user who launched it is told, in the job's chatter
        done_message = job.message_ids.filtered(
            lambda m: self.office.partner_id in m.partner_ids
        )
        self.assertEqual(len(done_message), 1)
        self.assertIn("is imported: 6 rows", done_message.body)
        # nothing left: a next call does nothing
        self.assertEqual(self._run_cron(), [(0, 0)])

    def test_failure_in_a_middle_batch_withdraws_what_was_imported(self):
        # IBJ-1 exists, with no owner and no stock: the import updates it
        existing = self._make_lots(self.product_unit, ["IBJ-1"])
        rows = [self._row(serial) for serial in self._serials()]
        wizard = self._wizard(rows)
        wizard.action_apply()
        job = wizard.job_id
        before = self._snapshot()
        self.assertEqual(self._run_cron(batch_size=2, max_calls=1), [(2, 4)])
        first = self.env["stock.lot"].search([("name", "in", ["IBJ-1", "IBJ-2"])])
        self.assertEqual(len(self._at_customer(first)), 2, "the first batch is in")
        self.assertEqual(existing.customer_id, self.customer)
        # meanwhile another user delivers IBJ-4 to another customer: row 5 of
        # the file (IBJ-4) is refused when its batch is checked again
        taken = self._make_lots(self.product_unit, ["IBJ-4"])
        self._receive(taken)
        self._deliver(taken, partner=self.other_customer)
        taken_equipment = taken.equipment_id
        progresses = self._run_cron(batch_size=2)
        # the second batch fails (2 rows), then the 2 imported are withdrawn
        self.assertEqual(progresses, [(2, 2), (2, 0)])
        self.assertEqual(job.state, "failed")
        self.assertIn(
            "Row 5: serial IBJ-4 is already at another customer", job.problems
        )
        self.assertEqual(
            [(line.row, line.state) for line in job.line_ids],
            [
                (2, "undone"),
                (3, "undone"),
                (4, "failed"),
                (5, "failed"),
                (6, "staged"),
                (7, "staged"),
            ],
        )
        self.assertEqual((job.done_count, job.undone_count), (2, 2))
        self.assertFalse(job.undo_pending)
        # nothing of the file remains: no serial at the customer, no owner,
        # equipment, contract link, reading or site; the existing serial is as
        # it was. Odoo keeps done stock moves: each placed serial has its move
        # in and its move back.
        created = self.env["stock.lot"].search([("name", "=", "IBJ-2")])
        self.assertTrue(job.line_ids[1].lot_created)
        self.assertFalse(job.line_ids[0].lot_created)
        for lot in existing | created:
            self.assertFalse(self._at_customer(lot), lot.name)
            self.assertFalse(lot.customer_id, lot.name)
            self.assertFalse(lot.site_id, lot.name)
            self.assertFalse(lot.delivery_date, lot.name)
            self.assertFalse(lot.warranty_end_date, lot.name)
            self.assertFalse(lot.equipment_id, lot.name)
            self.assertFalse(lot.meter_reading_ids, lot.name)
        self.assertFalse(self.env["stock.lot"].search([("name", "=", "IBJ-3")]))
        after = self._snapshot()
        self.assertEqual(after["readings"], before["readings"])
        self.assertEqual(after["equipment"], before["equipment"] + len(taken_equipment))
        self.assertEqual(after["covered"], before["covered"])
        self.assertEqual(after["sites"], before["sites"], "the site it created is gone")
        self.assertEqual(after["moves"], before["moves"] + 2 + 2 + 2)
        self.assertEqual(taken.customer_id, self.other_customer, "theirs untouched")
        # the user is told why, with the row numbers, and what was undone
        activity = self.env["mail.activity"].search(
            [("res_model", "=", job._name), ("res_id", "=", job.id)]
        )
        self.assertEqual(activity.user_id, self.office)
        self.assertIn("rows 4 to 5", activity.note)
        told = job.message_ids.filtered(
            lambda m: self.office.partner_id in m.partner_ids
        )
        self.assertEqual(len(told), 2, "the failure, then the withdrawal")
        self.assertTrue(any("withdrawn" in m.body for m in told))
        # the corrected file (without IBJ-4) imports, reusing the serials the
        # failed job created
        corrected = self._wizard([row for row in rows if row[0] != "IBJ-4"])
        corrected.action_apply()
        self.assertEqual(corrected.serials_to_create, 3, "IBJ-1 and IBJ-2 exist")
        self._run_cron(batch_size=2)
        self.assertEqual(corrected.job_id.state, "done")
        lots = self.env["stock.lot"].search(
            [("name", "in", ["IBJ-1", "IBJ-2", "IBJ-3", "IBJ-5", "IBJ-6"])]
        )
        self.assertEqual(len(lots), 5)
        self.assertEqual(len(self._at_customer(lots)), 5)
        self.assertEqual(lots.customer_id, self.customer)
        self.assertEqual(self.contract.covered_lot_ids, lots)

    def test_concurrent_update_is_retried_not_a_failed_import(self):
        """A batch that meets another transaction's update of the same rows
        (a serialization failure) is not the file's fault: the call fails for
        Odoo to retry, the rows stay staged, and the next call imports them."""
        wizard = self._wizard([self._row(serial) for serial in self._serials()])
        wizard.action_apply()
        job = wizard.job_id
        Job = type(self.Job)

        def conflicting(job_record, lines):
            raise psycopg2.errors.SerializationFailure("could not serialize access")

        with (
            patch.object(Job, "_apply_lines", conflicting),
            self.assertRaises(psycopg2.errors.SerializationFailure),
        ):
            self._run_cron(batch_size=2, max_calls=1)
        self.assertNotEqual(job.state, "failed")
        self.assertFalse(job.undo_pending)
        self.assertEqual(set(job.line_ids.mapped("state")), {"staged"})
        self.assertFalse(job.activity_ids)
        self._run_cron(batch_size=2)
        self.assertEqual((job.state, job.done_count), ("done", 6))

    def test_contract_refused_at_the_last_step_withdraws_every_row(self):
        self.contract.stage_id = self.env.ref(
            "subscription_oca.subscription_stage_in_progress"
        )
        rival = self._create_contract(self.customer, None)
        wizard = self._wizard([self._row(serial) for serial in self._serials()])
        wizard.action_apply()
        job = wizard.job_id
        before = self._snapshot()
        self.assertEqual(self._run_cron(batch_size=2, max_calls=1), [(2, 4)])
        # meanwhile a manager puts IBJ-1 under another running contract
        first = self.env["stock.lot"].search([("name", "=", "IBJ-1")])
        rival.covered_lot_ids = first
        progresses = self._run_cron(batch_size=2)
        # the last batch is written, then the contracts refuse IBJ-1: the six
        # rows are withdrawn
        self.assertEqual(progresses, [(2, 2), (2, 6), (2, 4), (2, 2), (2, 0)])
        self.assertEqual(job.state, "failed")
        self.assertIn("IBJ-1 is already covered by contract", job.problems)
        self.assertEqual(set(job.line_ids.mapped("state")), {"undone"})
        lots = self.env["stock.lot"].search([("name", "in", self._serials())])
        self.assertEqual(len(lots), 6)
        self.assertFalse(self._at_customer(lots))
        self.assertFalse(lots.customer_id)
        self.assertFalse(lots.equipment_id)
        self.assertFalse(lots.meter_reading_ids)
        self.assertFalse(self.contract.covered_lot_ids)
        self.assertEqual(rival.covered_lot_ids, first, "the other contract's own")
        after = self._snapshot()
        self.assertEqual(
            {k: after[k] for k in ("readings", "equipment", "covered", "sites")},
            {k: before[k] for k in ("readings", "equipment", "covered", "sites")},
        )
        self.assertTrue(
            self.env["mail.activity"].search(
                [("res_model", "=", job._name), ("res_id", "=", job.id)]
            )
        )

    # --- the batch path's queries -------------------------------------------
    def _count_queries(self, func):
        """Queries of func(), measured as assertQueryCount does."""
        self.env.invalidate_all()
        self.env.flush_all()
        self.env.cr.flush()
        before = self.env.cr.sql_log_count
        func()
        self.env.flush_all()
        self.env.cr.flush()
        return self.env.cr.sql_log_count - before

    def test_batch_queries_grow_by_two_a_row(self):
        """One batch of a job (every row a new serial), at two sizes after a
        warm-up: a fixed number of reads and writes per batch (the lock, the
        checks, one create or write per kind of record, the contract links),
        plus 2 a row, measured at 4, 8, 12 and 16 rows: the row's own line
        (what it wrote, kept to withdraw it) and Odoo's inventory move
        validation, which makes each serial's quant on its own."""

        def queue(prefix, size):
            rows = [self._row(f"IBJ-{prefix}{n}") for n in range(size)]
            wizard = self._wizard(rows)
            wizard.action_apply()
            return wizard.job_id

        def run(size):
            self._run_cron(batch_size=size, max_calls=1)

        queue("W", 4)
        self._count_queries(lambda: run(4))
        queue("S", 4)
        small = self._count_queries(lambda: run(4))
        job = queue("L", 8)
        self.env.invalidate_all()
        with self.assertQueryCount(small + (8 - 4) * 2):
            run(8)
        self.assertEqual(job.state, "done")
        self.assertEqual(len(job.line_ids.lot_id.equipment_id), 8)

    # --- two cron threads ----------------------------------------------------
    def test_two_cron_threads_never_run_one_job(self):
        job_id = self._committed(
            lambda env: (
                env[self.Job._name]
                .create({"name": "Race import", "state": "queued"})
                .id
            )
        )

        def cleanup(env):
            job = env[self.Job._name].browse(job_id)
            job.state = "done"
            job.unlink()

        self.addCleanup(self._committed, cleanup)
        Job = self.Job._name
        with self._cursor() as first, self._cursor() as second:
            # the second thread's transaction began before the first commits
            second.cr.execute("SELECT 1")
            self.assertEqual(first[Job]._lock_next_job([]).id, job_id)
            held = []
            self.assertFalse(second[Job]._lock_next_job(held), "held: skipped")
            self.assertEqual(held, [job_id])
            # the first thread runs a batch and commits; the second, on its
            # older snapshot, must not take the job (it would apply the batch
            # again): it is skipped too
            first[Job].browse(job_id).done_count = 1
            first.flush_all()
            first.cr.commit()
            held = []
            self.assertFalse(second[Job]._lock_next_job(held), "changed: skipped")
            self.assertEqual(held, [job_id])
        with self._cursor() as later:
            self.assertEqual(later[Job]._lock_next_job([]).id, job_id)

    # --- access -------------------------------------------------------------------
    def test_technician_cannot_create_or_run_a_job(self):
        tech_jobs = self.env["serial.installed.base.import.job"].with_user(
            self.technician
        )
        with self.assertRaises(AccessError):
            tech_jobs.create({"name": "mine"})
        with self.assertRaises(AccessError):
            self._wizard([self._row("IBJ-1")], user=self.technician)
        wizard = self._wizard([self._row(s) for s in self._serials()])
        wizard.action_apply()
        job = wizard.job_id
        with self.assertRaises(AccessError):
            job.with_user(self.technician).read(["state"])
        with self.assertRaises(AccessError):
            tech_jobs._cron_run_import_jobs(batch_size=2, time_budget=0)
        # a job whose user is (or became) a technician is refused by the job
        before = self._snapshot()
        job.sudo().user_id = self.technician  # e.g. the user lost the group
        self._run_cron(batch_size=2)
        self.assertEqual(job.state, "failed")
        self.assertIn("is not a service manager", job.problems)
        self.assertEqual(self._snapshot(), before, "nothing written")
        self.assertFalse(
            self.env["stock.lot"].search([("name", "in", self._serials())])
        )

    def test_manager_cannot_choose_who_the_job_runs_as(self):
        """A job runs with the rights of the user who queued it: a manager
        cannot queue one as another user (an administrator), nor change a
        job, nor stage rows as already imported."""
        admin = self.env.ref("base.user_admin")
        Job = self.env["serial.installed.base.import.job"].with_user(self.office)
        job = Job.create(
            {
                "name": "As the administrator",
                "state": "running",
                "user_id": admin.id,
                "undo_pending": True,
                "line_ids": [
                    (0, 0, {"row": 2, "serial": "X", "state": "applied"}),
                ],
            }
        )
        self.assertEqual(job.user_id, self.office)
        self.assertEqual(job.state, "draft")
        self.assertFalse(job.undo_pending)
        self.assertEqual(job.line_ids.state, "staged")
        with self.assertRaises(AccessError):
            job.write({"user_id": admin.id})
        with self.assertRaises(AccessError):
            job.line_ids.write({"state": "applied"})
        self.assertEqual(job.user_id, self.office)
        # they still read it, and handle the activity it gives them
        wizard = self._wizard([self._row(s) for s in self._serials()])
        wizard.action_apply()
        wizard.job_id.sudo().user_id = self.technician  # as the system may
        self._run_cron()
        failed = wizard.job_id.with_user(self.office)
        self.assertEqual(failed.state, "failed")
        failed.message_post(body="Seen, I will fix the user")
        activity = self.env["mail.activity"].search(
            [("res_model", "=", failed._name), ("res_id", "=", failed.id)]
        )
        activity.with_user(self.office).action_feedback(feedback="Fixed")
        self.assertFalse(activity.exists())

    def test_other_company_user_cannot_read_the_job(self):
        company_b = self.env["res.company"].create({"name": "Import Other Co"})
        outsider = new_test_user(
            self.env,
            login="import_job_outsider",
            groups="serial_service.group_service_manager",
            company_id=company_b.id,
            company_ids=[company_b.id],
        )
        wizard = self._wizard([self._row(s) for s in self._serials()])
        wizard.action_apply()
        job = wizard.job_id
        Job = self.env["serial.installed.base.import.job"].with_user(outsider)
        self.assertFalse(Job.search([("id", "=", job.id)]))
        with self.assertRaises(AccessError):
            job.with_user(outsider).read(["name"])
        Line = self.env["serial.installed.base.import.job.line"].with_user(outsider)
        self.assertFalse(Line.search([("job_id", "=", job.id)]))
        with self.assertRaises(AccessError):
            job.line_ids[0].with_user(outsider).read(["cells"])
        # this company's other managers see it
        self.assertEqual(
            self.env["serial.installed.base.import.job"]
            .with_user(self.manager)
            .search([("id", "=", job.id)]),
            job,
        )
