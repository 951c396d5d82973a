"""Places: the offline gazetteer (GeoNames + the contested-name alias table), the naming
convention for contested places, and the geocoders (offline by default, Nominatim as an
option). Importing this package loads no data."""
