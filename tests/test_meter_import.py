import base64
import csv
import io

import xlsxwriter

from odoo.tests import tagged

from .common import SerialServiceCase


@tagged("post_install", "-at_install")
class TestMeterImport(SerialServiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.meter = cls.env["serial.meter.type"].create(
            {"name": "Pages (imp)", "code": "IMP"}
        )
        cls.lot = cls._make_lots(cls.product_unit, ["IMP-1"])
        cls.env["serial.meter.reading"].create(
            {
                "lot_id": cls.lot.id,
                "meter_type_id": cls.meter.id,
                "reading_date": "2026-01-01 12:00:00",
                "value": 100,
            }
        )
        cls.rows = [
            ["IMP-1", "IMP", "2026-02-01", 300, ""],
            ["IMP-1", "IMP", "2026-03-01", 250, ""],  # lower, no reset
            ["NOPE", "IMP", "2026-03-01", 10, ""],  # unknown serial
            ["IMP-1", "XXX", "2026-03-01", 10, ""],  # unknown meter
            ["IMP-1", "IMP", "2026-04-01", "abc", ""],  # not a number
            ["IMP-1", "IMP", "2999-01-01", 900, ""],  # future
            ["IMP-1", "IMP", "2026-05-01", 5, "yes"],  # reset: fine
        ]

    def _xlsx(self):
        output = io.BytesIO()
        workbook = xlsxwriter.Workbook(output, {"in_memory": True})
        sheet = workbook.add_worksheet()
        sheet.write_row(0, 0, ["serial", "meter", "date", "value", "is_reset"])
        for number, row in enumerate(self.rows, start=1):
            sheet.write_row(number, 0, row)
        workbook.close()
        return output.getvalue()

    def _csv(self):
        lines = ["serial,meter,date,value,is_reset"] + [
            ",".join(map(str, r)) for r in self.rows
        ]
        return "\n".join(lines).encode()

    def _import(self, content, filename, mode):
        wizard = self.env["serial.meter.reading.import"].create(
            {"file": base64.b64encode(content), "filename": filename, "mode": mode}
        )
        wizard.action_import()
        return wizard

    def _readings(self):
        return self.env["serial.meter.reading"].search([("lot_id", "=", self.lot.id)])

    def test_all_or_nothing_reports_every_bad_row(self):
        wizard = self._import(self._xlsx(), "readings.xlsx", "all")
        self.assertEqual(wizard.imported_count, 0)
        self.assertEqual(len(self._readings()), 1, "nothing written")
        self.assertEqual(wizard.problem_count, 5)
        problems = wizard.problems.splitlines()
        for row, reason in (
            (3, "lower than the previous reading 300"),
            (4, "unknown serial NOPE"),
            (5, "unknown meter code XXX"),
            (6, "abc is not a number"),
            (7, "in the future"),
        ):
            self.assertIn(
                reason, next(p for p in problems if p.startswith(f"Row {row}:"))
            )

    def test_good_rows_only_returns_the_bad_ones(self):
        wizard = self._import(self._csv(), "readings.csv", "good")
        self.assertEqual(wizard.imported_count, 2)
        readings = self._readings().sorted("reading_date")
        self.assertEqual(readings.mapped("value"), [100, 300, 5])
        self.assertEqual(readings.mapped("delta"), [0, 200, 0])
        self.assertEqual(set(readings[1:].mapped("source")), {"import"})
        bad = list(
            csv.reader(io.StringIO(base64.b64decode(wizard.bad_rows_file).decode()))
        )
        self.assertEqual(bad[0][:2], ["row", "reason"])
        self.assertEqual([line[0] for line in bad[1:]], ["3", "4", "5", "6", "7"])

    def _import_rows(self, serials):
        lines = ["serial,meter,date,value,is_reset"] + [
            f"{serial},IMP,2026-02-01,{100 + number},"
            for number, serial in enumerate(serials)
        ]
        wizard = self._import("\n".join(lines).encode(), "readings.csv", "all")
        self.assertEqual(wizard.imported_count, len(serials))
        return wizard

    def test_import_queries_do_not_grow_with_rows(self):
        """The import reads serials, meters and previous readings once and
        creates the readings in one batch: 12 rows cost the queries of 3."""
        self._make_lots(self.product_unit, ["IMPQ-0"])
        small = [f"IMPQ-S{number}" for number in range(3)]
        large = [f"IMPQ-L{number}" for number in range(12)]
        self._make_lots(self.product_unit, small + large)
        self._import_rows(["IMPQ-0"])  # warm the caches
        self.env.flush_all()
        self.env.cr.flush()
        before = self.env.cr.sql_log_count
        self._import_rows(small)
        self.env.flush_all()
        self.env.cr.flush()
        small_count = self.env.cr.sql_log_count - before
        with self.assertQueryCount(small_count):
            self._import_rows(large)
