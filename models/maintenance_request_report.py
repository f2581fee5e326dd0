import logging

from odoo import fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)


class MaintenanceRequest(models.Model):
    _inherit = "maintenance.request"

    # --- service report ---
    service_notes = fields.Html(
        string="Work Done",
        help="What the technician did, for the customer: printed on the service "
        "report.",
    )

    def action_print_service_report(self):
        return self.env.ref("serial_service.action_report_service_job").report_action(
            self
        )

    def action_preview_service_report(self):
        """The report in the web client (its Print button makes the PDF): on a
        phone, the technician shows it to the customer before they sign."""
        action = self.action_print_service_report()
        action["report_type"] = "qweb-html"
        return action

    def action_complete_job(self):
        """Completing a job keeps its service report on the job and e-mails
        it to the customer (unless the company's `service_report_send` is
        off)."""
        jobs = self.filtered(lambda job: not job.completed_on)
        result = super().action_complete_job()
        jobs.filtered("completed_on")._send_service_report()
        return result

    def _send_service_report(self):
        """Render each job's service report (the report keeps it as an
        attachment of the completed job) and post it to its customer with the
        mail template, queued: the technician does not wait for the mail
        server. A report that cannot be rendered does not undo the completion:
        the job's history says so."""
        report = self.env.ref("serial_service.action_report_service_job")
        template = self.env.ref("serial_service.mail_template_service_report")
        for job in self:
            try:
                with self.env.cr.savepoint():
                    report._render_qweb_pdf(report.report_name, job.ids)
                    if job.company_id.service_report_send and job.customer_id:
                        job.with_context(
                            mail_notify_force_send=False
                        ).message_post_with_source(
                            template,
                            message_type="comment",
                            subtype_xmlid="mail.mt_comment",
                        )
            except UserError as error:
                _logger.warning(
                    "Service report of %s not sent: %s", job.display_name, error
                )
                job.message_post(
                    body=self.env._(
                        "The service report could not be made or sent: %(error)s",
                        error=str(error),
                    ),
                    subtype_xmlid="mail.mt_note",
                )

    def _get_report_base_filename(self):
        self.ensure_one()
        return self.env._("Service Report - %(job)s", job=self.name)
