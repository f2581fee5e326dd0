import uuid
from datetime import datetime, time, timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import consteq

from .sale_subscription_visit import CLEAR_WIN_MARGIN


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    planned_visit_date = fields.Date(
        readonly=True,
        copy=False,
        index="btree_not_null",
        help="The contract's planned preventive visit this job serves: one job "
        "per serial and visit date.",
    )
    visit_access_token = fields.Char(copy=False, groups="base.group_user")
    visit_notified_on = fields.Datetime(
        string="Visit Announced On", readonly=True, copy=False, tracking=True
    )
    visit_confirmed_on = fields.Datetime(
        string="Visit Confirmed On", readonly=True, copy=False, tracking=True
    )

    def init(self):
        res = super().init()
        # one planned visit per serial and visit date, also when two
        # schedulers plan the same contract at once
        self.env.cr.execute(
            """
            CREATE UNIQUE INDEX IF NOT EXISTS maintenance_request_planned_visit_unique
                ON maintenance_request (lot_id, planned_visit_date)
             WHERE planned_visit_date IS NOT NULL
            """
        )
        return res

    @api.depends("planned_visit_date")
    def _compute_sla_deadlines(self):
        res = super()._compute_sla_deadlines()
        # a planned visit answers by the end of its day, whatever the contract
        for job in self.filtered("planned_visit_date"):
            job.response_deadline = datetime.combine(
                job.planned_visit_date + timedelta(days=1), time.min
            )
        return res

    # --- planned visits: actions ---
    def action_send_visit_email(self):
        """E-mail the customer the planned visit, with a link to confirm it."""
        jobs = self.filtered(lambda j: j.schedule_date and j.customer_id)
        if not jobs:
            raise UserError(
                self.env._(
                    "Schedule the visit and set its customer before announcing it."
                )
            )
        jobs._send_visit_email()
        return True

    def _portal_confirm_visit(self, partner):
        """The customer confirms the visit from the e-mail's link."""
        self.ensure_one()
        if self.visit_confirmed_on:
            return False
        self.visit_confirmed_on = fields.Datetime.now()
        self.message_post(
            body=self.env._(
                "Visit of %(date)s confirmed by %(name)s on the portal.",
                date=fields.Datetime.to_string(self.schedule_date or False) or "",
                name=partner.display_name,
            ),
            author_id=partner.id,
        )
        return True

    # --- planned visits: business methods ---
    def _get_dispatch_window(self, now=None):
        start, end = super()._get_dispatch_window(now)
        if self.planned_visit_date:
            start = max(start, datetime.combine(self.planned_visit_date, time.min))
        return start, end

    def _notify_dispatched(self):
        res = super()._notify_dispatched()
        self.filtered(
            lambda j: (
                j.planned_visit_date
                and j.schedule_date
                and j.customer_id
                and not j.visit_notified_on
            )
        )._send_visit_email()
        return res

    def _assign_clear_winners(self):
        """Assign each job whose top suggestion clearly leads the others (or
        stands alone); the others wait for the dispatcher. A job that cannot
        be assigned (its parts cannot be planned) stays unassigned, with an
        activity saying why; the others go on. Returns the jobs assigned."""
        suggestions = self._get_technician_suggestions_by_job()
        assigned = self.browse()
        for job in self:
            ranked = suggestions.get(job.id) or []
            if not ranked:
                continue
            if len(ranked) > 1 and ranked[0]["score"] - ranked[1]["score"] < (
                CLEAR_WIN_MARGIN
            ):
                continue
            try:
                with self.env.cr.savepoint():
                    job.action_assign_technician(ranked[0]["user_id"])
                assigned |= job
            except (UserError, ValidationError) as error:  # the savepoint undid it
                job.activity_schedule(
                    "mail.mail_activity_data_warning",
                    summary=self.env._("Planned visit not assigned"),
                    note=str(error),
                    user_id=job.subscription_id.user_id.id or self.env.uid,
                )
        return assigned

    def _ensure_visit_token(self):
        # sudo: the token is hidden from technicians' reads, and whoever
        # announces a visit sets it
        for job in self.sudo().filtered(lambda j: not j.visit_access_token):
            job.visit_access_token = str(uuid.uuid4())

    def _check_visit_token(self, token):
        self.ensure_one()
        # sudo: the portal visitor has no access to the job's token
        stored = self.sudo().visit_access_token
        return bool(stored and token and consteq(stored, token))

    def _get_visit_confirm_url(self):
        self.ensure_one()
        # sudo: the e-mail's renderer may not read the token
        return f"/my/visits/{self.id}?access_token={self.sudo().visit_access_token}"

    def _send_visit_email(self):
        template = self.env.ref("serial_service.mail_template_planned_visit")
        self._ensure_visit_token()
        # queued, sent by the mail queue; each e-mail shows in its job's chatter
        template.send_mail_batch(
            self.ids, email_layout_xmlid="mail.mail_notification_light"
        )
        self.visit_notified_on = fields.Datetime.now()
