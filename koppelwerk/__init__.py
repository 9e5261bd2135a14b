"""koppelwerk: link the BAG to grid connection registers and publish sector energy statistics."""
