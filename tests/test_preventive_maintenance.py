"""Meter-triggered preventive maintenance: one preventive job per serial and
threshold (k x the interval of usage since the serial's first reading), with
the product's parts kit, from any source of readings, never two."""

import base64
from datetime import timedelta

import psycopg2

from odoo import Command, fields
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestPreventiveMaintenance(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.now = fields.Datetime.now().replace(microsecond=0)
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Pages (preventive)", "code": "PVPAGES"}
        )
        cls.other_meter = cls.env["serial.meter.type"].create(
            {"name": "Colour (preventive)", "code": "PVCOLOR"}
        )
        cls.drum = cls._make_product(
            "Drum kit", tracking="none", service_line_type="consumable"
        )
        cls.labour = cls.env["product.product"].create(
            {"name": "Service labour", "type": "service", "service_line_type": "labour"}
        )
        cls.copier = cls._make_product(
            "Preventive Copier", categ=cls.categ_equipment, serial_service_managed=True
        )
        cls.copier.product_tmpl_id.write(
            {
                "meter_type_ids": [Command.set((cls.meter | cls.other_meter).ids)],
                "preventive_meter_type_id": cls.meter.id,
                "preventive_interval": 1000,
                "preventive_kit_line_ids": [
                    Command.create({"product_id": cls.drum.id, "quantity": 1}),
                    Command.create({"product_id": cls.labour.id, "quantity": 1.5}),
                ],
            }
        )
        cls.lots = cls._make_lots(cls.copier, [f"PV-{n}" for n in range(1, 8)])
        cls.lots.write({"customer_id": cls.customer.id})
        cls.lot = cls.lots[0]

    def _read(self, lot, days_ago, value, meter=None, **vals):
        return self.env["serial.meter.reading"].create(
            self._vals(lot, days_ago, value, meter=meter, **vals)
        )

    def _vals(self, lot, days_ago, value, meter=None, **vals):
        return {
            "lot_id": lot.id,
            "meter_type_id": (meter or self.meter).id,
            "reading_date": self.now - timedelta(days=days_ago),
            "value": value,
            **vals,
        }

    def _jobs(self, lots=None):
        return self.env["maintenance.request"].search(
            [
                ("lot_id", "in", (lots or self.lot).ids),
                ("preventive_threshold", ">", 0),
            ],
            order="preventive_threshold",
        )

    def test_one_job_per_threshold_with_the_kit(self):
        self._read(self.lot, 60, 5000)  # the baseline: usage 0
        self._read(self.lot, 50, 5600)  # 600
        self.assertFalse(self._jobs())
        crossing = self._read(self.lot, 40, 6100)  # 1100: threshold 1000
        job = self._jobs()
        self.assertEqual(len(job), 1)
        self.assertEqual(
            (job.maintenance_type, job.lot_id, job.preventive_threshold),
            ("preventive", self.lot, 1000),
        )
        self.assertEqual(job.preventive_meter_type_id, self.meter)
        self.assertEqual(job.preventive_reading_id, crossing)
        self.assertEqual(job.request_date, crossing.reading_date.date())
        self.assertEqual(
            [(line.product_id, line.quantity) for line in job.service_line_ids],
            [(self.drum, 1), (self.labour, 1.5)],
        )
        self.assertEqual(job.customer_id, self.customer)
        # further readings below the next threshold, a change of a note or of
        # the other meter: no second job
        self._read(self.lot, 30, 6500)  # 1500
        crossing.note = "checked"
        self._read(self.lot, 30, 90000, meter=self.other_meter)
        self.assertEqual(len(self._jobs()), 1)
        # two readings in one batch past 2000: one job, from the first of them
        batch = self.env["serial.meter.reading"].create(
            [self._vals(self.lot, 20, 7000), self._vals(self.lot, 19, 7200)]
        )
        jobs = self._jobs()
        self.assertEqual(jobs.mapped("preventive_threshold"), [1000, 2000])
        self.assertEqual(jobs[1].preventive_reading_id, batch[0])
        # a jump over two thresholds (3000 and 4000): one job, for the highest
        self._read(self.lot, 10, 9500)  # 4500
        self.assertEqual(
            self._jobs().mapped("preventive_threshold"), [1000, 2000, 4000]
        )
        # running the trigger again on every reading creates nothing
        self.env["serial.meter.reading"].search(
            [("lot_id", "=", self.lot.id)]
        )._create_preventive_jobs()
        self.assertEqual(len(self._jobs()), 3)

    def test_estimates_do_not_trigger_but_the_real_reading_does(self):
        self._read(self.lot, 60, 0)
        self._read(self.lot, 50, 900)
        estimate = self._read(self.lot, 40, 1500, source="estimate")
        self.assertEqual(estimate.delta, 600)
        self.assertFalse(self._jobs(), "an estimate says nothing of real usage")
        # the real reading trues it up (1200 < 1500): usage 1200, due at 1000
        real = self._read(self.lot, 35, 1200)
        self.assertEqual(real.delta, -300)
        self.assertEqual(self._jobs().preventive_reading_id, real)

    def test_device_batch_and_import_create_one_job_per_serial(self):
        lot1, lot2, lot3 = self.lots[1:4]
        items = [
            (lot1, 40, 0),
            (lot1, 30, 600),
            (lot1, 20, 1200),  # due at 1000
            (lot1, 10, 1300),
            (lot2, 40, 0),
            (lot2, 10, 2500),  # due at 2000 (1000 skipped)
            (lot3, 40, 0),
            (lot3, 10, 999),  # not yet
        ]
        answer = self.env["serial.meter.reading"]._api_record_readings(
            {
                "readings": [
                    {
                        "serial": lot.name,
                        "meter": self.meter.code,
                        "date": (self.now - timedelta(days=days)).isoformat(),
                        "value": value,
                    }
                    for lot, days, value in items
                ]
            }
        )
        self.assertEqual(len(answer["recorded"]), 8)
        jobs = self._jobs(lot1 | lot2 | lot3)
        self.assertEqual(
            sorted((job.lot_id.name, job.preventive_threshold) for job in jobs),
            [(lot1.name, 1000), (lot2.name, 2000)],
        )
        # the import of the next readings: lot3 reaches 1000
        content = (
            "serial,meter,date,value,is_reset\n"
            f"{lot3.name},PVPAGES,{(self.now - timedelta(days=5)).date()},1001,\n"
        )
        wizard = self.env["serial.meter.reading.import"].create(
            {
                "file": base64.b64encode(content.encode()),
                "filename": "readings.csv",
            }
        )
        wizard.action_import()
        self.assertEqual(wizard.imported_count, 1)
        self.assertEqual(self._jobs(lot3).preventive_threshold, 1000)

    def test_query_count_does_not_grow_with_the_batch(self):
        def count(readings):
            self.env.invalidate_all()
            before = self.env.cr.sql_log_count
            readings._create_preventive_jobs()
            return self.env.cr.sql_log_count - before

        small = self.env["serial.meter.reading"].create(
            [self._vals(lot, 10, 100) for lot in self.lots[:2]]
        )
        large = self.env["serial.meter.reading"].create(
            [self._vals(lot, 9, 100) for lot in self.lots]
            + [self._vals(lot, 5, 200) for lot in self.lots]
        )
        self.env.flush_all()
        self.assertEqual(count(small), count(large))

    def test_the_same_threshold_is_refused_by_the_database(self):
        self._read(self.lot, 20, 0)
        self._read(self.lot, 10, 1000)
        job = self._jobs()
        self.assertEqual(job.preventive_threshold, 1000)
        with (
            mute_logger("odoo.sql_db"),
            self.assertRaises(psycopg2.errors.UniqueViolation),
            self.env.cr.savepoint(),
        ):
            self.env["maintenance.request"].create(
                {
                    "name": "Duplicate",
                    "lot_id": self.lot.id,
                    "maintenance_type": "preventive",
                    "preventive_meter_type_id": self.meter.id,
                    "preventive_threshold": 1000,
                }
            )
            self.env.flush_all()

    def test_contract_interval_replaces_the_product_one(self):
        template = self.env["sale.subscription.template"].create({"name": "Heavy"})
        contract = self._create_contract(
            self.customer,
            self.lot,
            template,
            date_start=fields.Date.today() - timedelta(days=90),
            preventive_interval=400,
        )
        self._read(self.lot, 20, 0)
        self._read(self.lot, 10, 850)  # 850: due at 800 under the contract
        job = self._jobs()
        self.assertEqual(job.preventive_threshold, 800)
        self.assertEqual(job.subscription_id, contract)
        # the serial next to it, not covered: the product's 1000
        other = self.lots[1]
        self._read(other, 20, 0)
        self._read(other, 10, 850)
        self.assertFalse(self._jobs(other))
