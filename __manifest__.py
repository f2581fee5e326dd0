# Copyright 2026 serial_service authors
# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "Serial Service",
    "summary": "Serial numbers as the backbone of field service: ownership, "
    "warranty, contracts, meters, jobs, parts and billing",
    "version": "18.0.1.0.0",
    "category": "Services/Field Service",
    "website": "https://github.com/serial-service/serial_service",
    "author": "serial_service authors",
    "maintainers": ["serial-service"],
    "license": "LGPL-3",
    "development_status": "Alpha",
    "depends": [
        "stock",
        "purchase_stock",
        "sale_management",
        "sale_stock",
        "account",
        "maintenance",
        "barcodes",
        "subscription_oca",
    ],
    "data": [
        "security/serial_service_security.xml",
        "security/ir.model.access.csv",
        "security/serial_service_rules.xml",
        "data/serial_recall_data.xml",
        "report/stock_lot_label_report.xml",
        "report/stock_lot_history_report.xml",
        "views/stock_lot_views.xml",
        "views/stock_lot_history_views.xml",
        "views/maintenance_equipment_views.xml",
        "views/product_template_views.xml",
        "views/menus.xml",
        "views/serial_recall_views.xml",
        "wizard/serial_installed_base_import_views.xml",
    ],
    "demo": [
        "demo/serial_service_demo.xml",
    ],
    "external_dependencies": {
        "python": ["python-barcode", "xlsxwriter"],
    },
    "installable": True,
    "application": True,
}
