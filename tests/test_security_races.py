"""The portal reading route as the employees who would misuse it, and the
races around meters and jobs: two real database transactions at once (two
cursors), as two users, a device and a technician or a double click would run
them. Data the other cursor must see is committed in a cursor of its own and
deleted again at the end."""

import threading
import time
from datetime import timedelta

import psycopg2.errors

from odoo import fields, http
from odoo.exceptions import UserError, ValidationError
from odoo.service.model import retrying
from odoo.tests import HttpCase, TransactionCase, new_test_user, tagged
from odoo.tools import mute_logger

from .common import SerialServiceCase, TwoCursorsMixin


@tagged("post_install", "-at_install")
class TestSecurityPortalReadingRoute(SerialServiceCase, HttpCase):
    """`/my/serials/<id>/reading` records a reading for the customer who owns
    the serial, or for an employee who may record readings; billing users,
    consultants and stock users only read readings, and may not create
    billable customer readings through the portal form."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Route pages", "code": "ROUTEPG"}
        )
        cls.product_unit.meter_type_ids = cls.meter
        (cls.lot,) = cls._make_lots(cls.product_unit, ["ROUTE-1"])
        cls.lot.customer_id = cls.customer
        cls.env["serial.meter.reading"].create(
            {
                "lot_id": cls.lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": cls.now - timedelta(days=10),
                "value": 1000,
            }
        )
        cls.billing_user = new_test_user(
            cls.env,
            login="route_billing",
            groups="base.group_user,account.group_account_invoice",
            tz="UTC",
        )
        cls.stock_user = new_test_user(
            cls.env,
            login="route_stock",
            groups="base.group_user,stock.group_stock_user",
            tz="UTC",
        )
        # a consultant who also reads the inventory (reads serials)
        cls.stock_consultant = new_test_user(
            cls.env,
            login="route_consultant",
            groups="serial_service.group_contract_consultant,stock.group_stock_user",
            tz="UTC",
        )
        cls.technician.tz = "UTC"
        cls.portal_user = new_test_user(
            cls.env, login="route_portal", groups="base.group_portal", tz="UTC"
        )
        cls.portal_user.partner_id.parent_id = cls.customer
        cls.other_portal_user = new_test_user(
            cls.env, login="route_other_portal", groups="base.group_portal", tz="UTC"
        )
        cls.other_portal_user.partner_id.parent_id = cls.other_customer

    def _post_reading(self, login, value):
        self.authenticate(login, login)
        return self.url_open(
            f"/my/serials/{self.lot.id}/reading",
            data={
                "meter_id": self.meter.id,
                "reading_date": (self.now - timedelta(hours=1)).strftime(
                    "%Y-%m-%dT%H:%M"
                ),
                "value": str(value),
                "csrf_token": http.Request.csrf_token(self),
            },
        )

    def _readings(self):
        return self.env["serial.meter.reading"].search([("lot_id", "=", self.lot.id)])

    def test_read_only_employees_are_refused_and_nothing_is_written(self):
        before = self._readings()
        for user in (self.billing_user, self.stock_consultant, self.stock_user):
            with self.subTest(user=user.login):
                # each of them may read the serial: the route used to let
                # them through on that alone, then create with sudo
                self.assertTrue(self.lot.with_user(user).has_access("read"))
                self.assertFalse(
                    self.env["serial.meter.reading"]
                    .with_user(user)
                    .has_access("create")
                )
                response = self._post_reading(user.login, 5000)
                self.assertEqual(response.status_code, 403)
                self.assertEqual(self._readings(), before)
                # the serial's page shows them no form to send one
                page = self.url_open(f"/my/serials/{self.lot.id}")
                self.assertEqual(page.status_code, 200)
                self.assertIn("ROUTE-1", page.text)
                self.assertNotIn('id="serial_reading_form"', page.text)

    def test_who_cannot_read_the_serial_is_not_told_it_exists(self):
        before = self._readings()
        # another customer, and a consultant who reads no serial
        for login in ("route_other_portal", "test_consultant"):
            with self.subTest(login=login):
                response = self._post_reading(login, 5000)
                self.assertEqual(response.status_code, 404)
                self.assertEqual(self._readings(), before)

    def test_owner_and_technician_record_through_the_form(self):
        self.authenticate("route_portal", "route_portal")
        page = self.url_open(f"/my/serials/{self.lot.id}")
        self.assertIn('id="serial_reading_form"', page.text)
        response = self._post_reading("route_portal", 1500)
        self.assertEqual(response.status_code, 200)
        self.assertIn("reading_saved=1", response.url)
        by_customer = self._readings().filtered(lambda r: r.value == 1500)
        self.assertEqual(by_customer.create_uid, self.portal_user)
        self.assertEqual(by_customer.source, "customer")
        self.assertEqual(by_customer.delta, 500)
        # an employee who may record readings records with their own rights
        self.now += timedelta(minutes=30)
        response = self._post_reading("test_technician", 1700)
        self.assertEqual(response.status_code, 200)
        self.assertIn("reading_saved=1", response.url)
        by_technician = self._readings().filtered(lambda r: r.value == 1700)
        self.assertEqual(by_technician.create_uid, self.technician)
        self.assertEqual(by_technician.delta, 200)


@tagged("post_install", "-at_install")
class TestSecurityRaces(TwoCursorsMixin, TransactionCase):
    """Two transactions at once. Their data is committed (the test's own
    transaction is invisible to other cursors) and deleted at the end."""

    @staticmethod
    def _snapshot(env):
        """Start the transaction's snapshot (REPEATABLE READ: taken at its
        first query), as a request that has begun its work."""
        env.cr.execute("SELECT 1")

    def _retrying(self, env, func):
        """Run func as Odoo runs a request (`retrying`: again on a fresh
        snapshot after a serialization failure, then commit); returns
        (result, number of runs)."""
        runs = []

        def run():
            runs.append(len(runs) + 1)
            return func()

        with mute_logger("odoo.service.model"):
            result = retrying(run, env)
        return result, len(runs)

    # ------------------------------------------------------------------
    # A serial and meter with a baseline reading
    # ------------------------------------------------------------------
    def _setup_meter(self, env):
        meter = env["serial.meter.type"].create(
            {"name": "Race pages", "code": "RACEPG"}
        )
        product = env["product.product"].create(
            {
                "name": "Race printer",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
                "meter_type_ids": [(6, 0, meter.ids)],
            }
        )
        lot = env["stock.lot"].create(
            {"name": "RACE-1", "product_id": product.id, "company_id": env.company.id}
        )
        now = fields.Datetime.now().replace(microsecond=0)
        env["serial.meter.reading"].create(
            {
                "lot_id": lot.id,
                "meter_type_id": meter.id,
                "reading_date": now - timedelta(days=10),
                "value": 100,
            }
        )
        return {"meter": meter.id, "product": product.id, "lot": lot.id, "now": now}

    def _cleanup_meter(self, ids):
        def clean(env):
            lot = env["stock.lot"].browse(ids["lot"])
            env["maintenance.request"].search([("lot_id", "=", lot.id)]).unlink()
            env["serial.meter.reading"].search([("lot_id", "=", lot.id)]).unlink()
            lot.unlink()
            product = env["product.product"].browse(ids["product"])
            template = product.product_tmpl_id
            product.unlink()
            template.unlink()
            env["serial.meter.type"].browse(ids["meter"]).unlink()

        self._committed(clean)

    def _reading_vals(self, ids, days_ago, value):
        return {
            "lot_id": ids["lot"],
            "meter_type_id": ids["meter"],
            "reading_date": ids["now"] - timedelta(days=days_ago),
            "value": value,
            "source": "device",
        }

    def _chain(self, ids):
        """[(value, delta)] of the serial's readings, oldest first, as
        committed."""
        return self._committed(
            lambda env: [
                (r.value, r.delta)
                for r in env["serial.meter.reading"].search(
                    [("lot_id", "=", ids["lot"])], order="reading_date"
                )
            ]
        )

    def _meter_ready(self):
        ids = self._committed(self._setup_meter)
        self.addCleanup(self._cleanup_meter, ids)
        return ids

    # ------------------------------------------------------------------
    # Two readings of the same serial and meter at once
    # ------------------------------------------------------------------
    def test_two_readings_at_once_add_up_to_the_real_usage(self):
        """The device's request began before the technician's reading was
        committed: on its snapshot the previous reading is still the
        baseline. It must not chain from it (usage 100 + 50 for a meter that
        went from 100 to 200); PostgreSQL refuses it, Odoo runs it again."""
        ids = self._meter_ready()
        Reading = "serial.meter.reading"
        with self._cursor() as technician, self._cursor() as device:
            self._snapshot(device)
            technician[Reading].create(self._reading_vals(ids, 2, 150))
            technician.cr.commit()
            _reading, runs = self._retrying(
                device,
                lambda: device[Reading].create(self._reading_vals(ids, 1, 200)).id,
            )
        self.assertEqual(runs, 2, "refused on the old snapshot, then run again")
        chain = self._chain(ids)
        self.assertEqual(chain, [(100, 0), (150, 50), (200, 50)])
        self.assertEqual(sum(delta for _value, delta in chain), 200 - 100)

    def test_second_reading_waits_for_the_first_then_recomputes(self):
        """Both transactions are recording at the same moment: the second
        waits for the first one's lock on the serial's meter chain, is refused
        once the first commits, and is run again on a fresh snapshot."""
        ids = self._meter_ready()
        Reading = "serial.meter.reading"
        with self._cursor() as technician, self._cursor() as device:
            technician.cr.execute("SELECT pg_backend_pid()")
            technician_pid = technician.cr.fetchone()[0]
            device.cr.execute("SELECT pg_backend_pid()")
            device_pid = device.cr.fetchone()[0]
            technician[Reading].create(self._reading_vals(ids, 2, 150))
            outcome = {}

            def record():
                return device[Reading].create(self._reading_vals(ids, 1, 200)).id

            def record_on_the_device():
                # Odoo's `retrying` resets the registry, which this test's
                # thread holds: the thread makes the first attempt only
                try:
                    outcome["result"] = record()
                except Exception as error:  # pylint: disable=broad-except
                    outcome["error"] = error

            thread = threading.Thread(target=record_on_the_device)
            thread.start()
            try:
                # the device's transaction is waiting for the technician's
                blocked = []
                deadline = time.monotonic() + 8
                while technician_pid not in blocked and time.monotonic() < deadline:
                    time.sleep(0.05)
                    technician.cr.execute("SELECT pg_blocking_pids(%s)", [device_pid])
                    blocked = technician.cr.fetchone()[0]
                self.assertIn(technician_pid, blocked, "the device waits")
                self.assertFalse(outcome)
            finally:
                technician.cr.commit()
                thread.join(30)
            self.assertFalse(thread.is_alive())
            # once the technician committed, the device's attempt is refused
            self.assertNotIn("result", outcome)
            self.assertIsInstance(
                outcome["error"], psycopg2.errors.SerializationFailure
            )
            # and run again, as Odoo runs a request again, on a fresh snapshot
            device.cr.rollback()
            device.reset()
            _reading, runs = self._retrying(device, record)
            self.assertEqual(runs, 1)
        chain = self._chain(ids)
        self.assertEqual(chain, [(100, 0), (150, 50), (200, 50)])
        self.assertEqual(sum(delta for _value, delta in chain), 200 - 100)

    def test_readings_of_other_serials_or_meters_do_not_wait(self):
        ids = self._meter_ready()
        Reading = "serial.meter.reading"
        with self._cursor() as first, self._cursor() as second:
            first[Reading].create(self._reading_vals(ids, 2, 150))
            other = second["serial.meter.type"].create(
                {"name": "Race colour", "code": "RACECL"}
            )
            second["product.product"].browse(ids["product"]).meter_type_ids |= other
            # another meter of the same serial: recorded at once, no wait
            reading = second[Reading].create(
                dict(self._reading_vals(ids, 1, 10), meter_type_id=other.id)
            )
            self.assertEqual(reading.delta, 0)

    # ------------------------------------------------------------------
    # The same reading recorded twice at once: a clear message, no 500
    # ------------------------------------------------------------------
    def test_the_same_reading_twice_at_once_is_refused_in_words(self):
        ids = self._meter_ready()
        Reading = "serial.meter.reading"
        with self._cursor() as technician, self._cursor() as device:
            self._snapshot(device)
            technician[Reading].create(self._reading_vals(ids, 1, 150))
            technician.cr.commit()
            # on the device's snapshot there is no such reading: the check in
            # words passes, the unique index refuses
            with mute_logger("odoo.sql_db"), self.assertRaises(ValidationError) as cm:
                device[Reading].create(self._reading_vals(ids, 1, 150))
            self.assertIn(
                "RACE-1 already has a reading of Race pages", str(cm.exception)
            )
            self.assertIn("a moment ago by someone else", str(cm.exception))
            # the device API answers each item's reason (a 400), not a 500
            with mute_logger("odoo.sql_db"):
                answer = device[Reading]._api_record_readings(
                    {
                        "readings": [
                            {
                                "serial": "RACE-1",
                                "meter": "RACEPG",
                                "date": fields.Datetime.to_string(
                                    ids["now"] - timedelta(days=1)
                                ),
                                "value": 150,
                            }
                        ]
                    }
                )
            self.assertEqual(len(answer["errors"]), 1)
            self.assertEqual(answer["errors"][0]["index"], 0)
            self.assertIn(
                "a moment ago by someone else", answer["errors"][0]["message"]
            )
            # the device's transaction goes on: nothing of it was half written
            device.cr.commit()
        self.assertEqual(self._chain(ids), [(100, 0), (150, 50)])

    # ------------------------------------------------------------------
    # The preventive job of a threshold created twice at once
    # ------------------------------------------------------------------
    def test_preventive_job_of_a_threshold_created_once(self):
        def setup(env):
            ids = self._setup_meter(env)
            template = env["product.product"].browse(ids["product"]).product_tmpl_id
            template.write(
                {
                    "preventive_meter_type_id": ids["meter"],
                    "preventive_interval": 1000,
                }
            )
            reading = env["serial.meter.reading"].create(
                self._reading_vals(ids, 1, 1300)
            )
            # the threshold of 1000 was reached; its job is not there (yet)
            jobs = env["maintenance.request"].search([("lot_id", "=", ids["lot"])])
            self.assertEqual(jobs.mapped("preventive_threshold"), [1000])
            jobs.unlink()
            return dict(ids, reading=reading.id)

        ids = self._committed(setup)
        self.addCleanup(self._cleanup_meter, ids)
        Reading = "serial.meter.reading"
        with self._cursor() as first, self._cursor() as second:
            self._snapshot(second)
            created = first[Reading].browse(ids["reading"])._create_preventive_jobs()
            self.assertEqual(len(created), 1)
            first.cr.commit()
            # on its snapshot the threshold is not served: the unique index
            # refuses its job, the reading and the transaction go on
            with mute_logger("odoo.sql_db"):
                again = second[Reading].browse(ids["reading"])._create_preventive_jobs()
            self.assertFalse(again)
            second.cr.commit()
        jobs = self._committed(
            lambda env: (
                env["maintenance.request"]
                .search([("lot_id", "=", ids["lot"])])
                .mapped("preventive_threshold")
            )
        )
        self.assertEqual(jobs, [1000])

    # ------------------------------------------------------------------
    # Plan Parts clicked twice
    # ------------------------------------------------------------------
    def _setup_job(self, env):
        customer = env["res.partner"].create(
            {"name": "Race Customer", "is_company": True}
        )
        job = env["maintenance.request"].create(
            {"name": "Race job", "customer_id": customer.id}
        )
        return {"job": job.id, "customer": customer.id}

    def _cleanup_job(self, ids):
        def clean(env):
            env["maintenance.request"].browse(ids["job"]).unlink()
            env["res.partner"].browse(ids["customer"]).unlink()

        self._committed(clean)

    def test_plan_parts_twice_at_once(self):
        ids = self._committed(self._setup_job)
        self.addCleanup(self._cleanup_job, ids)
        Job = "maintenance.request"
        with self._cursor() as first, self._cursor() as second:
            first[Job].browse(ids["job"]).action_plan_parts()
            # the first click is still running: told at once, not a wait
            with self.assertRaises(UserError) as cm:
                second[Job].browse(ids["job"]).action_plan_parts()
            self.assertIn("being planned right now", str(cm.exception))
            first.cr.commit()

    def test_plan_parts_on_a_snapshot_older_than_the_last_planning(self):
        """The second click's request began before the first committed: its
        snapshot does not show what the first ordered; it must not plan on
        it."""
        ids = self._committed(self._setup_job)
        self.addCleanup(self._cleanup_job, ids)
        Job = "maintenance.request"
        with self._cursor() as first, self._cursor() as second:
            self._snapshot(second)
            first[Job].browse(ids["job"]).action_plan_parts()
            first.cr.commit()
            with self.assertRaises(UserError) as cm:
                second[Job].browse(ids["job"]).action_plan_parts()
            self.assertIn("planned a moment ago", str(cm.exception))
        # a later click (a fresh snapshot) plans again as usual
        with self._cursor() as later:
            self.assertTrue(later[Job].browse(ids["job"]).action_plan_parts())

    # ------------------------------------------------------------------
    # Recall jobs created twice
    # ------------------------------------------------------------------
    def _setup_recall(self, env):
        ids = self._setup_job(env)
        product = env["product.product"].create(
            {
                "name": "Race recalled unit",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
            }
        )
        lot = env["stock.lot"].create(
            {
                "name": "RACE-RC-1",
                "product_id": product.id,
                "company_id": env.company.id,
            }
        )
        env["stock.quant"]._update_available_quantity(
            product, env.ref("stock.stock_location_customers"), 1, lot_id=lot
        )
        lot.customer_id = ids["customer"]
        recall = env["serial.recall"].create(
            {
                "title": "Race overheating",
                "scope_type": "explicit",
                "scope_lot_ids": [(6, 0, lot.ids)],
            }
        )
        recall.action_compute_affected()
        return dict(ids, product=product.id, lot=lot.id, recall=recall.id)

    def _cleanup_recall(self, ids):
        def clean(env):
            recall = env["serial.recall"].browse(ids["recall"])
            recall.request_ids.unlink()
            recall.unlink()
            env.cr.execute("DELETE FROM stock_quant WHERE lot_id = %s", [ids["lot"]])
            env.invalidate_all()
            env["stock.lot"].browse(ids["lot"]).unlink()
            product = env["product.product"].browse(ids["product"])
            template = product.product_tmpl_id
            product.unlink()
            template.unlink()

        self._committed(clean)
        self._cleanup_job(ids)

    def _recall_jobs(self, ids):
        return self._committed(
            lambda env: (
                env["serial.recall"]
                .browse(ids["recall"])
                .request_ids.mapped("lot_id.name")
            )
        )

    def test_recall_jobs_created_twice_at_once(self):
        ids = self._committed(self._setup_recall)
        self.addCleanup(self._cleanup_recall, ids)
        Recall = "serial.recall"
        with self._cursor() as first, self._cursor() as second:
            self.assertEqual(
                len(first[Recall].browse(ids["recall"]).action_create_jobs()), 1
            )
            with self.assertRaises(UserError) as cm:
                second[Recall].browse(ids["recall"]).action_create_jobs()
            self.assertIn("no job was created twice", str(cm.exception))
            first.cr.commit()
        self.assertEqual(self._recall_jobs(ids), ["RACE-RC-1"])

    def test_recall_started_on_an_old_snapshot(self):
        ids = self._committed(self._setup_recall)
        self.addCleanup(self._cleanup_recall, ids)
        Recall = "serial.recall"
        with self._cursor() as first, self._cursor() as second:
            self._snapshot(second)
            first[Recall].browse(ids["recall"]).action_create_jobs()
            first.cr.commit()
            # on its snapshot the recall has no job yet: refused, not twice
            with self.assertRaises(UserError):
                second[Recall].browse(ids["recall"]).action_start()
            second.cr.commit()
        self.assertEqual(self._recall_jobs(ids), ["RACE-RC-1"])
        # started again later: the unit's job is there, none is added
        with self._cursor() as later:
            recall = later[Recall].browse(ids["recall"])
            recall.action_start()
            self.assertEqual(recall.request_ids.mapped("lot_id.name"), ["RACE-RC-1"])
            self.assertEqual(recall.state, "running")

    # ------------------------------------------------------------------
    # One running contract per serial, linked from two contracts at once
    # ------------------------------------------------------------------
    def _setup_two_contracts(self, env):
        customer = env["res.partner"].create(
            {"name": "Race Contract Customer", "is_company": True}
        )
        product = env["product.product"].create(
            {
                "name": "Race covered unit",
                "type": "consu",
                "is_storable": True,
                "tracking": "serial",
            }
        )
        lot = env["stock.lot"].create(
            {
                "name": "RACE-CT-1",
                "product_id": product.id,
                "company_id": env.company.id,
                "customer_id": customer.id,
            }
        )
        pricelist = env["product.pricelist"].create({"name": "Race"})
        template = env["sale.subscription.template"].create({"name": "Race care"})
        contracts = env["sale.subscription"].create(
            [
                {
                    "partner_id": customer.id,
                    "template_id": template.id,
                    "pricelist_id": pricelist.id,
                    "date_start": fields.Date.today() - timedelta(days=5),
                }
                for _index in range(2)
            ]
        )
        contracts.stage_id = env.ref("subscription_oca.subscription_stage_in_progress")
        return {
            "customer": customer.id,
            "product": product.id,
            "lot": lot.id,
            "pricelist": pricelist.id,
            "template": template.id,
            "contracts": contracts.ids,
        }

    def _cleanup_two_contracts(self, ids):
        def clean(env):
            contracts = env["sale.subscription"].browse(ids["contracts"])
            contracts.activity_ids.unlink()
            contracts.unlink()
            env["sale.subscription.template"].browse(ids["template"]).unlink()
            env["product.pricelist"].browse(ids["pricelist"]).unlink()
            env["stock.lot"].browse(ids["lot"]).unlink()
            product = env["product.product"].browse(ids["product"])
            template = product.product_tmpl_id
            product.unlink()
            template.unlink()
            env["res.partner"].browse(ids["customer"]).unlink()

        self._committed(clean)

    def test_a_serial_linked_to_two_running_contracts_at_once(self):
        """The second user's request began before the first linked the
        serial: on its snapshot the serial is free. Locking the serial alone
        would let it through (REPEATABLE READ); it is refused, and once run
        again it is told the serial is covered."""
        ids = self._committed(self._setup_two_contracts)
        self.addCleanup(self._cleanup_two_contracts, ids)
        first_id, second_id = ids["contracts"]
        Contract = "sale.subscription"
        with self._cursor() as first, self._cursor() as second:
            self._snapshot(second)
            first[Contract].browse(first_id).covered_lot_ids = [ids["lot"]]
            first.cr.commit()

            def link():
                second[Contract].browse(second_id).covered_lot_ids = [ids["lot"]]
                second.flush_all()

            with self.assertRaises(ValidationError) as cm:
                self._retrying(second, link)
            self.assertIn("already covered by contract", str(cm.exception))
        covering = self._committed(
            lambda env: env["stock.lot"].browse(ids["lot"]).subscription_ids.ids
        )
        self.assertEqual(covering, [first_id])
