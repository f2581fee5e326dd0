from bisect import bisect_left, bisect_right
from collections import defaultdict
from datetime import timedelta

from odoo import fields, models

from .sale_subscription_template_meter_precedence import RANKED_SOURCES

# two readings of different sources this close are of the same moment
PRECEDENCE_WINDOW = timedelta(days=1)


class SerialMeterReading(models.Model):
    """Source precedence (DESIGN.md, "Meter reads to review"): two readings
    of one serial and meter from different sources within a day, the source
    the covering contract's template prefers wins; the other is kept with
    `superseded_by_id`, takes no part in the deltas and is never billed. A
    billed reading is never superseded; deleting the winner brings its
    superseded readings back."""

    _inherit = "serial.meter.reading"

    superseded_by_id = fields.Many2one(
        "serial.meter.reading",
        string="Superseded By",
        readonly=True,
        index=True,
        copy=False,
        ondelete="set null",
        help="A reading of a preferred source within a day: this one is kept "
        "for the record, out of the usage and never billed.",
    )
    superseded_ids = fields.One2many(
        "serial.meter.reading", "superseded_by_id", string="Supersedes"
    )

    def _recompute_deltas(self, pairs=None):
        # after unlink(), self is gone and pairs says where to re-chain
        readings = self if pairs is None else self.exists()
        if readings:
            losers = readings._apply_source_precedence()
            if pairs is None and losers:
                # the readings after a new loser lost their previous one
                pairs = {}
                for reading in readings | losers:
                    key = (reading.lot_id.id, reading.meter_type_id.id)
                    if key not in pairs or reading.reading_date < pairs[key]:
                        pairs[key] = reading.reading_date
        return super()._recompute_deltas(pairs)

    def unlink(self):
        freed = self.superseded_ids - self
        res = super().unlink()
        freed = freed.exists()
        if freed:
            freed.invalidate_recordset(["superseded_by_id"])
            # back in the chain (or superseded by another reading of the day)
            freed._recompute_deltas()
        return res

    # --- precedence ---------------------------------------------------------
    def _apply_source_precedence(self):
        """Decide, for these readings (just recorded or changed), which of
        them and of the readings of other sources within a day of them are
        superseded, and return those now superseded; one read of those
        neighbours."""
        candidates = self.filtered(
            lambda r: r.source in RANKED_SOURCES and not r.invoice_line_id
        )
        superseded = self.browse()
        if not candidates:
            return superseded
        self.flush_model()
        neighbours = self.search(
            [
                ("lot_id", "in", candidates.lot_id.ids),
                ("meter_type_id", "in", candidates.meter_type_id.ids),
                ("source", "in", list(RANKED_SOURCES)),
                (
                    "reading_date",
                    ">",
                    min(candidates.mapped("reading_date")) - PRECEDENCE_WINDOW,
                ),
                (
                    "reading_date",
                    "<",
                    max(candidates.mapped("reading_date")) + PRECEDENCE_WINDOW,
                ),
            ]
        )
        # by serial and meter, in date order: a reading's rivals are found
        # by bisection, whatever the size of the batch
        by_key = defaultdict(list)
        for neighbour in neighbours.sorted(lambda r: (r.reading_date, r.id)):
            by_key[neighbour.lot_id.id, neighbour.meter_type_id.id].append(neighbour)
        dates = {key: [r.reading_date for r in items] for key, items in by_key.items()}
        rankings = {}
        for reading in candidates.sorted(lambda r: (r.reading_date, r.id)):
            key = (reading.lot_id.id, reading.meter_type_id.id)
            items = by_key[key]
            first = bisect_right(dates[key], reading.reading_date - PRECEDENCE_WINDOW)
            last = bisect_left(dates[key], reading.reading_date + PRECEDENCE_WINDOW)
            rivals = self.browse(
                r.id
                for r in items[first:last]
                if r != reading
                and r.source != reading.source
                and not r.superseded_by_id
            )
            if not rivals:
                if reading.superseded_by_id:
                    # a corrected reading with no rival left
                    # sudo: as in _supersede
                    reading.sudo()._write_derived({"superseded_by_id": False})
                continue
            day = reading.reading_date.date()
            if (reading.lot_id, day) not in rankings:
                rankings[reading.lot_id, day] = (
                    reading.lot_id._get_meter_source_ranking(day)
                )
            ranking = rankings[reading.lot_id, day]
            contenders = rivals | reading
            best = min(
                contenders,
                key=lambda r, ranking=ranking: (
                    ranking.index(r.source),
                    -r.reading_date.timestamp(),
                    -r.id,
                ),
            )
            if best != reading:
                losers = reading
            else:
                losers = rivals.filtered(
                    lambda r, ranking=ranking, reading=reading: (
                        not r.invoice_line_id
                        and ranking.index(r.source) > ranking.index(reading.source)
                    )
                )
                if reading.superseded_by_id:
                    # a corrected reading that wins again
                    # sudo: as in _supersede
                    reading.sudo()._write_derived({"superseded_by_id": False})
            if losers:
                (losers | losers.superseded_ids)._supersede(best)
                superseded |= losers
        return superseded

    def _supersede(self, winner):
        # sudo: precedence is derived data, whoever recorded the readings
        self.sudo()._write_derived(
            {"superseded_by_id": winner.id, "delta": 0.0, "is_flagged": False}
        )
