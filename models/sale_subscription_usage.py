from collections import defaultdict

from dateutil.relativedelta import relativedelta
from markupsafe import Markup

from odoo import Command, api, fields, models
from odoo.tools import SQL, float_compare, float_round

# sequence of the usage lines on an invoice, so they can be found again
USAGE_SEQUENCE = 10000


class SaleSubscription(models.Model):
    _inherit = "sale.subscription"

    # --- invoice and order values (never write) ----------------------------
    def _prepare_account_move(self, line_ids):
        values = super()._prepare_account_move(line_ids)
        if not self.env.context.get("serial_usage_lines_added"):
            values["invoice_line_ids"] = list(values.get("invoice_line_ids") or []) + [
                Command.create(vals) for vals, _readings in self._get_usage_lines()
            ]
        return values

    def _prepare_sale_order(self, line_ids=False):
        values = super()._prepare_sale_order(line_ids=line_ids)
        values["order_line"] = list(values.get("order_line") or []) + [
            Command.create(self._usage_vals_for_order(vals))
            for vals, _readings in self._get_usage_lines()
        ]
        return values

    @api.model
    def _usage_vals_for_order(self, vals):
        return {
            "product_id": vals["product_id"],
            "name": vals["name"],
            "product_uom_qty": vals["quantity"],
            "price_unit": vals["price_unit"],
            "sequence": vals["sequence"],
        }

    # --- creating the invoice or order: estimates before, links after -------
    def create_invoice(self):
        if self._may_create_billing_document("account.move"):
            # serials with nothing new to bill are billed on an estimate
            self._create_usage_estimates()
        invoice = super().create_invoice()
        if invoice:
            self._link_usage_readings(invoice.invoice_line_ids)
            self._log_held_usage()
        return invoice

    def create_sale_order(self):
        if self._may_create_billing_document("sale.order"):
            self._create_usage_estimates()
        order = super().create_sale_order()
        if order:
            self._log_held_usage()
        return order

    def generate_invoice(self):
        day = self.recurring_next_date
        res = super().generate_invoice()
        if self.template_id.invoicing_mode == "sale_and_invoice":
            order = self.sale_order_ids.sorted("id")[-1:]
            # invoices from orders are numbered anew: go through the order lines
            by_sequence = {
                line.sequence: line.invoice_lines[:1]
                for line in order.order_line
                if line.sequence >= USAGE_SEQUENCE
            }
            self._link_usage_readings_by_sequence(by_sequence, day)
        return res

    def _may_create_billing_document(self, model):
        """subscription_oca's own test before it creates an invoice or an
        order: who may create them, or who may change the contracts."""
        return self.env[model].has_access("create") or self.has_access("write")

    def _get_usage_day(self):
        self.ensure_one()
        return self.recurring_next_date or fields.Date.context_today(self)

    def _create_usage_estimates(self):
        """Estimated readings (source `estimate`) for the covered serials and
        tariff meters of these contracts with nothing new to bill up to each
        one's invoice date: they are billed like any reading, and trued up by
        the next real one. One read per invoice date."""
        Reading = self.env["serial.meter.reading"]
        by_day = defaultdict(lambda: self.browse())
        for contract in self:
            by_day[contract._get_usage_day()] |= contract
        vals_list = []
        for day, contracts in by_day.items():
            pairs = {
                (lot.id, meter.id)
                for contract in contracts
                for lot in contract.covered_lot_ids
                for meter in contract.usage_tariff_ids.meter_type_id
            }
            vals_list += [
                vals
                for vals in Reading._prepare_estimate_vals(
                    contracts.covered_lot_ids,
                    contracts.usage_tariff_ids.meter_type_id,
                    day,
                )
                # never one for a serial and meter held for review either: its
                # reading to review is not billed, and is either up to the day
                # (nothing estimated with a reading to bill) or after it (nothing
                # estimated before a later reading)
                if (vals["lot_id"], vals["meter_type_id"]) in pairs
            ]
        # sudo: estimating is part of invoicing the contract, whoever may
        # invoice it (a billing clerk records no readings)
        return Reading.sudo().create(vals_list) if vals_list else Reading

    # --- usage lines --------------------------------------------------------
    def _read_unbilled_readings(self, until=None):
        """The readings not yet billed of these contracts' serials and tariff
        meters up to the latest of their invoice dates (or until), in one read
        (each contract keeps its own: `_get_usage_lines`)."""
        Reading = self.env["serial.meter.reading"]
        meters = self.usage_tariff_ids.meter_type_id
        if not meters or not self.covered_lot_ids:
            return Reading
        until = until or max(contract._get_usage_day() for contract in self)
        return Reading.search(
            [
                ("lot_id", "in", self.covered_lot_ids.ids),
                ("meter_type_id", "in", meters.ids),
                ("invoice_line_id", "=", False),
                (
                    "reading_date",
                    "<",
                    fields.Datetime.to_datetime(until) + relativedelta(days=1),
                ),
            ],
            order="reading_date, id",
        )

    def _read_last_billed_readings(self):
        """{(serial, meter): its last billed reading} for these contracts'
        serials and tariff meters, in one query: where a period's usage
        starts from."""
        Reading = self.env["serial.meter.reading"]
        lots, meters = self.covered_lot_ids, self.usage_tariff_ids.meter_type_id
        if not lots or not meters:
            return {}
        Reading.flush_model(
            ["lot_id", "meter_type_id", "reading_date", "invoice_line_id"]
        )
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (lot_id, meter_type_id) id
                  FROM serial_meter_reading
                 WHERE lot_id = ANY(%s) AND meter_type_id = ANY(%s)
                   AND invoice_line_id IS NOT NULL
              ORDER BY lot_id, meter_type_id, reading_date DESC, id DESC
                """,
                lots.ids,
                meters.ids,
            )
        )
        return {
            (reading.lot_id, reading.meter_type_id): reading
            for reading in Reading.browse(row[0] for row in rows)
        }

    def _get_usage_lines(self, day=None, unbilled=None, last_billed=None):
        """[(invoice line values, readings it bills)] of the usage since the
        last billed readings up to the invoice date, one group of lines per
        tariff, and per serial unless the tariff is pooled.
        unbilled, last_billed: `_read_unbilled_readings` and
        `_read_last_billed_readings` of a batch holding this contract."""
        self.ensure_one()
        day = day or self._get_usage_day()
        tariffs = self.usage_tariff_ids
        lots = self.covered_lot_ids
        if not tariffs:
            return []
        if last_billed is None:
            last_billed = self._read_last_billed_readings()
        readings = self._get_own_unbilled(day, unbilled)
        held = self._get_held_readings(readings)
        readings = readings.filtered(
            lambda r: (
                (r.lot_id, r.meter_type_id) not in held
                or r.reading_date < held[r.lot_id, r.meter_type_id].reading_date
            )
        )
        by_key = defaultdict(lambda: self.env["serial.meter.reading"])
        for reading in readings:
            by_key[reading.lot_id, reading.meter_type_id] |= reading
        # real readings below the estimates billed before them: corrections
        allocations = readings._get_true_up_allocations()
        result, sequence = [], USAGE_SEQUENCE
        for tariff in tariffs:
            groups = (
                [
                    (
                        lots,
                        sum(
                            (by_key[lot, tariff.meter_type_id] for lot in lots),
                            readings.browse(),
                        ),
                    )
                ]
                if tariff.pooled
                else [
                    (lot, by_key[lot, tariff.meter_type_id])
                    for lot in lots
                    # held for review: no line (the contract's note says why)
                    if (lot, tariff.meter_type_id) not in held
                ]
            )
            for group_lots, group_readings in groups:
                credits = [
                    (estimate, units)
                    for reading in group_readings
                    for estimate, units in allocations.get(reading.id, [])
                ]
                lines = self._prepare_usage_line_vals(
                    tariff,
                    group_lots,
                    group_readings,
                    day,
                    sequence,
                    credited=sum(units for _estimate, units in credits),
                    start=None
                    if tariff.pooled
                    else last_billed.get((group_lots, tariff.meter_type_id)),
                )
                sequence += len(lines)
                result += [(vals, group_readings) for vals in lines]
                lines = self._prepare_true_up_line_vals(tariff, credits, sequence)
                sequence += len(lines)
                result += [(vals, group_readings) for vals in lines]
        return result

    def _get_own_unbilled(self, day, unbilled=None):
        """This contract's readings to bill up to the day, among `unbilled`
        (`_read_unbilled_readings` of a batch holding it) or read now."""
        self.ensure_one()
        if unbilled is None:
            unbilled = self._read_unbilled_readings(until=day)
        until = fields.Datetime.to_datetime(day) + relativedelta(days=1)
        lots, meters = self.covered_lot_ids, self.usage_tariff_ids.meter_type_id
        return unbilled.filtered(
            lambda r: (
                r.lot_id in lots
                and r.meter_type_id in meters
                and r.reading_date < until
            )
        )

    @api.model
    def _get_held_readings(self, readings):
        """{(serial, meter): first reading to review} among these readings:
        it and the later ones of its serial and meter wait for the review."""
        held = {}
        for reading in readings.sorted(lambda r: (r.reading_date, r.id)):
            if reading.review_state == "to_review":
                held.setdefault((reading.lot_id, reading.meter_type_id), reading)
        return held

    def _get_held_usage_note(self, day=None, unbilled=None):
        """The note telling the contract which serials and meters were not
        billed, held by a reading to review; empty when none."""
        self.ensure_one()
        if not self.usage_tariff_ids:
            return ""
        held = self._get_held_readings(
            self._get_own_unbilled(day or self._get_usage_day(), unbilled)
        )
        if not held:
            return ""
        items = [
            Markup("<li>%s</li>")
            % self.env._(
                "%(meter)s of %(serial)s: reading %(value)s of %(date)s is far above "
                "its usual usage; it and the later readings are billed once it is "
                "approved or corrected (Readings to Review)",
                meter=meter.name,
                serial=lot.name,
                value=f"{reading.value:g}",
                date=reading.reading_date.date(),
            )
            for (lot, meter), reading in held.items()
        ]
        return Markup("<p>%s</p><ul>%s</ul>") % (
            self.env._("Usage held for review, not billed on this invoice:"),
            Markup("").join(items),
        )

    def _log_held_usage(self, day=None):
        for contract in self:
            note = contract._get_held_usage_note(day)
            if note:
                contract._message_log(body=note)

    def _prepare_usage_line_vals(
        self, tariff, lots, readings, day, sequence, credited=0.0, start=None
    ):
        """credited: units of the readings' negative deltas (true-ups) that are
        credited against earlier invoices instead (not this period's usage).
        start: the serial's last billed reading, where its usage starts."""
        usage = sum(readings.mapped("delta")) + credited
        included = tariff.included_qty
        billable = max(usage - included, 0.0)
        segments = tariff._price_segments(billable)
        amount = sum(self._get_billed_amount(qty, price) for qty, price in segments)
        if len(lots) == 1:
            period = self._get_usage_line_label(
                tariff, lots, readings, start, usage, billable
            )
        else:
            period = self._get_pooled_usage_line_label(
                tariff, lots, readings, day, usage
            )
        lines = [
            {
                "product_id": tariff.product_id.id,
                "name": period
                if not index
                else f"{tariff.product_id.name}: {qty:g} x {price:g}",
                **self._get_usage_amount_vals(qty, price),
                "sequence": sequence + index,
            }
            for index, (qty, price) in enumerate(segments or [(0.0, 0.0)])
        ]
        if amount < tariff.minimum_amount:
            lines.append(
                {
                    "product_id": tariff.product_id.id,
                    "name": self.env._(
                        "Minimum commitment of %(minimum)s for %(meter)s",
                        minimum=f"{tariff.minimum_amount:g}",
                        meter=tariff.meter_type_id.name,
                    ),
                    "quantity": 1.0,
                    "price_unit": tariff.minimum_amount - amount,
                    "sequence": sequence + len(lines),
                }
            )
        return lines

    def _get_usage_line_label(self, tariff, lot, readings, start, usage, billable):
        """What a customer checks a serial's usage line against: the serial,
        the meter, the start reading (the last billed one, or the first
        reading ever) and the end reading with their dates, the usage, what
        is included and what is billed."""
        ordered = readings.sorted(lambda r: (r.reading_date, r.id))
        start = start or ordered[:1]
        end = ordered[-1:] or start

        def reading_text(reading):
            if not reading:
                return self.env._("none")
            return self.env._(
                "%(value)s on %(date)s",
                value=f"{reading.value:g}",
                date=reading.reading_date.date(),
            )

        return self.env._(
            "%(meter)s of %(serial)s: start %(start)s, end %(end)s; %(usage)s "
            "used, %(included)s included, %(billable)s billable",
            meter=tariff.meter_type_id.name,
            serial=lot.name,
            start=reading_text(start),
            end=reading_text(end),
            usage=f"{usage:g}",
            included=f"{tariff.included_qty:g}",
            billable=f"{billable:g}",
        )

    def _get_pooled_usage_line_label(self, tariff, lots, readings, day, usage):
        period = self.env._(
            "%(meter)s of %(serials)s to %(date)s: %(usage)s used, %(included)s "
            "included",
            meter=tariff.meter_type_id.name,
            serials=", ".join(lots.mapped("name")),
            date=day,
            usage=f"{usage:g}",
            included=f"{tariff.included_qty:g}",
        )
        if readings:
            ordered = readings.sorted(lambda r: (r.reading_date, r.id))
            first, last = ordered[0], ordered[-1]
            period += self.env._(
                " (readings %(first)s on %(first_date)s to %(last)s on %(last_date)s)",
                first=f"{first.value:g}",
                first_date=first.reading_date.date(),
                last=f"{last.value:g}",
                last_date=last.reading_date.date(),
            )
        return period

    @api.model
    def _get_usage_amount_vals(self, qty, price):
        """Quantity and unit price of a usage line billing qty units at price.
        A price with more decimals than an invoice line's unit price keeps
        ("Product Price": 0.0085 a page, where invoices keep 2 decimals) is
        billed as one unit at the exact amount (3,457 x 0.0085 = 29.3845),
        which Odoo rounds as any amount (29.38); the units and the price are
        in the line's label. Any other price: qty units at price."""
        digits = self.env["decimal.precision"].precision_get("Product Price")
        if float_compare(float_round(price, digits), price, precision_digits=9):
            return {"quantity": 1.0, "price_unit": qty * price}
        return {"quantity": qty, "price_unit": price}

    @api.model
    def _get_billed_amount(self, qty, price):
        """What a usage line of qty units at price bills (see
        `_get_usage_amount_vals`), rounded as the invoice rounds it."""
        vals = self._get_usage_amount_vals(qty, price)
        digits = self.env["decimal.precision"].precision_get("Product Price")
        return vals["quantity"] * float_round(vals["price_unit"], digits)

    def _prepare_true_up_line_vals(self, tariff, credits, sequence):
        """Lines crediting estimates proved too high by a real reading.

        credits: [(billed estimate, units it overestimated)]. The invoice line
        that billed the estimates is billed again in thought, with its usage
        lowered by those units, under the same tariff (included quantity,
        tiers, minimum): the difference, tier by tier, is credited here (a
        positive quantity at a negative price, so that an order invoices it
        too), and a minimum commitment that now applies is billed back."""
        if not credits:
            return []
        by_line = defaultdict(float)
        estimates = defaultdict(lambda: self.env["serial.meter.reading"])
        for estimate, units in credits:
            by_line[estimate.invoice_line_id] += units
            estimates[estimate.invoice_line_id] |= estimate
        billed = self.env["serial.meter.reading"]._get_billed_usage(
            self.env["account.move.line"].union(*by_line)
        )
        result = []
        for line, units in by_line.items():
            before = billed[line]
            after = max(before - units, 0.0)
            credit_lines = tariff._rerate_segments(before, after)
            move = line.move_id
            name = self.env._(
                "Correction of the estimated %(meter)s of %(serials)s billed on "
                "%(invoice)s: the real reading shows %(units)s fewer (%(before)s "
                "then, %(after)s now)",
                meter=tariff.meter_type_id.name,
                serials=", ".join(estimates[line].lot_id.mapped("name")),
                invoice=move.display_name,
                units=f"{units:g}",
                before=f"{before:g}",
                after=f"{after:g}",
            )
            for index, (qty, price) in enumerate(credit_lines or [(0.0, 0.0)]):
                if not index:
                    label = name
                elif price > 0:
                    label = self.env._(
                        "Minimum commitment of %(minimum)s for %(meter)s, on the "
                        "corrected usage",
                        minimum=f"{tariff.minimum_amount:g}",
                        meter=tariff.meter_type_id.name,
                    )
                else:
                    label = f"{tariff.product_id.name}: {qty:g} x {price:g}"
                result.append(
                    {
                        "product_id": tariff.product_id.id,
                        "name": label,
                        **self._get_usage_amount_vals(qty, price),
                        "sequence": sequence + len(result),
                    }
                )
        return result

    def _link_usage_readings(self, invoice_lines, day=None, usage_lines=None):
        """Mark the readings billed by the usage lines just created: the first
        line of each group carries them; they are never billed again.
        usage_lines: what `_get_usage_lines` gave for these lines, if known."""
        usage_lines_by_sequence = {
            line.sequence: line
            for line in invoice_lines
            if line.sequence >= USAGE_SEQUENCE
        }
        self._link_usage_readings_by_sequence(
            usage_lines_by_sequence, day, usage_lines=usage_lines
        )

    def _link_usage_readings_by_sequence(self, by_sequence, day=None, usage_lines=None):
        if not by_sequence:
            return
        if usage_lines is None:
            usage_lines = self._get_usage_lines(day)
        Reading = self.env["serial.meter.reading"]
        billed = Reading.union(*(readings for _vals, readings in usage_lines))
        # read before anything is marked billed, as the lines were built
        allocations = billed._get_true_up_allocations()
        linked = Reading
        for vals, readings in usage_lines:
            line = by_sequence.get(vals["sequence"])
            # the first line of a group (that reached the invoice) carries them
            readings -= linked
            if line and readings:
                # sudo: marking the readings billed is part of invoicing the
                # contract, whoever may invoice it (billing clerk, consultant)
                readings.sudo().write({"invoice_line_id": line.id})
                linked |= readings
        for reading_id, credits in allocations.items():
            if Reading.browse(reading_id) not in linked:
                continue
            for estimate, units in credits:
                # sudo: as above; the estimate is billed, only this may change
                estimate.sudo().overestimate_qty += units
