from collections import defaultdict

from odoo import api, models
from odoo.tools import float_compare, float_round

from .sale_subscription_usage import USAGE_SEQUENCE


class SaleSubscription(models.Model):
    """Usage lines of a contract's invoice or order: one group per tariff (per
    serial unless pooled), priced by the tariff's included quantity, tiers and
    minimum, labelled so the customer can check them, and the true-up lines
    that credit estimates a real reading proved too high. Which readings are
    billed, and marking them billed: sale_subscription_usage."""

    _inherit = "sale.subscription"

    # --- usage lines --------------------------------------------------------
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
        if held:
            readings = readings.filtered(
                lambda r: (
                    (r.lot_id, r.meter_type_id) not in held
                    or r.reading_date < held[r.lot_id, r.meter_type_id].reading_date
                )
            )
        ids_by_key = defaultdict(list)
        for reading in readings:
            ids_by_key[reading.lot_id, reading.meter_type_id].append(reading.id)
        by_key = defaultdict(
            readings.browse,
            {key: readings.browse(ids) for key, ids in ids_by_key.items()},
        )
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

    def _prepare_usage_line_vals(
        self, tariff, lots, readings, day, sequence, credited=0.0, start=None
    ):
        """credited: units of the readings' negative deltas (true-ups) that are
        credited against earlier invoices instead (not this period's usage).
        start: the serial's last billed reading, where its usage starts."""
        usage = sum(readings.mapped("delta")) + credited
        included = tariff.included_qty
        billable = max(usage - included, 0.0)
        segments = tariff._price_segments(billable) or [(0.0, 0.0)]
        digits = self.env["decimal.precision"].precision_get("Product Price")
        segment_vals = [
            self._get_usage_amount_vals(qty, price, digits) for qty, price in segments
        ]
        # what the lines bill, each unit price rounded as the invoice rounds it
        amount = sum(
            vals["quantity"] * float_round(vals["price_unit"], digits)
            for vals in segment_vals
        )
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
                **amount_vals,
                "sequence": sequence + index,
            }
            for index, ((qty, price), amount_vals) in enumerate(
                zip(segments, segment_vals, strict=True)
            )
        ]
        if amount < tariff.minimum_amount:
            lines.append(
                {
                    "product_id": tariff.product_id.id,
                    "name": self.env._(
                        "Minimum commitment of %(minimum)s for %(meter)s",
                        minimum=format(tariff.minimum_amount, "g"),
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
                value=format(reading.value, "g"),
                date=reading.reading_date.date(),
            )

        return self.env._(
            "%(meter)s of %(serial)s: start %(start)s, end %(end)s; %(usage)s "
            "used, %(included)s included, %(billable)s billable",
            meter=tariff.meter_type_id.name,
            serial=lot.name,
            start=reading_text(start),
            end=reading_text(end),
            usage=format(usage, "g"),
            included=format(tariff.included_qty, "g"),
            billable=format(billable, "g"),
        )

    def _get_pooled_usage_line_label(self, tariff, lots, readings, day, usage):
        period = self.env._(
            "%(meter)s of %(serials)s to %(date)s: %(usage)s used, %(included)s "
            "included",
            meter=tariff.meter_type_id.name,
            serials=", ".join(lots.mapped("name")),
            date=day,
            usage=format(usage, "g"),
            included=format(tariff.included_qty, "g"),
        )
        if readings:
            ordered = readings.sorted(lambda r: (r.reading_date, r.id))
            first, last = ordered[0], ordered[-1]
            period += self.env._(
                " (readings %(first)s on %(first_date)s to %(last)s on %(last_date)s)",
                first=format(first.value, "g"),
                first_date=first.reading_date.date(),
                last=format(last.value, "g"),
                last_date=last.reading_date.date(),
            )
        return period

    @api.model
    def _get_usage_amount_vals(self, qty, price, digits=None):
        """Quantity and unit price of a usage line billing qty units at price.
        A price with more decimals than an invoice line's unit price keeps
        ("Product Price": 0.0085 a page, where invoices keep 2 decimals) is
        billed as one unit at the exact amount (3,457 x 0.0085 = 29.3845),
        which Odoo rounds as any amount (29.38); the units and the price are
        in the line's label. Any other price: qty units at price.
        digits: the "Product Price" precision, when the caller read it."""
        if digits is None:
            digits = self.env["decimal.precision"].precision_get("Product Price")
        if float_compare(float_round(price, digits), price, precision_digits=9):
            return {"quantity": 1.0, "price_unit": qty * price}
        return {"quantity": qty, "price_unit": price}

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
                units=format(units, "g"),
                before=format(before, "g"),
                after=format(after, "g"),
            )
            for index, (qty, price) in enumerate(credit_lines or [(0.0, 0.0)]):
                if not index:
                    label = name
                elif price > 0:
                    label = self.env._(
                        "Minimum commitment of %(minimum)s for %(meter)s, on the "
                        "corrected usage",
                        minimum=format(tariff.minimum_amount, "g"),
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
