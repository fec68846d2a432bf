from allied.catalog.models import Product
from allied.core.privacy import declare_personal_data

declare_personal_data(
    Product, personal={}, not_personal={"name": "a product's name", "barcodes": "a product's EAN/UPC codes"}
)
