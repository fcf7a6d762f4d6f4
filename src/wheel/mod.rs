//! Wheels, sdists and editable wheels: one archive writer, several sinks.
