from collections import defaultdict

from odoo import Command, api, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import SQL

# a reading whose usage per day exceeds this many times the serial's usual
# daily usage is kept, but flagged for review
SPIKE_FACTOR = 5.0
# a lower value is a rollover only when the previous reading was in the top
# part of the meter's range
ROLLOVER_ZONE = 0.9


class SerialMeterReading(models.Model):
    """Deltas (DESIGN.md, Meters and usage billing): the first reading of a
    serial and meter is its baseline, then each reading's usage since the
    previous one, with resets, rollovers, the true-up of estimates and the
    spike flag."""

    _inherit = "serial.meter.reading"

    def _recompute_deltas(self, pairs=None):
        """Recompute delta and spike flag of every reading of the touched
        (serial, meter) pairs from the earliest touched date on, in one read of
        the previous readings and one read of the following ones.

        pairs: {(lot id, meter id): earliest date}; default: from self.
        """
        if pairs is None:
            pairs = {}
            for reading in self:
                key = (reading.lot_id.id, reading.meter_type_id.id)
                if key not in pairs or reading.reading_date < pairs[key]:
                    pairs[key] = reading.reading_date
        if not pairs:
            return
        # two readings of a pair recorded at once must not both chain from the
        # same previous one: one transaction at a time (see serial.meter.chain)
        self.env["serial.meter.chain"]._lock_pairs(pairs)
        self.flush_model()
        previous_ids = self._get_previous_reading_ids(pairs)
        lot_ids = list({lot_id for lot_id, _meter in pairs})
        meter_ids = list({meter_id for _lot, meter_id in pairs})
        start = min(pairs.values())
        following = self.search(
            [
                ("lot_id", "in", lot_ids),
                ("meter_type_id", "in", meter_ids),
                ("reading_date", ">=", start),
                # superseded readings take no part in the deltas
                ("superseded_by_id", "=", False),
            ],
            order="reading_date, id",
        )
        # history before the earliest touched date: the usual daily usage
        stats = self._get_usage_stats(pairs)
        previous = {
            (r.lot_id.id, r.meter_type_id.id): r
            for r in self.browse(previous_ids.values())
        }
        # after estimates: the last real reading (the floor of a true-up) and
        # the estimates since it (what the next real reading trues up)
        last_real, pending = self._get_estimates_since_real(
            {
                key: pairs[key]
                for key, reading in previous.items()
                if reading.source == "estimate"
            }
        )
        chains = defaultdict(list)
        for reading in following:
            key = (reading.lot_id.id, reading.meter_type_id.id)
            if key in pairs and reading.reading_date >= pairs[key]:
                chains[key].append(reading)
        for key, chain in chains.items():
            prev = previous.get(key)
            real = last_real.get(key) or (
                prev if prev and prev.source != "estimate" else None
            )
            estimates = pending.get(key, self.browse())
            total, first_date = stats.get(key, (0.0, None))
            for reading in chain:
                delta, flagged = reading._get_delta(prev, total, first_date, real)
                if reading.invoice_line_id and abs(delta - reading.delta) > 1e-6:
                    raise UserError(
                        self.env._(
                            "This change would alter the usage of the billed reading "
                            "%(reading)s: record a new reading instead.",
                            reading=reading.display_name,
                        )
                    )
                trued_up = (
                    estimates
                    if reading.source != "estimate" and not reading.is_reset
                    else self.browse()
                )
                changes = {}
                if (reading.delta, reading.is_flagged) != (delta, flagged):
                    changes.update(delta=delta, is_flagged=flagged)
                if reading.estimate_ids != trued_up:
                    changes["estimate_ids"] = [Command.set(trued_up.ids)]
                if changes:
                    # sudo: deltas are derived data; a backdated reading re-chains
                    # the readings after it, whoever recorded them
                    reading.sudo()._write_derived(changes)
                if reading.is_reset:
                    total, first_date = 0.0, reading.reading_date
                else:
                    total += delta
                    first_date = first_date or (prev and prev.reading_date)
                if reading.source == "estimate":
                    estimates |= reading
                else:
                    real, estimates = reading, self.browse()
                prev = reading
        self.env["stock.lot"].browse(lot_ids)._refresh_usage_warranty()

    @api.model
    def _get_previous_reading_ids(self, pairs):
        """{(lot, meter): id of the last reading before the pair's date}."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT DISTINCT ON (r.lot_id, r.meter_type_id)
                       r.lot_id, r.meter_type_id, r.id
                  FROM serial_meter_reading r
                  JOIN (VALUES %s) AS p(lot_id, meter_type_id, since)
                    ON p.lot_id = r.lot_id
                   AND p.meter_type_id = r.meter_type_id
                   AND r.reading_date < p.since
                 WHERE r.superseded_by_id IS NULL
              ORDER BY r.lot_id, r.meter_type_id, r.reading_date DESC, r.id DESC
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s::timestamp)", lot, meter, since)
                    for (lot, meter), since in pairs.items()
                ),
            )
        )
        return {(lot, meter): rid for lot, meter, rid in rows}

    @api.model
    def _get_usage_stats(self, pairs):
        """{(lot, meter): (usage, first date)} since the last reset before the
        pair's date: the serial's usual daily usage."""
        rows = self.env.execute_query(
            SQL(
                """
                SELECT r.lot_id, r.meter_type_id, SUM(r.delta), MIN(r.reading_date)
                  FROM serial_meter_reading r
                  JOIN (VALUES %s) AS p(lot_id, meter_type_id, since)
                    ON p.lot_id = r.lot_id
                   AND p.meter_type_id = r.meter_type_id
                   AND r.reading_date < p.since
                 WHERE r.superseded_by_id IS NULL
                   AND r.reading_date >= COALESCE((
                        SELECT MAX(x.reading_date) FROM serial_meter_reading x
                         WHERE x.lot_id = r.lot_id AND x.meter_type_id = r.meter_type_id
                           AND x.is_reset AND x.reading_date < p.since
                           AND x.superseded_by_id IS NULL
                       ), '-infinity'::timestamp)
              GROUP BY r.lot_id, r.meter_type_id
                """,
                SQL(", ").join(
                    SQL("(%s, %s, %s::timestamp)", lot, meter, since)
                    for (lot, meter), since in pairs.items()
                ),
            )
        )
        return {
            (lot, meter): (total or 0.0, first) for lot, meter, total, first in rows
        }

    def _get_delta(self, previous, usage_before, first_date, last_real=None):
        """(delta, flagged) of this reading after `previous` (or None).

        last_real: the last reading before this one that is not an estimate.
        A real reading below the estimate before it is a true-up: its delta is
        negative (the estimate was too high), as long as it is not below the
        last real reading."""
        self.ensure_one()
        if not previous or self.is_reset:
            return 0.0, False
        rollover = self.meter_type_id.rollover_value
        if self.value >= previous.value:
            delta = self.value - previous.value
        elif (
            previous.source == "estimate"
            and self.source != "estimate"
            and last_real
            and self.value >= last_real.value
        ):
            delta = self.value - previous.value
        elif rollover and previous.value >= ROLLOVER_ZONE * rollover:
            delta = rollover + 1 - previous.value + self.value
        else:
            # after estimates, the reading that counts is the last real one
            shown = (
                last_real if previous.source == "estimate" and last_real else previous
            )
            raise ValidationError(
                self.env._(
                    "Reading %(value)s of %(meter)s on serial %(serial)s is lower "
                    "than the previous one (%(previous)s on %(date)s). Mark it as "
                    "a meter reset if the meter was replaced.",
                    value=format(self.value, "g"),
                    meter=self.meter_type_id.name,
                    serial=self.lot_id.name,
                    previous=format(shown.value, "g"),
                    date=shown.reading_date,
                )
            )
        days = (self.reading_date - previous.reading_date).total_seconds() / 86400.0
        flagged = False
        if first_date and usage_before > 0 and days > 0:
            usual_days = (previous.reading_date - first_date).total_seconds() / 86400.0
            if usual_days > 0:
                usual_per_day = usage_before / usual_days
                flagged = delta / days > SPIKE_FACTOR * usual_per_day
        return delta, flagged

    @api.model
    def _get_floor_values(self, pairs):
        """{(lot, meter): the value a new real reading at the pair's date may
        not go below (without a reset or a rollover)}: the previous reading's,
        or after estimates the last real reading's (a true-up may go below an
        estimate)."""
        previous_ids = self._get_previous_reading_ids(pairs)
        previous = dict(
            zip(previous_ids, self.browse(previous_ids.values()), strict=True)
        )
        last_real, _estimates = self._get_estimates_since_real(
            {key: pairs[key] for key, r in previous.items() if r.source == "estimate"}
        )
        return {
            key: (last_real[key] if key in last_real else reading).value
            for key, reading in previous.items()
            if reading.source != "estimate" or key in last_real
        }
