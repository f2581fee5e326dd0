import base64
import io
from datetime import date

import openpyxl
from freezegun import freeze_time

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import tagged

from .kpi_common import KpiCase

SHEETS = [
    "Failure rate",
    "MTBF per serial",
    "Failures per usage",
    "Repeat repairs",
    "First-time fix",
    "Warranty cost by product",
    "Warranty cost by vendor",
    "Claim recovery",
    "Contract profitability",
    "Template profitability",
    "Meter volumes",
]


@tagged("post_install", "-at_install")
@freeze_time(KpiCase.TODAY)
class TestKpiExport(KpiCase):
    """The xlsx export of the KPIs, read back with openpyxl: one sheet per KPI,
    its headers, and the rows of the data set of kpi_common for 2025."""

    def _export(self, user=None, **vals):
        Export = self.env["serial.kpi.export"]
        if user:
            Export = Export.with_user(user)
        wizard = Export.create(vals)
        action = wizard.action_export()
        self.assertEqual(action["type"], "ir.actions.act_url")
        self.assertIn(f"id={wizard.id}&field=file_data", action["url"])
        self.assertEqual(wizard.file_name, f"service_kpis_{wizard.date_to}.xlsx")
        return openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.file_data)))

    def _rows(self, workbook, name, keys):
        """The header row and the rows of the sheet whose first cell is one of
        keys (the rows of this data set), by first cell (or first two)."""
        rows = list(workbook[name].iter_rows(values_only=True))
        width = 2 if isinstance(next(iter(keys)), tuple) else 1
        found = {}
        for row in rows[1:]:
            key = row[:2] if width == 2 else row[0]
            if key in keys:
                found[key] = row[width:]
        return rows[0], found

    def assertRowsAlmostEqual(self, found, expected):
        self.assertEqual(set(found), set(expected))
        for key, values in expected.items():
            self.assertEqual(len(found[key]), len(values), key)
            for got, want in zip(found[key], values, strict=True):
                if isinstance(want, float):
                    self.assertAlmostEqual(got, want, places=6, msg=key)
                else:
                    self.assertEqual(got, want, key)

    def test_export_2025(self):
        book = self._export(date_from=date(2025, 1, 1), date_to=date(2025, 12, 31))
        self.assertEqual(book.sheetnames, SHEETS)
        copier, chiller = "KPI Copier", "KPI Chiller"

        header, rows = self._rows(book, "Failure rate", {copier, chiller})
        self.assertEqual(
            header,
            (
                "Product Model",
                "Units",
                "Unit-Years",
                "Corrective Jobs",
                "Failures per Unit-Year",
            ),
        )
        # copiers in 2025: C1, C2 the whole year = 2 x 365 days (C3 came back
        # on 2025-01-01), J3 and J4; the chiller H1 365 days, J7 and J8
        self.assertRowsAlmostEqual(
            rows,
            {
                copier: (2, 730 / 365.25, 2, 2 / (730 / 365.25)),
                chiller: (1, 365 / 365.25, 2, 2 / (365 / 365.25)),
            },
        )

        header, rows = self._rows(
            book, "MTBF per serial", {"KPI-C1", "KPI-C2", "KPI-C3", "KPI-H1"}
        )
        self.assertEqual(
            header,
            (
                "Serial Number",
                "Product Model",
                "Days in the Field",
                "Corrective Jobs",
                "MTBF (days)",
            ),
        )
        self.assertRowsAlmostEqual(
            rows,
            {
                "KPI-C1": (copier, 365, 1, 365),  # J3
                "KPI-C2": (copier, 365, 1, 365),  # J4
                "KPI-H1": (chiller, 365, 2, 365 / 2),  # J7, J8
            },
        )

        header, rows = self._rows(
            book, "Failures per usage", {(copier, "KPI Pages"), (chiller, "KPI Hours")}
        )
        self.assertEqual(
            header,
            (
                "Product Model",
                "Meter",
                "Usage",
                "Failures per",
                "Corrective Jobs",
                "Failures per Usage",
            ),
        )
        # pages read in 2025: C1 900,000 + C2 500,000 = 1.4 million, J3 and J4;
        # hours: 4,000 = 4 thousand, J7 and J8
        self.assertRowsAlmostEqual(
            rows,
            {
                (copier, "KPI Pages"): (1400000, "1,000,000 Units", 2, 2 / 1.4),
                (chiller, "KPI Hours"): (4000, "1,000 Hours", 2, 0.5),
            },
        )

        header, rows = self._rows(
            book, "Repeat repairs", {"KPI-C1", "KPI-C2", "KPI-C3", "KPI-H1"}
        )
        self.assertEqual(
            header,
            (
                "Serial Number",
                "Product Model",
                "Corrective Jobs",
                "Repeat Visits",
                "Repeat Rate (%)",
            ),
        )
        # corrective jobs requested in 2025: C1 J3, C2 J4 (JX archived), C3 J6,
        # H1 J7 and J8; J2, the repeat visit, was in 2024
        self.assertRowsAlmostEqual(
            rows,
            {
                "KPI-C1": (copier, 1, 0, 0),
                "KPI-C2": (copier, 1, 0, 0),
                "KPI-C3": (copier, 1, 0, 0),
                "KPI-H1": (chiller, 2, 0, 0),
            },
        )

        header, rows = self._rows(
            book, "First-time fix", {"KPI Technician A", "KPI Technician B"}
        )
        self.assertEqual(
            header,
            (
                "Technician",
                "Corrective Jobs Done",
                "Fixed First Time",
                "First-Time-Fix Rate (%)",
            ),
        )
        # closed in 2025: A J3, J6; B J4, J7; none followed by a repeat
        self.assertRowsAlmostEqual(
            rows,
            {"KPI Technician A": (2, 2, 100), "KPI Technician B": (2, 2, 100)},
        )

        headers = ("Parts Cost", "Labour Cost", "Warranty Cost")
        header, rows = self._rows(book, "Warranty cost by product", {copier, chiller})
        self.assertEqual(header, ("Product Model", *headers))
        # closed in 2025: J3 1 fuser + J4 2 fusers = 3 x 120; J7 compressor 500
        # and labour 3 x 40
        self.assertRowsAlmostEqual(
            rows, {copier: (360, 0, 360), chiller: (500, 120, 620)}
        )
        header, rows = self._rows(
            book, "Warranty cost by vendor", {"KPI Copier Vendor", "KPI Chiller Vendor"}
        )
        self.assertEqual(header, ("Vendor", *headers))
        self.assertRowsAlmostEqual(
            rows,
            {"KPI Copier Vendor": (360, 0, 360), "KPI Chiller Vendor": (500, 120, 620)},
        )

        header, rows = self._rows(
            book, "Claim recovery", {"KPI Copier Vendor", "KPI Chiller Vendor"}
        )
        self.assertEqual(
            header, ("Vendor", "Claims", "Claimed", "Credited", "Recovery Rate (%)")
        )
        # failures of 2025: 120 credited 100, 120 rejected (the 80 failed in
        # 2024, the 50 is a draft) -> 100 / 240; the valve 200 / 200
        self.assertRowsAlmostEqual(
            rows,
            {
                "KPI Copier Vendor": (2, 240, 100, 100 * 100 / 240),
                "KPI Chiller Vendor": (1, 200, 200, 100),
            },
        )

        k1, k2, k3 = (c.display_name for c in (self.k1, self.k2, self.k3))
        header, rows = self._rows(book, "Contract profitability", {k1, k2, k3})
        self.assertEqual(
            header,
            (
                "Contract",
                "Contract Template",
                "Customer",
                "Invoiced",
                "Covered Cost",
                "Margin",
                "Margin (%)",
            ),
        )
        # 2025: K1 only its credit note of 100, J3 labour 40 + travel 15 (no
        # margin rate without revenue); K2 300 - J4 60; K3 250 - J9 80
        self.assertRowsAlmostEqual(
            rows,
            {
                k1: ("KPI Gold", "Test Customer", -100, 55, -155, None),
                k2: ("KPI Gold", "Test Customer", 300, 60, 240, 80),
                k3: ("KPI Silver", "Test Customer", 250, 80, 170, 68),
            },
        )
        header, rows = self._rows(
            book, "Template profitability", {"KPI Gold", "KPI Silver"}
        )
        self.assertEqual(
            header,
            (
                "Contract Template",
                "Contracts",
                "Invoiced",
                "Covered Cost",
                "Margin",
                "Margin (%)",
            ),
        )
        # Gold = K1 + K2: -100 + 300 = 200 invoiced, 55 + 60 = 115, margin 85
        self.assertRowsAlmostEqual(
            rows,
            {
                "KPI Gold": (2, 200, 115, 85, 42.5),
                "KPI Silver": (1, 250, 80, 170, 68),
            },
        )

        header, rows = self._rows(
            book,
            "Meter volumes",
            {
                (month, meter)
                for month in ("2024-01", "2024-12", "2025-01", "2025-12")
                for meter in ("KPI Pages", "KPI Hours")
            },
        )
        self.assertEqual(header, ("Month", "Meter", "Volume", "Readings"))
        self.assertRowsAlmostEqual(
            rows,
            {
                ("2025-01", "KPI Hours"): (0, 1),  # H1's baseline
                ("2025-12", "KPI Pages"): (900000 + 500000, 2),
                ("2025-12", "KPI Hours"): (4000, 1),
            },
        )

    def test_export_all_time_first_time_fix(self):
        book = self._export(date_to=date(2026, 1, 1))
        _header, rows = self._rows(
            book, "First-time fix", {"KPI Technician A", "KPI Technician B"}
        )
        # all jobs: A J1 (J2 followed), J3, J5, J6 -> 3 / 4; B J2, J4, J7
        self.assertRowsAlmostEqual(
            rows,
            {"KPI Technician A": (4, 3, 75), "KPI Technician B": (3, 3, 100)},
        )
        _header, rows = self._rows(book, "Failure rate", {"KPI Copier"})
        # up to 2026-01-01 included, as the report reads today (see
        # test_kpi_reports): 1648 days, 5 failures
        self.assertRowsAlmostEqual(
            rows, {"KPI Copier": (3, 1648 / 365.25, 5, 5 / (1648 / 365.25))}
        )

    def test_export_sheets_follow_access(self):
        """A consultant gets the sheets of the reports a consultant reads (not
        the serials' nor the technicians'), a technician cannot export."""
        book = self._export(user=self.consultant, date_to=date(2025, 12, 31))
        self.assertEqual(
            book.sheetnames,
            [
                "Failure rate",
                "Failures per usage",
                "Warranty cost by product",
                "Warranty cost by vendor",
                "Contract profitability",
                "Template profitability",
                "Meter volumes",
            ],
        )
        with self.assertRaises(AccessError):
            self._export(user=self.technician, date_to=date(2025, 12, 31))

    def test_period_must_be_in_order(self):
        with self.assertRaises(ValidationError):
            self.env["serial.kpi.export"].create(
                {"date_from": date(2025, 12, 31), "date_to": date(2025, 1, 1)}
            )
