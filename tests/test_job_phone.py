"""The job form's phone buttons, through the ORM as the technician: each
button opens its wizard, and each wizard does what the button says."""

from datetime import timedelta

from freezegun import freeze_time

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import Form, new_test_user, tagged
from odoo.tools.safe_eval import safe_eval

from .common import SerialServiceCase

# a 1x1 PNG, as the signature widget sends
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
    "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@tagged("post_install", "-at_install")
class TestJobPhone(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now()
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Phone pages", "code": "PHPAGES"}
        )
        cls.meter_colour = cls.env["serial.meter.type"].create(
            {"name": "Phone colour", "code": "PHCOLOUR"}
        )
        cls.product_unit.meter_type_ids = cls.meter
        cls.product_part.list_price = 200
        cls.toner = cls._make_product(
            "Phone Toner",
            tracking="none",
            service_line_type="consumable",
            list_price=40,
            barcode="5400000000024",
        )
        cls.van = cls.env["stock.location"].create(
            {
                "name": "Phone Van",
                "usage": "internal",
                "location_id": cls.warehouse.view_location_id.id,
            }
        )
        cls.technician.van_location_id = cls.van
        cls.technician2 = new_test_user(
            cls.env,
            login="phone_technician2",
            groups="serial_service.group_service_technician",
        )
        cls.policy = cls.env["serial.warranty.policy"].create(
            {"name": "Phone 12 months", "duration_months": 12}
        )
        cls.product_unit.warranty_policy_id = cls.policy
        cls.unit, cls.unit2 = cls._make_lots(cls.product_unit, ["PH-UNIT", "PH-UNIT2"])
        cls.old_part, cls.new_part = cls._make_lots(
            cls.product_part, ["PH-PART-OLD", "PH-PART-NEW"]
        )
        cls._receive(cls.unit | cls.unit2 | cls.old_part)
        cls._deliver(cls.unit | cls.unit2 | cls.old_part)
        cls.old_part.parent_lot_id = cls.unit
        Quant = cls.env["stock.quant"]
        Quant._update_available_quantity(
            cls.product_part, cls.van, 1, lot_id=cls.new_part
        )
        Quant._update_available_quantity(cls.toner, cls.van, 3)
        Job = cls.env["maintenance.request"]
        cls.job = Job.create({"name": "Phone job", "user_id": cls.technician.id})
        cls.job_other = Job.create(
            {"name": "Colleague's phone job", "user_id": cls.technician2.id}
        )

    def _open(self, job, method, user=None):
        """Press the button as `user` (the technician): the wizard it opens."""
        job = job.with_user(user or self.technician)
        action = getattr(job, method)()
        self.assertEqual(action["target"], "new")
        return (
            self.env[action["res_model"]]
            .with_user(user or self.technician)
            .with_context(**action["context"])
        )

    # ------------------------------------------------------------------
    # Scan serial
    # ------------------------------------------------------------------
    def test_scan_serial_sets_the_unit_and_shows_its_warranty(self):
        Scan = self._open(self.job, "action_scan_serial")
        with Form(Scan) as form:
            form.code = " PH-UNIT "
            self.assertEqual(form.lot_id, self.unit)
            self.assertEqual(form.customer_id, self.customer)
            self.assertEqual(form.warranty_state, "active")
            self.assertFalse(form.message)
        form.record.action_apply()
        self.assertEqual(self.job.lot_id, self.unit)
        self.assertEqual(self.job.customer_id, self.customer)
        self.assertTrue(self.unit.equipment_id)
        self.assertEqual(self.job.equipment_id, self.unit.equipment_id)

    def test_scan_unknown_serial_says_so_and_changes_nothing(self):
        wizard = self._open(self.job, "action_scan_serial").create({"code": "NOPE-1"})
        self.assertEqual(wizard.message, "No serial number NOPE-1.")
        with self.assertRaisesRegex(UserError, "No serial number NOPE-1"):
            wizard.action_apply()
        self.assertFalse(self.job.lot_id)

    def test_scan_prefers_the_unit_over_a_part_with_the_same_serial(self):
        twin = self.env["stock.lot"].create(
            {"name": "PH-UNIT2", "product_id": self.product_part.id}
        )
        wizard = self._open(self.job, "action_scan_serial").create({"code": "PH-UNIT2"})
        self.assertEqual(wizard.lot_id, self.unit2)
        self.assertNotEqual(wizard.lot_id, twin)

    # ------------------------------------------------------------------
    # Add part
    # ------------------------------------------------------------------
    def test_add_part_by_its_serial_from_the_van(self):
        self.job.lot_id = self.unit
        Part = self._open(self.job, "action_add_part")
        with Form(Part) as form:
            form.code = "PH-PART-NEW"
            self.assertEqual(form.product_id, self.product_part)
            self.assertEqual(form.lot_id, self.new_part)
            self.assertEqual(form.location_id, self.van)
            self.assertEqual(form.available_qty, 1)
            # the unit is under warranty: the part is covered, as the line will be
            self.assertEqual(form.coverage_source, "warranty")
            self.assertEqual(form.coverage_percent, 100)
            form.removed_lot_id = self.old_part
        form.record.action_apply()
        line = self.job.service_line_ids
        self.assertEqual(
            (line.product_id, line.lot_id, line.removed_lot_id, line.quantity),
            (self.product_part, self.new_part, self.old_part, 1),
        )
        self.assertEqual(line.location_id, self.van)
        self.assertEqual(
            (line.coverage_source, line.coverage_percent), ("warranty", 100)
        )

    def test_add_part_by_product_barcode_and_quantity(self):
        self.job.lot_id = self.unit2
        self.policy.excluded_categ_ids = self.categ_parts
        Part = self._open(self.job, "action_add_part")
        with Form(Part) as form:
            form.code = "5400000000024"
            self.assertEqual(form.product_id, self.toner)
            self.assertFalse(form.lot_id)
            form.quantity = 2
            self.assertEqual(form.available_qty, 3)
            self.assertEqual(form.coverage_source, "none")
        form.record.action_apply()
        line = self.job.service_line_ids
        self.assertEqual((line.product_id, line.quantity), (self.toner, 2))
        self.assertEqual(line.charge_amount, 80)

    def test_add_part_refuses_what_is_not_a_part(self):
        self.job.lot_id = self.unit
        Part = self._open(self.job, "action_add_part")
        unit_scan = Part.create({"code": "PH-UNIT"})
        self.assertIn("is the unit itself", unit_scan.message)
        with self.assertRaisesRegex(UserError, "is the unit itself"):
            unit_scan.action_apply()
        unknown = Part.create({"code": "XYZ-404"})
        with self.assertRaisesRegex(UserError, "neither a serial number nor a product"):
            unknown.action_apply()
        no_serial = Part.create({"product_id": self.product_part.id})
        with self.assertRaisesRegex(UserError, "Scan the serial number of the"):
            no_serial.action_apply()
        Part.create({"code": "PH-PART-NEW"}).action_apply()
        with self.assertRaisesRegex(UserError, "PH-PART-NEW is already on job"):
            Part.create({"code": "PH-PART-NEW"}).action_apply()
        with self.assertRaises(ValidationError):
            Part.create({"code": "5400000000024", "quantity": -1}).action_apply()
        self.assertEqual(len(self.job.service_line_ids), 1)

    # ------------------------------------------------------------------
    # Add reading
    # ------------------------------------------------------------------
    def test_add_reading_shows_the_last_one_and_records_it(self):
        self.job.lot_id = self.unit
        Reading = self.env["serial.meter.reading"]
        Reading.create(
            {
                "lot_id": self.unit.id,
                "meter_type_id": self.meter.id,
                "reading_date": self.now - timedelta(days=20),
                "value": 1000,
            }
        )
        Reading.create(
            {
                "lot_id": self.unit.id,
                "meter_type_id": self.meter.id,
                "reading_date": self.now - timedelta(days=10),
                "value": 1250,
            }
        )
        Wizard = self._open(self.job, "action_add_reading")
        with Form(Wizard) as form:
            # the unit's product carries one meter: it is chosen
            self.assertEqual(form.meter_type_id, self.meter)
            self.assertEqual(form.last_value, 1250)
            form.value = 1400
        form.record.action_apply()
        reading = self.job.meter_reading_ids
        self.assertEqual(
            (reading.lot_id, reading.value, reading.delta, reading.source),
            (self.unit, 1400, 150, "technician"),
        )
        self.assertEqual(reading.create_uid, self.technician)

    def test_add_reading_refuses_a_lower_value_and_needs_a_unit(self):
        with self.assertRaisesRegex(UserError, "Scan the unit's serial number first"):
            self.job.with_user(self.technician).action_add_reading()
        self.job.lot_id = self.unit
        Wizard = self._open(self.job, "action_add_reading")
        Wizard.create({"value": 500}).action_apply()
        with self.assertRaises(ValidationError):
            Wizard.create({"value": 400}).action_apply()
        with self.assertRaisesRegex(UserError, "has no Phone colour meter"):
            Wizard.create(
                {"meter_type_id": self.meter_colour.id, "value": 600}
            ).action_apply()
        self.assertEqual(self.job.meter_reading_ids.mapped("value"), [500])

    # ------------------------------------------------------------------
    # Sign
    # ------------------------------------------------------------------
    def test_sign_sets_signature_name_and_date(self):
        Sign = self._open(self.job, "action_sign")
        with self.assertRaisesRegex(UserError, "Ask Dana to sign"):
            Sign.create({"signed_by": "Dana"}).action_apply()
        with self.assertRaisesRegex(UserError, "Type the name"):
            Sign.create({"signature": PNG, "signed_by": "  "}).action_apply()
        self.assertFalse(self.job.signature)
        Sign.create({"signature": PNG, "signed_by": " Dana Jones "}).action_apply()
        self.assertEqual(self.job.signed_by, "Dana Jones")
        self.assertTrue(self.job.signature)
        self.assertTrue(self.job.signed_on)
        # signing again proposes the name already given
        self.assertEqual(
            self._open(self.job, "action_sign").create({}).signed_by, "Dana Jones"
        )

    # ------------------------------------------------------------------
    # Whose job, and when
    # ------------------------------------------------------------------
    def test_buttons_refused_on_a_colleagues_job(self):
        for method in ("action_scan_serial", "action_add_part", "action_sign"):
            with self.subTest(method=method), self.assertRaises(AccessError):
                getattr(self.job_other.with_user(self.technician), method)()
        # a wizard made up by hand for the colleague's job changes nothing either
        Scan = self.env["serial.job.scan"].with_user(self.technician)
        with self.assertRaises(AccessError):
            Scan.create(
                {"request_id": self.job_other.id, "code": "PH-UNIT"}
            ).action_apply()
        Reading = self.env["serial.job.reading"].with_user(self.technician)
        self.job_other.lot_id = self.unit2
        with self.assertRaises(AccessError):
            Reading.create(
                {
                    "request_id": self.job_other.id,
                    "meter_type_id": self.meter.id,
                    "value": 10,
                }
            ).action_apply()
        self.assertFalse(self.job_other.meter_reading_ids)
        self.assertEqual(self.job_other.lot_id, self.unit2)

    def test_manager_uses_the_buttons_on_any_job(self):
        Scan = self._open(self.job_other, "action_scan_serial", user=self.manager)
        Scan.create({"code": "PH-UNIT2"}).action_apply()
        self.assertEqual(self.job_other.lot_id, self.unit2)

    def test_completed_job_takes_nothing_more(self):
        self.job.write(
            {
                "lot_id": self.unit.id,
                "service_line_ids": [Command.create({"product_id": self.toner.id})],
            }
        )
        Part = self._open(self.job, "action_add_part")
        wizard = Part.create({"code": "5400000000024"})
        self.job.with_user(self.technician).action_complete_job()
        self.assertTrue(self.job.completed_on)
        with self.assertRaisesRegex(UserError, "is completed"):
            wizard.action_apply()
        for method in (
            "action_scan_serial",
            "action_add_part",
            "action_add_reading",
            "action_sign",
        ):
            with (
                self.subTest(method=method),
                self.assertRaisesRegex(UserError, "is completed"),
            ):
                getattr(self.job.with_user(self.technician), method)()
        self.assertEqual(len(self.job.service_line_ids), 1)

    # ------------------------------------------------------------------
    # My Jobs on a phone: today, overdue
    # ------------------------------------------------------------------
    def test_schedule_status_in_the_users_time_zone(self):
        Job = self.env["maintenance.request"]
        # 2026-03-10 23:30 UTC is already 2026-03-11 in Brussels (UTC+1)
        jobs = Job.create(
            [
                {"name": "yesterday", "schedule_date": "2026-03-10 22:00:00"},
                {"name": "today early", "schedule_date": "2026-03-10 23:30:00"},
                {"name": "today late", "schedule_date": "2026-03-11 22:30:00"},
                {"name": "tomorrow", "schedule_date": "2026-03-11 23:30:00"},
                {"name": "unplanned"},
            ]
        )
        yesterday, early, late, tomorrow, unplanned = jobs
        brussels = Job.with_context(tz="Europe/Brussels")
        with freeze_time("2026-03-11 09:00:00"):
            self.assertEqual(
                jobs.with_context(tz="Europe/Brussels").mapped("schedule_status"),
                ["overdue", "today", "today", "upcoming", "unscheduled"],
            )
            domain = [("id", "in", jobs.ids)]
            self.assertEqual(
                brussels.search([*domain, ("schedule_status", "=", "today")]),
                early | late,
            )
            self.assertEqual(
                brussels.search([*domain, ("schedule_status", "=", "overdue")]),
                yesterday,
            )
            self.assertEqual(
                brussels.search(
                    [*domain, ("schedule_status", "in", ["upcoming", "unscheduled"])]
                ),
                tomorrow | unplanned,
            )
            # in UTC, 23:30 on the 10th was yesterday
            self.assertEqual(
                Job.with_context(tz="UTC").search(
                    [*domain, ("schedule_status", "=", "overdue")]
                ),
                yesterday | early,
            )
            yesterday.stage_id = self.env["maintenance.stage"].search(
                [("done", "=", True)], limit=1
            )
            self.assertEqual(
                brussels.search([*domain, ("schedule_status", "=", "overdue")]),
                Job,
            )
            self.assertEqual(
                brussels.search([*domain, ("schedule_status", "!=", "done")]),
                jobs - yesterday,
            )

    def test_my_jobs_shows_the_open_jobs_of_the_technician(self):
        action = self.env.ref("serial_service.maintenance_request_action_my_jobs")
        done = self.env["maintenance.request"].create(
            {
                "name": "Phone done job",
                "user_id": self.technician.id,
                "stage_id": self.env["maintenance.stage"]
                .search([("done", "=", True)], limit=1)
                .id,
            }
        )
        Job = self.env["maintenance.request"].with_user(self.technician)
        my_domain = safe_eval(action.domain, {"uid": self.technician.id})
        self.assertEqual(Job.search(my_domain), self.job)
        self.assertNotIn(done, Job.search(my_domain))
