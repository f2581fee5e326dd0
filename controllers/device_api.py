"""HTTP endpoint meter devices and integrators post readings to, in bulk."""

import json
import logging
import math

from odoo import http
from odoo.http import request

_logger = logging.getLogger(__name__)

# an API key restricted to this endpoint is generated with this scope; a
# global key (no scope) works too
API_KEY_SCOPE = "serial_service_readings"
DEVICE_GROUP = "serial_service.group_service_technician"
# a batch at the item limit of serial.meter.reading (10,000 readings) takes
# about 1.5 MB; a larger
# body is refused before it is read into memory or parsed
MAX_BODY_BYTES = 4 * 1024 * 1024
# integers longer than this are no meter value: refused while parsing, before
# Python builds a huge integer from them
MAX_INT_DIGITS = 20


class _RefusedNumber(ValueError):
    """A number of the JSON body that no meter or level can hold."""


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
        body = self._read_body()
        if body is None:
            return self._response(
                413,
                {
                    "errors": [
                        {
                            "index": None,
                            "message": f"The body is larger than {MAX_BODY_BYTES} "
                            "bytes: send the readings in several requests.",
                        }
                    ]
                },
            )
        try:
            payload = self._parse_json(body)
        except _RefusedNumber as error:
            return self._response(
                400, {"errors": [{"index": None, "message": str(error)}]}
            )
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

    def _read_body(self):
        """The raw body, or None when it is larger than MAX_BODY_BYTES: the
        declared length is checked before reading, and a body sent without
        one (chunked) is read no further than the limit."""
        httprequest = request.httprequest
        if (httprequest.content_length or 0) > MAX_BODY_BYTES:
            return None
        if httprequest.content_length is None:
            body = httprequest.stream.read(MAX_BODY_BYTES + 1)
        else:
            body = httprequest.get_data()
        return body if len(body) <= MAX_BODY_BYTES else None

    def _parse_json(self, body):
        """The JSON body, refusing what Python's json accepts but no meter
        holds: NaN and Infinity, floats that overflow (1e400) and integers
        of more than MAX_INT_DIGITS digits."""

        def refuse(text):
            raise _RefusedNumber(
                f"{text[:30]} is not a finite number: send meter values and "
                "levels as plain decimal numbers."
            )

        def parse_float(text):
            number = float(text)
            if not math.isfinite(number):
                refuse(text)
            return number

        def parse_int(text):
            if len(text.lstrip("-")) > MAX_INT_DIGITS:
                refuse(text)
            return int(text)

        return json.loads(
            body or b"",
            parse_constant=refuse,
            parse_float=parse_float,
            parse_int=parse_int,
        )

    def _response(self, status, data, headers=None):
        return request.make_json_response(data, headers=headers, status=status)
