import math
from collections import defaultdict
from datetime import datetime, timezone

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from .serial_meter_reading_delta import ROLLOVER_ZONE

# readings accepted in one device API request
API_MAX_READINGS = 10000
# no meter counts this far (and every integer below it is exact in a float):
# a larger value is a typing or device error, refused at every entry point
METER_VALUE_MAX = 10**15


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
        technician). An employee using the form records with their own rights
        (billing users, consultants and stock users only read readings)."""
        lot.ensure_one()
        lot.check_access("read")
        internal = self.env.user._is_internal()
        if internal:
            self.check_access("create")
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
        problem = self._get_meter_value_problem(value)
        if problem:
            raise ValidationError(problem)
        # sudo: portal customers may not create readings through the ORM (no
        # access right): only this way, for their own serial (checked above),
        # with the source forced; create_uid stays the customer. Employees
        # create as themselves: their access rights and record rules apply
        return (self if internal else self.sudo()).create(
            {
                "lot_id": lot.id,
                "meter_type_id": meter.id,
                "reading_date": reading_date,
                "value": value,
                "source": "customer",
            }
        )

    # --- numbers: what no meter holds, refused at every entry point ---
    @api.model
    def _get_meter_value_problem(self, value):
        """Why value is no meter value (the user's words), or None: not a
        number, not finite (NaN, infinity) or beyond METER_VALUE_MAX. A
        negative value is refused by the reading's own constraint."""
        if isinstance(value, bool) or not isinstance(value, int | float):
            return self.env._("Value %(value)s is not a number.", value=value)
        if not math.isfinite(value) or abs(value) >= METER_VALUE_MAX:
            return self.env._(
                "Value %(value)s is not a finite number below %(max)s.",
                value=str(value)[:30],
                max=format(METER_VALUE_MAX, ","),
            )
        return None

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
        # every bad item found in one pass over the batch, with a fixed
        # number of queries, before anything is created
        errors += self._api_check_batch(parsed)
        if errors:
            return {"errors": sorted(errors, key=lambda error: error["index"])}
        try:
            with self.env.cr.savepoint():
                readings = self.create([vals for _index, vals in parsed])
                self.env.flush_all()
        except (UserError, ValidationError, AccessError) as error:
            # what the checks above cannot see (e.g. a billed reading whose
            # usage would change): the reason, which names the serial
            self.env.invalidate_all()
            # one item: it is the one; several: the message names the serial
            index = parsed[0][0] if len(parsed) == 1 else None
            return {"errors": [{"index": index, "message": str(error)}]}
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
        codes = {str(item["meter"]) for item in dicts if item.get("meter")}
        lots_by_name = self._api_get_lots_by_name(dicts)
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
    def _api_get_lots_by_name(self, items):
        """{serial number: serials} of the items' "serial", in one search:
        the serials the key reaches (``_api_lot_domain``)."""
        names = {str(item["serial"]) for item in items if item.get("serial")}
        lots_by_name = defaultdict(lambda: self.env["stock.lot"])
        for lot in self.env["stock.lot"].search(self._api_lot_domain(names)):
            lots_by_name[lot.name] |= lot
        return lots_by_name

    @api.model
    def _api_check_required(self, item, keys):
        """[problem] of a posted item lacking one of the keys."""
        missing = [key for key in keys if item.get(key) in (None, "")]
        if not missing:
            return []
        return [self.env._("Missing field(s): %(fields)s.", fields=", ".join(missing))]

    @api.model
    def _api_check_serial(self, serial, lots, several=None):
        """[problem] unless exactly one serial answers to the posted number
        (several: the problem to give when more than one does)."""
        if not lots:
            # the same answer for a serial of another company: nothing leaks
            return [self.env._("Unknown serial number %(serial)s.", serial=serial)]
        if len(lots) > 1:
            return [
                several
                or self.env._(
                    "Serial number %(serial)s belongs to several products.",
                    serial=serial,
                )
            ]
        return []

    @api.model
    def _api_parse_item(self, item, lots_by_name, meters):
        if not isinstance(item, dict):
            return [self.env._("A reading must be an object.")], None
        missing = self._api_check_required(item, ("serial", "meter", "date", "value"))
        if missing:
            return missing, None
        serial = str(item["serial"])
        lots = lots_by_name[serial]
        if item.get("product"):
            lots = lots.filtered(
                lambda lot: lot.product_id.default_code == item["product"]
            )
        problems = self._api_check_serial(
            serial,
            lots,
            several=self.env._(
                "Serial number %(serial)s belongs to several products: add "
                '"product" (the internal reference).',
                serial=serial,
            ),
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
        value_problem = self._get_meter_value_problem(value)
        if value_problem:
            problems.append(value_problem)
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
    def _api_check_batch(self, parsed):
        """[{index, message}] of the parsed items the batch create would
        refuse, found in one pass: negative values, dates in the future, the
        same serial, meter and time twice or already recorded, and a value
        lower than the reading before it (recorded or in the batch) or higher
        than the recorded one after it, unless a reset or a rollover. A fixed
        number of queries whatever the size of the batch."""
        env = self.env
        now = fields.Datetime.now()
        errors = {}
        candidates = []
        seen = {}
        for index, vals in parsed:
            lot = env["stock.lot"].browse(vals["lot_id"])
            meter = env["serial.meter.type"].browse(vals["meter_type_id"])
            key = (lot.id, meter.id, vals["reading_date"])
            if vals["value"] < 0:
                errors[index] = env._(
                    "A meter reading cannot be negative (%(serial)s, %(meter)s: "
                    "%(value)s).",
                    serial=lot.name,
                    meter=meter.name,
                    value=vals["value"],
                )
            elif vals["reading_date"] > now:
                errors[index] = env._(
                    "A meter reading cannot be in the future (%(serial)s, "
                    "%(meter)s, %(date)s).",
                    serial=lot.name,
                    meter=meter.name,
                    date=vals["reading_date"],
                )
            elif key in seen:
                errors[index] = env._(
                    "Serial %(serial)s has two readings of the same meter at "
                    "%(date)s (items %(first)s and %(index)s).",
                    serial=lot.name,
                    date=vals["reading_date"],
                    first=seen[key],
                    index=index,
                )
            else:
                seen[key] = index
                candidates.append((index, vals))
        if candidates:
            errors.update(self._api_check_existing(candidates))
        return [
            {"index": index, "message": message} for index, message in errors.items()
        ]

    @api.model
    def _api_check_existing(self, candidates):
        """{index: message} of the candidates that clash with the readings
        already recorded: the same time, or out of order in the chain."""
        env = self.env
        pairs = {}
        for _index, vals in candidates:
            key = (vals["lot_id"], vals["meter_type_id"])
            pairs[key] = min(pairs.get(key, vals["reading_date"]), vals["reading_date"])
        recorded = self.search_fetch(
            [
                ("lot_id", "in", list({key[0] for key in pairs})),
                ("meter_type_id", "in", list({key[1] for key in pairs})),
                ("reading_date", ">=", min(pairs.values())),
            ],
            ["lot_id", "meter_type_id", "reading_date", "value", "is_reset", "source"],
        )
        recorded_at = {
            (r.lot_id.id, r.meter_type_id.id, r.reading_date): r for r in recorded
        }
        errors = {}
        chains = defaultdict(list)
        for index, vals in candidates:
            key = (vals["lot_id"], vals["meter_type_id"])
            if (*key, vals["reading_date"]) in recorded_at:
                errors[index] = env._(
                    "Serial %(serial)s already has a reading of %(meter)s at %(date)s.",
                    serial=env["stock.lot"].browse(key[0]).name,
                    meter=env["serial.meter.type"].browse(key[1]).name,
                    date=vals["reading_date"],
                )
            else:
                chains[key].append((vals["reading_date"], 1, index, vals))
        for reading in recorded:
            key = (reading.lot_id.id, reading.meter_type_id.id)
            if key in chains and reading.reading_date >= pairs[key]:
                chains[key].append((reading.reading_date, 0, reading.id, reading))
        previous = self._api_get_chain_start({key: pairs[key] for key in chains})
        for key, chain in chains.items():
            chain.sort(key=lambda event: event[:3])
            errors.update(self._api_check_chain(key, chain, previous.get(key)))
        return errors

    @api.model
    def _api_get_chain_start(self, pairs):
        """{(lot, meter): (previous reading, last real reading or None)} before
        each pair's date, in a fixed number of queries."""
        if not pairs:
            return {}
        previous_ids = self._get_previous_reading_ids(pairs)
        by_id = {r.id: r for r in self.browse(list(previous_ids.values()))}
        previous = {key: by_id[rid] for key, rid in previous_ids.items()}
        last_real, _estimates = self._get_estimates_since_real(
            {key: pairs[key] for key, r in previous.items() if r.source == "estimate"}
        )
        return {
            key: (
                reading,
                last_real.get(key) if reading.source == "estimate" else reading,
            )
            for key, reading in previous.items()
        }

    @api.model
    def _api_check_chain(self, key, chain, start):
        """{index: message} of the new items of one serial and meter whose
        value breaks the chain (the rules of _get_delta): chain is the new
        items (kind 1) and the recorded readings after the first of them
        (kind 0), in date order."""
        env = self.env
        lot = env["stock.lot"].browse(key[0])
        meter = env["serial.meter.type"].browse(key[1])
        limit = meter.rollover_value
        # the state of the chain: the last reading (value, date, estimate?,
        # index of the new item that set it) and the last real one
        last = real = None
        if start:
            reading, last_real = start
            last = (
                reading.value,
                reading.reading_date,
                reading.source == "estimate",
                None,
            )
            real = last_real and (last_real.value, last_real.reading_date)

        def fits(value, is_reset, is_estimate):
            return (
                last is None
                or is_reset
                or value >= last[0]
                or (last[2] and not is_estimate and real and value >= real[0])
                or (limit and last[0] >= ROLLOVER_ZONE * limit)
            )

        errors = {}
        for _date, kind, ref, item in chain:
            if kind:
                value, when, reset, estimate = (
                    item["value"],
                    item["reading_date"],
                    item["is_reset"],
                    False,
                )
            else:
                value, when, reset, estimate = (
                    item.value,
                    item.reading_date,
                    item.is_reset,
                    item.source == "estimate",
                )
            if not fits(value, reset, estimate):
                if kind:
                    shown = real if last[2] and real else last
                    errors[ref] = env._(
                        "Reading %(value)s of %(meter)s on serial %(serial)s is "
                        "lower than the previous one (%(previous)s on %(date)s). "
                        "Mark it as a meter reset if the meter was replaced.",
                        value=format(value, "g"),
                        meter=meter.name,
                        serial=lot.name,
                        previous=format(shown[0], "g"),
                        date=shown[1],
                    )
                    continue
                if last[3] is not None:
                    errors[last[3]] = env._(
                        "Reading %(value)s of %(meter)s on serial %(serial)s is "
                        "higher than the next one (%(next)s on %(date)s).",
                        value=format(last[0], "g"),
                        meter=meter.name,
                        serial=lot.name,
                        next=format(value, "g"),
                        date=when,
                    )
            last = (value, when, estimate, ref if kind else None)
            if not estimate:
                real = (value, when)
        return errors
