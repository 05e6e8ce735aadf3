# fuzz target: ovsdb (added by its author)
