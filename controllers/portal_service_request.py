"""Customer portal: service requests from a serial's page (what is wrong, a
photo), and the customer's jobs with their state, next visit and service
report."""

from werkzeug.exceptions import NotFound

from odoo import fields, http
from odoo.exceptions import ValidationError
from odoo.http import request
from odoo.tools import plaintext2html
from odoo.tools.mimetypes import guess_mimetype

from odoo.addons.portal.controllers.portal import pager as portal_pager

from .portal import SerialServicePortal

# a phone's photo; larger files are refused with a message
MAX_PHOTO_BYTES = 10 * 1024 * 1024
PHOTO_MIMETYPES = ("image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp")
# the subject of a job is the first line of the customer's description
SUBJECT_LENGTH = 80


class ServiceRequestPortal(SerialServicePortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "service_job_count" in counters:
            Job = request.env["maintenance.request"]
            values["service_job_count"] = (
                Job.search_count(self._get_own_company_domain())
                if Job.has_access("read")
                else 0
            )
        return values

    # ------------------------------------------------------------------
    # Request service on a serial
    # ------------------------------------------------------------------
    @http.route(
        ["/my/serials/<int:lot_id>/request"],
        type="http",
        auth="user",
        website=True,
        methods=["GET", "POST"],
    )
    def portal_my_serial_request(self, lot_id, description=None, photo=None, **kw):
        """The short form of a service request; posted, it opens a corrective
        job on the serial. Refused input comes back with its reason and
        creates nothing."""
        lot_sudo = self._portal_check_own("stock.lot", lot_id)
        values = {
            "page_name": "serial",
            "serial": lot_sudo,
            "request_error": None,
            "request_input": {"description": description or ""},
        }
        if request.httprequest.method == "POST":
            try:
                job_sudo = self._create_service_request(lot_sudo, description, photo)
            except ValidationError as error:
                request.env.invalidate_all()
                values["request_error"] = str(error)
            else:
                return request.redirect(f"/my/jobs/{job_sudo.id}?request_sent=1")
        return request.render("serial_service.portal_service_request", values)

    def _check_service_request_photo(self, photo):
        """(file name, content) of a valid photo, None without one; a
        ValidationError in the customer's words otherwise."""
        env = request.env
        if not photo or not getattr(photo, "filename", None):
            return None
        content = photo.read()
        if len(content) > MAX_PHOTO_BYTES:
            raise ValidationError(
                env._(
                    "The photo is too large (%(size)s MB): send one of at most "
                    "%(max)s MB.",
                    size=format(len(content) / 1024 / 1024, ".1f"),
                    max=MAX_PHOTO_BYTES // 1024 // 1024,
                )
            )
        if not content or guess_mimetype(content) not in PHOTO_MIMETYPES:
            raise ValidationError(
                env._("The file you sent is not a photo: send a JPEG or PNG image.")
            )
        return photo.filename, content

    def _create_service_request(self, lot_sudo, description, photo):
        env = request.env
        text = (description or "").strip()
        if not text:
            raise ValidationError(env._("Tell us what is wrong with the unit."))
        attachment = self._check_service_request_photo(photo)
        author = env.user.partner_id
        # sudo: a portal customer may not create jobs; the serial passed their
        # record rules above and every value is set here, not by the form
        job_sudo = (
            env["maintenance.request"]
            .sudo()
            .create(self._prepare_service_request_vals(lot_sudo, text))
        )
        job_sudo.message_subscribe(partner_ids=author.ids)
        job_sudo.message_post(
            body=plaintext2html(text),
            author_id=author.id,
            message_type="comment",
            subtype_xmlid="mail.mt_comment",
            attachments=[attachment] if attachment else [],
        )
        return job_sudo

    def _prepare_service_request_vals(self, lot_sudo, text):
        return {
            "name": text.splitlines()[0][:SUBJECT_LENGTH],
            "description": plaintext2html(text),
            "lot_id": lot_sudo.id,
            "maintenance_type": "corrective",
            "request_date": fields.Date.context_today(lot_sudo),
            "company_id": (lot_sudo.company_id or request.env.company).id,
        }

    # ------------------------------------------------------------------
    # My service jobs
    # ------------------------------------------------------------------
    @http.route(
        ["/my/jobs", "/my/jobs/page/<int:page>"],
        type="http",
        auth="user",
        website=True,
    )
    def portal_my_service_jobs(self, page=1, **kw):
        values = self._prepare_portal_layout_values()
        Job = request.env["maintenance.request"]
        domain = self._get_own_company_domain()
        total = Job.search_count(domain) if Job.has_access("read") else 0
        pager = portal_pager(
            url="/my/jobs", total=total, page=page, step=self._items_per_page
        )
        jobs = (
            Job.search(
                domain,
                order="request_date desc, id desc",
                limit=self._items_per_page,
                offset=pager["offset"],
            )
            if total
            else Job
        )
        request.session["my_service_jobs_history"] = jobs.ids[:100]
        values.update(
            {
                # sudo: these jobs passed the user's record rules; sudo reads
                # their stage, serial and technician (no portal access)
                "service_jobs": jobs.sudo(),
                "page_name": "service_job",
                "pager": pager,
                "default_url": "/my/jobs",
            }
        )
        return request.render("serial_service.portal_my_service_jobs", values)

    @http.route(["/my/jobs/<int:job_id>"], type="http", auth="user", website=True)
    def portal_my_service_job(self, job_id, request_sent=None, **kw):
        job_sudo = self._portal_check_own("maintenance.request", job_id)
        values = {
            "page_name": "service_job",
            "service_job": job_sudo,
            "request_sent": bool(request_sent),
        }
        values = self._get_page_view_values(
            job_sudo, None, values, "my_service_jobs_history", False, **kw
        )
        return request.render("serial_service.portal_my_service_job", values)

    @http.route(
        ["/my/jobs/<int:job_id>/report"], type="http", auth="user", website=True
    )
    def portal_my_service_job_report(self, job_id, download=False, **kw):
        job_sudo = self._portal_check_own("maintenance.request", job_id)
        if not job_sudo.completed_on:
            raise NotFound()
        return self._show_report(
            model=job_sudo,
            report_type="pdf",
            report_ref="serial_service.action_report_service_job",
            download=download,
        )

    def _serial_get_page_view_values(self, lot_sudo, **kwargs):
        values = super()._serial_get_page_view_values(lot_sudo, **kwargs)
        Job = request.env["maintenance.request"]
        jobs = (
            Job.search(
                [*self._get_own_company_domain(), ("lot_id", "=", lot_sudo.id)],
                order="request_date desc, id desc",
                limit=10,
            )
            if Job.has_access("read")
            else Job
        )
        # sudo: the jobs passed the user's record rules; sudo reads their stage
        values["service_jobs"] = jobs.sudo()
        return values
