import io
from collections import defaultdict
from datetime import timedelta

from odoo import api, fields, models

from .xlsx_safe import new_workbook


class SaleSubscription(models.Model):
    _inherit = "sale.subscription"

    # --- renewals: the end-of-term report ---
    def _get_term_report_rows(self):
        """[{serial, usage {meter: qty}, jobs, parts_cost, service_cost,
        supplies_cost, revenue, margin}] of this contract's term, one per
        covered serial, with a fixed number of queries. Revenue: the usage
        lines billed for the serial, plus an equal share of the rest of what
        the contract invoiced over the term."""
        self.ensure_one()
        lots = self.covered_lot_ids
        start = self.date_start
        end = self.date or fields.Date.context_today(self)
        readings = self.env["serial.meter.reading"]._read_group(
            [
                ("lot_id", "in", lots.ids),
                ("reading_date", ">=", fields.Datetime.to_datetime(start)),
                (
                    "reading_date",
                    "<",
                    fields.Datetime.to_datetime(end) + timedelta(days=1),
                ),
                ("source", "!=", "estimate"),
            ],
            ["lot_id", "meter_type_id"],
            ["delta:sum"],
        )
        usage = defaultdict(dict)
        for lot, meter, delta in readings:
            usage[lot.id][meter.name] = delta
        jobs = dict(
            self.env["maintenance.request"]._read_group(
                [
                    ("subscription_id", "=", self.id),
                    ("lot_id", "in", lots.ids),
                ],
                ["lot_id"],
                ["__count"],
            )
        )
        parts_cost, service_cost = defaultdict(float), defaultdict(float)
        lines = self.env["serial.service.line"].search_fetch(
            [
                ("subscription_id", "=", self.id),
                ("coverage_source", "=", "contract"),
                ("request_id.stage_id.done", "=", True),
            ],
            ["request_id", "line_type", "product_id", "quantity", "coverage_percent"],
        )
        for line in lines:
            cost = (
                line.quantity
                * line.product_id.standard_price
                * (line.coverage_percent or 0.0)
                / 100.0
            )
            bucket = (
                parts_cost if line.line_type in ("part", "consumable") else service_cost
            )
            bucket[line.request_id.lot_id.id] += cost
        supplies_cost = defaultdict(float)
        for line in self.env["sale.order.line"].search_fetch(
            [
                ("supply_subscription_id", "=", self.id),
                ("supply_coverage_source", "=", "contract"),
                ("order_id.state", "=", "sale"),
            ],
            ["supply_lot_id", "product_id", "qty_delivered", "supply_coverage_percent"],
        ):
            supplies_cost[line.supply_lot_id.id] += (
                line.qty_delivered
                * line.product_id.standard_price
                * (line.supply_coverage_percent or 0.0)
                / 100.0
            )
        usage_revenue = defaultdict(float)
        billed = self.env["serial.meter.reading"].search_fetch(
            [
                ("lot_id", "in", lots.ids),
                ("invoice_line_id.parent_state", "=", "posted"),
                ("invoice_line_id.move_id.subscription_id", "=", self.id),
            ],
            ["lot_id", "invoice_line_id"],
        )
        lots_by_line = defaultdict(set)
        for reading in billed:
            lots_by_line[reading.invoice_line_id].add(reading.lot_id.id)
        for line, lot_ids in lots_by_line.items():
            sign = -1 if line.move_id.move_type == "out_refund" else 1
            for lot_id in lot_ids:
                usage_revenue[lot_id] += sign * line.price_subtotal / len(lot_ids)
        total_revenue = self.term_revenue
        shared = (total_revenue - sum(usage_revenue.values())) / (len(lots) or 1)
        rows = []
        for lot in lots:
            revenue = shared + usage_revenue[lot.id]
            cost = parts_cost[lot.id] + service_cost[lot.id] + supplies_cost[lot.id]
            rows.append(
                {
                    "lot": lot,
                    "usage": usage.get(lot.id, {}),
                    "jobs": jobs.get(lot, 0),
                    "parts_cost": parts_cost[lot.id],
                    "service_cost": service_cost[lot.id],
                    "supplies_cost": supplies_cost[lot.id],
                    "revenue": revenue,
                    "margin": revenue - cost,
                }
            )
        return rows

    def _get_term_report_columns(self):
        return [
            self.env._("Serial Number"),
            self.env._("Product"),
            self.env._("Usage"),
            self.env._("Jobs"),
            self.env._("Parts Cost"),
            self.env._("Labour and Travel Cost"),
            self.env._("Supplies Cost"),
            self.env._("Revenue"),
            self.env._("Margin"),
        ]

    def action_export_term_xlsx(self):
        """Download the end-of-term report of these contracts as xlsx."""
        attachment = self.env["ir.attachment"].create(
            {
                "name": "contract_end_of_term.xlsx",
                "raw": self._export_term_xlsx(),
                "mimetype": "application/vnd.openxmlformats-officedocument."
                "spreadsheetml.sheet",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def _export_term_xlsx(self):
        """One sheet per contract, one row per covered serial."""
        output = io.BytesIO()
        workbook = new_workbook(output)
        bold = workbook.add_format({"bold": True})
        money = workbook.add_format({"num_format": "#,##0.00"})
        for subscription in self:
            sheet = workbook.add_worksheet(
                (subscription.name or str(subscription.id))[:31].replace("/", "-")
            )
            sheet.write(0, 0, subscription.display_name, bold)
            sheet.write(
                1,
                0,
                f"{subscription.partner_id.display_name} · "
                f"{subscription.date_start} - {subscription.date or ''}",
            )
            for col, title in enumerate(subscription._get_term_report_columns()):
                sheet.write(3, col, title, bold)
            for row, line in enumerate(subscription._get_term_report_rows(), start=4):
                sheet.write(row, 0, line["lot"].name)
                sheet.write(row, 1, line["lot"].product_id.display_name)
                sheet.write(
                    row,
                    2,
                    ", ".join(
                        f"{meter}: {qty:g}" for meter, qty in line["usage"].items()
                    ),
                )
                sheet.write(row, 3, line["jobs"])
                for col, key in enumerate(
                    (
                        "parts_cost",
                        "service_cost",
                        "supplies_cost",
                        "revenue",
                        "margin",
                    ),
                    start=4,
                ):
                    sheet.write_number(row, col, line[key], money)
            sheet.set_column(0, 8, 18)
        workbook.close()
        return output.getvalue()


class ReportContractTerm(models.AbstractModel):
    _name = "report.serial_service.sale_subscription_term_document"
    _description = "Contract End-of-Term Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        docs = self.env["sale.subscription"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "sale.subscription",
            "docs": docs,
            "rows": {doc.id: doc._get_term_report_rows() for doc in docs},
        }
