"""Withdrawing a failed installed-base import job: what its rows wrote is
undone, batch by batch, so that the file changes nothing."""

import logging
from collections import defaultdict

from markupsafe import Markup

from odoo import Command, models

from .serial_installed_base_import_job import LOT_IMPORT_FIELDS

_logger = logging.getLogger(__name__)


class SerialInstalledBaseImportJob(models.Model):
    _inherit = "serial.installed.base.import.job"

    # --- withdrawing a failed job -------------------------------------------
    def _undo_next_batch(self, batch_size):
        """Withdraw the next rows this failed job had applied, last first:
        readings, contract links and equipment it created are deleted, the
        serials it placed go back from the customer location to inventory
        (Odoo keeps done stock moves: a move in and a move back), and the
        serial fields it set get their old values again."""
        lines = self.env["serial.installed.base.import.job.line"].search(
            [("job_id", "=", self.id), ("state", "=", "applied")],
            order="row desc",
            limit=batch_size,
        )
        if lines:
            try:
                with self.env.cr.savepoint():
                    self._undo_lines(lines)
            except Exception as error:  # the savepoint undid this batch
                self.undo_pending = False
                reason = self._error_text(error)
                self._notify_user(
                    Markup("<p>%s</p><pre>%s</pre>")
                    % (
                        self.env._(
                            "Withdrawing rows %(first)s to %(last)s failed; the "
                            "%(count)s rows still imported are listed on the "
                            "job, to be corrected by hand:",
                            first=min(lines.mapped("row")),
                            last=max(lines.mapped("row")),
                            count=self._count_lines("applied"),
                        ),
                        reason,
                    )
                )
                return len(lines)
        if not self._count_lines("applied"):
            self.undo_pending = False
            self._delete_created_sites()
            self._notify_user(
                Markup("<p>%s</p>")
                % self.env._(
                    "The %(count)s rows imported before the failure are withdrawn: "
                    "the file changed nothing (the serials it created stay, "
                    "without owner, with their stock moves in and back).",
                    count=self.undone_count,
                )
            )
        return len(lines)

    def _undo_lines(self, lines):
        user_env = self._get_import_wizard().env
        Lot = user_env["stock.lot"]
        undo_by_line = {line: line.undo or {} for line in lines}
        reading_ids = [i for u in undo_by_line.values() for i in u["reading_ids"]]
        user_env["serial.meter.reading"].browse(reading_ids).exists().unlink()
        lots_by_contract = defaultdict(list)
        for line, undo in undo_by_line.items():
            if undo["contract_id"]:
                lots_by_contract[undo["contract_id"]].append(line.lot_id.id)
        for contract_id, lot_ids in lots_by_contract.items():
            user_env["sale.subscription"].browse(contract_id).write(
                {"covered_lot_ids": [Command.unlink(lot_id) for lot_id in lot_ids]}
            )
        user_env["maintenance.equipment"].browse(
            [u["equipment_id"] for u in undo_by_line.values() if u["equipment_id"]]
        ).exists().unlink()
        moved = Lot.browse(
            line.lot_id.id for line, undo in undo_by_line.items() if undo["moved"]
        )
        self._move_back_from_customers(moved)
        cleared = dict.fromkeys(LOT_IMPORT_FIELDS, False)
        lots_by_values = defaultdict(lambda: Lot)
        for line, undo in undo_by_line.items():
            lot = Lot.browse(line.lot_id.id)
            old = cleared if line.lot_created else undo["old_values"]
            current = self._lot_values(lot)
            changed = {
                fname: value for fname, value in old.items() if current[fname] != value
            }
            if changed:
                lots_by_values[tuple(sorted(changed.items()))] |= lot
        for values, lots in lots_by_values.items():
            lots.write(dict(values))
        body = Markup("<p>%s</p>") % self.env._(
            "Withdrawn: the installed base import %(job)s failed, what it wrote "
            "on this serial is undone.",
            job=self.name,
        )
        touched = Lot.browse(lines.lot_id.ids)
        touched._message_log_batch(bodies=dict.fromkeys(touched.ids, body))
        lines.write({"state": "undone"})
        self.undone_count += len(lines)

    def _move_back_from_customers(self, lots):
        """Stock moves from the customer location back to the inventory
        location, in one batch: the opposite of the import's."""
        lots = lots.filtered(lambda lot: lot.location_id.usage == "customer")
        if not lots:
            return
        env = lots.env
        company = self.company_id
        customer_location = env.ref("stock.stock_location_customers")
        Move = env["stock.move"]
        Move._create_validated_serial_moves(
            [
                Move._prepare_validated_move_vals(
                    lot.product_id,
                    1.0,
                    customer_location,
                    lot.product_id.with_company(company).property_stock_inventory,
                    lot=lot,
                    company=company,
                    name=env._("Installed base import withdrawn"),
                    is_inventory=True,
                )
                for lot in lots
            ]
        )

    def _delete_created_sites(self):
        """The delivery addresses the job created, once no serial uses them."""
        site_ids = [
            line.undo["site_id"]
            for line in self.line_ids
            if line.undo and line.undo.get("site_id")
        ]
        env = self._get_import_wizard().env
        sites = env["res.partner"].browse(site_ids).exists()
        used = env["stock.lot"].search([("site_id", "in", sites.ids)]).site_id
        sites -= used
        if not sites:
            return
        try:
            with self.env.cr.savepoint():
                sites.unlink()
        except Exception:  # the savepoint undid it: a document refers to them
            sites.write({"active": False})
