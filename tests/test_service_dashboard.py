import json

from freezegun import freeze_time

from odoo.tests import HttpCase, tagged

from .kpi_common import KpiCase

KPI_MODELS = {
    "serial.failure.report",
    "serial.usage.failure.report",
    "serial.job.report",
    "serial.warranty.cost.report",
    "serial.claim.report",
    "serial.contract.profit.report",
    "serial.meter.volume.report",
}


def dashboard_charts(dashboard):
    data = json.loads(dashboard.spreadsheet_data)
    return data, [
        figure
        for sheet in data["sheets"]
        for figure in sheet["figures"]
        if figure["data"]["type"].startswith("odoo_")
    ]


@tagged("post_install", "-at_install")
@freeze_time(KpiCase.TODAY)
class TestServiceDashboard(KpiCase):
    """The service manager's spreadsheet dashboard: for managers only, one
    chart per KPI, each reading its report as the dashboard does."""

    def test_dashboard_for_service_managers(self):
        dashboard = self.env.ref("serial_service.spreadsheet_dashboard_service")
        self.assertEqual(
            dashboard.group_ids, self.env.ref("serial_service.group_service_manager")
        )
        Dashboard = self.env["spreadsheet.dashboard"]
        self.assertIn(dashboard, Dashboard.with_user(self.manager).search([]))
        self.assertNotIn(dashboard, Dashboard.with_user(self.technician).search([]))
        self.assertNotIn(dashboard, Dashboard.with_user(self.consultant).search([]))
        action = self.env.ref("serial_service.spreadsheet_dashboard_service_action")
        self.assertEqual(action.params, {"dashboard_id": dashboard.id})

    def test_every_chart_reads_its_report(self):
        dashboard = self.env.ref("serial_service.spreadsheet_dashboard_service")
        data, charts = dashboard_charts(dashboard)
        self.assertEqual(len(charts), 8)
        self.assertEqual(
            {chart["data"]["metaData"]["resModel"] for chart in charts}, KPI_MODELS
        )
        for chart in charts:
            meta = chart["data"]["metaData"]
            report = self.env[meta["resModel"]].with_user(self.manager)
            field = report._fields[meta["measure"]]
            # what the chart asks the server for (odoo_bar / odoo_line charts)
            groups = report.web_read_group(
                [], [f"{field.name}:{field.aggregator}"], meta["groupBy"], lazy=False
            )
            self.assertGreater(groups["length"], 0, meta)
            menu = data["chartOdooMenusReferences"][chart["id"]]
            self.assertTrue(self.env.ref(menu).action, menu)
        # the first-time-fix chart shows the rates of the job report
        ftf = next(
            c
            for c in charts
            if c["data"]["metaData"]["measure"] == "first_time_fix_rate"
        )
        groups = (
            self.env["serial.job.report"]
            .with_user(self.manager)
            .web_read_group(
                [("user_id", "in", (self.technician | self.technician_b).ids)],
                ["first_time_fix_rate:avg"],
                ftf["data"]["metaData"]["groupBy"],
                lazy=False,
            )["groups"]
        )
        rates = {group["user_id"][0]: group["first_time_fix_rate"] for group in groups}
        # technician A: 3 first-time fixes of 4, B: 3 of 3 (see test_kpi_reports)
        self.assertEqual(rates, {self.technician.id: 75.0, self.technician_b.id: 100.0})


@tagged("post_install", "-at_install")
class TestServiceDashboardUi(HttpCase):
    # tall enough for the four rows of charts: figures out of sight are not drawn
    browser_size = "1400x1600"

    def test_dashboard_renders_its_charts(self):
        """The dashboard opens in the browser with its eight charts drawn, and
        no error (a chart that failed to load its data logs one)."""
        code = """
            const started = Date.now();
            const check = () => {
                const figures = document.querySelectorAll(
                    ".o_spreadsheet_dashboard_action .o-figure"
                );
                const canvases = document.querySelectorAll(
                    ".o_spreadsheet_dashboard_action .o-figure canvas"
                );
                if (figures.length === 8 && canvases.length === 8) {
                    // let the charts' data requests finish
                    setTimeout(() => console.log("test successful"), 2000);
                } else if (Date.now() - started > 60000) {
                    console.error(
                        `dashboard: ${figures.length} figures, ${canvases.length} charts`
                    );
                } else {
                    setTimeout(check, 250);
                }
            };
            check();
        """
        self.browser_js(
            "/odoo/action-serial_service.spreadsheet_dashboard_service_action",
            code,
            ready="odoo.isReady",
            login="admin",
            timeout=120,
        )
