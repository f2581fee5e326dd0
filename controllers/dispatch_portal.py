"""Customer portal: confirm a planned visit from the link of its e-mail."""

from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request


class SerialVisitPortal(http.Controller):
    def _visit_check_access(self, job_id, access_token=None):
        """The job, in sudo, when the visitor holds its e-mail's token or is a
        contact of its customer; else 404 (nothing tells the job exists)."""
        # sudo: a public visitor with the e-mail's link reads the job it names
        job_sudo = request.env["maintenance.request"].sudo().browse(job_id).exists()
        if not job_sudo or not job_sudo.planned_visit_date:
            raise NotFound()
        if access_token and job_sudo._check_visit_token(access_token):
            return job_sudo
        user = request.env.user
        if not user._is_public():
            customer = user.partner_id.commercial_partner_id
            if job_sudo.customer_id.commercial_partner_id == customer:
                return job_sudo
        raise NotFound()

    @http.route(["/my/visits/<int:job_id>"], type="http", auth="public", website=True)
    def portal_visit(self, job_id, access_token=None, confirmed=None, **kw):
        job_sudo = self._visit_check_access(job_id, access_token)
        return request.render(
            "serial_service.portal_visit_confirm",
            {
                "job": job_sudo,
                "access_token": access_token or "",
                "confirmed": bool(confirmed),
            },
        )

    @http.route(
        ["/my/visits/<int:job_id>/confirm"],
        type="http",
        auth="public",
        website=True,
        methods=["POST"],
    )
    def portal_visit_confirm(self, job_id, access_token=None, **kw):
        job_sudo = self._visit_check_access(job_id, access_token)
        partner = (
            request.env.user.partner_id
            if not request.env.user._is_public()
            else job_sudo.customer_id
        )
        job_sudo._portal_confirm_visit(partner)
        query = f"access_token={access_token}&confirmed=1" if access_token else ""
        return request.redirect(f"/my/visits/{job_sudo.id}?{query or 'confirmed=1'}")
