"""HTTP endpoint meter devices and integrators post readings to, in bulk."""

import json
import logging

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

# an API key restricted to this endpoint is generated with this scope; a
# global key (no scope) works too
API_KEY_SCOPE = "serial_service_readings"
DEVICE_GROUP = "serial_service.group_service_technician"


class SerialServiceDeviceApi(http.Controller):
    @http.route(
        "/serial_service/api/v1/readings",
        type="http",
        auth="none",
        readonly=False,
        methods=["POST"],
        csrf=False,
        save_session=False,
    )
    def post_readings(self, **_kwargs):
        """Body: {"readings": [{"serial", "meter", "date", "value", "reset"?,
        "product"?}, ...], "supplies"?: [{"serial", "product", "level"}, ...]};
        header: Authorization: Bearer <API key>.
        201 with what was recorded; 400 with the reason of each bad item and
        nothing written; 401 without a valid key; 403 if the key's user may
        not record readings."""
        uid = self._authenticate()
        if not uid:
            return self._response(
                401,
                {
                    "error": "A valid Odoo API key is required: "
                    "Authorization: Bearer <key>."
                },
                headers=[("WWW-Authenticate", 'Bearer realm="serial_service"')],
            )
        env = request.env(user=uid)
        company = env.user.company_id
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        if not env.user.has_group(DEVICE_GROUP):
            return self._response(
                403,
                {"error": "The API key's user is not a Service Technician."},
            )
        try:
            payload = json.loads(request.httprequest.get_data() or b"")
        except ValueError:
            return self._response(
                400,
                {"errors": [{"index": None, "message": "The body is not valid JSON."}]},
            )
        result = env["serial.meter.reading"]._api_record_readings(payload)
        if result.get("errors"):
            return self._response(400, result)
        _logger.info(
            "Device API: %s readings and %s supplies levels recorded by %s",
            len(result["recorded"]),
            len(result.get("supplies", [])),
            env.user.login,
        )
        return self._response(201, result)

    def _authenticate(self):
        """The id of the user whose API key is in the Authorization header."""
        header = request.httprequest.headers.get("Authorization") or ""
        scheme, _sep, key = header.strip().partition(" ")
        if scheme.lower() != "bearer" or not key.strip():
            return None
        return request.env["res.users.apikeys"]._check_credentials(
            scope=API_KEY_SCOPE, key=key.strip()
        )

    def _response(self, status, data, headers=None):
        return request.make_json_response(data, headers=headers, status=status)
