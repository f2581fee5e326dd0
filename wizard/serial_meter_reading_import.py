import base64
import csv
import io
from collections import Counter, defaultdict
from datetime import datetime, time

from odoo import fields, models
from odoo.exceptions import UserError

from ..report.xlsx_safe import csv_safe_cell


class SerialMeterReadingImport(models.TransientModel):
    _name = "serial.meter.reading.import"
    _description = "Meter Reading Import"

    file = fields.Binary(
        help=".xlsx or .csv: serial, meter, date, value, and optionally is_reset "
        "and product (internal reference or name, when two products share a "
        "serial number)."
    )
    filename = fields.Char()
    mode = fields.Selection(
        selection=[
            ("all", "All or nothing"),
            ("good", "Import the good rows, return the bad ones"),
        ],
        default="all",
        required=True,
    )
    company_id = fields.Many2one(
        "res.company",
        string="Serials of",
        help="When set, only this company's serials are looked up (the meter "
        "e-mail inbox imports for its own company only).",
    )
    state = fields.Selection(
        selection=[("upload", "Upload"), ("done", "Done")], default="upload"
    )
    imported_count = fields.Integer(readonly=True)
    problem_count = fields.Integer(readonly=True)
    problems = fields.Text(readonly=True)
    bad_rows_file = fields.Binary(readonly=True, attachment=False)
    bad_rows_filename = fields.Char(default="bad_meter_readings.csv")

    def action_import(self):
        self.ensure_one()
        rows = self._read_rows()
        good, bad = self._check_rows(rows)
        readings = self.env["serial.meter.reading"]
        if good and (not bad or self.mode == "good"):
            readings = readings.create([vals for _number, vals in good])
        self.write(
            {
                "state": "done",
                "imported_count": len(readings),
                "problem_count": len(bad),
                "problems": "\n".join(
                    self.env._("Row %(row)s: %(reason)s", row=number, reason=reason)
                    for number, reason, _row in bad
                ),
                "bad_rows_file": self._bad_rows_csv(bad) if bad else False,
            }
        )
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    def _read_rows(self):
        if not self.file:
            raise UserError(self.env._("Choose the file to import first."))
        content = base64.b64decode(self.file)
        reader = self.env["serial.installed.base.import"]
        name = (self.filename or "").lower()
        if name.endswith(".csv"):
            table = reader._read_csv(content)
        elif name.endswith(".xlsx"):
            table = reader._read_xlsx(content)
        else:
            raise UserError(self.env._("The file must be an .xlsx or a .csv file."))
        if not table:
            raise UserError(self.env._("The file is empty."))
        header = [str(cell or "").strip().lower() for cell in table[0]]
        missing = {"serial", "meter", "date", "value"} - set(header)
        if missing:
            raise UserError(
                self.env._(
                    "The file has no column %(columns)s (expected: serial, meter, "
                    "date, value, and optionally is_reset and product).",
                    columns=", ".join(sorted(missing)),
                )
            )
        return [
            (number, dict(zip(header, values, strict=False)))
            for number, values in enumerate(table[1:], start=2)
            if any(v not in (None, "") for v in values)
        ]

    def _check_rows(self, rows):
        """([(row, reading values)], [(row, reason, row dict)]) with every
        reference read once for the whole file."""
        env = self.env
        text = env["serial.installed.base.import"]._text
        now = fields.Datetime.now()
        serials = {text(row.get("serial")) for _n, row in rows}
        codes = {text(row.get("meter")) for _n, row in rows}
        lot_by_name = defaultdict(lambda: env["stock.lot"])
        lot_domain = [("name", "in", list(serials))]
        if self.company_id:
            lot_domain.append(("company_id", "=", self.company_id.id))
        for lot in env["stock.lot"].search(lot_domain):
            lot_by_name[lot.name] |= lot
        meters = env["serial.meter.type"].search([("code", "in", list(codes))])
        meter_by_code = {meter.code: meter for meter in meters}
        parsed, bad = [], []
        for number, row in rows:
            try:
                vals = self._parse_row(row, lot_by_name, meter_by_code, now)
            except ValueError as error:
                bad.append((number, str(error), row))
                continue
            parsed.append((number, vals, row))
        keys = Counter(
            (v["lot_id"], v["meter_type_id"], v["reading_date"]) for _n, v, _r in parsed
        )
        existing = {
            (r.lot_id.id, r.meter_type_id.id, r.reading_date)
            for r in env["serial.meter.reading"].search(
                [
                    ("lot_id", "in", [v["lot_id"] for _n, v, _r in parsed]),
                    (
                        "meter_type_id",
                        "in",
                        [v["meter_type_id"] for _n, v, _r in parsed],
                    ),
                ]
            )
        }
        checked = []
        for number, vals, row in parsed:
            key = (vals["lot_id"], vals["meter_type_id"], vals["reading_date"])
            if keys[key] > 1:
                bad.append(
                    (number, env._("the same serial, meter and time twice"), row)
                )
            elif key in existing:
                bad.append((number, env._("this reading exists already"), row))
            else:
                checked.append((number, vals, row))
        good, lower = self._check_order(checked)
        bad += lower
        return good, sorted(bad, key=lambda item: item[0])

    def _parse_row(self, row, lot_by_name, meter_by_code, now):
        env = self.env
        text = env["serial.installed.base.import"]._text
        lot = self._find_lot(row, lot_by_name)
        meter = meter_by_code.get(text(row.get("meter")))
        if not meter:
            raise ValueError(
                env._("unknown meter code %(code)s", code=text(row.get("meter")))
            )
        raw_date = row.get("date")
        try:
            if isinstance(raw_date, datetime):
                when = raw_date
            else:
                when = (
                    fields.Datetime.to_datetime(text(raw_date))
                    if text(raw_date)
                    else None
                )
                if when and len(text(raw_date)) <= 10:
                    when = datetime.combine(when.date(), time(12, 0))
        except ValueError:
            when = None
        if not when:
            raise ValueError(env._("%(value)s is not a date", value=text(raw_date)))
        if when > now:
            raise ValueError(env._("the date %(date)s is in the future", date=when))
        try:
            value = float(row.get("value"))
        except (TypeError, ValueError):
            raise ValueError(
                env._("value %(value)s is not a number", value=text(row.get("value")))
            ) from None
        # float() reads "nan", "inf" and "1e400" (infinite) too
        problem = env["serial.meter.reading"]._get_meter_value_problem(value)
        if problem:
            raise ValueError(problem)
        if value < 0:
            raise ValueError(env._("a reading cannot be negative"))
        reset = text(row.get("is_reset")).lower() in ("1", "true", "yes", "y", "x")
        return {
            "lot_id": lot.id,
            "meter_type_id": meter.id,
            "reading_date": when,
            "value": value,
            "is_reset": reset,
            "source": "import",
        }

    def _find_lot(self, row, lot_by_name):
        """The serial of the row: by its number, and by the product column
        (internal reference or name) when products share the number; never
        guessed among several (the reading would be billed to the wrong
        customer)."""
        env = self.env
        text = env["serial.installed.base.import"]._text
        serial, product = text(row.get("serial")), text(row.get("product"))
        lots = lot_by_name.get(serial, env["stock.lot"])
        if product:
            lots = lots.filtered(
                lambda lot: (
                    product in (lot.product_id.default_code, lot.product_id.name)
                )
            )
        if not lots:
            if product:
                raise ValueError(
                    env._(
                        "unknown serial %(serial)s of product %(product)s",
                        serial=serial,
                        product=product,
                    )
                )
            if self.company_id:
                raise ValueError(
                    env._(
                        "unknown serial %(serial)s at %(company)s",
                        serial=serial,
                        company=self.company_id.name,
                    )
                )
            raise ValueError(env._("unknown serial %(serial)s", serial=serial))
        if len(lots) > 1:
            raise ValueError(
                env._(
                    "serial %(serial)s belongs to several products (%(products)s): "
                    "name the product in a product column (internal reference or "
                    "name)",
                    serial=serial,
                    products=", ".join(lots.product_id.mapped("display_name")),
                )
            )
        return lots

    def _check_order(self, checked):
        """Refuse a lower value that is neither a reset nor a rollover, against
        the previous reading in the file or in the database."""
        Reading = self.env["serial.meter.reading"]
        pairs = {}
        for _n, vals, _r in checked:
            key = (vals["lot_id"], vals["meter_type_id"])
            pairs[key] = min(pairs.get(key, vals["reading_date"]), vals["reading_date"])
        # after estimates, the last real reading (a true-up may go below them)
        previous = Reading._get_floor_values(pairs) if pairs else {}
        meters = self.env["serial.meter.type"].browse({k[1] for k in pairs})
        rollover = {meter.id: meter.rollover_value for meter in meters}
        by_pair = defaultdict(list)
        for item in checked:
            by_pair[item[1]["lot_id"], item[1]["meter_type_id"]].append(item)
        good, bad = [], []
        for key, items in by_pair.items():
            last = previous.get(key)
            for number, vals, row in sorted(items, key=lambda i: i[1]["reading_date"]):
                limit = rollover.get(key[1])
                if (
                    last is not None
                    and vals["value"] < last
                    and not vals["is_reset"]
                    and not (limit and last >= 0.9 * limit)
                ):
                    bad.append(
                        (
                            number,
                            self.env._(
                                "value %(value)s is lower than the previous reading "
                                "%(previous)s and is not marked as a reset",
                                value=format(vals["value"], "g"),
                                previous=format(last, "g"),
                            ),
                            row,
                        )
                    )
                    continue
                good.append((number, vals))
                last = vals["value"]
        return sorted(good, key=lambda item: item[0]), bad

    def _bad_rows_csv(self, bad):
        output = io.StringIO()
        writer = csv.writer(output)
        columns = ("serial", "product", "meter", "date", "value", "is_reset")
        writer.writerow(["row", "reason", *columns])
        for number, reason, row in bad:
            # the cells come from the user's file: none becomes a formula
            writer.writerow(
                [csv_safe_cell(cell) for cell in [number, reason]]
                + [csv_safe_cell(row.get(column, "")) for column in columns]
            )
        return base64.b64encode(output.getvalue().encode())
