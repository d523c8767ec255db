"""Pure rules of the recycling app: no database, no Django."""
