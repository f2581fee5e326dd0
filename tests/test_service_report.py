"""The service report of a visit: its content, kept on the completed job and
e-mailed to the customer (queued), or not when the company says so."""

from html import unescape

from odoo.exceptions import AccessError
from odoo.tests import HttpCase, new_test_user, tagged

from odoo.addons.base.models.ir_qweb import QWebException

from .visit_common import PNG_1PX, VisitCase


class ServiceReportCase(VisitCase):
    def _completed_job(self, **context):
        job = self._visit_job()
        job.write(
            {
                "description": "<p>Paper jams in tray 2</p>",
                "service_notes": "<p>Replaced the fuser, cleaned the rollers</p>",
                "signature": PNG_1PX,
                "signed_by": "Dana Customer",
            }
        )
        self.env["serial.meter.reading"].create(
            {
                "lot_id": self.unit.id,
                "meter_type_id": self.meter.id,
                "value": 12345,
                "request_id": job.id,
                "source": "technician",
            }
        )
        job.with_user(self.technician).with_context(**context).action_complete_job()
        return job

    def _mails(self, job):
        return self.env["mail.mail"].search(
            [("model", "=", "maintenance.request"), ("res_id", "=", job.id)]
        )


@tagged("post_install", "-at_install")
class TestServiceReport(ServiceReportCase):
    def test_report_content(self):
        job = self._completed_job()
        html, report_type = self.env["ir.actions.report"]._render_qweb_html(
            "serial_service.action_report_service_job", job.ids
        )
        self.assertEqual(report_type, "html")
        html = unescape(html.decode())
        labour = job.service_line_ids[1]
        for expected in (
            "Service Report",
            job.name,
            "VISIT-UNIT",  # the unit's serial
            self.product_unit.name,
            "Test Customer",
            "1 Harbour Road",  # the site
            "Paper jams in tray 2",  # the description
            "Replaced the fuser",  # the work done
            "VISIT-FUSER-NEW",  # the part's serial
            labour.coverage_reason,  # why the labour is covered
            "Contract",
            "Not Covered",
            "300.00",  # the fuser's charge
            "Visit pages",  # the reading
            "12345",
            self.technician.name,
            "Dana Customer",  # the signer
            "data:image/png;base64,",  # the signature
        ):
            self.assertIn(expected, html)
        self.assertIn("Labour included", labour.coverage_reason)

    def test_no_mail_when_the_company_does_not_send(self):
        self.company.service_report_send = False
        job = self._completed_job()
        self.assertTrue(job.completed_on)
        self.assertFalse(self._mails(job))

    def test_technician_previews_and_prints_on_site(self):
        job = self._visit_job().with_user(self.technician)
        preview = job.action_preview_service_report()
        self.assertEqual(preview["report_type"], "qweb-html")
        self.assertEqual(preview["report_name"], "serial_service.report_service_job")
        self.assertEqual(job.action_print_service_report()["report_type"], "qweb-pdf")
        html = (
            self.env["ir.actions.report"]
            .with_user(self.technician)
            ._render_qweb_html("serial_service.action_report_service_job", job.ids)[0]
        )
        self.assertIn(b"Not signed yet", html)

    def test_report_access_per_role(self):
        job = self._completed_job()
        other = new_test_user(
            self.env,
            login="other_technician",
            groups="serial_service.group_service_technician",
        )
        # a technician reads the reports of their own jobs only
        with self.assertRaises(QWebException) as error:
            self.env["ir.actions.report"].with_user(other)._render_qweb_html(
                "serial_service.action_report_service_job", job.ids
            )
        self.assertIsInstance(error.exception.__cause__, AccessError)
        with self.assertRaises(AccessError):
            job.with_user(self.consultant).read(["service_notes"])
        self.assertTrue(job.with_user(self.manager).service_notes)


@tagged("post_install", "-at_install")
class TestServiceReportPdf(ServiceReportCase, HttpCase):
    """The PDF itself: wkhtmltopdf fetches the report's assets from the test
    server, which shares the test's transaction only in an HttpCase."""

    def test_report_kept_and_mailed_to_the_customer_as_pdf(self):
        job = self._completed_job(force_report_rendering=True)
        name = f"Service Report - {job.name}.pdf"
        message = job.message_ids.filtered(lambda m: m.message_type == "comment")
        attachment = (
            self.env["ir.attachment"].search(
                [
                    ("res_model", "=", "maintenance.request"),
                    ("res_id", "=", job.id),
                    ("name", "=", name),
                ]
            )
            - message.attachment_ids
        )
        self.assertEqual(len(attachment), 1, "the report is kept on the job")
        self.assertEqual(attachment.mimetype, "application/pdf")
        self.assertTrue(attachment.raw.startswith(b"%PDF"))
        mail = self._mails(job)
        self.assertEqual(len(mail), 1)
        self.assertEqual(mail.state, "outgoing", "queued, not sent at completion")
        self.assertIn(self.customer, mail.recipient_ids)
        self.assertIn(job.name, mail.subject)
        self.assertEqual(mail.attachment_ids.mapped("name"), [name])
        self.assertTrue(mail.attachment_ids.raw.startswith(b"%PDF"))
        # the message is in the job's history, with the report
        self.assertEqual(message.attachment_ids.mapped("name"), [name])
        self.assertEqual(
            self.env.ref("serial_service.mail_template_service_report").model,
            "maintenance.request",
        )

    def test_label_with_its_qr_code_renders_as_pdf(self):
        label = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("serial_service.stock_lot_label_report", self.unit.ids)[0]
        )
        self.assertTrue(label.startswith(b"%PDF"))
