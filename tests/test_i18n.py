"""The translation template matches the code: every translatable term of the
add-on (Python, views, data, reports, mail templates) is in
i18n/serial_service.pot, and nothing the code no longer says; each
translation shipped translates every term. Regenerate with
`bash tools/export_pot.sh`."""

import ast
import io
from pathlib import Path

import polib

from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import trans_export

I18N = Path(__file__).resolve().parent.parent / "i18n"


def _terms(entries):
    return {(entry.msgctxt, entry.msgid) for entry in entries if entry.msgid}


def _python_terms():
    """Every term the add-on's Python code translates: the literal first
    argument of _(), _lt() and env._(), read with ast. Odoo's export reads
    them with Babel, which skips the rest of a file at the first call that has
    an f-string argument: this sees them all."""
    addon = I18N.parent
    terms = set()
    for path in addon.rglob("*.py"):
        if {"tests", "tools"} & set(path.relative_to(addon).parts):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.Call) and node.args):
                continue
            func, first = node.func, node.args[0]
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else getattr(func, "id", "")
            )
            if (
                name in ("_", "_lt")
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                terms.add(first.value)
    return terms


@tagged("post_install", "-at_install")
class TestTranslations(TransactionCase):
    def _exported_terms(self):
        buffer = io.BytesIO()
        trans_export(False, ["serial_service"], buffer, "po", self.env.cr)
        return _terms(polib.pofile(buffer.getvalue().decode()))

    def test_pot_matches_the_code(self):
        if not self.env.ref("serial_service.demo_pricelist_service", False):
            self.skipTest("the .pot is exported with the demo data installed")
        exported = self._exported_terms()
        shipped = _terms(polib.pofile(str(I18N / "serial_service.pot")))
        missing = sorted(msgid for _ctx, msgid in exported - shipped)
        stale = sorted(msgid for _ctx, msgid in shipped - exported)
        self.assertFalse(
            missing or stale,
            f"i18n/serial_service.pot is out of date (bash tools/export_pot.sh): "
            f"{len(missing)} missing, e.g. {missing[:5]}; "
            f"{len(stale)} no longer used, e.g. {stale[:5]}",
        )

    def test_translations_are_complete(self):
        pot = _terms(polib.pofile(str(I18N / "serial_service.pot")))
        translations = sorted(I18N.glob("*.po"))
        self.assertTrue(translations, "at least one translation is shipped")
        for path in translations:
            po = polib.pofile(str(path))
            translated = _terms(
                e
                for e in po
                if e.translated() and not e.obsolete and "fuzzy" not in e.flags
            )
            untranslated = sorted(msgid for _ctx, msgid in pot - translated)
            self.assertFalse(
                untranslated,
                f"{path.name}: {len(untranslated)} terms untranslated, e.g. {untranslated[:5]}",
            )

    def test_translations_cover_every_python_term(self):
        """Each shipped translation translates every message the Python code
        raises or posts, also those Odoo's export leaves out of the .pot (see
        _python_terms); Odoo reads them once the .pot lists them."""
        code_terms = _python_terms()
        for path in sorted(I18N.glob("*.po")):
            translated = {
                e.msgid
                for e in polib.pofile(str(path))
                if e.translated() and not e.obsolete and "fuzzy" not in e.flags
            }
            untranslated = sorted(code_terms - translated)
            self.assertFalse(
                untranslated,
                f"{path.name}: {len(untranslated)} Python terms untranslated, "
                f"e.g. {untranslated[:5]}",
            )
