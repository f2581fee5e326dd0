from odoo import api, fields, models
from odoo.exceptions import UserError


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    # --- labour timer ---
    timer_ids = fields.One2many(
        "serial.job.timer", "request_id", string="Time on Site", copy=False
    )
    is_timer_running = fields.Boolean(
        string="My Timer Running",
        compute="_compute_is_timer_running",
        help="The current user's timer on this job is running.",
    )
    timer_started_on = fields.Datetime(
        string="Timer Started", compute="_compute_is_timer_running"
    )
    service_arrival_on = fields.Datetime(
        string="Arrived",
        compute="_compute_service_times",
        help="When the first timer on the job started.",
    )
    service_departure_on = fields.Datetime(
        string="Left",
        compute="_compute_service_times",
        help="When the last timer on the job stopped.",
    )

    @api.depends_context("uid")
    @api.depends("timer_ids.date_stop", "timer_ids.user_id")
    def _compute_is_timer_running(self):
        for job in self:
            running = job.timer_ids.filtered(
                lambda timer: not timer.date_stop and timer.user_id == self.env.user
            )[:1]
            job.is_timer_running = bool(running)
            job.timer_started_on = running.date_start

    @api.depends("timer_ids.date_start", "timer_ids.date_stop")
    def _compute_service_times(self):
        for job in self:
            timers = job.timer_ids
            job.service_arrival_on = min(timers.mapped("date_start"), default=False)
            job.service_departure_on = (
                max(timers.mapped("date_stop"), default=False)
                if timers and all(timers.mapped("date_stop"))
                else False
            )

    def action_timer_start(self):
        """Start the current user's timer on the jobs: one running timer per
        technician and job."""
        self._check_job_editable()
        self._check_labour_product()
        running = self.filtered("is_timer_running")
        if running:
            raise UserError(
                self.env._(
                    "Your timer on %(job)s is already running.", job=running[0].name
                )
            )
        # the stop of an earlier timer reaches the database before the new
        # one: one running timer per technician and job is a unique index
        self.env["serial.job.timer"].flush_model(["date_stop"])
        self.env["serial.job.timer"].create(
            [{"request_id": job.id, "user_id": self.env.uid} for job in self]
        )
        return True

    def action_timer_stop(self):
        """Stop the current user's timer on the jobs: the time on site, rounded
        up, is added to the job's labour line."""
        self._check_job_editable()
        timers = self.timer_ids.filtered(
            lambda timer: not timer.date_stop and timer.user_id == self.env.user
        )
        if not timers:
            raise UserError(
                self.env._(
                    "Your timer is not running on %(jobs)s.",
                    jobs=", ".join(self.mapped("name")),
                )
            )
        self._check_labour_product()
        timers._stop()
        return True

    def action_complete_job(self):
        """A timer left running on a job stops when the job is completed: its
        time is on the labour line before the lines are frozen and billed."""
        running = self.filtered(lambda job: not job.completed_on).timer_ids.filtered(
            lambda timer: not timer.date_stop
        )
        if running:
            running.request_id._check_labour_product()
            # sudo: whoever completes the job stops every timer left running
            # on it, a colleague's too (record rules show them only their own)
            running.sudo()._stop()
        return super().action_complete_job()

    def _check_labour_product(self):
        missing = self.company_id.filtered(
            lambda company: not company.service_labour_product_id
        )
        if missing:
            raise UserError(
                self.env._(
                    "Choose the labour product of the job timer first (Field "
                    "Service settings of %(company)s).",
                    company=missing[0].name,
                )
            )
