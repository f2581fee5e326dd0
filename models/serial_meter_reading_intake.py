from collections import defaultdict
from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

# readings accepted in one device API request
API_MAX_READINGS = 10000


class SerialMeterReading(models.Model):
    """Readings entered from outside the back office: by a customer on the
    portal (controllers/portal.py) and by devices through the API
    (controllers/device_api.py)."""

    _inherit = "serial.meter.reading"

    # --- customer portal ---
    @api.model
    def _portal_record_reading(self, lot, meter, reading_date, value):
        """A reading a customer submits on the portal for one of their serials:
        the serial must be theirs (checked with their own rights) and the meter
        one its product carries; then the same validations as any reading.
        Source `customer`, never a reset (a meter replacement is recorded by a
        technician)."""
        lot.ensure_one()
        lot.check_access("read")
        # sudo: the product and its meters of the customer's own serial
        if meter not in lot.sudo().product_id.meter_type_ids:
            raise ValidationError(
                self.env._(
                    "Serial %(serial)s has no meter %(meter)s.",
                    serial=lot.name,
                    meter=meter.sudo().name,
                )
            )
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(self.env._("The meter value must be a number."))
        # sudo: portal customers may not create readings through the ORM (no
        # access right): only this way, for their own serial (checked above),
        # with the source forced; create_uid stays the customer
        return self.sudo().create(
            {
                "lot_id": lot.id,
                "meter_type_id": meter.id,
                "reading_date": reading_date,
                "value": value,
                "source": "customer",
            }
        )

    # --- device API: readings posted in bulk, all or nothing ---
    @api.model
    def _api_record_readings(self, payload, max_items=API_MAX_READINGS):
        """Record the readings a device or integrator posts, all or nothing.

        payload: {"readings": [{"serial", "meter" (code), "date" (ISO 8601),
        "value", optional "reset", optional "product" (internal reference, when
        two products share a serial number)}]}. Serials are looked up in the
        key's company only (see _api_lot_domain). Returns {"recorded": [...]}
        or {"errors": [{"index", "message"}]} with one error per bad item; on
        error nothing is written.
        """
        items = payload.get("readings") if isinstance(payload, dict) else None
        if not isinstance(items, list) or not items:
            return {
                "errors": [
                    {
                        "index": None,
                        "message": self.env._(
                            'The body must be {"readings": [...]} with at least '
                            "one reading."
                        ),
                    }
                ]
            }
        if len(items) > max_items:
            return {
                "errors": [
                    {
                        "index": None,
                        "message": self.env._(
                            "At most %(max)s readings per request (%(count)s sent).",
                            max=max_items,
                            count=len(items),
                        ),
                    }
                ]
            }
        parsed, errors = self._api_parse_items(items)
        if errors:
            return {"errors": errors}
        try:
            with self.env.cr.savepoint():
                readings = self.create([vals for _index, vals in parsed])
                self.env.flush_all()
        except (UserError, ValidationError, AccessError) as error:
            self.env.invalidate_all()
            errors = self._api_diagnose(parsed) or [
                {"index": None, "message": str(error)}
            ]
            return {"errors": errors}
        return {
            "recorded": [
                {
                    "index": index,
                    "id": reading.id,
                    "serial": reading.lot_id.name,
                    "meter": reading.meter_type_id.code,
                    "date": fields.Datetime.to_string(reading.reading_date),
                    "value": reading.value,
                    "reset": reading.is_reset,
                    "delta": reading.delta,
                    "flagged": reading.is_flagged,
                }
                for (index, _vals), reading in zip(parsed, readings, strict=True)
            ]
        }

    @api.model
    def _api_lot_domain(self, names):
        """The serials a device API key reaches: those of its user's company
        only. A serial without a company is no company's own serial: it is
        refused like another company's (the same "unknown serial" answer)."""
        return [
            ("name", "in", list(names)),
            ("company_id", "=", self.env.company.id),
        ]

    @api.model
    def _api_parse_items(self, items):
        """([(index, create values)], [errors]) of the posted items, with the
        serials and meters read once for the whole batch."""
        dicts = [item for item in items if isinstance(item, dict)]
        names = {str(item["serial"]) for item in dicts if item.get("serial")}
        codes = {str(item["meter"]) for item in dicts if item.get("meter")}
        lots_by_name = defaultdict(lambda: self.env["stock.lot"])
        for lot in self.env["stock.lot"].search(self._api_lot_domain(names)):
            lots_by_name[lot.name] |= lot
        meters = {
            meter.code: meter
            for meter in self.env["serial.meter.type"].search(
                [("code", "in", list(codes))]
            )
        }
        parsed, errors = [], []
        for index, item in enumerate(items):
            problems, vals = self._api_parse_item(item, lots_by_name, meters)
            errors += [{"index": index, "message": problem} for problem in problems]
            if not problems:
                parsed.append((index, vals))
        return parsed, errors

    @api.model
    def _api_parse_item(self, item, lots_by_name, meters):
        if not isinstance(item, dict):
            return [self.env._("A reading must be an object.")], None
        missing = [
            key
            for key in ("serial", "meter", "date", "value")
            if item.get(key)
            in (
                None,
                "",
            )
        ]
        if missing:
            return [
                self.env._("Missing field(s): %(fields)s.", fields=", ".join(missing))
            ], None
        problems = []
        serial = str(item["serial"])
        lots = lots_by_name[serial]
        if item.get("product"):
            lots = lots.filtered(
                lambda lot: lot.product_id.default_code == item["product"]
            )
        if not lots:
            # the same answer for a serial of another company: nothing leaks
            problems.append(
                self.env._("Unknown serial number %(serial)s.", serial=serial)
            )
        elif len(lots) > 1:
            problems.append(
                self.env._(
                    "Serial number %(serial)s belongs to several products: add "
                    '"product" (the internal reference).',
                    serial=serial,
                )
            )
        meter = meters.get(str(item["meter"]))
        if not meter:
            problems.append(self.env._("Unknown meter %(meter)s.", meter=item["meter"]))
        reading_date = self._api_parse_date(item["date"])
        if not reading_date:
            problems.append(
                self.env._(
                    "Date %(date)s is not an ISO 8601 date and time.",
                    date=item["date"],
                )
            )
        value = item["value"]
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(self.env._("Value %(value)s is not a number.", value=value))
        reset = item.get("reset", False)
        if not isinstance(reset, bool):
            problems.append(self.env._('"reset" is true or false.'))
        if problems:
            return problems, None
        return [], {
            "lot_id": lots.id,
            "meter_type_id": meter.id,
            "reading_date": reading_date,
            "value": value,
            "is_reset": reset,
            "source": "device",
        }

    @api.model
    def _api_parse_date(self, value):
        """A naive UTC datetime from an ISO 8601 string, or None."""
        if not isinstance(value, str):
            return None
        try:
            moment = datetime.fromisoformat(value)
            if moment.tzinfo:
                moment = moment.astimezone(timezone.utc).replace(tzinfo=None)
        except (ValueError, OverflowError):
            # OverflowError: an offset moving the first or last day Python
            # holds out of its range ("0001-01-01T00:00:00+05:00")
            return None
        return moment.replace(microsecond=0)

    @api.model
    def _api_diagnose(self, parsed):
        """The batch was refused: record the items one by one, oldest first,
        each in its own savepoint, to give the reason of each bad one; then
        undo everything."""
        errors = []
        try:
            with self.env.cr.savepoint():
                ordered = sorted(parsed, key=lambda pair: pair[1]["reading_date"])
                for index, vals in ordered:
                    try:
                        with self.env.cr.savepoint():
                            self.create([vals])
                            self.env.flush_all()
                    except (UserError, ValidationError, AccessError) as error:
                        self.env.invalidate_all()
                        errors.append({"index": index, "message": str(error)})
                raise _DiagnosisDone()
        except _DiagnosisDone:
            self.env.invalidate_all()
        return sorted(errors, key=lambda error: error["index"])


class _DiagnosisDone(Exception):
    """Leaves the diagnosis savepoint, rolling back what it recorded."""
