from collections import defaultdict

from markupsafe import Markup

from odoo import fields, models


class StockLot(models.Model):
    """What happened to a serial: its history (moves, installation, jobs,
    invoices, tracked changes), its genealogy (the units it sits in, the
    components it holds) and the printed history."""

    _inherit = "stock.lot"

    # --- history ---
    history_html = fields.Html(
        string="History", compute="_compute_history_html", sanitize=False
    )

    def _compute_history_html(self):
        events_by_lot = self._get_history_events_by_lot()
        for lot in self:
            rows = Markup("").join(
                Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>")
                % (
                    fields.Datetime.context_timestamp(lot, event["date"]).strftime(
                        "%Y-%m-%d %H:%M"
                    )
                    if event["date"]
                    else "",
                    event["kind"],
                    event["description"],
                )
                for event in events_by_lot[lot.id]
            )
            lot.history_html = Markup(
                '<table class="table table-sm o_serial_history"><thead><tr>'
                "<th>%s</th><th>%s</th><th>%s</th></tr></thead><tbody>%s</tbody>"
                "</table>"
            ) % (self.env._("Date"), self.env._("Event"), self.env._("Details"), rows)

    # --- history: printing ---
    def action_print_history(self):
        return self.env.ref("serial_service.stock_lot_history_report").report_action(
            self
        )

    # --- history: events ---
    def _get_history_events(self):
        """Everything that happened to this serial, as dicts with a datetime
        `date`, a `kind`, a `description` and the `record` behind it, in date
        order."""
        self.ensure_one()
        return self._get_history_events_by_lot()[self.id]

    def _get_history_events_by_lot(self):
        """{lot id: its history events in date order} for the whole recordset,
        from one read of the done move lines and one of the tracked changes,
        whatever the number of serials. Other capabilities add their events
        by extending this method."""
        moves = self._get_move_history_events()
        trackings = self._get_tracking_history_events()
        events_by_lot = {}
        for lot in self:
            events = list(moves.get(lot._origin.id, ()))
            lot._add_record_history_events(events)
            events += trackings.get(lot._origin.id, ())
            events_by_lot[lot.id] = sorted(
                events, key=lambda e: e["date"] or fields.Datetime.now()
            )
        return events_by_lot

    def _get_move_history_events(self):
        """{lot id: receipts, deliveries, returns and moves}, from one read."""
        events_by_lot = defaultdict(list)
        lines = self.env["stock.move.line"].search(
            [("lot_id", "in", self.ids), ("state", "=", "done")], order="date, id"
        )
        for line in lines:
            source, dest = line.location_id, line.location_dest_id
            partner = line.picking_id.partner_id
            if source.usage == "supplier":
                kind = self.env._("Received")
                order = line.move_id.purchase_line_id.order_id
                what = self.env._(
                    "from %(vendor)s%(order)s",
                    vendor=partner.display_name or source.display_name,
                    order=" (" + str(order.name) + ")" if order else "",
                )
            elif dest.usage == "customer":
                kind = self.env._("Delivered")
                order = line.move_id.sale_line_id.order_id
                what = self.env._(
                    "to %(customer)s%(order)s",
                    customer=partner.display_name or dest.display_name,
                    order=" (" + str(order.name) + ")" if order else "",
                )
            elif source.usage == "customer":
                kind = self.env._("Returned")
                what = self.env._(
                    "from %(customer)s to %(location)s",
                    customer=partner.display_name or source.display_name,
                    location=dest.display_name,
                )
            else:
                kind = self.env._("Moved")
                what = f"{source.display_name} → {dest.display_name}"
            events_by_lot[line.lot_id.id].append(
                {
                    "date": line.date,
                    "kind": kind,
                    "description": f"{what} [{line.reference or ''}]",
                    "record": line.picking_id or line.move_id,
                }
            )
        return events_by_lot

    def _add_record_history_events(self, events):
        """Installation, jobs and invoices of this serial: read from its own
        fields, prefetched for the whole recordset."""
        self.ensure_one()
        if self.installation_date:
            events.append(
                {
                    "date": fields.Datetime.to_datetime(self.installation_date),
                    "kind": self.env._("Installed"),
                    "description": self.site_id.display_name or "",
                    "record": self,
                }
            )
        for request in self.request_ids:
            events.append(
                {
                    "date": request.create_date,
                    "kind": self.env._("Job"),
                    "description": f"{request.name} ({request.stage_id.name or ''})",
                    "record": request,
                }
            )
        for invoice in self.serial_invoice_ids:
            events.append(
                {
                    "date": fields.Datetime.to_datetime(
                        invoice.invoice_date or invoice.date
                    ),
                    "kind": self.env._("Invoiced"),
                    "description": f"{invoice.name} {invoice.partner_id.display_name}",
                    "record": invoice,
                }
            )

    def _get_tracking_history_events(self):
        """{lot id: tracked changes (owner, dates, warranty...)}, from one
        read."""
        events_by_lot = defaultdict(list)
        # sudo: tracking values are readable only through their messages;
        # these are the serials' own, which the user may read
        trackings = (
            self.env["mail.tracking.value"]
            .sudo()
            .search(
                [
                    ("mail_message_id.model", "=", "stock.lot"),
                    ("mail_message_id.res_id", "in", self.ids),
                ]
            )
        )
        for tracking in trackings:
            events_by_lot[tracking.mail_message_id.res_id].append(
                {
                    "date": tracking.create_date,
                    "kind": self.env._("Changed"),
                    "description": "{}: {} → {} ({})".format(
                        tracking.field_id.field_description,
                        tracking._format_display_value(
                            tracking.field_id.ttype, new=False
                        )[0]
                        or "",
                        tracking._format_display_value(tracking.field_id.ttype)[0]
                        or "",
                        tracking.mail_message_id.author_id.display_name or "",
                    ),
                    "record": self.browse(tracking.mail_message_id.res_id),
                }
            )
        return events_by_lot

    # --- genealogy ---
    def _get_genealogy(self):
        """(units this serial sits in, from the nearest; components it holds,
        as (depth, lot) pairs)."""
        self.ensure_one()
        upstream = []
        lot = self.parent_lot_id
        while lot and lot not in upstream:
            upstream.append(lot)
            lot = lot.parent_lot_id
        downstream = []

        seen = set(self.ids)

        def walk(lots, depth):
            # seen: a cycle left by old data (parent_lot_id refuses new ones)
            # ends the walk instead of recursing forever
            for child in lots.filtered(lambda lot: lot.id not in seen):
                seen.add(child.id)
                downstream.append((depth, child))
                walk(child.child_lot_ids, depth + 1)

        walk(self.child_lot_ids, 1)
        return upstream, downstream

    def _get_host_lots(self):
        """Units that hold these serials as installed components, at any depth;
        one read per level of the genealogy, not per serial."""
        hosts = self.env["stock.lot"]
        level = self.parent_lot_id
        while level - hosts:
            level -= hosts
            hosts |= level
            level = level.parent_lot_id
        return hosts
