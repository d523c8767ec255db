"""The catalogue's pure core: category codes, product-row parsing and validation, reading CSV/XLSX files."""
