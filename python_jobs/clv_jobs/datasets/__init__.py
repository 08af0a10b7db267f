"""Data in: the synthetic shop and importers of public data sets, all writing the raw contract."""
