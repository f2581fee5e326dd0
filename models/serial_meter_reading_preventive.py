import math

import psycopg2.errors

from odoo import api, models
from odoo.tools import SQL


class SerialMeterReading(models.Model):
    """Meter-triggered preventive maintenance: a reading whose usage reaches
    the next multiple of the serial's preventive interval opens a job."""

    _inherit = "serial.meter.reading"

    def _create_preventive_jobs(self):
        """One preventive job per serial whose usage, counted from its first
        reading (the baseline) on the meter its preventive plan follows, has
        reached a multiple k x N of the plan's interval N for which it has no
        job yet; the job carries the threshold k x N (a unique index refuses a
        second one) and the product's parts kit as lines. A reading jumping
        over several thresholds gives one job, for the highest. Estimates do
        not trigger jobs (only real usage does). One pass over the readings:
        a query for the usage, one for the existing thresholds."""
        readings = self.filtered(lambda r: r.source != "estimate" and r.lot_id)
        plans = {}
        for reading in readings:
            meter, interval = self._get_preventive_plan(
                reading.lot_id, reading.reading_date.date()
            )
            if interval > 0 and meter == reading.meter_type_id:
                plans[reading.lot_id, reading.meter_type_id] = interval
        if not plans:
            return self.env["maintenance.request"]
        readings = readings.filtered(lambda r: (r.lot_id, r.meter_type_id) in plans)
        self.flush_model(["delta", "reading_date", "lot_id", "meter_type_id"])
        rows = self.env.execute_query(
            SQL(
                """
                SELECT w.id, w.usage FROM (
                    SELECT r.id, SUM(COALESCE(r.delta, 0)) OVER (
                               PARTITION BY r.lot_id, r.meter_type_id
                               ORDER BY r.reading_date, r.id) AS usage
                      FROM serial_meter_reading r
                      JOIN (VALUES %s) AS p(lot_id, meter_type_id)
                        ON p.lot_id = r.lot_id AND p.meter_type_id = r.meter_type_id
                ) w WHERE w.id IN %s
                """,
                SQL(", ").join(
                    SQL("(%s, %s)", lot.id, meter.id) for lot, meter in plans
                ),
                tuple(readings.ids),
            )
        )
        usage = dict(rows)
        due = {}
        for reading in readings:
            key = (reading.lot_id, reading.meter_type_id)
            interval = plans[key]
            # a hair of tolerance: 99,999.9999 pages is 100,000 in floats
            threshold = (
                math.floor((usage[reading.id] or 0.0) / interval + 1e-9) * interval
            )
            if threshold > 0 and threshold > due.get(key, (0.0, None))[0]:
                due[key] = (threshold, reading)
        if not due:
            return self.env["maintenance.request"]
        # sudo: a customer's, a device's or a technician's reading creates the
        # company's job, and the thresholds served are read over all jobs
        Job = self.env["maintenance.request"].sudo()
        served = {
            (lot, meter): threshold
            for lot, meter, threshold in Job._read_group(
                [
                    ("lot_id", "in", [lot.id for lot, _meter in due]),
                    ("preventive_meter_type_id", "in", [m.id for _l, m in due]),
                    ("preventive_threshold", ">", 0),
                ],
                ["lot_id", "preventive_meter_type_id"],
                ["preventive_threshold:max"],
            )
        }
        vals_list = [
            reading._prepare_preventive_job_vals(threshold)
            for (lot, meter), (threshold, reading) in due.items()
            if threshold > served.get((lot, meter), 0.0) + 1e-9
        ]
        return self._create_preventive_jobs_once(Job, vals_list)

    @api.model
    def _create_preventive_jobs_once(self, Job, vals_list):
        """Create the jobs; one whose threshold a transaction committed since
        this one's snapshot has served (the unique index refuses a second job)
        is left out: that transaction's job is the one, the reading stays."""
        if not vals_list:
            return Job
        try:
            with self.env.cr.savepoint(flush=False):
                return Job.create(vals_list)
        except psycopg2.errors.UniqueViolation as error:
            if error.diag.constraint_name != "maintenance_request_preventive_unique":
                raise
        jobs = Job
        for vals in vals_list:
            try:
                with self.env.cr.savepoint(flush=False):
                    jobs |= Job.create([vals])
            except psycopg2.errors.UniqueViolation as error:
                if error.diag.constraint_name != (
                    "maintenance_request_preventive_unique"
                ):
                    raise
        return jobs

    @api.model
    def _get_preventive_plan(self, lot, day):
        """(meter, interval) of the serial's preventive service: the running
        contract's when it sets an interval (its meter, else the product's),
        else the product's; interval 0 = none."""
        contract = lot._get_running_contract(day)
        product = lot.product_id.product_tmpl_id
        if contract.preventive_interval > 0:
            return (
                contract.preventive_meter_type_id or product.preventive_meter_type_id,
                contract.preventive_interval,
            )
        return product.preventive_meter_type_id, product.preventive_interval

    def _prepare_preventive_job_vals(self, threshold):
        self.ensure_one()
        lot = self.lot_id
        meter = self.meter_type_id
        return self.env["maintenance.request"]._prepare_preventive_job_vals(
            lot,
            self.env._(
                "Preventive service of %(serial)s at %(threshold)s %(meter)s",
                serial=lot.name,
                threshold=format(threshold, "g"),
                meter=meter.name,
            ),
            self.env._(
                "Reading %(value)s on %(date)s: the usage since the first reading "
                "reached %(threshold)s.",
                value=format(self.value, "g"),
                date=self.reading_date,
                threshold=format(threshold, "g"),
            ),
            company_id=(lot.company_id or self.env.company).id,
            request_date=self.reading_date.date(),
            preventive_meter_type_id=meter.id,
            preventive_threshold=threshold,
            preventive_reading_id=self.id,
        )
