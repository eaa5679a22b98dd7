"""Member counters and challenge progress, kept by the progress listener from the table's stream."""
